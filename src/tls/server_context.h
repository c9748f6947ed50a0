// ServerContext: the immutable TLS configuration every worker shares.
//
// Built once at start-up (and again on reload) from certificate, key, trust
// anchor and CRL files; then only read. Workers hold it through a
// shared_ptr<const ServerContext>, so a reload swaps the pointer and the old
// context lives until its last connection closes. SSL_new() on the native
// SSL_CTX is thread-safe (OpenSSL threads(7)), which is all workers do with it.
//
// Each build is a new generation with its own session cache, so no session
// or ticket from before a reload resumes under it, and a connection can tell that the trust it was
// verified under has been replaced (see Session::verify_again).
#pragma once

#include <openssl/types.h>

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "src/tls/certificate_summary.h"
#include "src/tls/context_options.h"
#include "src/tls/openssl_helpers.h"

namespace wif::tls {

// Whether the server's own chain verifies to a root (a client_ca anchor or
// the system's trust store), for `check`. A chain from a private CA the
// system does not know legitimately fails here; build() never requires it.
struct ChainCheck {
  bool verified = false;
  std::string detail;  // the reason when not verified
};

class ServerContext {
 public:
  // Loads and checks everything: the key and passphrase files are readable
  // by no more users than key_readable_by allows, the files parse, the key
  // matches the leaf, the leaf is within its validity and its chain links
  // up, the anchors and CRLs load and every CRL from a configured CA carries
  // its signature. Throws ContextError on the first problem.
  static std::shared_ptr<const ServerContext> build(const ContextOptions& options);

  ~ServerContext();
  ServerContext(const ServerContext&) = delete;
  ServerContext& operator=(const ServerContext&) = delete;

  SSL_CTX* native() const { return ctx_.get(); }
  // Increases with every build() in this process; never 0.
  uint64_t generation() const { return generation_; }

  const CertificateSummary& server_certificate() const { return server_chain_.front(); }
  // The leaf first, then the intermediates sent with it.
  const std::vector<CertificateSummary>& server_chain() const { return server_chain_; }
  const ChainCheck& server_chain_check() const { return server_chain_check_; }
  const std::vector<CertificateSummary>& anchors() const { return anchors_; }
  const std::vector<CertificateSummary>& intermediates() const { return intermediates_; }
  // Every CRL loaded, in file order; next_update_unix is what the metrics
  // layer publishes per CRL.
  const std::vector<CrlSummary>& crls() const { return crls_; }
  bool partial_chain() const { return partial_chain_; }
  bool crl_check_chain() const { return crl_check_chain_; }
  // Whether a client verified under `other` is verified under this one too:
  // the same anchors, intermediates, CRLs and verification settings (a
  // SHA-256 over them), whatever the server certificate. A reload that only
  // renews the server certificate leaves kept-alive clients alone.
  bool same_trust(const ServerContext& other) const { return trust_digest_ == other.trust_digest_; }

 private:
  ServerContext() = default;

  SslCtxPtr ctx_;
  uint64_t generation_ = 0;
  std::vector<CertificateSummary> server_chain_;
  ChainCheck server_chain_check_;
  std::vector<CertificateSummary> anchors_;
  std::vector<CertificateSummary> intermediates_;
  std::vector<CrlSummary> crls_;
  bool partial_chain_ = false;
  bool crl_check_chain_ = false;
  std::array<unsigned char, 32> trust_digest_{};

  friend class ContextBuilder;
};

}  // namespace wif::tls
