#include "bench/loadgen/connection.h"

#include <netinet/in.h>
#include <openssl/err.h>

#include "bench/loadgen/load.h"

namespace wif::loadgen {
namespace {

// SSL_read_ex is asked for at most one TLS record's plaintext at a time.
constexpr size_t kReadChunk = 16384;

}  // namespace

Connection::Connection(Load& load, Slot& slot) : load_(load), slot_(&slot) {}

Connection* Connection::open(Load& load, Slot& slot, uint64_t intended_ns) {
  const Options& o = load.options();
  sockaddr_storage addr{};
  if (uv_ip4_addr(o.host.c_str(), o.port, reinterpret_cast<sockaddr_in*>(&addr)) != 0 &&
      uv_ip6_addr(o.host.c_str(), o.port, reinterpret_cast<sockaddr_in6*>(&addr)) != 0) {
    load.failed(slot, ErrorKind::kConnect);
    return nullptr;
  }

  auto* c = new Connection(load, slot);
  c->ssl_ = load.tls().new_ssl(c, o.resume ? slot.ticket.get() : nullptr);
  BIO* in = BIO_new(BIO_s_mem());
  BIO* out = BIO_new(BIO_s_mem());
  if (!c->ssl_ || in == nullptr || out == nullptr) {
    BIO_free(in);
    BIO_free(out);
    ERR_clear_error();
    delete c;
    load.failed(slot, ErrorKind::kHandshake);
    return nullptr;
  }
  // An empty read BIO means "more later", not end of stream (BIO_s_mem(3)).
  BIO_set_mem_eof_return(in, -1);
  c->in_ = in;
  c->out_ = out;
  SSL_set_bio(c->ssl_.get(), in, out);

  uv_tcp_init(load.loop(), &c->tcp_);  // cannot fail on Linux
  c->tcp_.data = c;
  c->connect_req_.data = c;
  c->write_req_.data = c;
  c->intended_ns_ = intended_ns;
  c->deadline_ns_ = load.now_ns() + o.timeout_ms * 1'000'000;
  c->waiting_ = true;
  load.add(c);
  load.connection_opened();
  const int rc =
      uv_tcp_connect(&c->connect_req_, &c->tcp_, reinterpret_cast<sockaddr*>(&addr), on_connect);
  if (rc != 0) {
    // A failed uv_tcp_connect never runs its callback (libuv errors.rst).
    c->fail(ErrorKind::kConnect);
    return nullptr;
  }
  return c;
}

void Connection::on_connect(uv_connect_t* req, int status) {
  auto* c = static_cast<Connection*>(req->data);
  if (c->closing_) {
    return;  // aborted while connecting; on_close frees it
  }
  if (status != 0) {
    c->fail(ErrorKind::kConnect);
    return;
  }
  uv_tcp_nodelay(&c->tcp_, 1);
  if (uv_read_start(reinterpret_cast<uv_stream_t*>(&c->tcp_), on_alloc, on_read) != 0) {
    c->fail(ErrorKind::kConnect);
    return;
  }
  c->drive();  // the ClientHello
}

void Connection::on_alloc(uv_handle_t* handle, size_t /*suggested*/, uv_buf_t* buf) {
  auto* c = static_cast<Connection*>(handle->data);
  *buf = uv_buf_init(c->load_.read_buffer(), Load::kReadBufferBytes);
}

void Connection::on_read(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) {
  auto* c = static_cast<Connection*>(stream->data);
  if (c->closing_ || nread == 0) {
    return;
  }
  if (nread < 0) {
    if (c->close_after_flush_) {
      c->close_handle();  // our close_notify is out; the server has gone too
    } else if (c->waiting_) {
      c->fail(c->handshake_done_ ? ErrorKind::kClosed : ErrorKind::kHandshake);
    } else {
      Slot* slot = c->release_slot();
      c->close_handle();
      if (slot != nullptr) {
        c->load_.closed_while_idle(*slot);
      }
    }
    return;
  }
  size_t written = 0;
  if (BIO_write_ex(c->in_, buf->base, static_cast<size_t>(nread), &written) != 1) {
    ERR_clear_error();
    c->fail(ErrorKind::kRecord);
    return;
  }
  c->drive();
}

void Connection::drive() {
  ERR_clear_error();
  if (!handshake_done_) {
    const int rc = SSL_do_handshake(ssl_.get());
    if (rc != 1) {
      const int error = SSL_get_error(ssl_.get(), rc);
      if (error != SSL_ERROR_WANT_READ) {
        ERR_clear_error();
        fail(ErrorKind::kHandshake);
        return;
      }
      flush();
      return;
    }
    handshake_done_ = true;
    load_.handshake_done(SSL_session_reused(ssl_.get()) == 1);
    if (waiting_) {
      write_request();
    }
  }
  if (!read_answers()) {
    return;  // failed or closed
  }
  flush();
}

// Decrypts everything available and hands each complete answer on. Returns
// false when the connection has failed or ended.
bool Connection::read_answers() {
  char chunk[kReadChunk];
  for (;;) {
    size_t n = 0;
    const int rc = SSL_read_ex(ssl_.get(), chunk, sizeof chunk, &n);
    if (rc != 1) {
      const int error = SSL_get_error(ssl_.get(), rc);
      if (error == SSL_ERROR_WANT_READ) {
        return true;
      }
      ERR_clear_error();
      if (error == SSL_ERROR_ZERO_RETURN && !waiting_) {
        Slot* slot = release_slot();
        close_handle();  // close_notify between requests
        if (slot != nullptr) {
          load_.closed_while_idle(*slot);
        }
        return false;
      }
      if (error == SSL_ERROR_ZERO_RETURN) {
        fail(ErrorKind::kClosed);
      } else {
        // With TLS 1.3 a refused client certificate shows only now, as an
        // alert after the client's own Finished.
        fail(answered_once_ ? ErrorKind::kRecord : ErrorKind::kHandshake);
      }
      return false;
    }
    if (!waiting_) {
      fail(ErrorKind::kMalformed);  // bytes nobody asked for
      return false;
    }
    ResponseReader::Result result = reader_.feed(chunk, n);
    while (result == ResponseReader::Result::kResponse) {
      const Response response = reader_.response();
      answered(response);
      if (closing_ || close_after_flush_ || slot_ == nullptr) {
        return false;
      }
      result = reader_.next();
    }
    if (result == ResponseReader::Result::kError) {
      fail(ErrorKind::kMalformed);
      return false;
    }
  }
}

void Connection::answered(const Response& response) {
  waiting_ = false;
  answered_once_ = true;
  bool ok = false;
  if (response.status != 200) {
    load_.status_seen(response.status);
    load_.error(ErrorKind::kStatus);
  } else if (!token_body_ok(response.body, load_.expected_token())) {
    load_.error(ErrorKind::kBody);
  } else {
    ok = true;
  }
  if (slot_ != nullptr) {
    load_.answered(*slot_, *this, ok, intended_ns_, response.keep_alive);
  }
}

void Connection::send(uint64_t intended_ns) {
  intended_ns_ = intended_ns;
  deadline_ns_ = load_.now_ns() + load_.options().timeout_ms * 1'000'000;
  waiting_ = true;
  ERR_clear_error();
  write_request();
  flush();
}

void Connection::write_request() {
  const std::string& request = load_.request();
  size_t written = 0;
  if (SSL_write_ex(ssl_.get(), request.data(), request.size(), &written) != 1) {
    ERR_clear_error();
    fail(ErrorKind::kRecord);
  }
}

void Connection::flush() {
  if (write_in_flight_ || closing_) {
    return;
  }
  const size_t pending = BIO_ctrl_pending(out_);
  if (pending == 0) {
    if (close_after_flush_) {
      close_handle();
    }
    return;
  }
  wire_.resize(pending);
  size_t n = 0;
  BIO_read_ex(out_, wire_.data(), pending, &n);
  uv_buf_t buf = uv_buf_init(wire_.data(), static_cast<unsigned>(n));
  // Most flights fit the socket buffer at once: no write request needed.
  const int sent = uv_try_write(reinterpret_cast<uv_stream_t*>(&tcp_), &buf, 1);
  if (sent == static_cast<int>(n)) {
    if (close_after_flush_) {
      close_handle();
    }
    return;
  }
  if (sent < 0 && sent != UV_EAGAIN) {
    fail(ErrorKind::kConnect);
    return;
  }
  const size_t done = sent > 0 ? static_cast<size_t>(sent) : 0;
  buf = uv_buf_init(wire_.data() + done, static_cast<unsigned>(n - done));
  if (uv_write(&write_req_, reinterpret_cast<uv_stream_t*>(&tcp_), &buf, 1, on_write) != 0) {
    fail(ErrorKind::kConnect);
    return;
  }
  write_in_flight_ = true;
}

void Connection::on_write(uv_write_t* req, int status) {
  auto* c = static_cast<Connection*>(req->data);
  c->write_in_flight_ = false;
  if (c->closing_) {
    return;  // on_close frees the connection
  }
  if (status != 0) {
    c->fail(ErrorKind::kConnect);
    return;
  }
  c->flush();
}

void Connection::close_gracefully() {
  release_slot();
  waiting_ = false;
  close_after_flush_ = true;
  ERR_clear_error();
  // close_notify, as curl sends: it also keeps the session resumable, since
  // SSL_free(3) of an SSL never shut down marks its session bad.
  SSL_shutdown(ssl_.get());
  ERR_clear_error();
  flush();
}

void Connection::abort() {
  release_slot();
  close_handle();
}

void Connection::take_ticket(SslSessionPtr session) {
  if (slot_ != nullptr) {
    slot_->ticket = std::move(session);
  }
}

Slot* Connection::release_slot() {
  Slot* slot = slot_;
  if (slot != nullptr && slot->connection == this) {
    slot->connection = nullptr;
  }
  slot_ = nullptr;
  return slot;
}

void Connection::fail(ErrorKind kind) {
  Slot* slot = release_slot();
  close_handle();
  if (slot != nullptr) {
    load_.failed(*slot, kind);
  } else {
    load_.error(kind);
  }
}

void Connection::close_handle() {
  if (closing_) {
    return;
  }
  closing_ = true;
  waiting_ = false;
  release_slot();
  load_.remove(this);
  uv_close(reinterpret_cast<uv_handle_t*>(&tcp_), on_close);
}

void Connection::on_close(uv_handle_t* handle) { delete static_cast<Connection*>(handle->data); }

}  // namespace wif::loadgen
