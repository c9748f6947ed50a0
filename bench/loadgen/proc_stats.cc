#include "bench/loadgen/proc_stats.h"

#include <dirent.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>

namespace wif::loadgen {
namespace {

struct StatLine {
  pid_t ppid = 0;
  uint64_t ticks = 0;  // utime + stime
};

// proc(5): the command name (field 2) is in parentheses and may hold spaces
// or parentheses itself, so fields are counted from the last ')'.
bool read_stat(pid_t pid, StatLine* out) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(in, line)) {
    return false;
  }
  const size_t close = line.rfind(')');
  if (close == std::string::npos) {
    return false;
  }
  std::istringstream fields(line.substr(close + 2));
  std::string state;
  uint64_t skip = 0;
  uint64_t utime = 0;
  uint64_t stime = 0;
  // Fields 3 (state) .. 15 (stime).
  fields >> state >> out->ppid;
  for (int i = 5; i <= 13; ++i) {
    fields >> skip;
  }
  fields >> utime >> stime;
  if (!fields) {
    return false;
  }
  out->ticks = utime + stime;
  return true;
}

// "VmRSS:     1234 kB" lines of /proc/PID/status.
bool read_memory(pid_t pid, uint64_t* rss_kib, uint64_t* hwm_kib) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  bool rss = false;
  while (std::getline(in, line)) {
    if (line.starts_with("VmRSS:")) {
      *rss_kib += std::strtoull(line.c_str() + 6, nullptr, 10);
      rss = true;
    } else if (line.starts_with("VmHWM:")) {
      *hwm_kib += std::strtoull(line.c_str() + 6, nullptr, 10);
    }
  }
  return rss;
}

std::vector<pid_t> with_children(const std::vector<pid_t>& pids) {
  std::vector<pid_t> all = pids;
  DIR* dir = opendir("/proc");
  if (dir == nullptr) {
    return all;
  }
  while (dirent* entry = readdir(dir)) {
    char* end = nullptr;
    const long pid = std::strtol(entry->d_name, &end, 10);
    if (end == entry->d_name || *end != '\0') {
      continue;
    }
    StatLine stat;
    if (read_stat(static_cast<pid_t>(pid), &stat) &&
        std::find(pids.begin(), pids.end(), stat.ppid) != pids.end() &&
        std::find(all.begin(), all.end(), static_cast<pid_t>(pid)) == all.end()) {
      all.push_back(static_cast<pid_t>(pid));
    }
  }
  closedir(dir);
  return all;
}

}  // namespace

ProcSnapshot snapshot(const std::vector<pid_t>& pids) {
  ProcSnapshot s;
  if (pids.empty()) {
    return s;
  }
  static const double kTicksPerSecond = static_cast<double>(sysconf(_SC_CLK_TCK));
  s.ok = true;
  uint64_t ticks = 0;
  for (pid_t pid : with_children(pids)) {
    StatLine stat;
    if (!read_stat(pid, &stat) || !read_memory(pid, &s.rss_kib, &s.hwm_kib)) {
      s.ok = false;
      continue;
    }
    ticks += stat.ticks;
    ++s.processes;
  }
  s.cpu_seconds = static_cast<double>(ticks) / kTicksPerSecond;
  return s;
}

}  // namespace wif::loadgen
