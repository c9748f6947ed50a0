// HookRun: one run of an exec hook's command, from the spawn to its last
// closed handle (SOURCES.md "Exec hook source").
//
// The command runs without a shell, in a new session and so in a process
// group of its own (UV_PROCESS_DETACHED makes the child call setsid(2)), with
// standard input from /dev/null (libuv opens it for an ignored stdio slot),
// standard output and standard error in pipes, no other inherited
// descriptor, umask 077 and exactly the environment it is given. When the
// time limit passes the group gets SIGTERM, and SIGKILL after the grace
// period. Standard output past its cap fails the run and ends the group the
// same way; standard error past its cap is read and dropped, so a chatty
// command never blocks on a full pipe. When the command exits, whatever it
// left running in its group is killed.
//
// Owned by itself: spawn() creates it, and it deletes itself once its last
// handle is closed, right after calling `done`. The caller may keep the
// pointer until then (to cancel). Control loop only; the object embeds its
// libuv handles, so it is neither copyable nor movable.
#pragma once

#include <uv.h>

#include <array>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "src/token/secret.h"

namespace wif::sources {

struct HookCommand {
  std::string file;               // absolute path of the program
  std::vector<std::string> argv;  // argv[0] included
  std::vector<std::string> env;   // "NAME=value", the whole environment
  std::string cwd;                // "" keeps the daemon's
  int64_t timeout_ms = 30'000;
  int64_t kill_grace_ms = 2'000;  // SIGTERM to SIGKILL
  size_t max_stdout_bytes = 64 * 1024;
  size_t max_stderr_bytes = 8 * 1024;
  // After the command exits, how long a descendant that left its group may
  // keep the output pipes open before they are closed anyway.
  int64_t drain_after_exit_ms = 1'000;
};

// How a run ended. Exactly one of the flags that fail a run may be set, in
// this order of precedence: cancelled, timed_out, stdout_over_cap,
// output_left_open; otherwise exit_status and term_signal tell.
struct HookOutcome {
  bool cancelled = false;
  bool timed_out = false;
  bool stdout_over_cap = false;
  bool output_left_open = false;
  int64_t exit_status = -1;
  int term_signal = 0;
  token::Secret stdout_bytes;  // empty unless the command exited on its own
  std::string stderr_bytes;    // the first max_stderr_bytes
  bool stderr_truncated = false;
  int64_t duration_ms = 0;  // loop time from spawn to exit
  int pid = 0;              // also the process group id
};

class HookRun {
 public:
  using Done = std::function<void(HookOutcome)>;

  // Starts `command`. Returns the run, which later calls `done` exactly once
  // on the loop, or null with *error set to a negative libuv error (then
  // `done` never runs and the half-made run frees itself on the loop).
  static HookRun* spawn(uv_loop_t* loop, const HookCommand& command, Done done, int* error);

  HookRun(const HookRun&) = delete;
  HookRun& operator=(const HookRun&) = delete;

  // Kills the whole group with SIGKILL at once. `done` still runs, with
  // `cancelled` set, once the command is gone and every handle is closed.
  void cancel();
  int pid() const { return pid_; }

 private:
  enum class Phase { kRunning, kTerminating, kKilled, kDraining, kClosing };

  HookRun(const HookCommand& command, Done done);
  ~HookRun();

  static void on_exit(uv_process_t* process, int64_t exit_status, int term_signal);
  static void on_alloc(uv_handle_t* handle, size_t suggested, uv_buf_t* buf);
  static void on_read(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf);
  static void on_timer(uv_timer_t* timer);
  static void on_closed(uv_handle_t* handle);

  int start(uv_loop_t* loop, const HookCommand& command);
  void received(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf);
  void exited(int64_t exit_status, int term_signal);
  void deadline_passed();
  void terminate();
  void signal_group(int signum);
  void close_pipe(uv_pipe_t& pipe, bool& open);
  void close_handle(uv_handle_t* handle);
  void maybe_close();
  void finish();

  const int64_t kill_grace_ms_;
  const int64_t drain_after_exit_ms_;
  const size_t max_stdout_bytes_;
  Done done_;

  uv_process_t process_{};
  uv_pipe_t out_{};
  uv_pipe_t err_{};
  uv_timer_t timer_{};
  int open_handles_ = 0;
  bool spawned_ = false;
  bool out_open_ = false;
  bool err_open_ = false;
  Phase phase_ = Phase::kRunning;
  int pid_ = 0;
  bool exited_ = false;
  uint64_t started_ms_ = 0;

  // Standard output lands straight in one buffer sized for the cap plus one
  // byte, so token bytes are never copied or reallocated, and are wiped.
  std::string stdout_;
  size_t stdout_filled_ = 0;
  std::string stderr_;
  size_t stderr_filled_ = 0;
  std::array<char, 4096> discard_{};  // standard error past its cap

  HookOutcome outcome_;
};

}  // namespace wif::sources
