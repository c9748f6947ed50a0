#include "bench/support/tls_pair.h"

#include <openssl/err.h>

#include <algorithm>
#include <cstdlib>
#include <stdexcept>

namespace wif::bench {
namespace {

using Clock = std::chrono::steady_clock;

// A TLS 1.3 handshake with client authentication takes two round trips; the
// bound only stops a broken pair from spinning.
constexpr int kMaxRounds = 8;

[[noreturn]] void fail(const std::string& what) {
  throw std::runtime_error(what + ": " + tls::drain_error_queue().text);
}

}  // namespace

std::string pki(std::string_view file) {
  const char* dir = std::getenv("WIF_TEST_PKI");
  if (dir == nullptr || *dir == '\0') {
    throw std::runtime_error("WIF_TEST_PKI is not set: run the benchmarks through meson");
  }
  return std::string(dir) + "/" + std::string(file);
}

KeySet key_set(std::string_view kind) {
  if (kind == "ec") {
    return {pki("ec-server.crt"), pki("ec-server.key"), pki("ec-client.crt"), pki("ec-client.key")};
  }
  return {pki("server.crt"), pki("server.key"), pki("client.crt"), pki("client.key")};
}

std::shared_ptr<const tls::ServerContext> server_context(const KeySet& keys) {
  tls::ContextOptions options;
  options.cert_file = keys.server_cert;
  options.key_file = keys.server_key;
  options.client_ca_file = pki("ca-chain.crt");
  return tls::ServerContext::build(options);
}

tls::SslCtxPtr client_context(const KeySet& keys) {
  tls::SslCtxPtr ctx(SSL_CTX_new(TLS_client_method()));
  if (!ctx || SSL_CTX_load_verify_file(ctx.get(), pki("root-ca.crt").c_str()) != 1 ||
      SSL_CTX_use_certificate_chain_file(ctx.get(), keys.client_cert.c_str()) != 1 ||
      SSL_CTX_use_PrivateKey_file(ctx.get(), keys.client_key.c_str(), SSL_FILETYPE_PEM) != 1) {
    fail("cannot set up the client context");
  }
  SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER, nullptr);
  return ctx;
}

TlsPair::TlsPair(SSL_CTX* client_ctx, const tls::ServerContext& server, SSL_SESSION* resume)
    : client_(SSL_new(client_ctx)), server_(server) {
  tls::BioPtr in(BIO_new(BIO_s_mem()));
  tls::BioPtr out(BIO_new(BIO_s_mem()));
  if (!client_ || !in || !out || SSL_set1_host(client_.get(), "localhost") != 1) {
    fail("cannot set up the client");
  }
  BIO_set_mem_eof_return(in.get(), -1);
  client_in_ = in.get();
  client_out_ = out.get();
  SSL_set_bio(client_.get(), in.release(), out.release());
  SSL_set_connect_state(client_.get());
  if (resume != nullptr && SSL_set_session(client_.get(), resume) != 1) {
    fail("cannot offer the session");
  }
  buffer_.resize(64 * 1024);
}

TlsPair::~TlsPair() {
  if (SSL_is_init_finished(client_.get()) == 1) {
    SSL_shutdown(client_.get());
  }
  ERR_clear_error();
}

void TlsPair::client_to_server() {
  const size_t n = BIO_ctrl_pending(client_out_);
  if (n == 0) {
    return;
  }
  buffer_.resize(std::max(buffer_.size(), n));
  size_t got = 0;
  BIO_read_ex(client_out_, buffer_.data(), n, &got);
  const auto started = Clock::now();
  server_.feed(buffer_.data(), got);
  server_time_ += Clock::now() - started;
}

void TlsPair::server_to_client() {
  const auto started = Clock::now();
  const size_t n = server_.pending_ciphertext();
  buffer_.resize(std::max(buffer_.size(), n));
  const size_t got = server_.take_ciphertext(buffer_.data(), buffer_.size());
  server_time_ += Clock::now() - started;
  size_t written = 0;
  if (got > 0 && BIO_write_ex(client_in_, buffer_.data(), got, &written) != 1) {
    fail("cannot feed the client");
  }
}

void TlsPair::client_read() {
  char chunk[16384];
  for (;;) {
    size_t n = 0;
    const int rc = SSL_read_ex(client_.get(), chunk, sizeof chunk, &n);
    if (rc == 1) {
      received_.append(chunk, n);
      continue;
    }
    if (SSL_get_error(client_.get(), rc) != SSL_ERROR_WANT_READ) {
      fail("the client could not read");
    }
    return;
  }
}

void TlsPair::handshake() {
  for (int round = 0; round < kMaxRounds; ++round) {
    const int rc = SSL_do_handshake(client_.get());
    if (rc != 1 && SSL_get_error(client_.get(), rc) != SSL_ERROR_WANT_READ) {
      fail("the client handshake failed");
    }
    client_to_server();
    const auto started = Clock::now();
    const tls::Session::Status status = server_.handshake();
    server_time_ += Clock::now() - started;
    if (status == tls::Session::Status::kFailed) {
      throw std::runtime_error("the server handshake failed: " + server_.failure_detail());
    }
    server_to_client();
    if (status == tls::Session::Status::kOk && rc == 1) {
      client_read();  // the session tickets
      return;
    }
  }
  throw std::runtime_error("the handshake did not finish");
}

size_t TlsPair::round_trip(std::string_view request, std::string_view response) {
  size_t written = 0;
  if (SSL_write_ex(client_.get(), request.data(), request.size(), &written) != 1) {
    fail("the client could not write");
  }
  client_to_server();
  plaintext_.clear();
  const auto started = Clock::now();
  const bool served = server_.read(plaintext_) == tls::Session::Status::kOk &&
                      plaintext_.size() == request.size() &&
                      server_.write(response) == tls::Session::Status::kOk;
  server_time_ += Clock::now() - started;
  if (!served) {
    throw std::runtime_error("the server did not take the request");
  }
  server_to_client();
  received_.clear();
  client_read();
  return received_.size();
}

}  // namespace wif::bench
