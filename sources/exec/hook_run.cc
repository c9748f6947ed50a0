#include "sources/exec/hook_run.h"

#include <dirent.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cassert>
#include <cerrno>
#include <cstdlib>
#include <exception>

#include "src/log/log.h"

namespace wif::sources {
namespace {

void wipe(std::string& s) {
  if (!s.empty()) {
    OPENSSL_cleanse(s.data(), s.size());
  }
  s.clear();
}

// Marks every descriptor above standard error close-on-exec, so the child
// inherits none of the daemon's files or sockets, whatever opened them and
// however. libuv's own descriptors are close-on-exec already, and the pipes
// it hands the child are dup2'ed onto 0 to 2, which clears the flag there.
// The daemon never runs another program, so the flag costs it nothing.
// close_range(2) does it in one call from Linux 5.11; before that, walk
// /proc/self/fd. Returns 0 or a negative errno.
int mark_descriptors_cloexec() {
  if (::close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) == 0) {
    return 0;
  }
  DIR* dir = ::opendir("/proc/self/fd");
  if (dir == nullptr) {
    return -errno;
  }
  const int own = ::dirfd(dir);
  while (const dirent* entry = ::readdir(dir)) {
    char* end = nullptr;
    const long fd = std::strtol(entry->d_name, &end, 10);
    if (end == entry->d_name || *end != '\0' || fd < 3 || fd == own) {
      continue;
    }
    const int flags = ::fcntl(static_cast<int>(fd), F_GETFD);
    if (flags >= 0 && (flags & FD_CLOEXEC) == 0) {
      ::fcntl(static_cast<int>(fd), F_SETFD, flags | FD_CLOEXEC);
    }
  }
  ::closedir(dir);
  return 0;
}

// Exceptions never cross a libuv callback (STYLE.md): each trampoline runs
// its body through this, which logs whatever escapes.
template <typename Body>
void guarded(int pid, Body body) {
  try {
    body();
  } catch (const std::exception& e) {
    log::error("exec", "exec_internal_error", {{"pid", pid}, {"error", log::untrusted(e.what())}});
  } catch (...) {
    log::error("exec", "exec_internal_error", {{"pid", pid}, {"error", "unknown exception"}});
  }
}

std::vector<char*> c_strings(const std::vector<std::string>& strings) {
  std::vector<char*> out;
  out.reserve(strings.size() + 1);
  for (const std::string& s : strings) {
    out.push_back(const_cast<char*>(s.c_str()));
  }
  out.push_back(nullptr);
  return out;
}

}  // namespace

HookRun::HookRun(const HookCommand& command, Done done)
    : kill_grace_ms_(command.kill_grace_ms),
      drain_after_exit_ms_(command.drain_after_exit_ms),
      max_stdout_bytes_(command.max_stdout_bytes),
      done_(std::move(done)),
      stdout_(command.max_stdout_bytes + 1, '\0'),
      stderr_(command.max_stderr_bytes, '\0') {}

HookRun::~HookRun() {
  assert(open_handles_ == 0);
  wipe(stdout_);
  wipe(stderr_);
}

HookRun* HookRun::spawn(uv_loop_t* loop, const HookCommand& command, Done done, int* error) {
  auto* run = new HookRun(command, std::move(done));
  *error = run->start(loop, command);
  if (*error < 0) {
    // Whatever was set up is closed; the run frees itself in on_closed, or
    // here when nothing was.
    if (run->open_handles_ == 0) {
      delete run;
    }
    return nullptr;
  }
  return run;
}

int HookRun::start(uv_loop_t* loop, const HookCommand& command) {
  int rc = uv_pipe_init(loop, &out_, 0);
  if (rc < 0) {
    return rc;
  }
  out_.data = this;
  out_open_ = true;
  ++open_handles_;
  rc = uv_pipe_init(loop, &err_, 0);
  if (rc < 0) {
    close_pipe(out_, out_open_);
    return rc;
  }
  err_.data = this;
  err_open_ = true;
  ++open_handles_;
  rc = uv_timer_init(loop, &timer_);
  if (rc < 0) {
    close_pipe(out_, out_open_);
    close_pipe(err_, err_open_);
    return rc;
  }
  timer_.data = this;
  ++open_handles_;

  uv_stdio_container_t stdio[3] = {};
  stdio[0].flags = UV_IGNORE;
  stdio[1].flags = static_cast<uv_stdio_flags>(UV_CREATE_PIPE | UV_WRITABLE_PIPE);
  stdio[1].data.stream = reinterpret_cast<uv_stream_t*>(&out_);
  stdio[2].flags = static_cast<uv_stdio_flags>(UV_CREATE_PIPE | UV_WRITABLE_PIPE);
  stdio[2].data.stream = reinterpret_cast<uv_stream_t*>(&err_);

  std::vector<char*> args = c_strings(command.argv);
  std::vector<char*> env = c_strings(command.env);
  uv_process_options_t options{};
  options.exit_cb = on_exit;
  options.file = command.file.c_str();
  options.args = args.data();
  options.env = env.data();
  options.cwd = command.cwd.empty() ? nullptr : command.cwd.c_str();
  options.flags = UV_PROCESS_DETACHED;
  options.stdio_count = 3;
  options.stdio = stdio;

  bool process_initialized = false;
  rc = mark_descriptors_cloexec();
  if (rc == 0) {
    // The umask is per process: the child inherits the one in force when
    // libuv forks. No other thread of the daemon creates files, so setting
    // it around the spawn changes nothing else.
    const mode_t previous = ::umask(077);
    rc = uv_spawn(loop, &process_, &options);
    ::umask(previous);
    // uv_spawn initialises the handle even when it fails, so it must be
    // closed either way (libuv test/test-spawn.c does the same).
    process_.data = this;
    ++open_handles_;
    process_initialized = true;
  }
  if (rc < 0) {
    close_pipe(out_, out_open_);
    close_pipe(err_, err_open_);
    close_handle(reinterpret_cast<uv_handle_t*>(&timer_));
    if (process_initialized) {
      close_handle(reinterpret_cast<uv_handle_t*>(&process_));
    }
    return rc;
  }

  spawned_ = true;
  pid_ = process_.pid;
  outcome_.pid = pid_;
  started_ms_ = uv_now(loop);
  for (uv_pipe_t* pipe : {&out_, &err_}) {
    rc = uv_read_start(reinterpret_cast<uv_stream_t*>(pipe), on_alloc, on_read);
    if (rc < 0) {
      // Nothing would drain the pipe: end the run now rather than let the
      // command block until its time limit.
      log::warn("exec", "exec_read_failed",
                {{"pid", pid_}, {"error", uv_err_name(rc)}, {"detail", uv_strerror(rc)}});
      close_pipe(*pipe, pipe == &out_ ? out_open_ : err_open_);
      outcome_.output_left_open = true;
      terminate();
      return 0;
    }
  }
  uv_timer_start(&timer_, on_timer, static_cast<uint64_t>(command.timeout_ms), 0);
  return 0;
}

void HookRun::cancel() {
  outcome_.cancelled = true;
  if (!exited_) {
    signal_group(SIGKILL);
    uv_timer_stop(&timer_);
    phase_ = Phase::kKilled;
    return;
  }
  close_pipe(out_, out_open_);
  close_pipe(err_, err_open_);
  maybe_close();
}

void HookRun::signal_group(int signum) {
  // kill(0) and kill(-1) would signal the daemon's own group or every
  // process it may signal: only a spawned child's group is ever a target.
  if (pid_ <= 1) {
    return;
  }
  // A negative pid names the process group (kill(2)). The group id is the
  // leader's pid, which Linux does not reuse while any member of the group
  // is alive; once every member is gone this fails with ESRCH.
  const int rc = uv_kill(-pid_, signum);
  if (rc < 0 && rc != UV_ESRCH) {
    log::warn("exec", "exec_kill_failed",
              {{"pgid", pid_}, {"signal", signum}, {"error", uv_err_name(rc)}});
  }
}

void HookRun::terminate() {
  if (phase_ != Phase::kRunning) {
    return;
  }
  signal_group(SIGTERM);
  phase_ = Phase::kTerminating;
  uv_timer_start(&timer_, on_timer, static_cast<uint64_t>(kill_grace_ms_), 0);
}

void HookRun::on_exit(uv_process_t* process, int64_t exit_status, int term_signal) {
  auto* run = static_cast<HookRun*>(process->data);
  guarded(run->pid_, [&] { run->exited(exit_status, term_signal); });
}

void HookRun::exited(int64_t exit_status, int term_signal) {
  exited_ = true;
  outcome_.exit_status = exit_status;
  outcome_.term_signal = term_signal;
  outcome_.duration_ms = static_cast<int64_t>(uv_now(process_.loop) - started_ms_);
  // The leader is gone (libuv has reaped it); what it left in its group goes
  // too. Bytes already in the pipes stay readable.
  signal_group(SIGKILL);
  phase_ = Phase::kDraining;
  if (out_open_ || err_open_) {
    uv_timer_start(&timer_, on_timer, static_cast<uint64_t>(drain_after_exit_ms_), 0);
  }
  maybe_close();
}

void HookRun::on_alloc(uv_handle_t* handle, size_t /*suggested*/, uv_buf_t* buf) {
  auto* run = static_cast<HookRun*>(handle->data);
  if (handle == reinterpret_cast<uv_handle_t*>(&run->out_)) {
    // Never empty: the pipe is closed as soon as the buffer fills up.
    *buf = uv_buf_init(run->stdout_.data() + run->stdout_filled_,
                       static_cast<unsigned>(run->stdout_.size() - run->stdout_filled_));
    return;
  }
  if (run->stderr_filled_ < run->stderr_.size()) {
    *buf = uv_buf_init(run->stderr_.data() + run->stderr_filled_,
                       static_cast<unsigned>(run->stderr_.size() - run->stderr_filled_));
    return;
  }
  *buf = uv_buf_init(run->discard_.data(), static_cast<unsigned>(run->discard_.size()));
}

void HookRun::on_read(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) {
  auto* run = static_cast<HookRun*>(stream->data);
  guarded(run->pid_, [&] { run->received(stream, nread, buf); });
}

void HookRun::received(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) {
  const bool is_stdout = stream == reinterpret_cast<uv_stream_t*>(&out_);
  if (nread == 0) {
    return;  // EAGAIN
  }
  if (nread < 0) {
    // UV_EOF: every writer has closed its end. Any other error ends the
    // stream the same way; what was read so far is kept.
    if (nread != UV_EOF) {
      log::debug("exec", "exec_pipe_error",
                 {{"pid", pid_},
                  {"stream", is_stdout ? "stdout" : "stderr"},
                  {"error", uv_err_name(static_cast<int>(nread))}});
    }
    if (is_stdout) {
      close_pipe(out_, out_open_);
    } else {
      close_pipe(err_, err_open_);
    }
    maybe_close();
    return;
  }

  const auto n = static_cast<size_t>(nread);
  if (!is_stdout) {
    if (buf->base == discard_.data()) {
      outcome_.stderr_truncated = true;
    } else {
      stderr_filled_ += n;
    }
    return;
  }
  stdout_filled_ += n;
  if (stdout_filled_ > max_stdout_bytes_) {
    outcome_.stdout_over_cap = true;
    close_pipe(out_, out_open_);
    terminate();
    maybe_close();
  }
}

void HookRun::on_timer(uv_timer_t* timer) {
  auto* run = static_cast<HookRun*>(timer->data);
  guarded(run->pid_, [&] { run->deadline_passed(); });
}

void HookRun::deadline_passed() {
  switch (phase_) {
    case Phase::kRunning:
      outcome_.timed_out = true;
      terminate();
      return;
    case Phase::kTerminating:
      signal_group(SIGKILL);
      phase_ = Phase::kKilled;
      return;
    case Phase::kDraining:
      // A descendant that left the group still holds a pipe open.
      outcome_.output_left_open = true;
      close_pipe(out_, out_open_);
      close_pipe(err_, err_open_);
      maybe_close();
      return;
    case Phase::kKilled:
    case Phase::kClosing:
      return;
  }
}

void HookRun::close_pipe(uv_pipe_t& pipe, bool& open) {
  if (!open) {
    return;
  }
  open = false;
  close_handle(reinterpret_cast<uv_handle_t*>(&pipe));
}

void HookRun::close_handle(uv_handle_t* handle) {
  if (!uv_is_closing(handle)) {
    uv_close(handle, on_closed);
  }
}

void HookRun::maybe_close() {
  if (!exited_ || out_open_ || err_open_ || phase_ == Phase::kClosing) {
    return;
  }
  phase_ = Phase::kClosing;
  close_handle(reinterpret_cast<uv_handle_t*>(&timer_));
  close_handle(reinterpret_cast<uv_handle_t*>(&process_));
}

void HookRun::on_closed(uv_handle_t* handle) {
  auto* run = static_cast<HookRun*>(handle->data);
  if (--run->open_handles_ == 0) {
    run->finish();
  }
}

void HookRun::finish() {
  if (spawned_) {
    stderr_.resize(stderr_filled_);
    outcome_.stderr_bytes = std::move(stderr_);
    const bool exited_alone = !outcome_.cancelled && !outcome_.timed_out &&
                              !outcome_.stdout_over_cap && !outcome_.output_left_open;
    if (exited_alone) {
      stdout_.resize(stdout_filled_);
      outcome_.stdout_bytes = token::Secret(std::move(stdout_));
    }
    Done done = std::move(done_);
    guarded(pid_, [&] { done(std::move(outcome_)); });
  }
  delete this;
}

}  // namespace wif::sources
