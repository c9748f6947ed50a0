#include "src/config/paths.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <system_error>

namespace wif::config {
namespace {

std::string without_trailing_slash(std::filesystem::path path) {
  if (!path.has_filename() && path.has_relative_path()) {
    path = path.parent_path();
  }
  return path.string();
}

std::string error_text(int error) { return std::system_category().message(error); }

}  // namespace

std::string absolute_dir(const std::string& dir) {
  return without_trailing_slash(std::filesystem::absolute(dir).lexically_normal());
}

std::string resolve_path(const std::string& base_dir, const std::string& path) {
  return (std::filesystem::path(base_dir) / path).lexically_normal().string();
}

std::optional<std::string> unreadable(const std::string& path) {
  // O_NONBLOCK keeps a FIFO from blocking the open; nothing is read.
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0) {
    return error_text(errno);
  }
  struct stat st {};
  const int rc = ::fstat(fd, &st);
  const int fstat_error = errno;
  ::close(fd);
  if (rc != 0) {
    return error_text(fstat_error);
  }
  // open(2) succeeds on a directory, which read(2) then refuses.
  if (S_ISDIR(st.st_mode)) {
    return error_text(EISDIR);
  }
  return std::nullopt;
}

}  // namespace wif::config
