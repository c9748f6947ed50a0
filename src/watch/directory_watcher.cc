#include "src/watch/directory_watcher.h"

#include <sys/inotify.h>
#include <unistd.h>

#include <array>
#include <cassert>
#include <cerrno>
#include <climits>
#include <cstring>
#include <filesystem>
#include <set>

namespace wif::watch {
namespace {

namespace fs = std::filesystem;

// Everything that can change what a path resolves to or what it holds. Not
// IN_OPEN, IN_ACCESS or IN_CLOSE_NOWRITE: the owner's own reads would wake
// it. IN_IGNORED, IN_Q_OVERFLOW and IN_UNMOUNT come unasked (inotify(7)).
constexpr uint32_t kMask = IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_CREATE | IN_DELETE |
                           IN_MODIFY | IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR;

// Linux follows at most 40 symlinks in one lookup (path_resolution(7)).
constexpr int kMaxSymlinkHops = 40;

std::string errno_text(int err) {
  return std::string(uv_err_name(-err)) + " (" + uv_strerror(-err) + ")";
}

// The directories on the way from `path` to the file it names: its own, then
// that of each symlink target, following the last component by hand. Every
// name on those paths goes into `names`.
std::vector<std::string> directories_of(const std::string& path, std::set<std::string>& names) {
  std::vector<std::string> dirs;
  fs::path current = fs::path(path).lexically_normal();
  for (int i = 0; i < kMaxSymlinkHops; ++i) {
    for (const fs::path& part : current) {
      names.insert(part.string());
    }
    dirs.push_back(current.parent_path().string());
    std::array<char, PATH_MAX> target{};
    const ssize_t n = ::readlink(current.c_str(), target.data(), target.size());
    if (n <= 0 || static_cast<size_t>(n) == target.size()) {
      break;
    }
    const fs::path next(std::string(target.data(), static_cast<size_t>(n)));
    current = (next.is_absolute() ? next : current.parent_path() / next).lexically_normal();
  }
  return dirs;
}

}  // namespace

DirectoryWatcher::DirectoryWatcher(std::vector<std::string> paths, OnChange on_change)
    : paths_(std::move(paths)), on_change_(std::move(on_change)) {}

DirectoryWatcher::~DirectoryWatcher() {
  // Only on_closed() deletes: the poll handle lives inside this object.
  assert(closing_);
}

DirectoryWatcher* DirectoryWatcher::open(uv_loop_t* loop, std::vector<std::string> paths,
                                         OnChange on_change, std::string& error) {
  const int fd = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (fd < 0) {
    error = "inotify_init1: " + errno_text(errno);
    return nullptr;
  }
  auto* watcher = new DirectoryWatcher(std::move(paths), std::move(on_change));
  watcher->fd_ = fd;
  int rc = uv_poll_init(loop, &watcher->poll_, fd);
  if (rc < 0) {
    error = std::string("uv_poll_init on the inotify descriptor: ") + uv_err_name(rc) + " (" +
            uv_strerror(rc) + ")";
    ::close(fd);
    watcher->closing_ = true;
    delete watcher;
    return nullptr;
  }
  watcher->poll_.data = watcher;
  rc = uv_poll_start(&watcher->poll_, UV_READABLE, on_readable);
  if (rc < 0) {
    error = std::string("uv_poll_start on the inotify descriptor: ") + uv_err_name(rc) + " (" +
            uv_strerror(rc) + ")";
    watcher->close();
    return nullptr;
  }
  watcher->sync_watches();
  return watcher;
}

void DirectoryWatcher::close() {
  if (closing_) {
    return;
  }
  closing_ = true;
  uv_close(reinterpret_cast<uv_handle_t*>(&poll_), on_closed);
  // libuv docs/src/poll.rst: the descriptor may be closed once uv_close()
  // on the poll handle has been called.
  ::close(fd_);
  fd_ = -1;
  watches_.clear();
}

void DirectoryWatcher::on_closed(uv_handle_t* handle) {
  delete static_cast<DirectoryWatcher*>(handle->data);
}

std::vector<std::string> DirectoryWatcher::watched_directories() const {
  std::vector<std::string> dirs;
  for (const auto& [wd, dir] : watches_) {
    dirs.push_back(dir);
  }
  return dirs;
}

void DirectoryWatcher::watch(std::map<int, std::string>& into, const std::string& dir) {
  // A missing directory is watched through its nearest existing ancestor:
  // any change there (its creation among them) makes the owner look again,
  // and the next sync watches the directory itself.
  for (fs::path candidate(dir); !candidate.empty(); candidate = candidate.parent_path()) {
    const int wd = ::inotify_add_watch(fd_, candidate.c_str(), kMask);
    if (wd >= 0) {
      // inotify watches the directory a symlink (`..data`) points at; name
      // that one, as it is the one that goes away on the next swap.
      std::error_code ec;
      const fs::path real = fs::canonical(candidate, ec);
      into[wd] = ec ? candidate.string() : real.string();
      return;
    }
    if (candidate == candidate.root_path()) {
      return;
    }
  }
}

void DirectoryWatcher::sync_watches() {
  std::set<std::string> dirs;
  names_.clear();
  for (const std::string& path : paths_) {
    for (std::string& dir : directories_of(path, names_)) {
      dirs.insert(std::move(dir));
    }
  }
  std::map<int, std::string> next;
  for (const std::string& dir : dirs) {
    watch(next, dir);
  }
  // inotify_add_watch on a directory already watched returns the same
  // descriptor; the others are no longer wanted (the old target of a
  // swapped `..data`). EINVAL: the kernel already dropped it.
  for (const auto& [wd, dir] : watches_) {
    if (next.find(wd) == next.end()) {
      ::inotify_rm_watch(fd_, wd);
    }
  }
  watches_ = std::move(next);
}

bool DirectoryWatcher::drain_events() {
  bool any = false;
  alignas(inotify_event) std::array<char, 8192> buffer{};
  for (;;) {
    const ssize_t n = ::read(fd_, buffer.data(), buffer.size());
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      // EAGAIN: drained. Any other error shows again on the next poll.
      return any;
    }
    for (ssize_t at = 0; at + static_cast<ssize_t>(sizeof(inotify_event)) <= n;) {
      const auto* event = reinterpret_cast<const inotify_event*>(buffer.data() + at);
      any = any || concerns_us(*event);
      at += static_cast<ssize_t>(sizeof(inotify_event) + event->len);
    }
  }
}

// An event on a watched directory itself (no name), a lost queue, or one
// naming a part of a watched path. Names starting with ".." are Kubernetes'
// (`..data`, `..2026_x`). Anything else is a neighbour, such as a log file
// written next to the certificates, which must not wake the owner: each
// wake-up reads the files, and a debug line about it would wake it again.
bool DirectoryWatcher::concerns_us(const inotify_event& event) const {
  if (event.len == 0 || (event.mask & IN_Q_OVERFLOW) != 0) {
    return true;
  }
  const std::string_view name(event.name, strnlen(event.name, event.len));
  return name.starts_with("..") || names_.count(std::string(name)) != 0;
}

void DirectoryWatcher::on_readable(uv_poll_t* handle, int status, int /*events*/) {
  auto* self = static_cast<DirectoryWatcher*>(handle->data);
  if (self->closing_) {
    return;
  }
  if (status < 0) {
    // The descriptor reports an error: no more events can come. Say so
    // once by asking the owner to look, and stop polling; the owner's
    // periodic check still covers the files.
    uv_poll_stop(handle);
    self->on_change_();
    return;
  }
  if (!self->drain_events()) {
    return;
  }
  self->sync_watches();
  self->on_change_();
}

}  // namespace wif::watch
