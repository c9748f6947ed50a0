// ExecSource: serves the token that a command prints (a Google executable,
// a Kubernetes credential plugin, any script), following SOURCES.md "Exec
// hook source" and "Freshness".
//
// At most one run is under way at a time (single flight). A good run
// publishes its token and schedules the next run ahead of the token's expiry
// (with jitter), or after reexec_interval when the token has no expiry; a
// failed run keeps the cached token and retries with exponential backoff.
// With output_file, a fresh response that an earlier run cached there is
// used instead of running the command (Google's semantics). Every attempt
// ends in exactly one sink call: publish() or failed().
//
// Owned by the daemon through TokenSource; control loop only. The object
// embeds its timer, so it is neither copyable nor movable and must outlive
// the `done` callback of stop(). Runs are HookRun objects that own
// themselves; stop() kills the one under way and waits for it to be gone.
#pragma once

#include <uv.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "sources/common/freshness.h"
#include "sources/exec/exec_options.h"
#include "sources/exec/hook_run.h"
#include "src/config/config.h"
#include "src/token/clock.h"
#include "src/token/token_source.h"

namespace wif::sources {

// Why a run happens; the command sees it as WIF_TOKEND_REASON.
enum class RunReason { kStartUp, kRefresh, kRetry };
std::string_view run_reason_name(RunReason reason);  // "start-up", "refresh", "retry"

class ExecSource final : public token::TokenSource {
 public:
  ExecSource(ExecSourceOptions options, const token::Clock& clock);
  // Precondition: never started, or stopped and its `done` has run.
  ~ExecSource() override;
  ExecSource(const ExecSource&) = delete;
  ExecSource& operator=(const ExecSource&) = delete;

  // Schedules the first run on the loop (reason start-up). Returns a
  // negative libuv error only when the timer cannot be set up. Once only.
  int start(uv_loop_t* loop, token::SourceSink& sink) override;
  // Kills a run under way (SIGKILL to its group), closes the timer, and
  // calls `done` on the loop once the run is gone and the timer closed (at
  // once when start() never ran). No sink call happens after stop().
  void stop(std::function<void()> done) override;
  std::string describe() const override;
  std::vector<std::string> preflight() const override;

  // Observability for tests and metrics: runs started so far, whether one is
  // under way, and when (clock ms) and why the next attempt happens.
  uint64_t runs() const { return runs_; }
  bool running() const { return run_ != nullptr; }
  int running_pid() const { return run_ != nullptr ? run_->pid() : 0; }
  int64_t next_attempt_at_ms() const { return next_attempt_at_ms_; }
  RunReason next_reason() const { return next_reason_; }
  const ExecSourceOptions& options() const { return options_; }

 private:
  enum class State { kIdle, kRunning, kStopping, kStopped };

  static void on_timer(uv_timer_t* handle);
  static void on_timer_closed(uv_handle_t* handle);

  void attempt(RunReason reason);
  bool use_output_file();
  void spawn(RunReason reason);
  void run_finished(HookOutcome outcome, RunReason reason, uint64_t run_id);
  void log_run(const HookOutcome& outcome, RunReason reason, uint64_t run_id) const;
  void succeeded(ParsedToken parsed, int64_t base_ms, std::string origin);
  void failed(const std::string& reason);
  void schedule(int64_t delay_ms, RunReason reason);
  void maybe_stopped();

  const ExecSourceOptions options_;
  const token::Clock& clock_;
  State state_ = State::kIdle;
  uv_loop_t* loop_ = nullptr;
  token::SourceSink* sink_ = nullptr;
  std::function<void()> on_stopped_;

  uv_timer_t timer_{};
  bool timer_open_ = false;
  HookRun* run_ = nullptr;  // owns itself; set while a run is under way
  int64_t run_started_ms_ = 0;
  uint64_t runs_ = 0;
  int64_t next_attempt_at_ms_ = 0;
  RunReason next_reason_ = RunReason::kStartUp;

  bool has_token_ = false;
  std::optional<int64_t> serve_until_ms_;  // of the published token
  Backoff backoff_;
};

// The "exec" SourceFactory: validates the block (see
// read_exec_source_options, reading pass_env from the process environment)
// into `diag` and builds the source, or returns null when `diag` got an
// error. Refused unless context.allow_exec.
std::unique_ptr<token::TokenSource> make_exec_source(const config::SourceSpec& spec,
                                                     const token::SourceContext& context,
                                                     config::Diagnostics& diag);

}  // namespace wif::sources
