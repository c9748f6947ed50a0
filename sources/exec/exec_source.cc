#include "sources/exec/exec_source.h"

#include <unistd.h>

#include <algorithm>
#include <cassert>
#include <cerrno>
#include <cstring>
#include <exception>
#include <utility>

#include "sources/common/spec_reader.h"
#include "sources/exec/output_file.h"
#include "src/log/log.h"

namespace wif::sources {
namespace {

constexpr size_t kMaxStdoutBytes = 64 * 1024;
constexpr size_t kMaxStderrBytes = 8 * 1024;
// How much of standard error one debug line carries.
constexpr size_t kLoggedStderrBytes = 1024;
constexpr int64_t kKillGraceMs = 2'000;
// The earliest a refresh may follow a good run. A token that arrives with
// barely more than min_remaining left would otherwise be refreshed again at
// once, and again, with every run.
constexpr int64_t kMinRefreshDelayMs = 1'000;

std::string uv_error_text(int status) {
  return std::string(uv_err_name(status)) + " (" + uv_strerror(status) + ")";
}

// Why the run failed before its output is even looked at; "" when the
// command exited 0 on its own and its output is complete.
std::string run_failure(const HookOutcome& outcome, int64_t timeout_ms) {
  if (outcome.timed_out) {
    return "the command ran past its time limit of " + format_duration_ms(timeout_ms) +
           " and was stopped";
  }
  if (outcome.stdout_over_cap) {
    return "the command wrote more than 64KiB to standard output";
  }
  if (outcome.term_signal != 0) {
    return "the command was killed by signal " + std::to_string(outcome.term_signal);
  }
  if (outcome.exit_status != 0) {
    return "the command exited with status " + std::to_string(outcome.exit_status);
  }
  if (outcome.output_left_open) {
    return "the command exited, but something it started kept its output open";
  }
  return {};
}

}  // namespace

std::string_view run_reason_name(RunReason reason) {
  switch (reason) {
    case RunReason::kStartUp:
      return "start-up";
    case RunReason::kRefresh:
      return "refresh";
    case RunReason::kRetry:
      return "retry";
  }
  return "unknown";
}

ExecSource::ExecSource(ExecSourceOptions options, const token::Clock& clock)
    : options_(std::move(options)), clock_(clock) {}

ExecSource::~ExecSource() {
  // The timer lives inside this object, and a run calls back into it.
  assert(state_ == State::kIdle || state_ == State::kStopped);
  assert(!timer_open_ && run_ == nullptr);
}

std::string ExecSource::describe() const {
  return "exec " + (options_.argv.empty() ? std::string() : options_.argv.front());
}

std::vector<std::string> ExecSource::preflight() const {
  // A bare name is looked up in PATH when the hook runs; only a path is
  // checked here.
  if (options_.argv.empty() || options_.argv.front().find('/') == std::string::npos ||
      ::access(options_.argv.front().c_str(), X_OK) == 0) {
    return {};
  }
  return {"cannot run " + options_.argv.front() + " (" + std::strerror(errno) +
          "): requests get 503 until it can"};
}

int ExecSource::start(uv_loop_t* loop, token::SourceSink& sink) {
  assert(state_ == State::kIdle);
  state_ = State::kRunning;
  loop_ = loop;
  sink_ = &sink;
  const int rc = uv_timer_init(loop, &timer_);
  if (rc < 0) {
    return rc;
  }
  timer_.data = this;
  timer_open_ = true;
  // The first attempt happens from the loop, never inside start().
  schedule(0, RunReason::kStartUp);
  return 0;
}

void ExecSource::stop(std::function<void()> done) {
  if (state_ == State::kIdle) {
    state_ = State::kStopped;
    if (done) {
      done();
    }
    return;
  }
  assert(state_ == State::kRunning);
  state_ = State::kStopping;
  on_stopped_ = std::move(done);
  if (timer_open_) {
    uv_close(reinterpret_cast<uv_handle_t*>(&timer_), on_timer_closed);
  }
  if (run_ != nullptr) {
    run_->cancel();  // run_finished() runs once it is gone
  }
  maybe_stopped();
}

void ExecSource::on_timer_closed(uv_handle_t* handle) {
  auto* self = static_cast<ExecSource*>(handle->data);
  self->timer_open_ = false;
  self->maybe_stopped();
}

void ExecSource::maybe_stopped() {
  if (state_ != State::kStopping || timer_open_ || run_ != nullptr) {
    return;
  }
  state_ = State::kStopped;
  auto stopped = std::move(on_stopped_);
  if (stopped) {
    stopped();
  }
}

void ExecSource::schedule(int64_t delay_ms, RunReason reason) {
  next_reason_ = reason;
  next_attempt_at_ms_ = clock_.now_ms() + delay_ms;
  const int rc =
      uv_timer_start(&timer_, on_timer, static_cast<uint64_t>(std::max<int64_t>(0, delay_ms)), 0);
  if (rc < 0) {
    // Only a closing timer refuses to start, and then the source is stopping.
    log::error("exec", "exec_timer_failed",
               {{"token", options_.token_name}, {"error", uv_error_text(rc)}});
  }
}

void ExecSource::on_timer(uv_timer_t* handle) {
  auto* self = static_cast<ExecSource*>(handle->data);
  if (self->state_ != State::kRunning) {
    return;
  }
  try {
    self->attempt(self->next_reason_);
  } catch (const std::exception& e) {
    log::error("exec", "exec_internal_error",
               {{"token", self->options_.token_name}, {"error", log::untrusted(e.what())}});
    self->failed("internal error in the exec source");
  } catch (...) {
    log::error("exec", "exec_internal_error",
               {{"token", self->options_.token_name}, {"error", "unknown exception"}});
    self->failed("internal error in the exec source");
  }
}

void ExecSource::attempt(RunReason reason) {
  if (!options_.output_file.empty() && use_output_file()) {
    return;
  }
  spawn(reason);
}

bool ExecSource::use_output_file() {
  const int64_t now_ms = clock_.now_ms();
  CachedResponse cached =
      read_output_file(options_.output_file, options_.payload, now_ms, kMaxStdoutBytes);
  if (!cached.token || !cached.token->expires_at_ms) {
    if (!cached.unusable.empty() || cached.token) {
      log::debug("exec", "exec_output_file_unused",
                 {{"token", options_.token_name},
                  {"reason", log::untrusted(cached.token ? "the cached response has no expiry"
                                                         : cached.unusable)}});
    }
    return false;
  }
  // Fresh means not yet due for a refresh even with the largest jitter, so
  // that an attempt at refresh time always runs the command.
  const int64_t earliest_refresh_ms =
      refresh_at_ms(cached.base_ms, *cached.token->expires_at_ms, options_.refresh_ahead_ms,
                    options_.payload.min_remaining_ms, 1.0);
  if (now_ms >= earliest_refresh_ms) {
    return false;
  }
  succeeded(std::move(*cached.token), cached.base_ms, "exec output_file");
  return true;
}

void ExecSource::spawn(RunReason reason) {
  HookCommand command;
  command.file = options_.argv.front();
  command.argv = options_.argv;
  command.env = options_.env;
  command.env.push_back("WIF_TOKEND_REASON=" + std::string(run_reason_name(reason)));
  command.cwd = options_.working_dir;
  command.timeout_ms = options_.timeout_ms;
  command.kill_grace_ms = kKillGraceMs;
  command.max_stdout_bytes = kMaxStdoutBytes;
  command.max_stderr_bytes = kMaxStderrBytes;

  const uint64_t run_id = ++runs_;
  run_started_ms_ = clock_.now_ms();
  int error = 0;
  run_ = HookRun::spawn(
      loop_, command,
      [this, reason, run_id](HookOutcome outcome) {
        run_finished(std::move(outcome), reason, run_id);
      },
      &error);
  if (run_ == nullptr) {
    log::debug("exec", "exec_spawn_failed",
               {{"token", options_.token_name}, {"run", run_id}, {"error", uv_err_name(error)}});
    failed("the command could not be started: " + uv_error_text(error));
  }
}

void ExecSource::run_finished(HookOutcome outcome, RunReason reason, uint64_t run_id) {
  run_ = nullptr;
  if (state_ != State::kRunning) {
    maybe_stopped();
    return;
  }
  log_run(outcome, reason, run_id);

  if (std::string failure = run_failure(outcome, options_.timeout_ms); !failure.empty()) {
    failed(failure);
    return;
  }
  // expires_in counts from when the command started (SOURCES.md "Expiry").
  const PayloadTimes times{run_started_ms_, clock_.now_ms()};
  PayloadResult result = parse_payload(outcome.stdout_bytes.reveal(), options_.payload, times);
  if (!result.ok()) {
    failed(result.error);
    return;
  }
  succeeded(std::move(*result.token), run_started_ms_, "exec run " + std::to_string(run_id));
}

void ExecSource::log_run(const HookOutcome& outcome, RunReason reason, uint64_t run_id) const {
  // Standard output is never logged, only its size; standard error is the
  // command's own words, escaped and truncated, at debug.
  log::debug("exec", "exec_run_finished",
             {{"token", options_.token_name},
              {"run", run_id},
              {"reason", run_reason_name(reason)},
              {"pid", outcome.pid},
              {"duration_ms", outcome.duration_ms},
              {"exit_status", outcome.exit_status},
              {"signal", outcome.term_signal},
              {"timed_out", outcome.timed_out},
              {"stdout_bytes", static_cast<uint64_t>(outcome.stdout_bytes.size())}});
  if (!outcome.stderr_bytes.empty()) {
    log::debug("exec", "exec_stderr",
               {{"token", options_.token_name},
                {"run", run_id},
                {"bytes", static_cast<uint64_t>(outcome.stderr_bytes.size())},
                {"truncated",
                 outcome.stderr_truncated || outcome.stderr_bytes.size() > kLoggedStderrBytes},
                {"text", log::untrusted(outcome.stderr_bytes, kLoggedStderrBytes)}});
  }
}

void ExecSource::succeeded(ParsedToken parsed, int64_t base_ms, std::string origin) {
  const int64_t now_ms = clock_.now_ms();
  backoff_.reset();

  auto token = std::make_shared<token::Token>();
  token->value = std::move(parsed.value);
  token->expires_at_ms = parsed.expires_at_ms;
  token->serve_until_ms = parsed.serve_until_ms;
  token->obtained_at_ms = now_ms;
  token->origin = std::move(origin);
  token::render_bodies(*token);
  has_token_ = true;
  serve_until_ms_ = parsed.serve_until_ms;
  sink_->publish(std::move(token));

  // Ahead of expiry, with jitter; without one, every reexec_interval.
  int64_t delay_ms = options_.reexec_interval_ms;
  if (parsed.expires_at_ms) {
    const int64_t at_ms = refresh_at_ms(base_ms, *parsed.expires_at_ms, options_.refresh_ahead_ms,
                                        options_.payload.min_remaining_ms, draw_unit());
    delay_ms = std::max(at_ms - now_ms, kMinRefreshDelayMs);
  }
  schedule(delay_ms, RunReason::kRefresh);
}

void ExecSource::failed(const std::string& reason) {
  const int64_t now_ms = clock_.now_ms();
  const bool urgent = backoff_is_urgent(has_token_, serve_until_ms_, now_ms);
  const int64_t delay_ms = backoff_.next_delay_ms(urgent, draw_unit());
  sink_->failed(reason, now_ms + delay_ms);
  schedule(delay_ms, RunReason::kRetry);
}

std::unique_ptr<token::TokenSource> make_exec_source(const config::SourceSpec& spec,
                                                     const token::SourceContext& context,
                                                     config::Diagnostics& diag) {
  std::optional<ExecSourceOptions> options =
      read_exec_source_options(spec, context, diag, config::process_environment());
  if (!options) {
    return nullptr;
  }
  const token::Clock& clock = context.clock != nullptr ? *context.clock : token::system_clock();
  return std::make_unique<ExecSource>(std::move(*options), clock);
}

}  // namespace wif::sources
