// VerifiedChains: the client chains one context has verified, so that a
// client connecting again with the same certificates skips chain building,
// the issuers' signature checks and the CRL lookups (about a sixth of a full
// ECDSA handshake's server instructions; issue #6). Internal to src/tls/.
//
// The client still proves it holds the key (CertificateVerify) on every
// handshake; that is OpenSSL's and untouched. What is remembered is only
// that this context's verification (X509_verify_cert(3) with its anchors,
// CRLs, intermediates and parameters, and the clientAuth rule) accepted
// exactly these certificates, and only for as long as that answer cannot
// change:
// - the key is SHA-256 over the DER of every certificate the client sent,
//   in order, so another certificate, key or chain never matches;
// - an entry lasts until the earliest notAfter in the verified chain, the
//   earliest nextUpdate of the context's CRLs, or kTtlSeconds after it was
//   made, whichever comes first;
// - only successes are remembered;
// - one VerifiedChains per SSL_CTX, in its ContextExtras: a reload (new
//   anchors, CRLs or options) builds a new context that starts with nothing
//   remembered, and the context's store is never changed after build().
//   Connections made under the old context are checked again against the
//   new one at their next request (Session::verify_again, which never
//   consults this).
//
// Thread-safe: workers verify concurrently; a mutex guards the table for
// one lookup or insert, never during a verification.
#pragma once

#include <openssl/types.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <unordered_map>

#include "src/tls/openssl_helpers.h"

namespace wif::tls {

class VerifiedChains {
 public:
  using Key = std::array<unsigned char, 32>;

  static constexpr int64_t kTtlSeconds = 300;
  static constexpr size_t kMaxEntries = 16384;

  // crl_cap_unix: the earliest nextUpdate of the context's CRLs, 0 when no
  // CRL names one. Throws ContextError when SHA-256 cannot be fetched.
  explicit VerifiedChains(int64_t crl_cap_unix);
  VerifiedChains(const VerifiedChains&) = delete;
  VerifiedChains& operator=(const VerifiedChains&) = delete;

  // The key of the certificates a handshake's store_ctx holds (the leaf,
  // then every certificate the client sent); nullopt when it cannot be
  // computed (out of memory), and then nothing is remembered or recalled.
  std::optional<Key> key_of(X509_STORE_CTX* store_ctx) const;

  // Whether key was verified and its entry is still good at `now` (seconds
  // since the epoch).
  bool recall(const Key& key, int64_t now) const;

  // After a successful verification of key at `now` with `chain` (the
  // verified chain, leaf to anchor): remembers it until the first limit
  // above. Does nothing when that is not after now. Evicts the oldest entry
  // when full.
  void remember(const Key& key, const STACK_OF(X509) * chain, int64_t now);

  // How many entries are held (for tests).
  size_t size() const;

 private:
  struct KeyHash {
    size_t operator()(const Key& key) const;
  };

  const int64_t crl_cap_unix_;
  const EvpMdPtr sha256_;  // fetched once: an implicit fetch per digest costs more

  mutable std::mutex mutex_;
  std::unordered_map<Key, int64_t, KeyHash> until_;  // guarded by mutex_
  std::deque<Key> order_;                            // oldest first; guarded by mutex_
};

}  // namespace wif::tls
