// Server: the listeners and their workers.
//
// The mTLS listener gets one Worker thread per core, each with its own
// SO_REUSEPORT socket; the plain metrics listener (/metrics, /healthz,
// /readyz) runs as one Worker on the control loop. Created, started, reloaded
// and stopped from the control loop (main thread) only.
#pragma once

#include <uv.h>

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "src/config/config.h"
#include "src/metrics/metrics.h"
#include "src/net/handler.h"
#include "src/net/worker.h"
#include "src/tls/server_context.h"

namespace wif::net {

struct ServerOptions {
  config::Endpoint listen;
  unsigned workers = 1;
  config::HttpConfig http;
  std::optional<config::Endpoint> metrics_listen;
  std::shared_ptr<const ServeState> token_state;
  std::shared_ptr<const ServeState> metrics_state;
  std::shared_ptr<const tls::ServerContext> tls;
  // Where every worker counts; required, and outlives the Server.
  metrics::Metrics* metrics = nullptr;
};

// Process-wide, before any worker starts: makes glibc serve blocks of 16 KiB
// and more from their own mappings (mallopt(3) M_MMAP_THRESHOLD), so that the TLS
// record buffers an idle connection gives back return to the system at once
// instead of staying resident in the middle of the heap.
void tune_allocator();

class Server {
 public:
  explicit Server(ServerOptions options);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds every socket (the mTLS listener's, one per worker, and the
  // metrics one). Returns "" or a message naming the address and the system
  // error. Separate from start() so the daemon can give up root in between.
  std::string bind();
  // Starts the workers, binding first if bind() was not called. Returns ""
  // or a message naming what failed.
  std::string start(uv_loop_t* control_loop);

  // New connections use `context` from now on; connections already open keep
  // the one they started with, and each checks its client against the new
  // one at its next request (Connection::peer_still_trusted).
  void swap_tls(std::shared_ptr<const tls::ServerContext> context);
  // Any thread: the context new connections get now.
  std::shared_ptr<const tls::ServerContext> tls_context() const {
    return tls_.load(std::memory_order_acquire);
  }

  // A config reload: requests from now on are answered from these (the
  // same tokens in the same order, with new rules or responses). Requests
  // held for a value take the new state when they look again.
  void swap_serve(std::shared_ptr<const ServeState> token_state,
                  std::shared_ptr<const ServeState> metrics_state);

  // A token changed: every worker's held requests look again (see
  // Connection). Does nothing before start() has succeeded or after
  // request_stop(), when the workers' wake-up handles may be gone.
  void notify_tokens_changed();

  // Stops accepting and drains every worker (see Worker::request_stop).
  // `finished`, an async handle on the control loop, is sent each time a
  // worker thread ends; threads_done() then tells whether all have.
  void request_stop(uint64_t timeout_ms, uv_async_t* finished = nullptr);
  bool threads_done() const;
  // Blocks until the worker threads have ended. Call after request_stop().
  void join();

  uint16_t port() const { return port_; }
  uint16_t metrics_port() const { return metrics_port_; }
  const SharedListenerState& mtls_state() const { return mtls_; }
  const SharedListenerState& metrics_listener_state() const { return metrics_; }

 private:
  ServerOptions options_;
  std::atomic<std::shared_ptr<const tls::ServerContext>> tls_;
  std::atomic<uint64_t> tls_generation_{0};
  SharedListenerState mtls_;
  SharedListenerState metrics_;
  std::vector<int> fds_;  // bound, not yet handed to a worker
  int metrics_fd_ = -1;
  bool bound_ = false;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::unique_ptr<Worker> metrics_worker_;
  uint16_t port_ = 0;
  uint16_t metrics_port_ = 0;
  bool notifying_ = false;  // between a successful start() and request_stop()
};

}  // namespace wif::net
