#include "src/net/worker.h"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "src/log/log.h"
#include "src/net/connection.h"

namespace wif::net {
namespace {
constexpr int kBacklog = 4096;
}

Worker::Worker(unsigned index, int listen_fd, SharedListenerState& shared,
               metrics::DataPathCounters& counters)
    : index_(index),
      listen_fd_(listen_fd),
      shared_(shared),
      counters_(counters),
      read_buffer_(new char[kReadBufferBytes]) {}

Worker::~Worker() {
  if (loop_ == nullptr && listen_fd_ >= 0) {
    close(listen_fd_);  // never handed to libuv
  }
}

int Worker::open_handles() {
  int rc = uv_tcp_init(loop_, &listener_);
  if (rc != 0) {
    return rc;
  }
  listener_.data = this;
  rc = uv_tcp_open(&listener_, listen_fd_);
  if (rc == 0) {
    rc = uv_listen(reinterpret_cast<uv_stream_t*>(&listener_), kBacklog, on_connection);
  }
  if (rc != 0) {
    uv_close(reinterpret_cast<uv_handle_t*>(&listener_), nullptr);
    return rc;
  }
  uv_async_init(loop_, &stop_async_, on_stop);
  stop_async_.data = this;
  uv_async_init(loop_, &tokens_async_, on_tokens_changed);
  tokens_async_.data = this;
  uv_timer_init(loop_, &force_timer_);
  force_timer_.data = this;
  return 0;
}

int Worker::start_thread() {
  own_loop_ = std::make_unique<uv_loop_t>();
  int rc = uv_loop_init(own_loop_.get());
  if (rc != 0) {
    own_loop_.reset();
    return rc;
  }
  loop_ = own_loop_.get();
  rc = open_handles();
  if (rc != 0) {
    uv_run(loop_, UV_RUN_NOWAIT);  // let the listener's close callback run
    uv_loop_close(loop_);
    return rc;
  }
  rc = uv_thread_create(&thread_, thread_main, this);
  if (rc != 0) {
    return rc;
  }
  threaded_ = true;
  return 0;
}

int Worker::attach(uv_loop_t* loop) {
  loop_ = loop;
  return open_handles();
}

void Worker::thread_main(void* arg) {
  auto* w = static_cast<Worker*>(arg);
  uv_run(w->loop_, UV_RUN_DEFAULT);
  w->thread_done_.store(true, std::memory_order_release);
  // uv_async_send(3) is the one libuv call that is safe from another thread.
  if (uv_async_t* finished = w->finished_async_.load(std::memory_order_acquire)) {
    uv_async_send(finished);
  }
}

void Worker::request_stop(uint64_t timeout_ms, uv_async_t* finished) {
  stop_timeout_ms_.store(timeout_ms, std::memory_order_relaxed);
  finished_async_.store(finished, std::memory_order_release);
  uv_async_send(&stop_async_);
}

void Worker::join() {
  if (!threaded_) {
    return;
  }
  uv_thread_join(&thread_);
  threaded_ = false;
  const int rc = uv_loop_close(loop_);
  if (rc != 0) {
    log::error("net", "loop_close_failed", {{"worker", index_}, {"error", uv_err_name(rc)}});
  }
}

uint64_t Worker::next_connection_id() {
  // Once per connection, next to a handshake: sharing it costs nothing.
  static std::atomic<uint64_t> made{0};
  return made.fetch_add(1, std::memory_order_relaxed) + 1;
}

void Worker::on_connection(uv_stream_t* server, int status) {
  auto* w = static_cast<Worker*>(server->data);
  if (status != 0) {
    // Out of descriptors, a flood may fail every accept: log a few a second.
    static log::RateLimit limit(5);
    uint64_t suppressed = 0;
    if (!limit.allow(&suppressed)) {
      return;
    }
    log::warn("net", "accept_failed",
              {{"listener", w->shared_.name},
               {"error", uv_err_name(status)},
               {"suppressed", suppressed}});
    return;
  }
  Connection::accept(*w, server);
}

void Worker::notify_tokens_changed() { uv_async_send(&tokens_async_); }

const ServeState& Worker::serve() {
  const uint64_t generation = shared_.serve_generation.load(std::memory_order_acquire);
  if (!serve_ || generation != serve_generation_) {
    serve_ = shared_.serve.load(std::memory_order_acquire);
    serve_generation_ = generation;
  }
  return *serve_;
}

void Worker::on_tokens_changed(uv_async_t* async) {
  auto* w = static_cast<Worker*>(async->data);
  for (Connection* c = w->first_; c != nullptr;) {
    Connection* next = c->next;  // an answer may close and unlink c
    c->tokens_changed();
    c = next;
  }
}

void Worker::on_stop(uv_async_t* async) { static_cast<Worker*>(async->data)->begin_drain(); }

void Worker::begin_drain() {
  if (draining_) {
    return;
  }
  draining_ = true;
  // Closing a listening socket resets every connection the kernel completed
  // but nobody accepted yet (tcp(7)), so those are taken and served first.
  // After the close, a second daemon on the same port (SO_REUSEPORT) takes
  // the new connections, and with none they are refused.
  accept_pending();
  uv_close(reinterpret_cast<uv_handle_t*>(&listener_), nullptr);
  uv_timer_start(&force_timer_, on_force_close, stop_timeout_ms_.load(std::memory_order_relaxed),
                 0);
  for (Connection* c = first_; c != nullptr;) {
    Connection* next = c->next;
    c->drain();
    c = next;
  }
  maybe_finish();
}

void Worker::accept_pending() {
  // TODO: a connection the kernel completes between the last accept4() here
  // and the close just after is still reset. The window is a few
  // microseconds; on Linux 5.14 and later net.ipv4.tcp_migrate_req=1 closes
  // it when another daemon shares the port, by moving such connections to
  // its sockets. Without a successor only a refusal is possible anyway.
  for (;;) {
    const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd >= 0) {
      Connection::adopt(*this, fd);
      continue;
    }
    if (errno == EINTR || errno == ECONNABORTED) {
      continue;
    }
    if (errno != EAGAIN && errno != EWOULDBLOCK) {
      // Out of descriptors, most likely: what is left is reset by the close.
      log::warn("net", "drain_accept_failed",
                {{"listener", shared_.name}, {"worker", index_}, {"error", std::strerror(errno)}});
    }
    return;
  }
}

void Worker::on_force_close(uv_timer_t* timer) {
  auto* w = static_cast<Worker*>(timer->data);
  log::warn("net", "shutdown_timeout", {{"listener", w->shared_.name}, {"worker", w->index_}});
  for (Connection* c = w->first_; c != nullptr;) {
    Connection* next = c->next;
    c->abort();
    c = next;
  }
}

void Worker::maybe_finish() {
  if (!draining_ || finished_ || first_ != nullptr) {
    return;
  }
  finished_ = true;
  uv_close(reinterpret_cast<uv_handle_t*>(&stop_async_), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&tokens_async_), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&force_timer_), nullptr);
}

void Worker::add(Connection* connection) {
  connection->prev = nullptr;
  connection->next = first_;
  if (first_ != nullptr) {
    first_->prev = connection;
  }
  first_ = connection;
}

void Worker::remove(Connection* connection) {
  if (connection->prev != nullptr) {
    connection->prev->next = connection->next;
  } else if (first_ == connection) {
    first_ = connection->next;
  }
  if (connection->next != nullptr) {
    connection->next->prev = connection->prev;
  }
  connection->next = connection->prev = nullptr;
  maybe_finish();
}

}  // namespace wif::net
