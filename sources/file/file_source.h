// FileSource: serves the token that another program writes into a file (a
// Workload Identity Federation job, a Vault Agent file sink, a Kubernetes
// projected volume), following SOURCES.md "File source".
//
// It watches the directory holding the file, and the directory of every
// symlink target on the way to it, with one inotify descriptor polled by a
// uv_poll_t on the control loop; it never watches the file itself, because
// atomic renames and the Kubernetes `..data` swap never name it. Reads are
// small and synchronous on the control loop. A periodic re-read covers missed
// events and filesystems without inotify; a removed directory falls back to
// that polling and is watched again as soon as it is back.
//
// Owned by the daemon through TokenSource; control loop only. The object
// embeds its libuv handles, so it is neither copyable nor movable and must
// outlive the `done` callback of stop().
#pragma once

#include <uv.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "sources/common/freshness.h"
#include "sources/common/payload.h"
#include "src/config/config.h"
#include "src/token/clock.h"
#include "src/token/token_source.h"

namespace wif::sources {

struct FileSourceOptions {
  std::string path;  // absolute
  PayloadOptions payload;
  bool drop_on_missing = false;  // on_missing: drop
  int64_t poll_interval_ms = 30'000;
  // Quiet period after a bare IN_MODIFY (a writer still writing in place).
  int64_t settle_ms = 50;
  uint64_t max_size_bytes = 1024 * 1024;
};

class FileSource final : public token::TokenSource {
 public:
  // Called for each warning: a stable snake_case event name and a line for
  // people. Neither ever holds token bytes.
  using WarningHandler = std::function<void(std::string_view event, std::string_view detail)>;
  struct Warning {
    std::string event;
    std::string detail;
  };

  FileSource(FileSourceOptions options, const token::Clock& clock);
  // Precondition: never started, or stopped and its `done` has run.
  ~FileSource() override;
  FileSource(const FileSource&) = delete;
  FileSource& operator=(const FileSource&) = delete;

  // Opens the inotify descriptor, arms the watches and schedules the first
  // read on the loop. A missing file or directory is not an error (the source
  // reports failed() until the file appears), and neither is inotify being
  // unavailable (the source polls). Returns a negative libuv error only when a
  // timer cannot be set up; stop() must still be called then. Once only.
  int start(uv_loop_t* loop, token::SourceSink& sink) override;
  // Closes every handle and the inotify descriptor; `done` runs on the loop
  // after the last close callback (at once when start() never ran). No sink
  // call happens after stop().
  void stop(std::function<void()> done) override;
  std::string describe() const override;
  std::vector<std::string> preflight() const override;

  // Warnings so far are kept (the last kMaxWarnings) and also passed to
  // `handler` as they happen.
  void set_warning_handler(WarningHandler handler);
  const std::vector<Warning>& warnings() const { return warnings_; }

  // Observability for tests and metrics: read attempts so far, and how many
  // directories are watched now.
  uint64_t attempts() const { return attempts_; }
  size_t watch_count() const { return watches_.size(); }
  const FileSourceOptions& options() const { return options_; }

  static constexpr size_t kMaxWarnings = 32;

 private:
  enum class State { kIdle, kRunning, kStopping, kStopped };

  // One inotify watch. A watch on the file's own directory (or a symlink
  // target's) counts every event; a watch on the nearest existing ancestor of
  // a missing directory counts only events naming the next path component.
  struct Watch {
    std::string dir;
    bool every_event = false;
    std::set<std::string> names;
  };

  // The outcome of reading the file itself, before parsing.
  struct FileRead;

  static void on_inotify_readable(uv_poll_t* handle, int status, int events);
  static void on_settle_timer(uv_timer_t* handle);
  static void on_reread_timer(uv_timer_t* handle);
  static void on_handle_closed(uv_handle_t* handle);

  void open_inotify(uv_loop_t* loop);
  void drain_events();
  void sync_watches();
  void add_watch(std::map<int, Watch>& into, const std::string& dir, const std::string& name);
  void watch_nearest_ancestor(std::map<int, Watch>& into, const std::string& missing_dir);

  void read_now();
  FileRead read_file() const;
  void on_read_ok(ParsedToken parsed, const std::string& hash_hex, int64_t now_ms);
  void on_missing(int64_t now_ms);
  void on_failed(std::string reason, int64_t now_ms);
  void schedule_reread(int64_t delay_ms);

  void warn(std::string_view event, std::string detail);
  void close_handle(uv_handle_t* handle);
  void report_callback_error(std::string_view what);

  const FileSourceOptions options_;
  const token::Clock& clock_;
  State state_ = State::kIdle;
  token::SourceSink* sink_ = nullptr;
  std::function<void()> on_stopped_;
  int open_handles_ = 0;

  int inotify_fd_ = -1;
  uv_poll_t poll_{};
  uv_timer_t settle_timer_{};
  uv_timer_t reread_timer_{};
  bool poll_open_ = false;
  bool settle_open_ = false;
  bool reread_open_ = false;

  std::map<int, Watch> watches_;  // by watch descriptor
  // Base names on the way to the file (the link and each target): a bare
  // IN_MODIFY of one of them means a writer is still writing our file.
  std::set<std::string> file_names_;
  bool writing_ = false;         // a bare IN_MODIFY not yet followed by a close
  bool watch_degraded_ = false;  // some directory could not be watched

  // What is published: hash and expiry of the content, and whether the last
  // attempt succeeded (a success after a failure publishes again, so the
  // store sees the value is good again).
  bool has_token_ = false;
  std::string published_hash_;
  std::optional<int64_t> published_expires_at_ms_;
  std::optional<int64_t> published_serve_until_ms_;
  bool last_attempt_ok_ = false;
  Backoff backoff_;
  uint64_t attempts_ = 0;

  bool warned_writable_ = false;
  std::vector<Warning> warnings_;
  WarningHandler warning_handler_;
};

// The "file" SourceFactory: validates the block's fields (path, format,
// json_field, json_expiry_field, ttl, max_ttl, min_remaining, on_missing,
// poll_interval, settle, max_size) into `diag` and builds the source, or
// returns null when `diag` got an error. A relative path resolves against
// context.base_dir. The source logs its warnings at warn level.
std::unique_ptr<token::TokenSource> make_file_source(const config::SourceSpec& spec,
                                                     const token::SourceContext& context,
                                                     config::Diagnostics& diag);

// The validation half of make_file_source, for tests and `check`: nullopt
// when `diag` got an error.
std::optional<FileSourceOptions> read_file_source_options(const config::SourceSpec& spec,
                                                          const token::SourceContext& context,
                                                          config::Diagnostics& diag);

}  // namespace wif::sources
