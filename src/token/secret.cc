#include "src/token/secret.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <array>

namespace wif::token {

void Secret::wipe() {
  // Every byte the string owns, not only size(): a short value lives in the
  // string's inline buffer, which a move leaves behind, and a longer one in
  // a heap block. resize() to the capacity never reallocates, and makes the
  // whole block writable through data().
  value_.resize(value_.capacity());
  OPENSSL_cleanse(value_.data(), value_.size());
  value_.clear();
}

std::string Secret::fingerprint() const {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int digest_len = 0;
  if (EVP_Digest(value_.data(), value_.size(), digest.data(), &digest_len, EVP_sha256(), nullptr) !=
      1) {
    return "unknown";
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < 4; ++i) {
    out.push_back(kHex[digest[i] >> 4]);
    out.push_back(kHex[digest[i] & 0xf]);
  }
  return out;
}

}  // namespace wif::token
