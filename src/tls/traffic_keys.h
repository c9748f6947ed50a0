// TrafficKeys: the record protection keys of one direction of a TLS 1.3
// connection, derived from its application traffic secret (RFC 8446 section
// 7.3), and the cipher suites they can be made for.
//
// OpenSSL does the key schedule up to the traffic secrets; from a secret on,
// everything is HKDF-Expand-Label (OpenSSL's TLS13-KDF, EVP_KDF-TLS13_KDF(7))
// and an AEAD (EVP_EncryptInit_ex2(3)). The algorithms are fetched once per
// process; a TrafficKeys is a plain value, used by one connection's thread.
// It wipes what it holds when destroyed or replaced.
#pragma once

#include <openssl/types.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace wif::tls {

// One TLS 1.3 cipher suite (RFC 8446 appendix B.4) this daemon protects
// records with itself. TLS_AES_128_CCM_SHA256 and TLS_AES_128_CCM_8_SHA256
// are not here: a connection that negotiates them stays with OpenSSL.
struct CipherSuite {
  uint16_t id;            // the IANA code, SSL_CIPHER_get_protocol_id(3)
  std::string_view name;  // "TLS_AES_128_GCM_SHA256"
  const char* aead;       // the EVP cipher name
  const char* digest;     // the suite's hash, for HKDF
  size_t key_bytes;       // AEAD key
  size_t secret_bytes;    // the hash's output: every traffic secret's length
};

// The suite with this code, or null when records under it stay with OpenSSL
// (or its algorithms are not available in this process).
const CipherSuite* find_cipher_suite(uint16_t id);

// The AEAD of a suite, fetched once (never null for a suite find_cipher_suite
// returned).
const EVP_CIPHER* aead_of(const CipherSuite& suite);

class TrafficKeys {
 public:
  static constexpr size_t kMaxSecretBytes = 48;  // SHA-384
  static constexpr size_t kMaxKeyBytes = 32;
  static constexpr size_t kIvBytes = 12;  // every TLS 1.3 AEAD (RFC 8446 section 5.3)

  TrafficKeys() = default;
  ~TrafficKeys();
  TrafficKeys(const TrafficKeys&) = delete;
  TrafficKeys& operator=(const TrafficKeys&) = delete;

  // Derives key and iv from `secret` (suite.secret_bytes long). False when
  // the secret has the wrong length or derivation fails; the keys are then
  // unusable.
  bool derive(const CipherSuite& suite, const unsigned char* secret, size_t secret_len);

  // Moves to the next generation (RFC 8446 section 7.2):
  // application_traffic_secret_N+1 = HKDF-Expand-Label(secret_N,
  // "traffic upd", "", Hash.length), then its key and iv.
  bool update(const CipherSuite& suite);

  // The per-record nonce (RFC 8446 section 5.3): the iv XORed with the
  // 64-bit sequence number, padded on the left.
  std::array<unsigned char, kIvBytes> nonce(uint64_t sequence) const;

  const unsigned char* key() const { return key_.data(); }
  const unsigned char* iv() const { return iv_.data(); }

 private:
  void wipe();

  std::array<unsigned char, kMaxSecretBytes> secret_{};
  std::array<unsigned char, kMaxKeyBytes> key_{};
  std::array<unsigned char, kIvBytes> iv_{};
  size_t secret_len_ = 0;
};

// HKDF-Expand-Label(secret, label, "", out_len) with the suite's hash (RFC
// 8446 section 7.1). Exposed for the known-answer tests.
bool expand_label(const CipherSuite& suite, const unsigned char* secret, size_t secret_len,
                  std::string_view label, unsigned char* out, size_t out_len);

}  // namespace wif::tls
