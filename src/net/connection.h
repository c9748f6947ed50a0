// Connection: one accepted TCP connection, gluing the socket (libuv), TLS
// (tls::Session over memory BIOs) and HTTP (http::RequestParser).
//
// Bytes flow socket -> Session::feed -> Session::read -> parser -> handler ->
// Session::write -> pending ciphertext -> the socket: uv_try_write when the
// write's completion needs no action (flush), uv_write for what it leaves and
// for the writes whose completion acts. At most one uv_write is in flight;
// ciphertext produced meanwhile waits in the Session's write BIO.
// A plain (metrics) connection has no Session and passes bytes straight on.
//
// A token request that finds no valid value may be held for the refresh in
// flight (request_wait): nothing after it is read or parsed until it is
// answered, so pipelined answers keep their order. The worker tells held
// connections when the token store changes; the connection's deadline timer
// bounds the wait.
//
// Ending a connection takes stages (RFC 9112 section 9.6): the last answer
// and close_notify are written, then the write side is shut down and input is
// read and dropped until the peer closes too (or a short grace runs out), so
// that unread input never makes the kernel reset the connection and discard
// an answer the peer has not read yet.
//
// Owned by itself: created on accept, deleted in the close callback of its
// last handle. Lives on its worker's loop thread only.
#pragma once

#include <netinet/in.h>
#include <uv.h>

#include <cstdint>
#include <memory>
#include <string>

#include "src/http/parser.h"
#include "src/net/handler.h"
#include "src/tls/session.h"

namespace wif::net {

class Worker;

class Connection {
 public:
  // Accepts from `server`. On failure the connection deletes itself.
  static void accept(Worker& worker, uv_stream_t* server);
  // Serves a socket the worker accepted itself (non-blocking, close-on-exec);
  // takes ownership of fd whatever happens.
  static void adopt(Worker& worker, int fd);

  // Worker drain: close now if idle, else after the answer in progress.
  void drain();
  // Worker shutdown timeout: close at once, without waiting for writes.
  void abort();
  // Worker: a token changed; a held request looks again.
  void tokens_changed();

  Connection* next = nullptr;  // the worker's intrusive list
  Connection* prev = nullptr;

 private:
  // kClosing: the last bytes are leaving, nothing more is read.
  // kLingering: everything is written and the write side shut down; input is
  // dropped until the peer's EOF.
  enum class Phase { kHandshake, kOpen, kClosing, kLingering, kClosed };

  Connection(Worker& worker, std::shared_ptr<const tls::ServerContext> tls);
  ~Connection();

  // A connection with both handles initialised and on the worker's list, or
  // null (logged) when libuv refuses.
  static Connection* create(Worker& worker);
  // After accept or adopt: the max_connections check, then reading.
  void start();

  static void on_alloc(uv_handle_t* handle, size_t suggested, uv_buf_t* buf);
  static void on_read(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf);
  static void on_write(uv_write_t* req, int status);
  static void on_shutdown(uv_shutdown_t* req, int status);
  static void on_timer(uv_timer_t* timer);
  static void on_close(uv_handle_t* handle);

  void received(const char* data, size_t len);
  void advance_handshake();
  void read_plaintext();
  void process_requests();
  void answer(const http::Request& request);
  bool peer_still_trusted();
  void answered(const http::Request& request, const Answer& result, size_t before);
  void hold(const http::Request& request, int64_t wait_ms);
  void retry_held(bool final);
  void answer_error(int status);
  size_t pending_output() const;
  void stop_reading();
  void start_reading();
  void encrypt_pending();
  void flush();
  bool nothing_follows_write() const;
  void written_at_once();
  void close_gracefully();
  void finish();
  void linger();
  void close_now();
  void set_deadline(uint64_t ms);
  void wake_by(uint64_t at_ms);
  void release_idle_buffers();
  bool idle() const;
  std::string peer_address() const;

  Worker& worker_;
  const uint64_t id_;
  std::shared_ptr<const tls::ServerContext> tls_context_;  // keeps the SSL_CTX alive
  std::unique_ptr<tls::Session> tls_;                      // null: plain HTTP
  // The context generation the client's chain was last verified under.
  uint64_t trusted_generation_ = 0;
  http::RequestParser parser_;
  uv_tcp_t tcp_{};
  uv_timer_t timer_{};
  // Where the client connects from, read once when the connection starts: a
  // peer that resets is gone from the socket by the time a line about it is
  // logged. Formatted only for a log line (28 bytes, not a string).
  union PeerAddress {
    sockaddr any;
    sockaddr_in v4;
    sockaddr_in6 v6;
  } peer_addr_{};
  // Made when first needed: nearly every answer leaves through uv_try_write
  // and only a closing connection shuts down, so an idle kept-alive
  // connection holds neither (272 bytes of its few KiB; issue #6).
  std::unique_ptr<uv_write_t> write_req_;
  std::unique_ptr<uv_shutdown_t> shutdown_req_;
  Phase phase_ = Phase::kHandshake;
  bool write_in_flight_ = false;
  bool close_after_flush_ = false;
  bool header_deadline_armed_ = false;
  bool reading_ = false;
  std::unique_ptr<http::Request> held_;  // a request waiting for a token value
  uint64_t held_until_ms_ = 0;           // uv_now() when its wait ends
  bool counted_ = false;                 // holds a place in active_connections
  bool received_any_ = false;
  bool answered_any_ = false;        // false: new, its first request may be on its way
  bool peer_gone_ = false;           // EOF or a read error: nothing more will arrive
  uint64_t accepted_ns_ = 0;         // uv_hrtime() at accept
  uint64_t received_ns_ = 0;         // uv_hrtime() of the latest read
  uint64_t request_started_ns_ = 0;  // the read that began the current request
  // Loop times (uv_now, ms). The timer is armed for timer_due_ms_, never
  // later than deadline_ms_, when the phase's timeout acts; a deadline that
  // moves later leaves the timer alone and on_timer re-arms it, so steady
  // traffic does not touch the timer heap on every request.
  uint64_t deadline_ms_ = 0;
  uint64_t timer_due_ms_ = 0;
  bool timer_armed_ = false;
  uint64_t last_active_ms_ = 0;   // the latest bytes from the peer
  bool holding_buffers_ = false;  // buffers to give back once idle
  int handles_open_ = 0;
  std::string plaintext_in_;   // decrypted bytes not yet parsed
  std::string plaintext_out_;  // rendered answers, before encryption
  // Ciphertext being written; while a uv_write is in flight, it holds that
  // write's bytes (from uv_try_write's offset on) until on_write.
  std::string wire_out_;
};

}  // namespace wif::net
