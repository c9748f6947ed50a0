#include "bench/loadgen/load.h"

#include <sys/timerfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "bench/loadgen/connection.h"

namespace wif::loadgen {
namespace {

constexpr uint64_t kTickMs = 10;    // starting the slots and noticing the end
constexpr uint64_t kSweepMs = 100;  // timeouts and retries after a failure
constexpr uint64_t kNsPerMs = 1'000'000;
constexpr uint64_t kNsPerS = 1'000'000'000;

std::string uv_error(const char* what, int rc) {
  return std::string(what) + ": " + uv_err_name(rc) + ": " + uv_strerror(rc);
}

std::string errno_error(const char* what) {
  return std::string(what) + ": " + std::strerror(errno);
}

}  // namespace

Load::Load(const Options& options, const ClientTls& tls, Shared& shared, unsigned slots,
           double rate, std::string request, std::string expected_token)
    : options_(options),
      tls_(tls),
      shared_(shared),
      rate_(rate),
      request_(std::move(request)),
      expected_token_(std::move(expected_token)),
      slots_(slots),
      read_buffer_(new char[kReadBufferBytes]) {
  for (Slot& slot : slots_) {
    slot.load = this;
  }
}

Load::~Load() = default;

std::string Load::run() {
  int rc = uv_loop_init(&loop_);
  if (rc != 0) {
    return std::string("uv_loop_init: ") + uv_strerror(rc);
  }
  if (rate_ > 0) {
    failure_ = start_pacer();
    if (!failure_.empty()) {
      uv_run(&loop_, UV_RUN_DEFAULT);  // the pacer's close, if it got that far
      uv_loop_close(&loop_);
      return failure_;
    }
  }
  uv_timer_init(&loop_, &tick_);  // timers cannot fail on Linux
  uv_timer_init(&loop_, &sweep_);
  tick_.data = this;
  sweep_.data = this;
  const uint64_t now = now_ns();
  const uint64_t delay_ms = shared_.start_ns > now ? (shared_.start_ns - now) / kNsPerMs : 0;
  uv_timer_start(&tick_, on_tick, delay_ms, kTickMs);
  uv_timer_start(&sweep_, on_sweep, delay_ms + kSweepMs, kSweepMs);
  uv_run(&loop_, UV_RUN_DEFAULT);
  rc = uv_loop_close(&loop_);
  if (rc != 0) {
    return std::string("uv_loop_close: ") + uv_strerror(rc);
  }
  return failure_;
}

// --rate is paced by a timerfd (timerfd_create(2)) armed with an absolute
// time, the one the next request is due at, and watched with uv_poll. A
// libuv timer cannot keep that schedule: it counts whole milliseconds of
// loop time (uv_now, libuv loop.rst) and fires on the first loop iteration
// after, so a 1 ms tick sent requests up to a millisecond or two late, and
// as each latency counts from the time its request was due, that lateness
// swamped every server's p99. The timerfd counts nanoseconds on
// CLOCK_MONOTONIC, the clock uv_hrtime reads, and wakes the loop within tens
// of microseconds of the time while a core is free (pacer_lag_us in the
// summary shows how late it was). It is armed only while a slot is free,
// so it wakes about once per request at most: while every slot is busy, the
// due requests wait as the backlog, and a rate far beyond the server's
// costs no wake-ups at all.
std::string Load::start_pacer() {
  pacer_fd_ = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  if (pacer_fd_ < 0) {
    return errno_error("timerfd_create(CLOCK_MONOTONIC) for --rate");
  }
  int rc = uv_poll_init(&loop_, &pacer_, pacer_fd_);
  if (rc != 0) {
    // uv_poll_init fails before it sets up the handle (src/unix/poll.c).
    close(pacer_fd_);
    pacer_fd_ = -1;
    return uv_error("uv_poll_init(timerfd)", rc);
  }
  pacer_.data = this;
  rc = uv_poll_start(&pacer_, UV_READABLE, on_pacer);
  if (rc != 0) {
    uv_close(reinterpret_cast<uv_handle_t*>(&pacer_), on_pacer_closed);
    return uv_error("uv_poll_start(timerfd)", rc);
  }
  return "";
}

// Arms the pacer for the time the next request is due; a time already past
// makes it fire at once.
void Load::arm_pacer() {
  const uint64_t at = due_ns(scheduled_);
  itimerspec spec{};
  spec.it_value.tv_sec = static_cast<time_t>(at / kNsPerS);
  spec.it_value.tv_nsec = static_cast<long>(at % kNsPerS);
  if (timerfd_settime(pacer_fd_, TFD_TIMER_ABSTIME, &spec, nullptr) != 0) {
    pacer_failed(errno_error("timerfd_settime"));
  }
}

void Load::on_pacer(uv_poll_t* poll, int status, int /*events*/) {
  auto* load = static_cast<Load*>(poll->data);
  if (status < 0) {
    load->pacer_failed(uv_error("uv_poll(timerfd)", status));
    return;
  }
  // Reading the expiry count clears the readiness. EAGAIN means a re-arm
  // cleared it first or the wake-up was spurious; schedule() finds what is
  // due either way.
  uint64_t expiries = 0;
  if (read(load->pacer_fd_, &expiries, sizeof expiries) < 0 && errno != EAGAIN) {
    load->pacer_failed(errno_error("read(timerfd)"));
    return;
  }
  const uint64_t now = load->now_ns();
  if (!load->issuing(now)) {
    return;  // the tick stops the load
  }
  load->schedule(now);
  if (!load->free_.empty()) {
    load->arm_pacer();
  }
}

void Load::on_pacer_closed(uv_handle_t* handle) {
  auto* load = static_cast<Load*>(handle->data);
  close(load->pacer_fd_);  // only now that nothing polls it (poll.rst)
  load->pacer_fd_ = -1;
}

// The run cannot keep its schedule: the pacer stops, every thread ends at
// its next tick, and run() returns what went wrong. (Stopping here could
// close the connection whose answer is being handled.)
void Load::pacer_failed(std::string what) {
  if (failure_.empty()) {
    failure_ = std::move(what);
  }
  uv_poll_stop(&pacer_);
  shared_.stop.store(true, std::memory_order_relaxed);
}

bool Load::issuing(uint64_t now) const {
  if (stopping_ || shared_.stop.load(std::memory_order_relaxed)) {
    return false;
  }
  return options_.idle || now < shared_.end_ns.load(std::memory_order_relaxed);
}

void Load::on_tick(uv_timer_t* timer) {
  auto* load = static_cast<Load*>(timer->data);
  const uint64_t now = load->now_ns();
  if (!load->started_) {
    load->started_ = true;
    load->start_slots();
  }
  if (!load->issuing(now)) {
    load->stop();
  }
}

void Load::on_sweep(uv_timer_t* timer) {
  auto* load = static_cast<Load*>(timer->data);
  load->sweep(load->now_ns());
}

void Load::start_slots() {
  while (setting_up_ < options_.ramp && next_unstarted_ < slots_.size() && !stopping_) {
    Slot& slot = slots_[next_unstarted_++];
    ++setting_up_;
    start(slot, now_ns());
  }
}

void Load::start(Slot& slot, uint64_t intended_ns) {
  slot.busy = true;
  if (slot.connection != nullptr) {
    slot.connection->send(intended_ns);
    return;
  }
  Connection* c = Connection::open(*this, slot, intended_ns);
  if (c != nullptr) {
    slot.connection = c;
  }
}

void Load::slot_free(Slot& slot) {
  slot.busy = false;
  const uint64_t now = now_ns();
  if (!issuing(now) || options_.idle) {
    return;
  }
  if (rate_ == 0) {
    start(slot, now);
    return;
  }
  if (due_ns(scheduled_) <= now) {
    start(slot, due_ns(scheduled_++));  // the oldest request of the backlog
    return;
  }
  // While any slot is free the pacer is armed, for the next due time or
  // an earlier one; so only the first free slot arms it.
  free_.push_back(&slot);
  if (free_.size() == 1) {
    arm_pacer();
  }
}

// Request k of the schedule is due at start + k / rate, the first at the
// start itself; its latency counts from then.
uint64_t Load::due_ns(uint64_t k) const {
  return shared_.start_ns + static_cast<uint64_t>(static_cast<double>(k) * 1e9 / rate_);
}

// Hands every request the fixed rate has made due to a free slot, each with
// the time it was due. The rest stay due: the backlog is the requests from
// scheduled_ up to now, so it needs no memory however far the server falls
// behind, and the next slot to free takes the oldest.
void Load::schedule(uint64_t now) {
  while (!free_.empty() && due_ns(scheduled_) <= now) {
    Slot* slot = free_.back();
    free_.pop_back();
    const uint64_t due = due_ns(scheduled_++);
    if (measuring(now)) {
      stats_.pacer_lag.record(now - due);
    }
    start(*slot, due);
  }
}

void Load::sweep(uint64_t now) {
  if (!issuing(now)) {
    stop();
    return;
  }
  for (Connection* c = first_; c != nullptr;) {
    Connection* next = c->next;
    if (c->waiting() && now > c->deadline_ns()) {
      Slot* slot = c->slot();
      c->abort();
      if (slot != nullptr) {
        failed(*slot, ErrorKind::kTimeout);
      } else {
        error(ErrorKind::kTimeout);
      }
    }
    c = next;
  }

  std::vector<Slot*> retry;
  retry.swap(retry_);
  for (Slot* slot : retry) {
    if (!slot->set_up) {
      start(*slot, now);
    } else {
      slot_free(*slot);
    }
  }
}

void Load::stop() {
  if (stopping_) {
    return;
  }
  stopping_ = true;
  uv_close(reinterpret_cast<uv_handle_t*>(&tick_), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&sweep_), nullptr);
  if (pacer_fd_ >= 0) {
    uv_close(reinterpret_cast<uv_handle_t*>(&pacer_), on_pacer_closed);
  }
  for (Connection* c = first_; c != nullptr;) {
    Connection* next = c->next;
    c->abort();
    c = next;
  }
  free_.clear();
  retry_.clear();
}

void Load::handshake_done(bool resumed) {
  if (measuring(now_ns())) {
    ++stats_.handshakes;
    stats_.resumed += resumed ? 1 : 0;
  }
}

void Load::answered(Slot& slot, Connection& connection, bool ok, uint64_t intended_ns,
                    bool keep_alive) {
  const uint64_t now = now_ns();
  if (ok && measuring(now)) {
    ++stats_.ok;
    stats_.latency.record(now > intended_ns ? now - intended_ns : 0);
    const uint64_t total = shared_.measured_ok.fetch_add(1, std::memory_order_relaxed) + 1;
    if (options_.requests && total == *options_.requests) {
      shared_.stopped_ns.store(now, std::memory_order_relaxed);
      shared_.stop.store(true, std::memory_order_relaxed);
    }
  }

  first_attempt_ended(slot);
  if (!slot.set_up) {
    slot.set_up = true;
    --setting_up_;
    if (ok) {
      shared_.established.fetch_add(1, std::memory_order_relaxed);
      if (options_.idle) {
        shared_.held.fetch_add(1, std::memory_order_relaxed);
      }
    }
    start_slots();
  }
  if (options_.mode == ConnectionMode::kClose || !keep_alive) {
    connection.close_gracefully();
  }
  slot_free(slot);
}

void Load::first_attempt_ended(Slot& slot) {
  if (!slot.attempted) {
    slot.attempted = true;
    shared_.attempted.fetch_add(1, std::memory_order_relaxed);
  }
}

void Load::failed(Slot& slot, ErrorKind kind) {
  error(kind);
  first_attempt_ended(slot);
  // The slot tries again at the next sweep, so a refusing server costs a
  // few attempts per second per slot rather than a busy loop.
  slot.busy = true;
  if (!stopping_) {
    retry_.push_back(&slot);
  }
}

void Load::status_seen(int status) {
  if (status >= 0 && static_cast<size_t>(status) < stats_.statuses.size()) {
    ++stats_.statuses[static_cast<size_t>(status)];
  }
}

void Load::closed_while_idle(Slot& slot) {
  ++stats_.server_closed_idle;
  if (options_.idle && slot.set_up) {
    shared_.held.fetch_sub(1, std::memory_order_relaxed);
  }
}

void Load::add(Connection* connection) {
  connection->prev = nullptr;
  connection->next = first_;
  if (first_ != nullptr) {
    first_->prev = connection;
  }
  first_ = connection;
}

void Load::remove(Connection* connection) {
  if (connection->prev != nullptr) {
    connection->prev->next = connection->next;
  } else if (first_ == connection) {
    first_ = connection->next;
  }
  if (connection->next != nullptr) {
    connection->next->prev = connection->prev;
  }
  connection->next = connection->prev = nullptr;
}

}  // namespace wif::loadgen
