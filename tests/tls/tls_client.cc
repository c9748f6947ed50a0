#include "tests/tls/tls_client.h"

#include <openssl/err.h>

#include <stdexcept>

#include "tests/support/test_support.h"

namespace wif::tls::test {
namespace {

// Enough for any handshake here, which needs at most three round trips.
constexpr int kMaxRounds = 10;

}  // namespace

ClientOptions client_named(std::string_view name, int max_version) {
  ClientOptions options;
  options.certificate = wif::testing::pki(std::string(name) + ".crt");
  options.key = wif::testing::pki(std::string(name) + ".key");
  options.max_version = max_version;
  return options;
}

TlsClient::TlsClient(const ClientOptions& options) : ctx_(SSL_CTX_new(TLS_client_method())) {
  const std::string trust =
      options.trust_file.empty() ? wif::testing::pki("root-ca.crt") : options.trust_file;
  if (!ctx_ || SSL_CTX_set_min_proto_version(ctx_.get(), options.min_version) != 1 ||
      SSL_CTX_set_max_proto_version(ctx_.get(), options.max_version) != 1 ||
      SSL_CTX_load_verify_file(ctx_.get(), trust.c_str()) != 1) {
    throw std::runtime_error("cannot set up the client context: " + drain_error_queue().text);
  }
  if (options.legacy) {
    SSL_CTX_set_security_level(ctx_.get(), 0);
    SSL_CTX_set_cipher_list(ctx_.get(), "ALL:@SECLEVEL=0");
  }
  if (!options.tls12_ciphers.empty() &&
      SSL_CTX_set_cipher_list(ctx_.get(), options.tls12_ciphers.c_str()) != 1) {
    throw std::runtime_error("cannot set the client ciphers: " + drain_error_queue().text);
  }
  if (!options.certificate.empty() &&
      (SSL_CTX_use_certificate_chain_file(ctx_.get(), options.certificate.c_str()) != 1 ||
       SSL_CTX_use_PrivateKey_file(ctx_.get(), options.key.c_str(), SSL_FILETYPE_PEM) != 1)) {
    throw std::runtime_error("cannot load the client certificate: " + drain_error_queue().text);
  }
  SSL_CTX_set_verify(ctx_.get(), SSL_VERIFY_PEER, nullptr);
  // Send exactly the chain file's certificates; OpenSSL would otherwise try
  // to complete the chain from the client's trust store.
  SSL_CTX_set_mode(ctx_.get(), SSL_MODE_NO_AUTO_CHAIN);

  ssl_.reset(SSL_new(ctx_.get()));
  BioPtr read_bio(BIO_new(BIO_s_mem()));
  BioPtr write_bio(BIO_new(BIO_s_mem()));
  if (!ssl_ || !read_bio || !write_bio || SSL_set1_host(ssl_.get(), "localhost") != 1) {
    throw std::runtime_error("cannot set up the client: " + drain_error_queue().text);
  }
  BIO_set_mem_eof_return(read_bio.get(), -1);
  read_bio_ = read_bio.get();
  write_bio_ = write_bio.get();
  SSL_set_bio(ssl_.get(), read_bio.release(), write_bio.release());
  SSL_set_connect_state(ssl_.get());
  SSL_set_app_data(ssl_.get(), this);
  SSL_set_info_callback(ssl_.get(), on_info);
}

void TlsClient::on_info(const SSL* ssl, int where, int ret) {
  if ((where & SSL_CB_READ_ALERT) != 0) {
    auto* client = static_cast<TlsClient*>(SSL_get_app_data(ssl));
    client->alerts_received_.push_back(ret & 0xff);
  }
}

void TlsClient::fail() {
  failed_ = true;
  failure_detail_ = drain_error_queue().text;
}

void TlsClient::step() {
  if (failed_ || closed_) {
    return;
  }
  ERR_clear_error();
  if (!handshake_done()) {
    int rc = SSL_do_handshake(ssl_.get());
    if (rc != 1) {
      if (SSL_get_error(ssl_.get(), rc) != SSL_ERROR_WANT_READ) {
        fail();
      }
      return;
    }
  }
  char buf[16384];
  for (;;) {
    size_t n = 0;
    int rc = SSL_read_ex(ssl_.get(), buf, sizeof(buf), &n);
    if (rc == 1) {
      received_.append(buf, n);
      continue;
    }
    int error = SSL_get_error(ssl_.get(), rc);
    if (error == SSL_ERROR_ZERO_RETURN) {
      closed_ = true;
    } else if (error != SSL_ERROR_WANT_READ) {
      fail();
    }
    return;
  }
}

void TlsClient::write(std::string_view plaintext) {
  size_t written = 0;
  if (SSL_write_ex(ssl_.get(), plaintext.data(), plaintext.size(), &written) != 1) {
    fail();
  }
}

void TlsClient::feed(std::string_view ciphertext) {
  size_t written = 0;
  if (!ciphertext.empty() &&
      BIO_write_ex(read_bio_, ciphertext.data(), ciphertext.size(), &written) != 1) {
    throw std::runtime_error("cannot feed the client");
  }
}

std::string TlsClient::take_ciphertext() {
  std::string out(BIO_ctrl_pending(write_bio_), '\0');
  size_t n = 0;
  if (!out.empty() && BIO_read_ex(write_bio_, out.data(), out.size(), &n) != 1) {
    throw std::runtime_error("cannot drain the client");
  }
  out.resize(n);
  return out;
}

void to_server(TlsClient& client, Session& server) {
  std::string ciphertext = client.take_ciphertext();
  server.feed(ciphertext.data(), ciphertext.size());
}

void to_client(Session& server, TlsClient& client) {
  // A small buffer, so take_ciphertext's cap is exercised too.
  char buf[1000];
  while (server.pending_ciphertext() > 0) {
    size_t n = server.take_ciphertext(buf, sizeof(buf));
    if (n == 0) {
      throw std::runtime_error("pending ciphertext could not be taken");
    }
    client.feed(std::string_view(buf, n));
  }
}

Session::Status run_handshake(TlsClient& client, Session& server) {
  Session::Status status = Session::Status::kWantMore;
  for (int round = 0; round < kMaxRounds && status == Session::Status::kWantMore; ++round) {
    client.step();
    to_server(client, server);
    status = server.handshake();
    to_client(server, client);
  }
  client.step();
  return status;
}

::testing::AssertionResult handshake_succeeds(const ServerContext& context, TlsClient& client) {
  Session server(context);
  const Session::Status status = run_handshake(client, server);
  if (status != Session::Status::kOk) {
    return ::testing::AssertionFailure()
           << "the server did not complete the handshake: " << failure_name(server.failure())
           << ": " << server.failure_detail();
  }
  if (!client.handshake_done() || client.failed()) {
    return ::testing::AssertionFailure() << "the client failed: " << client.failure_detail();
  }
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult handshake_refused(const ServerContext& context, TlsClient& client,
                                             Failure failure, int alert) {
  Session server(context);
  const Session::Status status = run_handshake(client, server);
  if (status != Session::Status::kFailed || server.established() || server.peer() != nullptr) {
    return ::testing::AssertionFailure() << "the server accepted the client";
  }
  if (server.failure() != failure) {
    return ::testing::AssertionFailure()
           << "refused for " << failure_name(server.failure()) << " (" << server.failure_detail()
           << "), not " << failure_name(failure);
  }
  if (!client.failed() || client.alerts_received() != std::vector<int>{alert}) {
    std::string alerts;
    for (int a : client.alerts_received()) {
      alerts += std::string(SSL_alert_desc_string_long(a)) + "; ";
    }
    return ::testing::AssertionFailure()
           << "the client received [" << alerts << "] instead of "
           << SSL_alert_desc_string_long(alert) << " (" << client.failure_detail() << ")";
  }
  return ::testing::AssertionSuccess() << server.failure_detail();
}

Session::Status client_sends(TlsClient& client, Session& server, std::string_view plaintext,
                             std::string& server_read) {
  client.write(plaintext);
  to_server(client, server);
  Session::Status status = server.read(server_read);
  to_client(server, client);
  return status;
}

Session::Status server_sends(Session& server, TlsClient& client, std::string_view plaintext) {
  Session::Status status = server.write(plaintext);
  to_client(server, client);
  client.step();
  return status;
}

}  // namespace wif::tls::test
