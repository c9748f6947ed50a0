#include "src/tls/ticket_keys.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>

#include <cstring>
#include <ctime>

#include "src/tls/context_extras.h"
#include "src/tls/pem_files.h"

namespace wif::tls {
namespace {

void wipe(void* bytes, size_t len) { OPENSSL_cleanse(bytes, len); }

// The trampoline OpenSSL calls; the keys belong to the SSL's context.
int ticket_callback(SSL* ssl, unsigned char name[16], unsigned char* iv, EVP_CIPHER_CTX* cipher,
                    EVP_MAC_CTX* mac, int enc) {
  const ContextExtras* extras = extras_of(SSL_get_SSL_CTX(ssl));
  if (extras == nullptr || !extras->tickets) {
    return enc != 0 ? -1 : 0;
  }
  return enc != 0 ? extras->tickets->encrypt(name, iv, cipher, mac)
                  : extras->tickets->decrypt(name, iv, cipher, mac);
}

}  // namespace

TicketKeys::TicketKeys(int64_t lifetime_s, std::function<int64_t()> now_s)
    : lifetime_s_(lifetime_s),
      now_s_(now_s ? std::move(now_s) : [] { return static_cast<int64_t>(std::time(nullptr)); }) {
  if (!make_key(now_s_(), current_)) {
    fail_with_reason("cannot make a session ticket key");
  }
}

TicketKeys::~TicketKeys() {
  wipe(&current_, sizeof current_);
  if (previous_) {
    wipe(&*previous_, sizeof *previous_);
  }
}

bool TicketKeys::make_key(int64_t now, Key& key) {
  key.created_s = now;
  return RAND_bytes(key.name.data(), static_cast<int>(key.name.size())) == 1 &&
         RAND_priv_bytes(key.aes.data(), static_cast<int>(key.aes.size())) == 1 &&
         RAND_priv_bytes(key.hmac.data(), static_cast<int>(key.hmac.size())) == 1;
}

bool TicketKeys::rotate_if_due(int64_t now) {
  if (now - current_.created_s < lifetime_s_) {
    return true;
  }
  Key next;
  if (!make_key(now, next)) {
    wipe(&next, sizeof next);
    return false;
  }
  // A key unused for a whole period (an idle server) is too old to keep as
  // the previous one: tickets under it have all expired.
  if (now - current_.created_s < 2 * lifetime_s_) {
    previous_ = current_;
  } else if (previous_) {
    wipe(&*previous_, sizeof *previous_);
    previous_.reset();
  }
  wipe(&current_, sizeof current_);
  current_ = next;
  wipe(&next, sizeof next);
  ++rotations_;
  return true;
}

int TicketKeys::set_up(const Key& key, const unsigned char* iv, EVP_CIPHER_CTX* cipher,
                       EVP_MAC_CTX* mac, bool encrypting) {
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_octet_string(
          OSSL_MAC_PARAM_KEY, const_cast<unsigned char*>(key.hmac.data()), key.hmac.size()),
      OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, const_cast<char*>("SHA256"), 0),
      OSSL_PARAM_construct_end()};
  const int cipher_ok =
      encrypting ? EVP_EncryptInit_ex(cipher, EVP_aes_256_cbc(), nullptr, key.aes.data(), iv)
                 : EVP_DecryptInit_ex(cipher, EVP_aes_256_cbc(), nullptr, key.aes.data(), iv);
  if (cipher_ok != 1 || EVP_MAC_CTX_set_params(mac, params) != 1) {
    return -1;
  }
  return 1;
}

int TicketKeys::encrypt(unsigned char name[16], unsigned char* iv, EVP_CIPHER_CTX* cipher,
                        EVP_MAC_CTX* mac) {
  const int iv_len = EVP_CIPHER_get_iv_length(EVP_aes_256_cbc());
  if (RAND_bytes(iv, iv_len) != 1) {
    return -1;
  }
  Key key;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!rotate_if_due(now_s_())) {
      return -1;
    }
    key = current_;
  }
  std::memcpy(name, key.name.data(), key.name.size());
  const int result = set_up(key, iv, cipher, mac, true);
  wipe(&key, sizeof key);
  return result;
}

int TicketKeys::decrypt(const unsigned char name[16], const unsigned char* iv,
                        EVP_CIPHER_CTX* cipher, EVP_MAC_CTX* mac) {
  Key key;
  int found = 0;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!rotate_if_due(now_s_())) {
      return -1;
    }
    if (std::memcmp(name, current_.name.data(), current_.name.size()) == 0) {
      key = current_;
      found = 1;
    } else if (previous_ &&
               std::memcmp(name, previous_->name.data(), previous_->name.size()) == 0) {
      key = *previous_;
      found = 2;
    }
  }
  if (found == 0) {
    return 0;
  }
  const int result = set_up(key, iv, cipher, mac, false);
  wipe(&key, sizeof key);
  return result < 0 ? -1 : found;
}

uint64_t TicketKeys::rotations() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return rotations_;
}

void TicketKeys::install(SSL_CTX* ctx) {
  if (SSL_CTX_set_tlsext_ticket_key_evp_cb(ctx, ticket_callback) != 1) {
    fail_with_reason("cannot install the session ticket keys");
  }
}

}  // namespace wif::tls
