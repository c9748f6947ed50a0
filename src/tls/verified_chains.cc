#include "src/tls/verified_chains.h"

#include <openssl/evp.h>
#include <openssl/x509.h>

#include <algorithm>
#include <cstring>

#include "src/tls/pem_files.h"

namespace wif::tls {
namespace {

bool hash_certificate(EVP_MD_CTX* md, X509* certificate) {
  unsigned char* der = nullptr;
  const int len = i2d_X509(certificate, &der);
  if (len <= 0) {
    return false;
  }
  OpenSslBytesPtr owned(der);
  return EVP_DigestUpdate(md, der, static_cast<size_t>(len)) == 1;
}

}  // namespace

VerifiedChains::VerifiedChains(int64_t crl_cap_unix)
    : crl_cap_unix_(crl_cap_unix), sha256_(EVP_MD_fetch(nullptr, "SHA2-256", nullptr)) {
  if (!sha256_) {
    fail_with_reason("cannot fetch SHA-256 to remember verified client chains");
  }
}

size_t VerifiedChains::KeyHash::operator()(const Key& key) const {
  // The key is a SHA-256 already: any eight of its bytes are a good hash.
  size_t h = 0;
  std::memcpy(&h, key.data(), sizeof h);
  return h;
}

std::optional<VerifiedChains::Key> VerifiedChains::key_of(X509_STORE_CTX* store_ctx) const {
  X509* leaf = X509_STORE_CTX_get0_cert(store_ctx);
  EvpMdCtxPtr md(EVP_MD_CTX_new());
  if (leaf == nullptr || !md || EVP_DigestInit_ex(md.get(), sha256_.get(), nullptr) != 1 ||
      !hash_certificate(md.get(), leaf)) {
    return std::nullopt;
  }
  STACK_OF(X509)* sent = X509_STORE_CTX_get0_untrusted(store_ctx);
  for (int i = 0; i < sk_X509_num(sent); ++i) {
    if (!hash_certificate(md.get(), sk_X509_value(sent, i))) {
      return std::nullopt;
    }
  }
  Key key;
  unsigned int len = 0;
  if (EVP_DigestFinal_ex(md.get(), key.data(), &len) != 1 || len != key.size()) {
    return std::nullopt;
  }
  return key;
}

bool VerifiedChains::recall(const Key& key, int64_t now) const {
  std::lock_guard<std::mutex> lock(mutex_);
  const auto it = until_.find(key);
  return it != until_.end() && now < it->second;
}

void VerifiedChains::remember(const Key& key, const STACK_OF(X509) * chain, int64_t now) {
  // A certificate is valid while now < notAfter (X509_cmp_time(3) counts
  // the notAfter second itself as expired), and so is an entry.
  int64_t until = now + kTtlSeconds;
  if (crl_cap_unix_ != 0) {
    until = std::min(until, crl_cap_unix_);
  }
  if (sk_X509_num(chain) <= 0) {
    return;  // no verified chain to bound the entry by
  }
  for (int i = 0; i < sk_X509_num(chain); ++i) {
    until = std::min(until, unix_seconds(X509_get0_notAfter(sk_X509_value(chain, i))));
  }
  if (until <= now) {
    return;
  }
  std::lock_guard<std::mutex> lock(mutex_);
  const auto it = until_.find(key);
  if (it != until_.end()) {
    it->second = until;
    return;
  }
  if (until_.size() >= kMaxEntries) {
    until_.erase(order_.front());
    order_.pop_front();
  }
  until_.emplace(key, until);
  order_.push_back(key);
}

size_t VerifiedChains::size() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return until_.size();
}

}  // namespace wif::tls
