// What a ServerContext is built from (ContextOptions) and how building one
// fails (ContextError): apart from server_context.h so that the file readers
// and checks it uses (pem_files.h, key_access.h) need not know the context.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace wif::tls {

enum class MinVersion { kTls12, kTls13 };

// Who may read the key and passphrase files besides their owner before
// build() refuses them (tls.key_readable_by).
enum class KeyAccess { kOwner, kGroup, kAnyone };

struct ContextOptions {
  std::string cert_file;  // leaf, optionally followed by its intermediates
  std::string key_file;
  std::string key_passphrase_file;  // empty: the key is not encrypted
  KeyAccess key_readable_by = KeyAccess::kOwner;
  std::string client_ca_file;             // trust anchors for client certificates
  std::string client_intermediates_file;  // untrusted, only to build chains
  std::vector<std::string> crl_files;
  // false: check the leaf only. true: every certificate of the chain, and
  // every configured CA must have a CRL (build() refuses otherwise).
  bool crl_check_chain = false;
  // Let a chain end at any anchor, not only at a self-signed root
  // (X509_V_FLAG_PARTIAL_CHAIN): an intermediate in client_ca is then
  // trusted on its own. Off by default.
  bool partial_chain = false;
  // Refuse a client certificate without an extended key usage (one with the
  // extension must name clientAuth in any case).
  bool require_client_auth_eku = false;
  MinVersion min_version = MinVersion::kTls12;
  // SSL_CTX_set_verify_depth(3): the most intermediate CAs between the leaf
  // and the anchor (depth 0 is the leaf itself).
  int verify_depth = 4;
  std::vector<std::string> tls12_ciphers;       // empty: default_tls12_ciphers()
  std::vector<std::string> tls13_ciphersuites;  // empty: OpenSSL's defaults
  std::vector<std::string> groups;              // empty: OpenSSL's defaults
  bool session_tickets = true;
  // How long a cached session may be resumed (its TLS 1.3 tickets carry
  // only the session's id).
  int64_t session_lifetime_s = 600;
};

// Thrown by ServerContext::build() and the readers it uses. The message names the file and says
// what is wrong in words ("key does not match the certificate"); it never holds key material or a
// passphrase.
class ContextError : public std::runtime_error {
 public:
  enum class Kind {
    kInvalid,      // a file is missing, unreadable, malformed or unusable
    kKeyMismatch,  // the key and the certificate are not a pair (yet)
  };

  explicit ContextError(const std::string& message, Kind kind = Kind::kInvalid)
      : std::runtime_error(message), kind_(kind) {}
  Kind kind() const { return kind_; }

 private:
  Kind kind_;
};

}  // namespace wif::tls
