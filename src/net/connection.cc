#include "src/net/connection.h"

#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <ctime>
#include <optional>

#include "src/log/log.h"
#include "src/net/handler.h"
#include "src/net/listener.h"
#include "src/net/worker.h"

namespace wif::net {
namespace {

// Answers waiting for a client that does not read are capped: past this much
// output not yet taken by the socket (in flight, encrypted or not) the
// connection stops reading (and so stops producing answers) until the socket
// drains.
constexpr size_t kMaxPendingOutputBytes = 256 * 1024;
// After a timeout or an error answer, how long a close_notify or error
// response may take to leave before the socket is simply closed.
constexpr uint64_t kClosingGraceMs = 2000;
// Output buffers larger than this are given back once written, so only a
// connection busy right now holds more.
constexpr size_t kKeptBufferBytes = 16 * 1024;
// Once everything is written, how long input is read and dropped while
// waiting for the peer to close its side.
constexpr uint64_t kLingerMs = 2000;
// A connection silent this long gives its TLS record buffers and string
// capacity back (about 35 KiB); one in steady use keeps them, so a request
// allocates nothing.
constexpr uint64_t kIdleBuffersMs = 1000;

http::ParserLimits parser_limits(const config::HttpConfig& http) {
  http::ParserLimits limits;
  limits.max_header_bytes = http.max_header_bytes;
  return limits;
}

// The metric label sets are the metrics layer's own; these map onto them.
metrics::Route route_of(http::RouteKind kind) {
  switch (kind) {
    case http::RouteKind::kRoot:
      return metrics::Route::kRoot;
    case http::RouteKind::kToken:
      return metrics::Route::kToken;
    case http::RouteKind::kHealthz:
      return metrics::Route::kHealthz;
    case http::RouteKind::kReadyz:
      return metrics::Route::kReadyz;
    case http::RouteKind::kMetrics:
      return metrics::Route::kMetrics;
    case http::RouteKind::kNotFound:
      return metrics::Route::kNotFound;
  }
  return metrics::Route::kNotFound;
}

metrics::Method method_of(http::Method method) {
  switch (method) {
    case http::Method::kGet:
      return metrics::Method::kGet;
    case http::Method::kHead:
      return metrics::Method::kHead;
    case http::Method::kPost:
      return metrics::Method::kPost;
    case http::Method::kPut:
      return metrics::Method::kPut;
    case http::Method::kDelete:
      return metrics::Method::kDelete;
    case http::Method::kPatch:
      return metrics::Method::kPatch;
    case http::Method::kOptions:
      return metrics::Method::kOptions;
    case http::Method::kTrace:
      return metrics::Method::kTrace;
    case http::Method::kConnect:
      return metrics::Method::kConnect;
    case http::Method::kOther:
      return metrics::Method::kOther;
  }
  return metrics::Method::kOther;
}

metrics::Handshake handshake_of(tls::Failure failure) {
  switch (failure) {
    case tls::Failure::kNone:
      return metrics::Handshake::kOk;
    case tls::Failure::kNoCertificate:
      return metrics::Handshake::kNoCertificate;
    case tls::Failure::kUnknownCa:
      return metrics::Handshake::kUnknownCa;
    case tls::Failure::kExpired:
      return metrics::Handshake::kExpired;
    case tls::Failure::kNotYetValid:
      return metrics::Handshake::kNotYetValid;
    case tls::Failure::kRevoked:
      return metrics::Handshake::kRevoked;
    case tls::Failure::kBadUsage:
      return metrics::Handshake::kBadUsage;
    case tls::Failure::kRevocationUnknown:
      return metrics::Handshake::kRevocationUnknown;
    case tls::Failure::kServerCertificateRefused:
      return metrics::Handshake::kServerCertificateRefused;
    case tls::Failure::kProtocol:
      return metrics::Handshake::kProtocol;
  }
  return metrics::Handshake::kProtocol;
}

// Which token outcome a status means; nullopt for answers that are not about
// the token (405 on a token path).
std::optional<metrics::TokenResult> token_result_of(int status) {
  switch (status) {
    case 200:
      return metrics::TokenResult::kServed;
    case 403:
      return metrics::TokenResult::kForbidden;
    case 503:
      return metrics::TokenResult::kUnavailable;
    default:
      return std::nullopt;
  }
}

}  // namespace

Connection::Connection(Worker& worker, std::shared_ptr<const tls::ServerContext> tls)
    : worker_(worker),
      id_(worker.next_connection_id()),
      tls_context_(std::move(tls)),
      parser_(parser_limits(worker.shared().http)) {
  if (tls_context_) {
    tls_ = std::make_unique<tls::Session>(*tls_context_);
    trusted_generation_ = tls_context_->generation();
  } else {
    phase_ = Phase::kOpen;
  }
}

Connection::~Connection() = default;

Connection* Connection::create(Worker& worker) {
  SharedListenerState& shared = worker.shared();
  std::shared_ptr<const tls::ServerContext> context;
  if (shared.tls != nullptr) {
    context = shared.tls->load(std::memory_order_acquire);
  }
  auto* c = new Connection(worker, std::move(context));

  int rc = uv_tcp_init(worker.loop(), &c->tcp_);
  if (rc != 0) {
    static log::RateLimit limit(5);
    uint64_t suppressed = 0;
    if (limit.allow(&suppressed)) {
      log::error("net", "tcp_init_failed",
                 {{"error", uv_strerror(rc)}, {"suppressed", suppressed}});
    }
    delete c;
    return nullptr;
  }
  c->tcp_.data = c;
  c->handles_open_ = 1;
  uv_timer_init(worker.loop(), &c->timer_);  // cannot fail on Linux
  c->timer_.data = c;
  c->handles_open_ = 2;
  worker.add(c);
  return c;
}

void Connection::accept(Worker& worker, uv_stream_t* server) {
  Connection* c = create(worker);
  if (c == nullptr) {
    return;
  }
  const int rc = uv_accept(server, reinterpret_cast<uv_stream_t*>(&c->tcp_));
  if (rc != 0) {
    log::debug("net", "accept_failed", {{"error", uv_err_name(rc)}});
    c->close_now();
    return;
  }
  c->start();
}

void Connection::adopt(Worker& worker, int fd) {
  Connection* c = create(worker);
  if (c == nullptr) {
    ::close(fd);
    return;
  }
  const int rc = uv_tcp_open(&c->tcp_, fd);
  if (rc != 0) {
    // libuv took no ownership of the descriptor.
    log::debug("net", "adopt_failed", {{"error", uv_err_name(rc)}});
    ::close(fd);
    c->close_now();
    return;
  }
  c->start();
}

void Connection::start() {
  SharedListenerState& shared = worker_.shared();
  if (shared.active_connections.load(std::memory_order_relaxed) >= shared.http.max_connections) {
    // Over the limit: close at once so the connections already open keep
    // their share of the machine. Counted, logged at debug (per connection).
    worker_.counters().connections_refused.inc();
    log::debug("net", "connection_refused", {{"conn", id_}, {"reason", "max_connections"}});
    close_now();
    return;
  }
  shared.active_connections.fetch_add(1, std::memory_order_relaxed);
  counted_ = true;
  accepted_ns_ = uv_hrtime();
  worker_.counters().connections_opened.inc();

  int len = sizeof peer_addr_;
  if (uv_tcp_getpeername(&tcp_, &peer_addr_.any, &len) != 0) {
    peer_addr_.any.sa_family = AF_UNSPEC;  // logged as "unknown"
  }
  uv_tcp_nodelay(&tcp_, 1);
  const int rc = uv_read_start(reinterpret_cast<uv_stream_t*>(&tcp_), on_alloc, on_read);
  if (rc != 0) {
    close_now();
    return;
  }
  reading_ = true;
  const config::HttpConfig& http = shared.http;
  set_deadline(tls_ ? http.handshake_timeout_ms : http.header_timeout_ms);
}

std::string Connection::peer_address() const {
  char host[INET6_ADDRSTRLEN] = "";
  switch (peer_addr_.any.sa_family) {
    case AF_INET:
      uv_ip4_name(&peer_addr_.v4, host, sizeof host);
      return format_endpoint(host, ntohs(peer_addr_.v4.sin_port));
    case AF_INET6:
      uv_ip6_name(&peer_addr_.v6, host, sizeof host);
      return format_endpoint(host, ntohs(peer_addr_.v6.sin6_port));
    default:
      return "unknown";
  }
}

void Connection::on_alloc(uv_handle_t* handle, size_t /*suggested*/, uv_buf_t* buf) {
  auto* c = static_cast<Connection*>(handle->data);
  *buf = uv_buf_init(c->worker_.read_buffer(), Worker::kReadBufferBytes);
}

void Connection::on_read(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) {
  auto* c = static_cast<Connection*>(stream->data);
  if (c->phase_ == Phase::kLingering) {
    if (nread < 0) {
      c->close_now();  // the peer closed too (or reset): nothing is left to lose
    }
    return;  // input after our last answer is dropped unread
  }
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
    log::debug("net", "read_failed",
               {{"conn", c->id_}, {"error", uv_err_name(static_cast<int>(nread))}});
  }
  if (c->phase_ == Phase::kHandshake && c->received_any_) {
    // The peer gave up in the middle of a handshake. A connection that
    // closes before sending anything (a port probe) is not a handshake.
    c->worker_.counters().handshake(metrics::Handshake::kProtocol);
  }
  uv_read_stop(stream);
  c->reading_ = false;
  c->peer_gone_ = true;
  c->close_after_flush_ = true;
  if (!c->write_in_flight_) {
    c->close_now();
  }
}

void Connection::received(const char* data, size_t len) {
  if (phase_ == Phase::kClosing || phase_ == Phase::kLingering || phase_ == Phase::kClosed) {
    return;
  }
  received_any_ = true;
  received_ns_ = uv_hrtime();
  last_active_ms_ = uv_now(worker_.loop());
  if (!holding_buffers_) {
    holding_buffers_ = true;
    wake_by(last_active_ms_ + kIdleBuffersMs);
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
      metrics::DataPathCounters& counters = worker_.counters();
      counters.handshake(metrics::Handshake::kOk);
      counters.handshake_latency.observe(uv_hrtime() - accepted_ns_);
      if (tls_->resumed()) {
        counters.resumptions.inc();
      }
      const tls::PeerIdentity* peer = tls_->peer();
      log::debug("tls", "handshake_ok",
                 {{"conn", id_},
                  {"subject", log::untrusted(peer ? peer->subject : "")},
                  {"resumed", tls_->resumed()}});
      // While draining, the one request this connection may still send is
      // expected at once.
      const config::HttpConfig& http = worker_.shared().http;
      set_deadline(worker_.draining() ? http.header_timeout_ms : http.idle_timeout_ms);
      return;
    }
    case tls::Session::Status::kWantMore:
      flush();
      return;
    case tls::Session::Status::kClosed:
    case tls::Session::Status::kFailed:
      worker_.counters().handshake(tls_->failure() == tls::Failure::kNone
                                       ? metrics::Handshake::kProtocol
                                       : handshake_of(tls_->failure()));
      // The peer's fault, and peers choose how often it happens: counted,
      // and logged only at debug.
      log::debug("tls", "handshake_failed",
                 {{"conn", id_},
                  {"peer", peer_address()},
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
    if (tls_->renegotiation_refused()) {
      worker_.counters().renegotiations_refused.inc();
    } else {
      worker_.counters().record_failures.inc();
    }
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
  while (phase_ == Phase::kOpen && !close_after_flush_ && !held_ && offset < plaintext_in_.size()) {
    if (wire_out_.size() + pending_output() > kMaxPendingOutputBytes) {
      // A pipelining client that does not read its answers: stop reading
      // until the socket drains (on_write resumes). The bytes of the write
      // in flight count too, so the two buffers together stay under the cap.
      stop_reading();
      break;
    }
    if (!parser_.in_message()) {
      request_started_ns_ = received_ns_;
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

  // A held request keeps its own deadline: the end of its wait.
  if (phase_ == Phase::kOpen && !close_after_flush_ && !held_) {
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

// Before each request of a kept-alive client: its certificate must still be
// within its validity (a client could otherwise keep one connection alive
// past its certificate's end and go on fetching tokens), and after a reload
// (new anchors, intermediates or CRLs) it is checked against the context now
// in use, so revocation takes effect on open connections too. A client that
// fails gets no answer; the connection closes, and the client's next
// handshake is refused with the real alert.
bool Connection::peer_still_trusted() {
  if (!tls_) {
    return true;
  }
  const tls::PeerIdentity* peer = tls_->peer();
  tls::Failure failure = tls::Failure::kNone;
  std::string detail;
  // TODO: only the leaf's notAfter is checked here, not that of the CAs
  // above it, nor a CRL passing its next update; re-verifying the chain
  // once the earliest of those times passes would cover both.
  if (peer != nullptr && peer->not_after_unix != 0 && std::time(nullptr) >= peer->not_after_unix) {
    failure = tls::Failure::kExpired;
    detail = "the client certificate expired during the connection";
  } else if (worker_.shared().tls_generation->load(std::memory_order_acquire) ==
             trusted_generation_) {
    return true;
  } else {
    const std::shared_ptr<const tls::ServerContext> current =
        worker_.shared().tls->load(std::memory_order_acquire);
    if (current->same_trust(*tls_context_)) {
      // Only the server certificate changed: nothing to check again. (A
      // resumed session has no client chain to check with, so checking it
      // anyway would drop every such client at each certificate renewal.)
      trusted_generation_ = current->generation();
      return true;
    }
    // TODO: a session resumed from a ticket carries no client chain, so a
    // client whose intermediate is neither in client_ca nor in
    // client_intermediates is dropped at a real trust change even when the
    // new trust would accept it; carrying the chain in the ticket's app
    // data (SSL_SESSION_set1_ticket_appdata) would keep it.
    failure = tls_->verify_again(*current, detail);
    if (failure == tls::Failure::kNone) {
      trusted_generation_ = current->generation();
      return true;
    }
  }
  log::debug("tls", "trust_withdrawn",
             {{"conn", id_},
              {"subject", log::untrusted(peer ? peer->subject : "")},
              {"serial", peer ? peer->serial_hex : std::string()},
              {"reason", tls::failure_name(failure)},
              {"detail", log::untrusted(detail)}});
  close_gracefully();
  return false;
}

void Connection::answer(const http::Request& request) {
  if (!peer_still_trusted()) {
    return;
  }
  if (worker_.draining() && request.keep_alive) {
    // The answer is the connection's last, and says so (RFC 9112 section
    // 9.6), so a client does not send more on a connection about to close.
    http::Request last = request;
    last.keep_alive = false;
    answer(last);
    return;
  }
  answered_any_ = true;
  const size_t before = plaintext_out_.size();
  const tls::PeerIdentity* peer = tls_ ? tls_->peer() : nullptr;
  const Answer result =
      handle_request(worker_.serve(), request, peer, plaintext_out_, kWaitAsConfigured);
  header_deadline_armed_ = false;
  if (result.wait_ms > 0) {
    hold(request, result.wait_ms);
    return;
  }
  answered(request, result, before);
}

void Connection::hold(const http::Request& request, int64_t wait_ms) {
  held_ = std::make_unique<http::Request>(request);
  held_until_ms_ = uv_now(worker_.loop()) + static_cast<uint64_t>(wait_ms);
  // What the client sends meanwhile waits in the socket: the held request
  // is answered first, and the buffer stays bounded.
  stop_reading();
  set_deadline(static_cast<uint64_t>(wait_ms));
}

void Connection::tokens_changed() {
  if (held_ && phase_ == Phase::kOpen) {
    retry_held(false);
  }
}

void Connection::retry_held(bool final) {
  if (!peer_still_trusted()) {
    held_.reset();
    return;
  }
  const uint64_t now = uv_now(worker_.loop());
  const int64_t left =
      final || now >= held_until_ms_ ? 0 : static_cast<int64_t>(held_until_ms_ - now);
  const size_t before = plaintext_out_.size();
  const tls::PeerIdentity* peer = tls_ ? tls_->peer() : nullptr;
  const Answer result = handle_request(worker_.serve(), *held_, peer, plaintext_out_, left);
  if (result.wait_ms > 0) {
    return;  // still no value, and the refresh may still bring one: keep waiting
  }
  const http::Request request = std::move(*held_);
  held_.reset();
  answered(request, result, before);
  start_reading();
  process_requests();  // what was pipelined behind it; flushes the answer
}

void Connection::answered(const http::Request& request, const Answer& result, size_t before) {
  const tls::PeerIdentity* peer = tls_ ? tls_->peer() : nullptr;
  if (result.status == 403) {
    // Which identity was refused which token (or /metrics); the client only
    // saw 403.
    log::debug("authz", "access_denied",
               {{"conn", id_},
                {"route", http::route_label(result.route)},
                {"token", result.denied ? result.denied->name : std::string()},
                {"subject", log::untrusted(peer ? peer->subject : "")},
                {"serial", peer ? peer->serial_hex : std::string()},
                {"sha256", peer ? peer->sha256_hex : std::string()}});
  }

  const uint64_t duration_ns = uv_hrtime() - request_started_ns_;
  metrics::DataPathCounters& counters = worker_.counters();
  counters.request(route_of(result.route), method_of(request.method), result.status, duration_ns);
  if (result.route == http::RouteKind::kToken) {
    if (const auto outcome = token_result_of(result.status)) {
      counters.token_request(result.token_index, *outcome);
    }
  }

  if (log::access_enabled()) {
    // The path only: a query string is the client's to fill, and may carry
    // credentials, so only its length is logged.
    const std::string_view target = request.target;
    const size_t query = target.find('?');
    const std::string_view path = target.substr(0, query);
    const uint64_t query_bytes = query == std::string_view::npos ? 0 : target.size() - query - 1;
    log::info("http", "access",
              {{"conn", id_},
               {"peer", peer_address()},
               {"subject", log::untrusted(peer ? peer->subject : "")},
               {"serial", peer ? peer->serial_hex : std::string()},
               {"fingerprint", peer ? peer->sha256_hex.substr(0, 16) : std::string()},
               {"method", http::method_name(request.method)},
               {"path", log::untrusted(path, 128)},
               {"query_bytes", query_bytes},
               {"route", http::route_label(result.route)},
               {"status", result.status},
               {"bytes", static_cast<uint64_t>(plaintext_out_.size() - before)},
               {"duration_us", duration_ns / 1000}});
  }
  if (result.close || worker_.draining()) {
    close_gracefully();
  }
}

void Connection::answer_error(int status) {
  // The request never parsed whole, so it has no route or reliable method.
  worker_.counters().request(metrics::Route::kInvalid, metrics::Method::kOther, status,
                             uv_hrtime() - request_started_ns_);
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
      finish();
    }
    return;
  }
  auto* stream = reinterpret_cast<uv_stream_t*>(&tcp_);
  uv_buf_t buf = uv_buf_init(wire_out_.data(), static_cast<unsigned>(wire_out_.size()));
  if (nothing_follows_write()) {
    // An answer or a handshake flight nearly always fits in the socket's
    // send buffer. Written here, it needs no write request and no callback;
    // a completed uv_write also costs an epoll_ctl (libuv 1.44 re-arms the
    // watcher when its write queue drains), one system call in four per
    // kept-alive request.
    const int n = uv_try_write(stream, &buf, 1);
    if (n == static_cast<int>(wire_out_.size())) {
      written_at_once();
      return;
    }
    if (n < 0 && n != UV_EAGAIN) {
      log::debug("net", "write_failed", {{"conn", id_}, {"error", uv_err_name(n)}});
      close_now();
      return;
    }
    if (n > 0) {
      // The rest goes through uv_write, which tries the socket once more at
      // once before waiting for it to drain. Until on_write, the
      // back-pressure cap still counts the n bytes already sent.
      buf = uv_buf_init(wire_out_.data() + n, static_cast<unsigned>(wire_out_.size()) - n);
    }
  }
  if (!write_req_) {
    write_req_ = std::make_unique<uv_write_t>();
  }
  const int rc = uv_write(write_req_.get(), stream, &buf, 1, on_write);
  if (rc != 0) {
    log::debug("net", "write_failed", {{"conn", id_}, {"error", uv_err_name(rc)}});
    close_now();
    return;
  }
  write_req_->data = this;
  write_in_flight_ = true;
}

// Whether on_write would only clear the buffer and push the idle deadline
// back once this write completes. Closing, a held request, reading stopped
// for back-pressure and a drain all act on completion, so they keep
// uv_write and its callback.
bool Connection::nothing_follows_write() const {
  return !close_after_flush_ && !held_ && !worker_.draining() &&
         (phase_ == Phase::kHandshake || (phase_ == Phase::kOpen && reading_));
}

// What on_write does for a write that needed nothing after it.
void Connection::written_at_once() {
  wire_out_.clear();
  if (wire_out_.capacity() > kKeptBufferBytes) {
    std::string().swap(wire_out_);
  }
  if (phase_ == Phase::kOpen && !parser_.in_message()) {
    set_deadline(worker_.shared().http.idle_timeout_ms);
  }
}

void Connection::encrypt_pending() {
  if (plaintext_out_.empty()) {
    return;
  }
  tls_->write(plaintext_out_);
  // The answers hold tokens: wipe them before the buffer is reused or
  // freed (explicit_bzero(3) is not optimised away). Only [0, size) was ever
  // written since the last wipe.
  explicit_bzero(plaintext_out_.data(), plaintext_out_.size());
  plaintext_out_.clear();
  if (plaintext_out_.capacity() > kKeptBufferBytes) {
    std::string().swap(plaintext_out_);  // a client that pipelined a lot
  }
}

void Connection::on_write(uv_write_t* req, int status) {
  auto* c = static_cast<Connection*>(req->data);
  // flush() skips this callback when nothing_follows_write(): a branch added
  // here that acts must be excluded there too (written_at_once does the rest).
  c->write_in_flight_ = false;
  if (c->phase_ == Phase::kClosed || c->phase_ == Phase::kLingering) {
    return;  // the handle is closing; on_close frees the connection
  }
  if (status != 0) {
    log::debug("net", "write_failed", {{"conn", c->id_}, {"error", uv_err_name(status)}});
    c->close_now();
    return;
  }
  c->wire_out_.clear();  // written: from here on it holds only bytes in flight
  if (c->wire_out_.capacity() > kKeptBufferBytes) {
    std::string().swap(c->wire_out_);  // give back a large buffer while idle
  }
  if (c->pending_output() > 0) {
    c->flush();
    return;
  }
  if (c->close_after_flush_) {
    c->finish();
    return;
  }
  if (c->held_) {
    return;  // the held request's deadline stands; reading resumes after it
  }
  if (c->phase_ == Phase::kOpen && !c->reading_) {
    c->start_reading();
    c->process_requests();  // answers held back while the output was full
    return;
  }
  if (c->worker_.draining() && c->idle() && c->answered_any_) {
    c->close_gracefully();  // answered before the drain began
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

void Connection::finish() {
  if (peer_gone_) {
    close_now();  // nothing more can arrive, so closing cannot reset
    return;
  }
  linger();
}

void Connection::linger() {
  phase_ = Phase::kLingering;
  auto* stream = reinterpret_cast<uv_stream_t*>(&tcp_);
  // uv_shutdown(3) sends FIN once the queued writes are out; none is queued.
  if (!shutdown_req_) {
    shutdown_req_ = std::make_unique<uv_shutdown_t>();
  }
  int rc = uv_shutdown(shutdown_req_.get(), stream, on_shutdown);
  if (rc != 0) {
    close_now();
    return;
  }
  shutdown_req_->data = this;
  if (!reading_) {
    rc = uv_read_start(stream, on_alloc, on_read);
    if (rc != 0) {
      close_now();
      return;
    }
    reading_ = true;
  }
  set_deadline(kLingerMs);
}

void Connection::on_shutdown(uv_shutdown_t* req, int status) {
  auto* c = static_cast<Connection*>(req->data);
  // UV_ECANCELED: the handle is closing, and on_close frees the connection.
  if (status != 0 && c->phase_ == Phase::kLingering) {
    c->close_now();  // the peer is gone already
  }
}

void Connection::close_now() {
  if (phase_ == Phase::kClosed) {
    return;
  }
  phase_ = Phase::kClosed;
  if (counted_) {
    worker_.shared().active_connections.fetch_sub(1, std::memory_order_relaxed);
    worker_.counters().connections_closed.inc();
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
    deadline_ms_ = uv_now(worker_.loop()) + ms;
    wake_by(deadline_ms_);
  }
}

// Makes the timer fire no later than at_ms; an earlier wake-up stays.
void Connection::wake_by(uint64_t at_ms) {
  if (phase_ == Phase::kClosed || (timer_armed_ && timer_due_ms_ <= at_ms)) {
    return;
  }
  const uint64_t now = uv_now(worker_.loop());
  timer_armed_ = true;
  timer_due_ms_ = at_ms;
  uv_timer_start(&timer_, on_timer, at_ms > now ? at_ms - now : 0, 0);
}

void Connection::release_idle_buffers() {
  holding_buffers_ = false;
  if (tls_) {
    tls_->release_buffers();
  }
  // idle(): nothing is pending in any of these.
  std::string().swap(plaintext_in_);
  std::string().swap(plaintext_out_);
  std::string().swap(wire_out_);
}

void Connection::on_timer(uv_timer_t* timer) {
  auto* c = static_cast<Connection*>(timer->data);
  c->timer_armed_ = false;
  const uint64_t now = uv_now(c->worker_.loop());
  if (c->holding_buffers_ && now >= c->last_active_ms_ + kIdleBuffersMs && c->idle()) {
    c->release_idle_buffers();
  }
  if (now < c->deadline_ms_) {
    uint64_t next = c->deadline_ms_;
    if (c->holding_buffers_) {
      // Busy at the last look (an answer still leaving): look again later.
      next = std::min(next, std::max(c->last_active_ms_, now) + kIdleBuffersMs);
    }
    c->wake_by(next);
    return;
  }
  switch (c->phase_) {
    case Phase::kHandshake:
      c->worker_.counters().handshake(metrics::Handshake::kTimeout);
      c->worker_.counters().timeout(metrics::Timeout::kHandshake);
      log::debug("tls", "handshake_timeout", {{"conn", c->id_}, {"peer", c->peer_address()}});
      c->close_now();
      return;
    case Phase::kOpen:
      if (c->held_) {
        c->retry_held(true);  // the wait is over: the value, or 503
      } else if (c->parser_.in_message()) {
        c->worker_.counters().timeout(metrics::Timeout::kHeader);
        log::debug("http", "header_timeout", {{"conn", c->id_}});
        c->answer_error(408);
      } else if (c->write_in_flight_) {
        c->worker_.counters().timeout(metrics::Timeout::kWrite);
        log::debug("net", "write_timeout", {{"conn", c->id_}});
        c->close_now();
      } else {
        c->worker_.counters().timeout(metrics::Timeout::kIdle);
        c->close_gracefully();  // idle keep-alive connection
      }
      return;
    case Phase::kClosing:
      c->close_now();  // the peer did not take our last bytes in time
      return;
    case Phase::kLingering:
      c->close_now();  // the peer keeps its side open; our answers are out
      return;
    case Phase::kClosed:
      return;
  }
}

bool Connection::idle() const {
  return phase_ == Phase::kOpen && !parser_.in_message() && plaintext_in_.empty() &&
         !write_in_flight_ && pending_output() == 0 && !held_;
}

void Connection::drain() {
  if (held_ && phase_ == Phase::kOpen) {
    // Answered now, as the connection's last (see answer()); answered()
    // closes, the worker draining.
    held_->keep_alive = false;
    retry_held(true);
    return;
  }
  if (idle() && answered_any_) {
    close_gracefully();  // an idle keep-alive connection
    return;
  }
  if (idle()) {
    // New, and its first request may be on its way: closing now would leave
    // a client that did everything right without an answer. It gets the
    // header deadline to send it.
    set_deadline(worker_.shared().http.header_timeout_ms);
  }
  // Otherwise the request in progress is answered first: answer() sees the
  // worker draining and closes after it. A handshake in progress may still
  // send one request.
}

void Connection::abort() { close_now(); }

}  // namespace wif::net
