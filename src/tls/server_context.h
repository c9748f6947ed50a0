// ServerContext: the immutable TLS configuration every worker shares.
//
// Built once at start-up (and again on reload) from certificate, key, trust
// anchor and CRL files; then only read. Workers hold it through a
// shared_ptr<const ServerContext>, so a reload swaps the pointer and the old
// context lives until its last connection closes. SSL_new() on the native
// SSL_CTX is thread-safe (OpenSSL threads(7)), which is all workers do with it.
#pragma once

#include <openssl/types.h>

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "src/tls/openssl_helpers.h"

namespace wif::tls {

enum class MinVersion { kTls12, kTls13 };

struct ContextOptions {
  std::string cert_file;  // leaf, optionally followed by its intermediates
  std::string key_file;
  std::string key_passphrase_file;        // empty: the key is not encrypted
  std::string client_ca_file;             // trust anchors for client certificates
  std::string client_intermediates_file;  // untrusted, only to build chains
  std::vector<std::string> crl_files;
  bool crl_check_chain = false;  // false: check the leaf only
  MinVersion min_version = MinVersion::kTls12;
  int verify_depth = 4;
  bool session_tickets = true;
};

// Describes one certificate for start-up logs, `check` and metrics.
struct CertificateSummary {
  std::string subject;
  std::string issuer;
  int64_t not_before_unix = 0;
  int64_t not_after_unix = 0;
};

// Thrown by ServerContext::build(). The message names the file and says what
// is wrong in words ("key does not match the certificate"); it never holds key
// material or a passphrase.
class ContextError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class ServerContext {
 public:
  // Loads and checks everything: the files parse, the key matches the leaf,
  // the anchors load. Throws ContextError on the first problem.
  static std::shared_ptr<const ServerContext> build(const ContextOptions& options);

  ~ServerContext();
  ServerContext(const ServerContext&) = delete;
  ServerContext& operator=(const ServerContext&) = delete;

  SSL_CTX* native() const { return ctx_.get(); }
  const CertificateSummary& server_certificate() const { return server_certificate_; }
  const std::vector<CertificateSummary>& anchors() const { return anchors_; }

 private:
  ServerContext() = default;

  SslCtxPtr ctx_;
  CertificateSummary server_certificate_;
  std::vector<CertificateSummary> anchors_;
};

}  // namespace wif::tls
