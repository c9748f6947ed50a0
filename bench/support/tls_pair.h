// TlsPair: a client SSL and a server tls::Session wired together through
// memory BIOs, for the TLS micro benchmarks. No sockets and no threads.
//
// The server side is the daemon's real tls::Session on a real ServerContext
// built from the test PKI (WIF_TEST_PKI); the client is a plain OpenSSL
// client with a client certificate. The time spent in server calls is
// accumulated separately, so a benchmark can report the server's share of a
// handshake (what the daemon pays) apart from the client's.
#pragma once

#include <openssl/ssl.h>

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "src/tls/openssl_helpers.h"
#include "src/tls/server_context.h"
#include "src/tls/session.h"

namespace wif::bench {

// The path of a file of the test PKI; throws when WIF_TEST_PKI is not set.
std::string pki(std::string_view file);

// "rsa": server.crt and client.crt (RSA-2048); "ec": ec-server.crt and
// ec-client.crt (ECDSA P-256). Both chain to the RSA intermediate.
struct KeySet {
  std::string server_cert, server_key, client_cert, client_key;
};
KeySet key_set(std::string_view kind);

std::shared_ptr<const tls::ServerContext> server_context(const KeySet& keys);

// A client SSL_CTX with the set's client certificate, trusting the root.
// Sessions are kept by the caller (SSL_get1_session).
tls::SslCtxPtr client_context(const KeySet& keys);

class TlsPair {
 public:
  // resume: a session from an earlier handshake with the same server context.
  TlsPair(SSL_CTX* client_ctx, const tls::ServerContext& server, SSL_SESSION* resume = nullptr);
  // Closes the client with close_notify: an SSL freed without it marks its
  // session not resumable (SSL_free(3) removes it as a bad session).
  ~TlsPair();
  TlsPair(const TlsPair&) = delete;
  TlsPair& operator=(const TlsPair&) = delete;

  // Runs the handshake to the end on both sides, including the tickets the
  // server sends after it. Throws on failure.
  void handshake();

  // One request and its answer: the client encrypts request, the server
  // decrypts and answers with response, the client decrypts it. Returns the
  // bytes the client received.
  size_t round_trip(std::string_view request, std::string_view response);

  SSL* client() const { return client_.get(); }
  tls::Session& server() { return server_; }
  std::chrono::nanoseconds server_time() const { return server_time_; }

 private:
  void client_to_server();
  void server_to_client();
  void client_read();

  tls::SslPtr client_;
  BIO* client_in_ = nullptr;   // owned by client_
  BIO* client_out_ = nullptr;  // owned by client_
  tls::Session server_;
  std::string buffer_;
  std::string plaintext_;  // what the server decrypted; capacity kept, as in a connection
  std::string received_;
  std::chrono::nanoseconds server_time_{0};
};

}  // namespace wif::bench
