// DirectoryWatcher: tells its owner that something may have changed under a
// set of file paths, by watching the directories that hold them.
//
// It never watches a file itself: an atomic rename over the file, or the
// Kubernetes `..data` symlink swap of a mounted Secret, replaces the inode
// and never produces an event on it. Instead it watches, with one inotify
// descriptor polled by a uv_poll_t, the directory of each path and the
// directory of every symlink target on the way to the file (`tls.crt` ->
// `..data/tls.crt` -> `..2026_x/tls.crt`), and re-resolves them after every
// batch of events, since a swap changes which directory holds the file. A
// directory that does not exist is replaced by its nearest existing
// ancestor, so its return is noticed too.
//
// The watcher says only "look again" (an event naming a part of a watched
// path, IN_Q_OVERFLOW included): the owner compares contents to tell a real
// change from a touch. Neighbours in the same directories are ignored. It
// knows nothing of what the files hold.
//
// Control loop only. It embeds libuv handles, so it lives on the heap:
// open() makes it and close() ends it; the object deletes itself once its
// handles are closed.
#pragma once

#include <sys/inotify.h>
#include <uv.h>

#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace wif::watch {

class DirectoryWatcher {
 public:
  using OnChange = std::function<void()>;

  // Starts watching the folders of `paths` (absolute). Null when inotify or
  // the poll handle cannot be set up; `error` then names the call and the
  // system's reason, and the owner falls back to polling.
  static DirectoryWatcher* open(uv_loop_t* loop, std::vector<std::string> paths, OnChange on_change,
                                std::string& error);

  // Stops at once: on_change is never called again. The object is freed
  // after the poll handle's close callback; the pointer is dead on return.
  void close();

  DirectoryWatcher(const DirectoryWatcher&) = delete;
  DirectoryWatcher& operator=(const DirectoryWatcher&) = delete;

  // The directories watched now, for tests and logs.
  std::vector<std::string> watched_directories() const;

 private:
  DirectoryWatcher(std::vector<std::string> paths, OnChange on_change);
  ~DirectoryWatcher();

  static void on_readable(uv_poll_t* handle, int status, int events);
  static void on_closed(uv_handle_t* handle);

  // True when any event was read.
  bool drain_events();
  bool concerns_us(const inotify_event& event) const;
  void sync_watches();
  void watch(std::map<int, std::string>& into, const std::string& dir);

  const std::vector<std::string> paths_;
  const OnChange on_change_;
  int fd_ = -1;
  uv_poll_t poll_{};
  bool closing_ = false;
  std::map<int, std::string> watches_;  // by watch descriptor
  std::set<std::string> names_;         // every name on the watched paths
};

}  // namespace wif::watch
