#include "src/metrics/process.h"

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>

namespace wif::metrics {
namespace {

// The boot time (unix seconds) from the btime line of /proc/stat (proc(5)).
std::optional<double> boot_time_seconds() {
  std::ifstream in("/proc/stat");
  std::string key;
  while (in >> key) {
    if (key == "btime") {
      double value = 0;
      if (in >> value) {
        return value;
      }
      return std::nullopt;
    }
    in.ignore(1 << 20, '\n');
  }
  return std::nullopt;
}

double count_open_fds() {
  DIR* dir = opendir("/proc/self/fd");
  if (dir == nullptr) {
    return 0;
  }
  double n = 0;
  while (const dirent* entry = readdir(dir)) {
    if (entry->d_name[0] != '.') {
      ++n;
    }
  }
  closedir(dir);
  return n - 1;  // the descriptor opendir itself holds
}

}  // namespace

std::optional<ProcessSample> read_process_sample() {
  std::ifstream in("/proc/self/stat");
  std::string line;
  if (!std::getline(in, line)) {
    return std::nullopt;
  }
  // The command name (field 2) is in parentheses and may hold spaces: the
  // numeric fields start after the last ')'.
  const size_t close = line.rfind(')');
  if (close == std::string::npos) {
    return std::nullopt;
  }
  std::istringstream fields(line.substr(close + 2));
  // Field 3 (state) is first here; utime and stime are fields 14 and 15,
  // starttime 22, vsize 23, rss 24 (proc(5)).
  std::string value;
  unsigned long long utime = 0, stime = 0, start = 0, vsize = 0, rss = 0;
  for (int field = 3; field <= 24 && fields >> value; ++field) {
    const unsigned long long n = std::strtoull(value.c_str(), nullptr, 10);
    switch (field) {
      case 14:
        utime = n;
        break;
      case 15:
        stime = n;
        break;
      case 22:
        start = n;
        break;
      case 23:
        vsize = n;
        break;
      case 24:
        rss = n;
        break;
      default:
        break;
    }
  }
  const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  const double page = static_cast<double>(sysconf(_SC_PAGESIZE));
  const std::optional<double> boot = boot_time_seconds();
  if (ticks <= 0 || page <= 0 || !boot) {
    return std::nullopt;
  }

  ProcessSample s;
  s.cpu_seconds = static_cast<double>(utime + stime) / ticks;
  s.resident_bytes = static_cast<double>(rss) * page;
  s.virtual_bytes = static_cast<double>(vsize);
  s.start_time_seconds = *boot + static_cast<double>(start) / ticks;
  s.open_fds = count_open_fds();
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0) {
    s.max_fds = static_cast<double>(limit.rlim_cur);
  }
  return s;
}

}  // namespace wif::metrics
