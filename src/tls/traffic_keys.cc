#include "src/tls/traffic_keys.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>

#include <iterator>

#include "src/tls/openssl_helpers.h"

namespace wif::tls {
namespace {

constexpr CipherSuite kSuites[] = {
    {0x1301, "TLS_AES_128_GCM_SHA256", "AES-128-GCM", "SHA256", 16, 32},
    {0x1302, "TLS_AES_256_GCM_SHA384", "AES-256-GCM", "SHA384", 32, 48},
    {0x1303, "TLS_CHACHA20_POLY1305_SHA256", "ChaCha20-Poly1305", "SHA256", 32, 32},
};
constexpr size_t kSuiteCount = std::size(kSuites);

// The algorithms, fetched once (crypto(7), "Explicit fetching"): an implicit
// fetch per connection or record would search the provider's method store
// under its lock each time. They are never freed, as they serve until exit.
struct Algorithms {
  EVP_KDF* kdf = nullptr;
  EVP_CIPHER* aeads[kSuiteCount] = {};
};

const Algorithms& algorithms() {
  static const Algorithms fetched = [] {
    Algorithms a;
    a.kdf = EVP_KDF_fetch(nullptr, "TLS13-KDF", nullptr);
    for (size_t i = 0; i < kSuiteCount; ++i) {
      a.aeads[i] = EVP_CIPHER_fetch(nullptr, kSuites[i].aead, nullptr);
    }
    // A provider without one of them (a FIPS-only configuration without
    // ChaCha20) leaves that suite to OpenSSL; nothing to report.
    ERR_clear_error();
    return a;
  }();
  return fetched;
}

}  // namespace

const CipherSuite* find_cipher_suite(uint16_t id) {
  const Algorithms& a = algorithms();
  if (a.kdf == nullptr) {
    return nullptr;
  }
  for (size_t i = 0; i < kSuiteCount; ++i) {
    if (kSuites[i].id == id) {
      return a.aeads[i] != nullptr ? &kSuites[i] : nullptr;
    }
  }
  return nullptr;
}

const EVP_CIPHER* aead_of(const CipherSuite& suite) { return algorithms().aeads[&suite - kSuites]; }

bool expand_label(const CipherSuite& suite, const unsigned char* secret, size_t secret_len,
                  std::string_view label, unsigned char* out, size_t out_len) {
  EVP_KDF* kdf = algorithms().kdf;
  if (kdf == nullptr) {
    return false;
  }
  EvpKdfCtxPtr ctx(EVP_KDF_CTX_new(kdf));
  if (!ctx) {
    ERR_clear_error();
    return false;
  }
  // The HkdfLabel of RFC 8446 section 7.1, built by the KDF from these: the
  // output length, "tls13 " + label, and an empty context. An empty context
  // is no "data" parameter at all, as libssl passes it for a key or iv: the
  // KDF refuses an octet string without a buffer, even of length 0.
  static constexpr char kPrefix[] = "tls13 ";
  int mode = EVP_KDF_HKDF_MODE_EXPAND_ONLY;
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_int(OSSL_KDF_PARAM_MODE, &mode),
      OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, const_cast<char*>(suite.digest), 0),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, const_cast<unsigned char*>(secret),
                                        secret_len),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_PREFIX, const_cast<char*>(kPrefix),
                                        sizeof kPrefix - 1),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_LABEL, const_cast<char*>(label.data()),
                                        label.size()),
      OSSL_PARAM_construct_end(),
  };
  if (EVP_KDF_derive(ctx.get(), out, out_len, params) != 1) {
    ERR_clear_error();
    return false;
  }
  return true;
}

TrafficKeys::~TrafficKeys() { wipe(); }

void TrafficKeys::wipe() {
  OPENSSL_cleanse(secret_.data(), secret_.size());
  OPENSSL_cleanse(key_.data(), key_.size());
  OPENSSL_cleanse(iv_.data(), iv_.size());
  secret_len_ = 0;
}

bool TrafficKeys::derive(const CipherSuite& suite, const unsigned char* secret, size_t secret_len) {
  wipe();
  if (secret_len != suite.secret_bytes || secret_len > secret_.size() ||
      suite.key_bytes > key_.size()) {
    return false;
  }
  std::copy(secret, secret + secret_len, secret_.begin());
  secret_len_ = secret_len;
  if (!expand_label(suite, secret, secret_len, "key", key_.data(), suite.key_bytes) ||
      !expand_label(suite, secret, secret_len, "iv", iv_.data(), iv_.size())) {
    wipe();
    return false;
  }
  return true;
}

bool TrafficKeys::update(const CipherSuite& suite) {
  std::array<unsigned char, kMaxSecretBytes> next{};
  const size_t len = secret_len_;
  bool ok = len != 0 && expand_label(suite, secret_.data(), len, "traffic upd", next.data(), len) &&
            derive(suite, next.data(), len);
  OPENSSL_cleanse(next.data(), next.size());
  if (!ok) {
    wipe();
  }
  return ok;
}

std::array<unsigned char, TrafficKeys::kIvBytes> TrafficKeys::nonce(uint64_t sequence) const {
  std::array<unsigned char, kIvBytes> nonce = iv_;
  for (size_t i = 0; i < 8; ++i) {
    nonce[kIvBytes - 1 - i] ^= static_cast<unsigned char>(sequence >> (8 * i));
  }
  return nonce;
}

}  // namespace wif::tls
