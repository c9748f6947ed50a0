// TlsClient: the client end of an in-memory TLS connection for the tls tests.
//
// A client SSL over two memory BIOs, wired to a server tls::Session by the
// pump functions below: no sockets, no threads, and every loop has a bound.
// The client records the alerts it receives, so a test can check what a real
// client would be told.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

#include "src/tls/openssl_helpers.h"
#include "src/tls/session.h"

namespace wif::tls::test {

struct ClientOptions {
  std::string certificate;  // chain file; empty: the client has no certificate
  std::string key;
  int min_version = TLS1_2_VERSION;
  int max_version = TLS1_3_VERSION;
  // The client trusts only the root, so the server must send its
  // intermediate for the client to accept it.
  std::string trust_file;  // default: the PKI's root-ca.crt
  // Security level 0 and every cipher, so OpenSSL 3 agrees to offer TLS 1.1.
  bool legacy = false;
  // The TLS 1.2 cipher list offered; empty: OpenSSL's default.
  std::string tls12_ciphers;
};

// The client options for one of the PKI's clients, e.g. "client" for
// client.crt and client.key.
ClientOptions client_named(std::string_view name, int max_version = TLS1_3_VERSION);

class TlsClient {
 public:
  explicit TlsClient(const ClientOptions& options);
  TlsClient(const TlsClient&) = delete;
  TlsClient& operator=(const TlsClient&) = delete;

  SSL* ssl() const { return ssl_.get(); }

  // Continues the handshake, then reads whatever arrived (session tickets,
  // data, alerts, close_notify) into received().
  void step();
  void write(std::string_view plaintext);

  bool handshake_done() const { return SSL_is_init_finished(ssl_.get()) == 1; }
  bool failed() const { return failed_; }
  bool closed() const { return closed_; }
  const std::string& failure_detail() const { return failure_detail_; }
  const std::string& received() const { return received_; }
  // Alert descriptions received (SSL_AD_*), warnings and fatal ones.
  const std::vector<int>& alerts_received() const { return alerts_received_; }

  void feed(std::string_view ciphertext);
  std::string take_ciphertext();

 private:
  static void on_info(const SSL* ssl, int where, int ret);
  void fail();

  SslCtxPtr ctx_;
  SslPtr ssl_;
  BIO* read_bio_ = nullptr;   // owned by ssl_
  BIO* write_bio_ = nullptr;  // owned by ssl_
  bool failed_ = false;
  bool closed_ = false;
  std::string failure_detail_;
  std::string received_;
  std::vector<int> alerts_received_;
};

// Moves everything each side has written to the other.
void to_server(TlsClient& client, Session& server);
void to_client(Session& server, TlsClient& client);

// Runs both handshakes until the server completes or fails, then lets the
// client see the server's last flight (Finished, tickets or an alert).
// Returns the server's last status; kWantMore if the bound was reached.
Session::Status run_handshake(TlsClient& client, Session& server);

// A full handshake with a fresh server Session on `context`: success when
// both ends completed it.
::testing::AssertionResult handshake_succeeds(const ServerContext& context, TlsClient& client);
// A handshake the server must refuse: success when it failed with `failure`
// and the client received exactly the alert `alert`.
::testing::AssertionResult handshake_refused(const ServerContext& context, TlsClient& client,
                                             Failure failure, int alert);

// Sends plaintext from the client and returns what the server read.
Session::Status client_sends(TlsClient& client, Session& server, std::string_view plaintext,
                             std::string& server_read);

// Sends plaintext from the server; the client reads it into received().
Session::Status server_sends(Session& server, TlsClient& client, std::string_view plaintext);

}  // namespace wif::tls::test
