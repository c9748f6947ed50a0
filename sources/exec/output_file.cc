#include "sources/exec/output_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <uv.h>

#include <algorithm>
#include <cerrno>

#include "src/token/secret.h"

namespace wif::sources {
namespace {

std::string errno_text(int err) {
  return std::string(uv_err_name(-err)) + " (" + uv_strerror(-err) + ")";
}

}  // namespace

CachedResponse read_output_file(const std::string& path, const PayloadOptions& payload,
                                int64_t now_ms, size_t max_bytes) {
  CachedResponse out;
  // O_NONBLOCK: a FIFO put in the file's place must not block the loop.
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0) {
    if (errno != ENOENT) {
      out.unusable = "cannot open output_file: " + errno_text(errno);
    }
    return out;
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    out.unusable = "output_file is not a regular file";
    return out;
  }

  // One byte over the cap tells a file that is too large; the buffer is
  // never reallocated, and wiped by the Secret it ends up in.
  std::string buffer(max_bytes + 1, '\0');
  size_t filled = 0;
  while (filled < buffer.size()) {
    const ssize_t n = ::read(fd, buffer.data() + filled, buffer.size() - filled);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      if (n < 0) {
        out.unusable = "cannot read output_file: " + errno_text(errno);
      }
      break;
    }
    filled += static_cast<size_t>(n);
  }
  ::close(fd);
  buffer.resize(filled);
  const token::Secret content(std::move(buffer));
  if (!out.unusable.empty()) {
    return out;
  }
  if (filled > max_bytes) {
    out.unusable = "output_file is over " + std::to_string(max_bytes) + " bytes";
    return out;
  }

  const int64_t mtime_ms =
      static_cast<int64_t>(st.st_mtim.tv_sec) * 1000 + st.st_mtim.tv_nsec / 1'000'000;
  out.base_ms = std::min(mtime_ms, now_ms);
  PayloadResult result =
      parse_payload(content.reveal(), payload, PayloadTimes{out.base_ms, now_ms});
  if (!result.ok()) {
    out.unusable = "output_file: " + result.error;
    return out;
  }
  out.token = std::move(result.token);
  return out;
}

}  // namespace wif::sources
