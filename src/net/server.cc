#include "src/net/server.h"

#include <malloc.h>
#include <unistd.h>

#include "src/log/log.h"
#include "src/net/listener.h"

namespace wif::net {
namespace {

constexpr int kBacklog = 4096;

// OpenSSL's record buffers (a whole record with header and overhead) and
// its handshake buffers are 16 KiB or more; what a connection keeps while
// idle is far smaller. Measured with 2,000 idle connections: 24.7 KiB each
// at this threshold, 28.2 KiB at 16.25 KiB, 29.4 KiB with glibc's default.
constexpr int kMmapThresholdBytes = 16 * 1024;

// SO_REUSEPORT lets a new daemon join the old one's port so a restart
// refuses nobody, but an old or stray instance would just as quietly keep
// half the connections (and half the scrapes): say so.
void warn_if_shared(const config::Endpoint& endpoint) {
  if (already_listening(endpoint)) {
    log::warn("net", "port_shared",
              {{"addr", format_endpoint(endpoint.host, endpoint.port)},
               {"detail",
                "another process already listens here; new connections are spread over both "
                "(SO_REUSEPORT) until it stops, which is expected only during a restart"}});
  }
}

}  // namespace

void tune_allocator() {
  // Setting the threshold also stops glibc from raising it by itself after
  // such a block is freed, which would put the buffers back in the heap.
  mallopt(M_MMAP_THRESHOLD, kMmapThresholdBytes);
}

Server::Server(ServerOptions options) : options_(std::move(options)) {
  tls_.store(options_.tls);
  if (options_.tls) {
    tls_generation_.store(options_.tls->generation());
  }
  mtls_.serve.store(options_.token_state);
  mtls_.http = options_.http;
  mtls_.tls = &tls_;
  mtls_.tls_generation = &tls_generation_;
  mtls_.name = "mtls";
  metrics_.serve.store(options_.metrics_state);
  metrics_.http = options_.http;
  metrics_.name = "metrics";
}

Server::~Server() {
  for (int fd : fds_) {
    close(fd);  // bound but never handed to a worker
  }
  if (metrics_fd_ >= 0) {
    close(metrics_fd_);
  }
}

std::string Server::bind() {
  // Bind everything before starting anything, so a busy port fails start-up
  // cleanly. The first socket fixes the port (it may have been 0) and the
  // others join it.
  bound_ = true;
  warn_if_shared(options_.listen);
  if (options_.metrics_listen) {
    warn_if_shared(*options_.metrics_listen);
  }
  config::Endpoint endpoint = options_.listen;
  for (unsigned i = 0; i < options_.workers; ++i) {
    ListenResult r = open_listener(endpoint, kBacklog);
    if (r.fd < 0) {
      return r.error;
    }
    endpoint.port = r.port;
    fds_.push_back(r.fd);
  }
  port_ = endpoint.port;

  if (options_.metrics_listen) {
    ListenResult r = open_listener(*options_.metrics_listen, 128);
    if (r.fd < 0) {
      return r.error;
    }
    metrics_fd_ = r.fd;
    metrics_port_ = r.port;
  }
  return "";
}

std::string Server::start(uv_loop_t* control_loop) {
  if (!bound_) {
    if (std::string error = bind(); !error.empty()) {
      return error;
    }
  }
  const std::vector<int> fds = std::move(fds_);
  fds_.clear();
  const int metrics_fd = metrics_fd_;
  metrics_fd_ = -1;

  // Every worker's counters exist before the first thread starts, so a
  // scrape never sees the set of counters change.
  metrics::Metrics& metrics = *options_.metrics;
  for (unsigned i = 0; i < fds.size(); ++i) {
    workers_.push_back(
        std::make_unique<Worker>(i, fds[i], mtls_, metrics.add_worker(metrics::Listener::kMtls)));
  }
  if (metrics_fd >= 0) {
    metrics_worker_ = std::make_unique<Worker>(0, metrics_fd, metrics_,
                                               metrics.add_worker(metrics::Listener::kMetrics));
  }
  for (auto& worker : workers_) {
    const int rc = worker->start_thread();
    if (rc != 0) {
      return std::string("starting a worker thread: ") + uv_strerror(rc);
    }
  }
  log::info("net", "listening",
            {{"listener", "mtls"},
             {"addr", format_endpoint(options_.listen.host, port_)},
             {"workers", static_cast<unsigned>(workers_.size())}});

  if (metrics_worker_) {
    const int rc = metrics_worker_->attach(control_loop);
    if (rc != 0) {
      return "metrics listener: " + std::string(uv_strerror(rc));
    }
    log::info("net", "listening",
              {{"listener", "metrics"},
               {"addr", format_endpoint(options_.metrics_listen->host, metrics_port_)}});
  }
  notifying_ = true;
  return "";
}

void Server::swap_tls(std::shared_ptr<const tls::ServerContext> context) {
  const uint64_t generation = context->generation();
  tls_.store(std::move(context), std::memory_order_release);
  tls_generation_.store(generation, std::memory_order_release);
}

void Server::swap_serve(std::shared_ptr<const ServeState> token_state,
                        std::shared_ptr<const ServeState> metrics_state) {
  for (auto [shared, state] : {std::pair{&mtls_, std::move(token_state)},
                               std::pair{&metrics_, std::move(metrics_state)}}) {
    shared->serve.store(std::move(state), std::memory_order_release);
    shared->serve_generation.fetch_add(1, std::memory_order_acq_rel);
  }
}

void Server::notify_tokens_changed() {
  if (!notifying_) {
    return;
  }
  for (auto& worker : workers_) {
    worker->notify_tokens_changed();
  }
}

void Server::request_stop(uint64_t timeout_ms, uv_async_t* finished) {
  notifying_ = false;
  for (auto& worker : workers_) {
    worker->request_stop(timeout_ms, finished);
  }
  if (metrics_worker_) {
    metrics_worker_->request_stop(timeout_ms);
  }
}

bool Server::threads_done() const {
  for (const auto& worker : workers_) {
    if (!worker->thread_done()) {
      return false;
    }
  }
  return true;
}

void Server::join() {
  for (auto& worker : workers_) {
    worker->join();
  }
}

}  // namespace wif::net
