// Load: one load thread's event loop, its slots and its connections.
//
// A slot is one of the --connections concurrent clients; it has at most one
// connection and at most one request outstanding. Without --rate every slot
// sends its next request as soon as the last is answered (closed loop). With
// --rate the load issues requests on a fixed schedule, paced by a timerfd
// (see Load::start_pacer), and a request waits for a free slot if none is
// idle; its latency counts from its scheduled time, so a slow server cannot
// hide its queueing (no coordinated omission).
//
// Every slot first sets up its connection and makes one request, at most
// --ramp slots at a time, so thousands of connections do not arrive as one
// burst. Created on the main thread; run() and everything after it happen
// on the load's own thread, except the atomics in Shared.
#pragma once

#include <uv.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "bench/loadgen/client_tls.h"
#include "bench/loadgen/options.h"
#include "bench/loadgen/stats.h"

namespace wif::loadgen {

class Connection;
class Load;

// What every load thread shares with the main thread.
struct Shared {
  uint64_t start_ns = 0;  // uv_hrtime() at which every load starts
  // Set by the main thread once every connection is set up (or set-up took
  // too long): the measured window, after the warm-up. Until then both are
  // "never", so nothing counts and nothing ends.
  std::atomic<uint64_t> measure_ns{UINT64_MAX};
  std::atomic<uint64_t> end_ns{UINT64_MAX};  // no request is issued after this
  std::atomic<uint64_t> measured_ok{0};      // for --requests, over every thread
  std::atomic<uint64_t> stopped_ns{0};       // when --requests was reached; 0: not yet
  std::atomic<uint64_t> established{0};      // slots whose first request succeeded
  std::atomic<uint64_t> attempted{0};        // slots whose first request ended, either way
  std::atomic<int64_t> held{0};              // --idle: set-up connections still open
  std::atomic<bool> stop{false};             // the main thread ends the run
};

struct Slot {
  Load* load = nullptr;
  Connection* connection = nullptr;
  SslSessionPtr ticket;    // the newest session ticket, for --resume
  bool set_up = false;     // its first request was answered
  bool attempted = false;  // its first request ended, answered or failed
  bool busy = false;       // a request is outstanding (or the slot is retrying)
};

class Load {
 public:
  Load(const Options& options, const ClientTls& tls, Shared& shared, unsigned slots, double rate,
       std::string request, std::string expected_token);
  ~Load();
  Load(const Load&) = delete;
  Load& operator=(const Load&) = delete;

  // Runs the loop until the run ends and every handle is closed. Returns ""
  // or what went wrong with the loop itself.
  std::string run();
  const Stats& stats() const { return stats_; }

  // For connections.
  uv_loop_t* loop() { return &loop_; }
  const Options& options() const { return options_; }
  const ClientTls& tls() const { return tls_; }
  const std::string& request() const { return request_; }
  const std::string& expected_token() const { return expected_token_; }
  char* read_buffer() { return read_buffer_.get(); }
  static constexpr size_t kReadBufferBytes = 64 * 1024;
  uint64_t now_ns() const { return uv_hrtime(); }

  void add(Connection* connection);
  void remove(Connection* connection);
  void connection_opened() { ++stats_.connections; }
  void handshake_done(bool resumed);
  // A request's outcome; the connection is still usable when ok and
  // keep_alive.
  void answered(Slot& slot, Connection& connection, bool ok, uint64_t intended_ns, bool keep_alive);
  void failed(Slot& slot, ErrorKind kind);
  void error(ErrorKind kind) { ++stats_.errors[static_cast<size_t>(kind)]; }
  void status_seen(int status);
  void closed_while_idle(Slot& slot);

 private:
  static void on_tick(uv_timer_t* timer);
  static void on_sweep(uv_timer_t* timer);
  static void on_pacer(uv_poll_t* poll, int status, int events);
  static void on_pacer_closed(uv_handle_t* handle);

  bool measuring(uint64_t now) const {
    return now >= shared_.measure_ns.load(std::memory_order_relaxed) &&
           now < shared_.end_ns.load(std::memory_order_relaxed);
  }
  bool issuing(uint64_t now) const;
  std::string start_pacer();
  void arm_pacer();
  void pacer_failed(std::string what);
  void start_slots();
  void slot_free(Slot& slot);
  void first_attempt_ended(Slot& slot);
  void start(Slot& slot, uint64_t intended_ns);
  uint64_t due_ns(uint64_t k) const;
  void schedule(uint64_t now);
  void sweep(uint64_t now);
  void stop();

  const Options& options_;
  const ClientTls& tls_;
  Shared& shared_;
  const double rate_;  // this thread's share; 0: closed loop
  const std::string request_;
  const std::string expected_token_;
  uv_loop_t loop_{};
  uv_timer_t tick_{};
  uv_timer_t sweep_{};
  uv_poll_t pacer_{};  // --rate only: watches pacer_fd_
  int pacer_fd_ = -1;  // a timerfd, armed for the next due request while a slot is free
  std::vector<Slot> slots_;
  size_t next_unstarted_ = 0;  // slots_[next_unstarted_..] have not started yet
  unsigned setting_up_ = 0;    // slots busy with their first request
  std::vector<Slot*> free_;    // set-up slots without work (fixed rate)
  std::vector<Slot*> retry_;   // slots that failed, restarted at the next sweep
  uint64_t scheduled_ = 0;     // requests handed to slots so far; any due since: the backlog
  bool started_ = false;
  bool stopping_ = false;
  Connection* first_ = nullptr;
  std::unique_ptr<char[]> read_buffer_;
  Stats stats_;
  std::string failure_;  // why the loop could not go on; returned by run()
};

}  // namespace wif::loadgen
