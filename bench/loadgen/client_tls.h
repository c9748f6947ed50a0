// ClientTls: the load generator's TLS client context, shared by every
// connection of every load thread.
//
// It presents the client certificate, verifies the server's certificate and
// name like curl does, and hands each session ticket the server sends to the
// connection that received it (SSL_CTX_sess_set_new_cb(3)), which keeps it
// for its slot's next connection when resumption is on. SSL_new() on a
// shared SSL_CTX is thread-safe; nothing here changes after construction.
#pragma once

#include <openssl/ssl.h>

#include <memory>
#include <stdexcept>
#include <string>

#include "bench/loadgen/options.h"

namespace wif::loadgen {

struct SslCtxFree {
  void operator()(SSL_CTX* ctx) const { SSL_CTX_free(ctx); }
};
struct SslFree {
  void operator()(SSL* ssl) const { SSL_free(ssl); }
};
struct SslSessionFree {
  void operator()(SSL_SESSION* session) const { SSL_SESSION_free(session); }
};
using SslCtxPtr = std::unique_ptr<SSL_CTX, SslCtxFree>;
using SslPtr = std::unique_ptr<SSL, SslFree>;
using SslSessionPtr = std::unique_ptr<SSL_SESSION, SslSessionFree>;

// Receives the tickets of one SSL; set with SSL_set_app_data on each SSL.
class TicketSink {
 public:
  virtual void take_ticket(SslSessionPtr session) = 0;

 protected:
  ~TicketSink() = default;
};

class ClientTls {
 public:
  // Throws std::runtime_error naming the file that could not be used.
  explicit ClientTls(const Options& options);

  // A client SSL for one connection, with sink receiving its tickets and
  // offering resume (may be null) to the server.
  SslPtr new_ssl(TicketSink* sink, SSL_SESSION* resume) const;

 private:
  static int on_new_session(SSL* ssl, SSL_SESSION* session);

  SslCtxPtr ctx_;
  std::string servername_;
};

// The thread's OpenSSL error queue as one line, emptied.
std::string drain_errors();

}  // namespace wif::loadgen
