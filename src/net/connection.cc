#include "src/net/connection.h"

#include <sys/socket.h>

#include <chrono>

#include "src/log/log.h"
#include "src/net/handler.h"
#include "src/net/listener.h"
#include "src/net/worker.h"

namespace wif::net {
namespace {

// Answers waiting for a client that does not read are capped: past this much
// pending output the connection stops reading (and so stops producing
// answers) until the socket drains.
constexpr size_t kMaxPendingOutputBytes = 256 * 1024;
// After a timeout or an error answer, how long a close_notify or error
// response may take to leave before the socket is simply closed.
constexpr uint64_t kClosingGraceMs = 2000;

http::ParserLimits parser_limits(const config::HttpConfig& http) {
  http::ParserLimits limits;
  limits.max_header_bytes = http.max_header_bytes;
  return limits;
}

std::string peer_address(const uv_tcp_t& tcp) {
  sockaddr_storage addr{};
  int len = sizeof addr;
  if (uv_tcp_getpeername(&tcp, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    return "unknown";
  }
  char host[64] = "";
  if (addr.ss_family == AF_INET6) {
    const auto* v6 = reinterpret_cast<const sockaddr_in6*>(&addr);
    uv_ip6_name(v6, host, sizeof host);
    return format_endpoint(host, ntohs(v6->sin6_port));
  }
  const auto* v4 = reinterpret_cast<const sockaddr_in*>(&addr);
  uv_ip4_name(v4, host, sizeof host);
  return format_endpoint(host, ntohs(v4->sin_port));
}

}  // namespace

Connection::Connection(Worker& worker, std::shared_ptr<const tls::ServerContext> tls)
    : worker_(worker),
      id_(worker.next_connection_id()),
      tls_context_(std::move(tls)),
      parser_(parser_limits(worker.shared().http)) {
  if (tls_context_) {
    tls_ = std::make_unique<tls::Session>(*tls_context_);
  } else {
    phase_ = Phase::kOpen;
  }
}

Connection::~Connection() = default;

void Connection::accept(Worker& worker, uv_stream_t* server) {
  SharedListenerState& shared = worker.shared();
  std::shared_ptr<const tls::ServerContext> context;
  if (shared.tls != nullptr) {
    context = shared.tls->load(std::memory_order_acquire);
  }
  auto* c = new Connection(worker, std::move(context));

  int rc = uv_tcp_init(worker.loop(), &c->tcp_);
  if (rc != 0) {
    log::error("net", "tcp_init_failed", {{"error", uv_strerror(rc)}});
    delete c;
    return;
  }
  c->tcp_.data = c;
  c->handles_open_ = 1;
  uv_timer_init(worker.loop(), &c->timer_);  // cannot fail on Linux
  c->timer_.data = c;
  c->handles_open_ = 2;
  worker.add(c);

  rc = uv_accept(server, reinterpret_cast<uv_stream_t*>(&c->tcp_));
  if (rc != 0) {
    log::debug("net", "accept_failed", {{"error", uv_err_name(rc)}});
    c->close_now();
    return;
  }
  if (shared.active_connections.load(std::memory_order_relaxed) >= shared.http.max_connections) {
    // Over the limit: close at once so the connections already open keep
    // their share of the machine. Counted, logged at debug (per connection).
    shared.refused_connections.fetch_add(1, std::memory_order_relaxed);
    log::debug("net", "connection_refused", {{"conn", c->id_}, {"reason", "max_connections"}});
    c->close_now();
    return;
  }
  shared.active_connections.fetch_add(1, std::memory_order_relaxed);
  c->counted_ = true;

  uv_tcp_nodelay(&c->tcp_, 1);
  rc = uv_read_start(reinterpret_cast<uv_stream_t*>(&c->tcp_), on_alloc, on_read);
  if (rc != 0) {
    c->close_now();
    return;
  }
  c->reading_ = true;
  const config::HttpConfig& http = shared.http;
  c->set_deadline(c->tls_ ? http.handshake_timeout_ms : http.header_timeout_ms);
}

void Connection::on_alloc(uv_handle_t* handle, size_t /*suggested*/, uv_buf_t* buf) {
  auto* c = static_cast<Connection*>(handle->data);
  *buf = uv_buf_init(c->worker_.read_buffer(), Worker::kReadBufferBytes);
}

void Connection::on_read(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) {
  auto* c = static_cast<Connection*>(stream->data);
  if (nread > 0) {
    c->received(buf->base, static_cast<size_t>(nread));
    return;
  }
  if (nread == 0) {
    return;  // EAGAIN: nothing to do
  }
  // EOF or a socket error: the peer is gone or has stopped sending. Answers
  // already produced still go out (a half-closed client may be reading).
  if (nread != UV_EOF) {
    log::debug("net", "read_failed", {{"conn", c->id_}, {"error", uv_err_name(static_cast<int>(nread))}});
  }
  uv_read_stop(stream);
  c->reading_ = false;
  c->close_after_flush_ = true;
  if (!c->write_in_flight_) {
    c->close_now();
  }
}

void Connection::received(const char* data, size_t len) {
  if (phase_ == Phase::kClosing || phase_ == Phase::kClosed) {
    return;
  }
  if (!tls_) {
    plaintext_in_.append(data, len);
    process_requests();
    return;
  }
  tls_->feed(data, len);
  if (phase_ == Phase::kHandshake) {
    advance_handshake();
  }
  if (phase_ == Phase::kOpen) {
    read_plaintext();
  }
}

void Connection::advance_handshake() {
  switch (tls_->handshake()) {
    case tls::Session::Status::kOk: {
      phase_ = Phase::kOpen;
      const tls::PeerIdentity* peer = tls_->peer();
      log::debug("tls", "handshake_ok",
                 {{"conn", id_},
                  {"subject", log::untrusted(peer ? peer->subject : "")},
                  {"resumed", tls_->resumed()}});
      set_deadline(worker_.shared().http.idle_timeout_ms);
      return;
    }
    case tls::Session::Status::kWantMore:
      flush();
      return;
    case tls::Session::Status::kClosed:
    case tls::Session::Status::kFailed:
      log::debug("tls", "handshake_failed",
                 {{"conn", id_},
                  {"peer", peer_address(tcp_)},
                  {"reason", tls::failure_name(tls_->failure())},
                  {"detail", log::untrusted(tls_->failure_detail())}});
      // The alert is in the write BIO: send it before closing, so the client
      // sees the real reason (with TLS 1.3 the client learns of a refused
      // certificate only now, after its own Finished).
      phase_ = Phase::kClosing;
      close_after_flush_ = true;
      stop_reading();
      set_deadline(kClosingGraceMs);
      flush();
      return;
  }
}

void Connection::read_plaintext() {
  const tls::Session::Status status = tls_->read(plaintext_in_);
  if (status == tls::Session::Status::kFailed) {
    log::debug("tls", "record_failed",
               {{"conn", id_},
                {"reason", tls::failure_name(tls_->failure())},
                {"detail", log::untrusted(tls_->failure_detail())}});
    phase_ = Phase::kClosing;
    close_after_flush_ = true;
    stop_reading();
    set_deadline(kClosingGraceMs);
    flush();
    return;
  }
  process_requests();
  if (status == tls::Session::Status::kClosed && phase_ == Phase::kOpen) {
    // close_notify from the peer: answer what came before it, then ours.
    close_gracefully();
  }
}

size_t Connection::pending_output() const {
  return tls_ ? tls_->pending_ciphertext() + plaintext_out_.size() : plaintext_out_.size();
}

void Connection::process_requests() {
  size_t offset = 0;
  while (phase_ == Phase::kOpen && !close_after_flush_ && offset < plaintext_in_.size()) {
    if (pending_output() > kMaxPendingOutputBytes) {
      // A pipelining client that does not read its answers: stop reading
      // until the socket drains (on_write resumes).
      stop_reading();
      break;
    }
    size_t consumed = 0;
    const auto result =
        parser_.feed(plaintext_in_.data() + offset, plaintext_in_.size() - offset, &consumed);
    offset += consumed;
    if (result == http::RequestParser::Result::kNeedMore) {
      break;
    }
    if (result == http::RequestParser::Result::kError) {
      log::debug("http", "bad_request",
                 {{"conn", id_},
                  {"status", parser_.error_status()},
                  {"reason", log::untrusted(parser_.error_reason())}});
      answer_error(parser_.error_status());
      break;
    }
    answer(parser_.request());
  }
  plaintext_in_.erase(0, offset);

  if (phase_ == Phase::kOpen && !close_after_flush_) {
    if (parser_.in_message()) {
      // The header deadline bounds the whole request, so it is armed once
      // and not pushed back by each trickled byte.
      if (!header_deadline_armed_) {
        header_deadline_armed_ = true;
        set_deadline(worker_.shared().http.header_timeout_ms);
      }
    } else if (!write_in_flight_) {
      header_deadline_armed_ = false;
      set_deadline(worker_.shared().http.idle_timeout_ms);
    }
  }
  flush();
}

void Connection::answer(const http::Request& request) {
  const auto started = std::chrono::steady_clock::now();
  const size_t before = plaintext_out_.size();
  const tls::PeerIdentity* peer = tls_ ? tls_->peer() : nullptr;
  const Answer result = handle_request(*worker_.shared().serve, request, peer, plaintext_out_);
  header_deadline_armed_ = false;

  if (log::enabled(log::Level::kDebug)) {
    const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(
                            std::chrono::steady_clock::now() - started)
                            .count();
    log::debug("http", "request",
               {{"conn", id_},
                {"peer", peer_address(tcp_)},
                {"subject", log::untrusted(peer ? peer->subject : "")},
                {"serial", peer ? peer->serial_hex : std::string()},
                {"method", http::method_name(request.method)},
                {"target", log::untrusted(request.target, 128)},
                {"status", result.status},
                {"bytes", static_cast<uint64_t>(plaintext_out_.size() - before)},
                {"duration_us", static_cast<int64_t>(micros)}});
  }
  if (result.close || worker_.draining()) {
    close_gracefully();
  }
}

void Connection::answer_error(int status) {
  render_error(status, false, plaintext_out_);
  close_gracefully();
}

void Connection::flush() {
  if (write_in_flight_ || phase_ == Phase::kClosed) {
    return;
  }
  if (tls_) {
    encrypt_pending();
    const size_t n = tls_->pending_ciphertext();
    wire_out_.resize(n);
    if (n > 0) {
      wire_out_.resize(tls_->take_ciphertext(wire_out_.data(), n));
    }
  } else {
    wire_out_.swap(plaintext_out_);
    plaintext_out_.clear();
  }
  if (wire_out_.empty()) {
    if (close_after_flush_) {
      close_now();
    }
    return;
  }
  uv_buf_t buf = uv_buf_init(wire_out_.data(), static_cast<unsigned>(wire_out_.size()));
  const int rc = uv_write(&write_req_, reinterpret_cast<uv_stream_t*>(&tcp_), &buf, 1, on_write);
  if (rc != 0) {
    log::debug("net", "write_failed", {{"conn", id_}, {"error", uv_err_name(rc)}});
    close_now();
    return;
  }
  write_req_.data = this;
  write_in_flight_ = true;
}

void Connection::encrypt_pending() {
  if (!plaintext_out_.empty()) {
    tls_->write(plaintext_out_);
    plaintext_out_.clear();
  }
}

void Connection::on_write(uv_write_t* req, int status) {
  auto* c = static_cast<Connection*>(req->data);
  c->write_in_flight_ = false;
  if (c->phase_ == Phase::kClosed) {
    return;  // the handle is closing; on_close frees the connection
  }
  if (status != 0) {
    log::debug("net", "write_failed", {{"conn", c->id_}, {"error", uv_err_name(status)}});
    c->close_now();
    return;
  }
  if (c->wire_out_.capacity() > 16 * 1024) {
    std::string().swap(c->wire_out_);  // give back a large buffer while idle
  }
  if (c->pending_output() > 0) {
    c->flush();
    return;
  }
  if (c->close_after_flush_) {
    c->close_now();
    return;
  }
  if (c->phase_ == Phase::kOpen && !c->reading_) {
    c->start_reading();
    c->process_requests();  // answers held back while the output was full
    return;
  }
  if (c->phase_ == Phase::kOpen && !c->parser_.in_message()) {
    c->set_deadline(c->worker_.shared().http.idle_timeout_ms);
  }
}

void Connection::stop_reading() {
  if (reading_) {
    uv_read_stop(reinterpret_cast<uv_stream_t*>(&tcp_));
    reading_ = false;
  }
}

void Connection::start_reading() {
  if (!reading_ && !close_after_flush_) {
    if (uv_read_start(reinterpret_cast<uv_stream_t*>(&tcp_), on_alloc, on_read) == 0) {
      reading_ = true;
    }
  }
}

void Connection::close_gracefully() {
  if (phase_ == Phase::kClosing || phase_ == Phase::kClosed) {
    return;
  }
  phase_ = Phase::kClosing;
  close_after_flush_ = true;
  if (tls_) {
    // The answers rendered so far must be encrypted before close_notify:
    // nothing written after it reaches the peer (RFC 8446 section 6.1).
    encrypt_pending();
    tls_->close();
  }
  stop_reading();
  set_deadline(kClosingGraceMs);
  flush();
}

void Connection::close_now() {
  if (phase_ == Phase::kClosed) {
    return;
  }
  phase_ = Phase::kClosed;
  if (counted_) {
    worker_.shared().active_connections.fetch_sub(1, std::memory_order_relaxed);
    counted_ = false;
  }
  worker_.remove(this);
  uv_close(reinterpret_cast<uv_handle_t*>(&tcp_), on_close);
  uv_close(reinterpret_cast<uv_handle_t*>(&timer_), on_close);
}

void Connection::on_close(uv_handle_t* handle) {
  auto* c = static_cast<Connection*>(handle->data);
  if (--c->handles_open_ == 0) {
    delete c;
  }
}

void Connection::set_deadline(uint64_t ms) {
  if (phase_ != Phase::kClosed) {
    uv_timer_start(&timer_, on_timer, ms, 0);
  }
}

void Connection::on_timer(uv_timer_t* timer) {
  auto* c = static_cast<Connection*>(timer->data);
  switch (c->phase_) {
    case Phase::kHandshake:
      log::debug("tls", "handshake_timeout", {{"conn", c->id_}, {"peer", peer_address(c->tcp_)}});
      c->close_now();
      return;
    case Phase::kOpen:
      if (c->parser_.in_message()) {
        log::debug("http", "header_timeout", {{"conn", c->id_}});
        c->answer_error(408);
      } else if (c->write_in_flight_) {
        log::debug("net", "write_timeout", {{"conn", c->id_}});
        c->close_now();
      } else {
        c->close_gracefully();  // idle keep-alive connection
      }
      return;
    case Phase::kClosing:
      c->close_now();  // the peer did not take our last bytes in time
      return;
    case Phase::kClosed:
      return;
  }
}

bool Connection::idle() const {
  return phase_ == Phase::kOpen && !parser_.in_message() && plaintext_in_.empty() &&
         !write_in_flight_ && pending_output() == 0;
}

void Connection::drain() {
  if (idle()) {
    close_gracefully();
  }
  // Otherwise the request in progress is answered first: answer() sees the
  // worker draining and closes after it. A handshake in progress may still
  // send one request.
}

void Connection::abort() { close_now(); }

}  // namespace wif::net
