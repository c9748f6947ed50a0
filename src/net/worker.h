// Worker: one libuv loop with its own listening socket and its connections.
//
// The daemon runs one Worker per core, each on its own thread, and shares
// only immutable snapshots between them (TLS context, ServeState, config) plus
// a few atomics. The plain-HTTP metrics listener is a Worker too, attached to
// the control loop instead of a thread of its own. Everything in a Worker runs
// on its loop thread except request_stop(), which is safe from any thread.
#pragma once

#include <uv.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "src/config/config.h"
#include "src/metrics/data_path.h"
#include "src/net/handler.h"
#include "src/tls/server_context.h"

namespace wif::net {

class Connection;

// What every worker of a listener shares. Owned by the Server; outlives the
// workers.
struct SharedListenerState {
  // What requests are answered from, swapped whole by a config reload.
  // Workers keep their own reference (Worker::serve) and take the new one
  // when serve_generation, stored after it, has moved.
  std::atomic<std::shared_ptr<const ServeState>> serve;
  std::atomic<uint64_t> serve_generation{0};
  config::HttpConfig http;
  // Null for a plain-HTTP listener; else swapped atomically on reload, and
  // read once per new connection.
  std::atomic<std::shared_ptr<const tls::ServerContext>>* tls = nullptr;
  // The generation of *tls, stored after it: one atomic load per request
  // tells a connection whether the context changed since it was verified.
  const std::atomic<uint64_t>* tls_generation = nullptr;
  // Checked against max_connections at each accept, by every worker.
  std::atomic<uint64_t> active_connections{0};
  std::string name;  // "mtls" or "metrics", for logs
};

class Worker {
 public:
  // `counters` are this worker's own (Metrics::add_worker) and outlive it.
  Worker(unsigned index, int listen_fd, SharedListenerState& shared,
         metrics::DataPathCounters& counters);
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  // Runs the worker on a new thread with a loop of its own. 0 or a libuv error.
  int start_thread();
  // Runs the worker on an existing loop (the control loop).
  int attach(uv_loop_t* loop);

  // Any thread: stop accepting, let requests in flight finish, close idle
  // connections with close_notify, and force the rest closed after
  // timeout_ms. The loop then runs out of handles and the thread ends; its
  // last act is uv_async_send(finished) when finished is not null, so the
  // owner's loop learns of it without blocking in join().
  void request_stop(uint64_t timeout_ms, uv_async_t* finished = nullptr);
  // Any thread: true once the thread started by start_thread() has left its
  // loop (join() then returns at once).
  bool thread_done() const { return thread_done_.load(std::memory_order_acquire); }
  // Waits for the thread started by start_thread().
  void join();
  // Any thread, but never after request_stop(): a token changed, so held
  // requests look again. uv_async_send, so a burst wakes the loop once.
  void notify_tokens_changed();

  // Loop thread only; used by connections.
  uv_loop_t* loop() const { return loop_; }
  SharedListenerState& shared() { return shared_; }
  // The ServeState to answer from now: one atomic load per request, and a
  // new reference only after a config reload.
  const ServeState& serve();
  metrics::DataPathCounters& counters() { return counters_; }
  bool draining() const { return draining_; }
  // Numbers connections 1, 2, 3... across every worker and listener, so the
  // conn field of log lines stays short and never repeats in a process.
  static uint64_t next_connection_id();
  // One read buffer per loop: libuv calls alloc then read back to back, and
  // the read callback consumes the bytes before returning.
  char* read_buffer() { return read_buffer_.get(); }
  static constexpr size_t kReadBufferBytes = 64 * 1024;

  void add(Connection* connection);
  void remove(Connection* connection);

 private:
  static void on_connection(uv_stream_t* server, int status);
  static void on_stop(uv_async_t* async);
  static void on_tokens_changed(uv_async_t* async);
  static void on_force_close(uv_timer_t* timer);
  static void thread_main(void* arg);
  int open_handles();
  void begin_drain();
  // Accepts and serves every connection queued on the listening socket.
  void accept_pending();
  void maybe_finish();

  const unsigned index_;
  const int listen_fd_;
  SharedListenerState& shared_;
  metrics::DataPathCounters& counters_;
  uv_loop_t* loop_ = nullptr;
  std::unique_ptr<uv_loop_t> own_loop_;
  uv_tcp_t listener_{};
  uv_async_t stop_async_{};
  uv_async_t tokens_async_{};
  uv_timer_t force_timer_{};
  uv_thread_t thread_{};
  bool threaded_ = false;
  bool draining_ = false;
  bool finished_ = false;
  std::atomic<uint64_t> stop_timeout_ms_{0};
  std::atomic<uv_async_t*> finished_async_{nullptr};
  std::atomic<bool> thread_done_{false};
  std::unique_ptr<char[]> read_buffer_;
  Connection* first_ = nullptr;  // intrusive list of live connections
  std::shared_ptr<const ServeState> serve_;
  uint64_t serve_generation_ = 0;
};

}  // namespace wif::net
