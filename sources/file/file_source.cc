#include "sources/file/file_source.h"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cassert>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <utility>

#include "sources/common/spec_reader.h"
#include "src/log/log.h"

namespace wif::sources {
namespace {

namespace fs = std::filesystem;

// Everything that can change what the path resolves to or what it holds.
// Not IN_OPEN, IN_ACCESS or IN_CLOSE_NOWRITE: our own reads would wake us.
// IN_IGNORED, IN_Q_OVERFLOW and IN_UNMOUNT are always reported (inotify(7)).
constexpr uint32_t kWatchMask = IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_CREATE |
                                IN_DELETE | IN_MODIFY | IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF |
                                IN_ONLYDIR;
// The watch itself is gone or moved: re-resolve and re-arm.
constexpr uint32_t kWatchLostMask = IN_IGNORED | IN_DELETE_SELF | IN_MOVE_SELF | IN_UNMOUNT;

// Linux follows at most 40 symlinks in one path lookup (path_resolution(7)).
constexpr int kMaxSymlinkHops = 40;

// "ENOENT (no such file or directory)"; libuv's names match errno's.
std::string errno_text(int err) {
  return std::string(uv_err_name(-err)) + " (" + uv_strerror(-err) + ")";
}

std::string uv_error_text(int status) {
  return std::string(uv_err_name(status)) + " (" + uv_strerror(status) + ")";
}

class FdGuard {
 public:
  explicit FdGuard(int fd) : fd_(fd) {}
  ~FdGuard() {
    if (fd_ >= 0) {
      ::close(fd_);
    }
  }
  FdGuard(const FdGuard&) = delete;
  FdGuard& operator=(const FdGuard&) = delete;

 private:
  int fd_;
};

std::string sha256_hex(std::string_view data) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int digest_len = 0;
  if (EVP_Digest(data.data(), data.size(), digest.data(), &digest_len, EVP_sha256(), nullptr) !=
      1) {
    return {};
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(digest_len * 2);
  for (unsigned int i = 0; i < digest_len; ++i) {
    out.push_back(kHex[digest[i] >> 4]);
    out.push_back(kHex[digest[i] & 0xf]);
  }
  return out;
}

// One step on the way from the configured path to the file: the directory
// holding a name, and the name.
struct Hop {
  std::string dir;
  std::string name;
};

// Follows the final component's symlinks by hand, so that every directory on
// the way is known: `token` -> `..data/token` -> (through `..data`, itself a
// symlink to `..2026_x`) the real file. Ends at the first non-link, a missing
// entry or an unreadable link; the directories found so far still matter.
std::vector<Hop> resolve_chain(const std::string& path) {
  std::vector<Hop> hops;
  fs::path current = fs::path(path).lexically_normal();
  for (int i = 0; i < kMaxSymlinkHops; ++i) {
    hops.push_back(Hop{current.parent_path().string(), current.filename().string()});
    std::array<char, PATH_MAX> target{};
    const ssize_t n = ::readlink(current.c_str(), target.data(), target.size());
    if (n <= 0 || static_cast<size_t>(n) == target.size()) {
      break;
    }
    const fs::path next(std::string(target.data(), static_cast<size_t>(n)));
    current = (next.is_absolute() ? next : current.parent_path() / next).lexically_normal();
  }
  return hops;
}

// Overwrites a string's bytes, including a short string's inline buffer that
// a move leaves behind.
void wipe(std::string& s) {
  s.resize(s.capacity());
  OPENSSL_cleanse(s.data(), s.size());
  s.clear();
}

bool is_symlink(const std::string& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0 && S_ISLNK(st.st_mode);
}

int64_t to_ms(const timespec& ts) {
  return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1'000'000;
}

}  // namespace

struct FileSource::FileRead {
  enum class Status { kOk, kMissing, kFailed };
  Status status = Status::kFailed;
  token::Secret content;  // wiped when dropped
  int64_t mtime_ms = 0;
  mode_t mode = 0;
  std::string error;
};

FileSource::FileSource(FileSourceOptions options, const token::Clock& clock)
    : options_(std::move(options)), clock_(clock) {}

FileSource::~FileSource() {
  // The handles live inside this object: it may only die once they are closed.
  assert(state_ == State::kIdle || state_ == State::kStopped);
  assert(open_handles_ == 0);
}

std::string FileSource::describe() const { return "file " + options_.path; }

std::vector<std::string> FileSource::preflight() const {
  if (::access(options_.path.c_str(), R_OK) == 0) {
    return {};
  }
  return {"cannot read " + options_.path + " (" + std::strerror(errno) +
          "): requests get 503 until it can be read"};
}

void FileSource::set_warning_handler(WarningHandler handler) {
  warning_handler_ = std::move(handler);
}

int FileSource::start(uv_loop_t* loop, token::SourceSink& sink) {
  assert(state_ == State::kIdle);
  state_ = State::kRunning;
  sink_ = &sink;

  for (uv_timer_t* timer : {&settle_timer_, &reread_timer_}) {
    const int rc = uv_timer_init(loop, timer);
    if (rc < 0) {
      warn("file_source_start_failed",
           "uv_timer_init for " + options_.path + ": " + uv_error_text(rc));
      return rc;
    }
    timer->data = this;
    ++open_handles_;
    (timer == &settle_timer_ ? settle_open_ : reread_open_) = true;
  }

  open_inotify(loop);
  sync_watches();

  // The first attempt happens from the loop, never inside start().
  schedule_reread(0);
  return 0;
}

void FileSource::open_inotify(uv_loop_t* loop) {
  inotify_fd_ = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (inotify_fd_ < 0) {
    warn("file_watch_unavailable", "inotify_init1 for " + options_.path + ": " + errno_text(errno) +
                                       "; polling every " +
                                       format_duration_ms(options_.poll_interval_ms));
    return;
  }
  int rc = uv_poll_init(loop, &poll_, inotify_fd_);
  if (rc < 0) {
    warn("file_watch_unavailable", "uv_poll_init on the inotify descriptor for " + options_.path +
                                       ": " + uv_error_text(rc) + "; polling every " +
                                       format_duration_ms(options_.poll_interval_ms));
    ::close(inotify_fd_);
    inotify_fd_ = -1;
    return;
  }
  poll_.data = this;
  poll_open_ = true;
  ++open_handles_;
  rc = uv_poll_start(&poll_, UV_READABLE, on_inotify_readable);
  if (rc < 0) {
    // Nothing would read the events: drop the descriptor and poll. The
    // handle stays open until stop(); it polls nothing.
    ::close(inotify_fd_);
    inotify_fd_ = -1;
    warn("file_watch_unavailable", "uv_poll_start on the inotify descriptor for " + options_.path +
                                       ": " + uv_error_text(rc) + "; polling every " +
                                       format_duration_ms(options_.poll_interval_ms));
  }
}

void FileSource::stop(std::function<void()> done) {
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

  if (poll_open_) {
    close_handle(reinterpret_cast<uv_handle_t*>(&poll_));
  }
  if (inotify_fd_ >= 0) {
    // libuv docs/src/poll.rst: the descriptor may be closed right after
    // uv_close() on the poll handle.
    ::close(inotify_fd_);
    inotify_fd_ = -1;
  }
  if (settle_open_) {
    close_handle(reinterpret_cast<uv_handle_t*>(&settle_timer_));
  }
  if (reread_open_) {
    close_handle(reinterpret_cast<uv_handle_t*>(&reread_timer_));
  }
  watches_.clear();

  if (open_handles_ == 0) {
    state_ = State::kStopped;
    auto stopped = std::move(on_stopped_);
    if (stopped) {
      stopped();
    }
  }
}

void FileSource::close_handle(uv_handle_t* handle) {
  if (!uv_is_closing(handle)) {
    uv_close(handle, on_handle_closed);
  }
}

void FileSource::on_handle_closed(uv_handle_t* handle) {
  auto* self = static_cast<FileSource*>(handle->data);
  --self->open_handles_;
  if (self->open_handles_ > 0 || self->state_ != State::kStopping) {
    return;
  }
  self->state_ = State::kStopped;
  self->poll_open_ = self->settle_open_ = self->reread_open_ = false;
  // `done` may destroy this object: nothing touches it afterwards.
  auto stopped = std::move(self->on_stopped_);
  if (stopped) {
    stopped();
  }
}

// --- Watches ---------------------------------------------------------------

void FileSource::sync_watches() {
  if (inotify_fd_ < 0) {
    return;
  }
  std::map<int, Watch> next;
  std::set<std::string> names;
  bool degraded = false;
  std::string lost_dir;
  for (const Hop& hop : resolve_chain(options_.path)) {
    names.insert(hop.name);
    const int wd = ::inotify_add_watch(inotify_fd_, hop.dir.c_str(), kWatchMask);
    if (wd < 0) {
      if (!degraded) {
        lost_dir = hop.dir + ": " + errno_text(errno);
      }
      degraded = true;
      watch_nearest_ancestor(next, hop.dir);
      continue;
    }
    Watch& watch = next[wd];
    watch.dir = hop.dir;
    watch.every_event = true;
  }

  // Watches no longer wanted: the old target of a swapped `..data`, or an
  // ancestor watched while a directory was missing. EINVAL means the kernel
  // already dropped the watch.
  for (const auto& [wd, watch] : watches_) {
    if (next.find(wd) == next.end()) {
      ::inotify_rm_watch(inotify_fd_, wd);
    }
  }
  watches_ = std::move(next);
  file_names_ = std::move(names);

  if (degraded && !watch_degraded_) {
    warn("file_watch_lost", "cannot watch " + lost_dir +
                                "; serving the cached token, polling every " +
                                format_duration_ms(options_.poll_interval_ms) +
                                " and watching again when the directory is back");
  }
  watch_degraded_ = degraded;
}

void FileSource::watch_nearest_ancestor(std::map<int, Watch>& into,
                                        const std::string& missing_dir) {
  // Watching the closest existing ancestor for the next path component makes
  // the re-arm immediate when the directory comes back, instead of waiting
  // for the next poll.
  fs::path child(missing_dir);
  fs::path parent = child.parent_path();
  while (!parent.empty() && parent != child) {
    const int wd = ::inotify_add_watch(inotify_fd_, parent.c_str(), kWatchMask);
    if (wd >= 0) {
      Watch& watch = into[wd];
      watch.dir = parent.string();
      watch.names.insert(child.filename().string());
      return;
    }
    child = parent;
    parent = parent.parent_path();
  }
}

void FileSource::on_inotify_readable(uv_poll_t* handle, int status, int /*events*/) {
  auto* self = static_cast<FileSource*>(handle->data);
  if (self->state_ != State::kRunning) {
    return;
  }
  try {
    if (status < 0) {
      // No more events from this descriptor: drop it and fall back to
      // polling. libuv docs/src/poll.rst: the descriptor may be closed once
      // uv_poll_stop() has returned.
      const int rc = uv_poll_stop(handle);
      ::close(self->inotify_fd_);
      self->inotify_fd_ = -1;
      self->watches_.clear();
      self->writing_ = false;
      self->warn("file_watch_unavailable",
                 "polling the inotify descriptor for " + self->options_.path + ": " +
                     uv_error_text(status) +
                     (rc < 0 ? "; uv_poll_stop: " + uv_error_text(rc) : std::string()) +
                     "; polling every " + format_duration_ms(self->options_.poll_interval_ms));
      return;
    }
    self->drain_events();
  } catch (const std::exception& e) {
    self->report_callback_error(e.what());
  } catch (...) {
    self->report_callback_error("unknown exception");
  }
}

void FileSource::drain_events() {
  bool any_event = false;
  bool trigger = false;   // something completed: read now
  bool modified = false;  // our file got a bare IN_MODIFY: (re)start settling

  alignas(inotify_event) std::array<char, 8192> buffer{};
  while (true) {
    const ssize_t n = ::read(inotify_fd_, buffer.data(), buffer.size());
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0 && errno == EAGAIN) {
      break;
    }
    if (n <= 0) {
      if (n < 0) {
        warn("file_watch_read_failed",
             "read from the inotify descriptor for " + options_.path + ": " + errno_text(errno));
      }
      break;
    }

    size_t offset = 0;
    while (offset + sizeof(inotify_event) <= static_cast<size_t>(n)) {
      inotify_event event{};
      std::memcpy(&event, buffer.data() + offset, sizeof(event));
      const char* name_start = buffer.data() + offset + sizeof(event);
      const std::string name(name_start, ::strnlen(name_start, event.len));
      offset += sizeof(event) + event.len;
      any_event = true;

      if ((event.mask & IN_Q_OVERFLOW) != 0) {
        // Events were lost: nothing is known, so look now (SOURCES.md).
        writing_ = false;
        trigger = true;
        continue;
      }
      auto it = watches_.find(event.wd);
      if (it == watches_.end()) {
        continue;  // a watch already replaced: its late events say nothing new
      }
      if ((event.mask & kWatchLostMask) != 0) {
        if ((event.mask & IN_IGNORED) != 0) {
          watches_.erase(it);
        }
        trigger = true;
        continue;
      }
      const Watch& watch = it->second;
      if (!watch.every_event) {
        // An ancestor of a missing directory: only the next component counts.
        trigger = trigger || watch.names.count(name) > 0;
        continue;
      }

      const bool ours = file_names_.count(name) > 0;
      const bool created_file = (event.mask & IN_CREATE) != 0 && (event.mask & IN_ISDIR) == 0 &&
                                !(ours && is_symlink(watch.dir + "/" + name));
      if ((event.mask & IN_MODIFY) != 0 || created_file) {
        // A writer is (or may be) still writing in place. Another file's
        // in-place write cannot change ours, except through a hard link,
        // which the periodic re-read covers.
        if (ours) {
          writing_ = true;
          modified = true;
        } else if (created_file) {
          trigger = true;
        }
        continue;
      }
      if (ours) {
        writing_ = false;  // closed, renamed over, deleted: the write is over
      }
      trigger = true;
    }
  }

  if (!any_event) {
    return;
  }
  // Re-resolve after every event: a `..data` swap changes which directory
  // holds the file, on every rotation, not only the first.
  sync_watches();

  if (writing_) {
    if (modified) {
      // Quiet period: every new IN_MODIFY pushes the read back.
      const int rc = uv_timer_start(&settle_timer_, on_settle_timer,
                                    static_cast<uint64_t>(options_.settle_ms), 0);
      if (rc < 0) {
        warn("file_timer_failed",
             "uv_timer_start (settle) for " + options_.path + ": " + uv_error_text(rc));
      }
    }
    return;
  }
  if (trigger) {
    uv_timer_stop(&settle_timer_);
    read_now();
  }
}

void FileSource::on_settle_timer(uv_timer_t* handle) {
  auto* self = static_cast<FileSource*>(handle->data);
  if (self->state_ != State::kRunning) {
    return;
  }
  try {
    self->writing_ = false;
    self->read_now();
  } catch (const std::exception& e) {
    self->report_callback_error(e.what());
  } catch (...) {
    self->report_callback_error("unknown exception");
  }
}

void FileSource::on_reread_timer(uv_timer_t* handle) {
  auto* self = static_cast<FileSource*>(handle->data);
  if (self->state_ != State::kRunning) {
    return;
  }
  try {
    if (self->watch_degraded_) {
      self->sync_watches();
    }
    if (self->writing_) {
      // The settle timer is pending and will read once the writer is quiet;
      // reading now could catch a half-written file.
      self->schedule_reread(self->options_.poll_interval_ms);
      return;
    }
    self->read_now();
  } catch (const std::exception& e) {
    self->report_callback_error(e.what());
  } catch (...) {
    self->report_callback_error("unknown exception");
  }
}

// --- Reading -----------------------------------------------------------------

FileSource::FileRead FileSource::read_file() const {
  FileRead out;
  // O_NONBLOCK: a FIFO put in the file's place must not block the loop.
  const int fd = ::open(options_.path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0) {
    const int err = errno;
    if (err == ENOENT || err == ENOTDIR) {
      out.status = FileRead::Status::kMissing;
    } else {
      out.error = "cannot open the token file: " + errno_text(err);
    }
    return out;
  }
  FdGuard guard(fd);

  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    out.error = "cannot stat the token file: " + errno_text(errno);
    return out;
  }
  if (!S_ISREG(st.st_mode)) {
    out.error = "the token path is not a regular file";
    return out;
  }
  const auto size = static_cast<uint64_t>(std::max<off_t>(st.st_size, 0));
  const std::string over_max =
      "the token file is over max_size (" + std::to_string(options_.max_size_bytes) + " bytes)";
  if (size > options_.max_size_bytes) {
    out.error = over_max;
    return out;
  }

  // One byte more than expected shows a file that grew while being read,
  // without ever reallocating a buffer that holds token bytes.
  std::string buffer(static_cast<size_t>(size) + 1, '\0');
  size_t filled = 0;
  while (filled < buffer.size()) {
    const ssize_t n = ::read(fd, buffer.data() + filled, buffer.size() - filled);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      out.error = "cannot read the token file: " + errno_text(errno);
      wipe(buffer);
      return out;
    }
    if (n == 0) {
      break;
    }
    filled += static_cast<size_t>(n);
  }
  if (filled > size) {
    out.error =
        filled > options_.max_size_bytes ? over_max : "the token file grew while being read";
    wipe(buffer);
    return out;
  }
  buffer.resize(filled);
  out.status = FileRead::Status::kOk;
  out.content = token::Secret(std::move(buffer));
  wipe(buffer);
  out.mtime_ms = to_ms(st.st_mtim);
  out.mode = st.st_mode;
  return out;
}

void FileSource::read_now() {
  ++attempts_;
  const int64_t now_ms = clock_.now_ms();
  FileRead file = read_file();

  switch (file.status) {
    case FileRead::Status::kMissing:
      on_missing(now_ms);
      return;
    case FileRead::Status::kFailed:
      on_failed(std::move(file.error), now_ms);
      return;
    case FileRead::Status::kOk:
      break;
  }

  if ((file.mode & (S_IWGRP | S_IWOTH)) != 0 && !warned_writable_) {
    warned_writable_ = true;
    char mode[8];
    std::snprintf(mode, sizeof(mode), "%04o", static_cast<unsigned>(file.mode & 07777));
    warn("token_file_writable", "token file " + options_.path +
                                    " is writable by group or others (mode " + mode +
                                    "): whoever can write it can hand out tokens");
  }

  const std::string hash = sha256_hex(file.content.reveal());
  // expires_in and ttl count from the modification time, capped at now, so
  // that an old file does not look fresh (SOURCES.md "Expiry").
  const PayloadTimes times{std::min(file.mtime_ms, now_ms), now_ms};
  PayloadResult result = parse_payload(file.content.reveal(), options_.payload, times);
  if (!result.ok()) {
    on_failed(std::move(result.error), now_ms);
    return;
  }
  on_read_ok(std::move(*result.token), hash, now_ms);
}

void FileSource::on_read_ok(ParsedToken parsed, const std::string& hash_hex, int64_t now_ms) {
  backoff_.reset();
  // Publish only when the content or its validity changed; a success after a
  // failure publishes again so that the store knows the value is good.
  const bool unchanged = has_token_ && last_attempt_ok_ && hash_hex == published_hash_ &&
                         parsed.expires_at_ms == published_expires_at_ms_;
  last_attempt_ok_ = true;
  if (!unchanged) {
    auto token = std::make_shared<token::Token>();
    token->value = std::move(parsed.value);
    token->expires_at_ms = parsed.expires_at_ms;
    token->serve_until_ms = parsed.serve_until_ms;
    token->obtained_at_ms = now_ms;
    token->origin = "file sha256:" + hash_hex.substr(0, 12);
    // TODO: token::Token has no field for the token kind (access, ID, SAML),
    // so ParsedToken::kind is dropped here and logs and metrics cannot show
    // it; adding `kind` to Token in src/token/token.h would carry it through.
    token::render_bodies(*token);

    has_token_ = true;
    published_hash_ = hash_hex;
    published_expires_at_ms_ = parsed.expires_at_ms;
    published_serve_until_ms_ = parsed.serve_until_ms;
    sink_->publish(std::move(token));
  }

  // Look again at the poll interval, or when the token stops being served if
  // that comes first: an unchanged file then turns into a failed read.
  int64_t delay_ms = options_.poll_interval_ms;
  if (published_serve_until_ms_) {
    delay_ms = std::clamp<int64_t>(*published_serve_until_ms_ - now_ms, 1, delay_ms);
  }
  schedule_reread(delay_ms);
}

void FileSource::on_missing(int64_t now_ms) {
  // Delete then recreate is not a revocation (SOURCES.md): keep the cached
  // token until its expiry, unless on_missing: drop says otherwise.
  if (has_token_ && options_.drop_on_missing) {
    has_token_ = false;
    published_hash_.clear();
    published_expires_at_ms_.reset();
    published_serve_until_ms_.reset();
    sink_->withdraw("token file is missing (on_missing: drop)");
  }
  // A token without a known expiry (plain text, no ttl) is kept until the
  // file comes back, and the message must not suggest a limit that is not
  // there.
  const char* reason = "token file is missing";
  if (has_token_) {
    reason = published_expires_at_ms_
                 ? "token file is missing; keeping the cached token until it expires"
                 : "token file is missing; keeping the cached token, which has no known expiry, "
                   "until the file is back (on_missing: drop stops serving it)";
  }
  on_failed(reason, now_ms);
}

void FileSource::on_failed(std::string reason, int64_t now_ms) {
  last_attempt_ok_ = false;
  const bool urgent = backoff_is_urgent(has_token_, published_serve_until_ms_, now_ms);
  // The backoff spaces retries out; the poll interval still bounds them.
  const int64_t delay_ms =
      std::min(backoff_.next_delay_ms(urgent, draw_unit()), options_.poll_interval_ms);
  sink_->failed(reason, now_ms + delay_ms);
  schedule_reread(delay_ms);
}

void FileSource::schedule_reread(int64_t delay_ms) {
  const int rc = uv_timer_start(&reread_timer_, on_reread_timer,
                                static_cast<uint64_t>(std::max<int64_t>(delay_ms, 0)), 0);
  if (rc < 0) {
    warn("file_timer_failed",
         "uv_timer_start (re-read) for " + options_.path + ": " + uv_error_text(rc));
  }
}

// --- Reporting ---------------------------------------------------------------

void FileSource::warn(std::string_view event, std::string detail) {
  if (warnings_.size() == kMaxWarnings) {
    warnings_.erase(warnings_.begin());
  }
  warnings_.push_back(Warning{std::string(event), std::move(detail)});
  if (warning_handler_) {
    warning_handler_(warnings_.back().event, warnings_.back().detail);
  }
}

void FileSource::report_callback_error(std::string_view what) {
  // Exceptions never cross the C callback: report, and try again later.
  try {
    warn("file_source_internal_error",
         "in the file source for " + options_.path + ": " + std::string(what));
    const int64_t now_ms = clock_.now_ms();
    sink_->failed("internal error in the file source", now_ms + options_.poll_interval_ms);
    schedule_reread(options_.poll_interval_ms);
  } catch (...) {
    // Nothing left to report with; the next event or poll tries again.
  }
}

// --- Factory -------------------------------------------------------------------

std::optional<FileSourceOptions> read_file_source_options(const config::SourceSpec& spec,
                                                          const token::SourceContext& context,
                                                          config::Diagnostics& diag) {
  SpecReader reader(spec, context.token_name, diag);
  FileSourceOptions options;

  constexpr std::string_view kPathExpected = "the path of the token file";
  if (std::optional<std::string> path = reader.string("path", kPathExpected, /*required=*/true)) {
    fs::path resolved(*path);
    if (resolved.is_relative()) {
      const fs::path base =
          context.base_dir.empty() ? fs::current_path() : fs::path(context.base_dir);
      resolved = base / resolved;
    }
    resolved = resolved.lexically_normal();
    if (resolved.filename().empty()) {
      reader.error("path", "got \"" + *path + "\" (expected a file, not a directory)");
    }
    options.path = resolved.string();
  }
  options.payload = read_payload_options(reader);
  options.drop_on_missing = reader.choice("on_missing", {"keep", "drop"}, "keep") == "drop";
  options.poll_interval_ms = reader.duration_ms("poll_interval", 30'000, 1'000, 3'600'000);
  options.settle_ms = reader.duration_ms("settle", 50, 1, 10'000);
  options.max_size_bytes = reader.size_bytes("max_size", 1024 * 1024, 1, 64 * 1024 * 1024);

  std::vector<std::string_view> known = {"path"};
  known.insert(known.end(), kPayloadFields.begin(), kPayloadFields.end());
  known.insert(known.end(), {"on_missing", "poll_interval", "settle", "max_size"});
  reader.reject_unknown(known);

  if (!reader.ok()) {
    return std::nullopt;
  }
  return options;
}

std::unique_ptr<token::TokenSource> make_file_source(const config::SourceSpec& spec,
                                                     const token::SourceContext& context,
                                                     config::Diagnostics& diag) {
  std::optional<FileSourceOptions> options = read_file_source_options(spec, context, diag);
  if (!options) {
    return nullptr;
  }
  const token::Clock& clock = context.clock != nullptr ? *context.clock : token::system_clock();
  auto source = std::make_unique<FileSource>(std::move(*options), clock);
  // Warnings (a token file others can write, a lost watch) are for the
  // operator: degraded but serving. Details name paths, never token bytes.
  source->set_warning_handler(
      [token_name = context.token_name](std::string_view event, std::string_view detail) {
        log::warn("file", event, {{"token", token_name}, {"detail", log::untrusted(detail)}});
      });
  return source;
}

}  // namespace wif::sources
