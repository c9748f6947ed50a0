// TicketKeys: the keys that protect one context's session tickets (RFC 5077
// section 4), rotated so that no key outlives two session lifetimes.
//
// A ticket is encrypted (AES-256-CBC) and authenticated (HMAC-SHA256) under
// the current key. Every `lifetime_s` a new key becomes current and the old
// one is kept for one more period, only to decrypt: a ticket issued just
// before a rotation stays usable for its whole lifetime, and the client gets
// a fresh ticket under the new key when it resumes with the old one. After
// two periods a key is gone, so a stolen key opens no session older than
// that. Keys are random per context: a new context (a reload) resumes no
// ticket from before it.
//
// Owned by the SSL_CTX through ContextExtras; encrypt() and decrypt() run on
// any worker thread during handshakes, so the keys sit behind a mutex
// (rotation is rare; each call copies the key it needs and lets go).
#pragma once

#include <openssl/evp.h>

#include <array>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>

namespace wif::tls {

class TicketKeys {
 public:
  // `now_s`: seconds since the epoch; tests pass a fake clock. Throws
  // ContextError when no random key can be made.
  TicketKeys(int64_t lifetime_s, std::function<int64_t()> now_s);
  ~TicketKeys();
  TicketKeys(const TicketKeys&) = delete;
  TicketKeys& operator=(const TicketKeys&) = delete;

  // SSL_CTX_set_tlsext_ticket_key_evp_cb(3) with enc = 1: names the current
  // key, makes a random IV and sets up both contexts. 1, or -1 on failure.
  int encrypt(unsigned char name[16], unsigned char* iv, EVP_CIPHER_CTX* cipher, EVP_MAC_CTX* mac);
  // enc = 0: 1 for the current key, 2 for the previous one (OpenSSL then
  // issues a new ticket), 0 for a key unknown or expired (a full
  // handshake), -1 on failure.
  int decrypt(const unsigned char name[16], const unsigned char* iv, EVP_CIPHER_CTX* cipher,
              EVP_MAC_CTX* mac);

  // Rotations so far, for tests.
  uint64_t rotations() const;

  // Installs the callback that routes to ContextExtras::tickets.
  static void install(SSL_CTX* ctx);

 private:
  struct Key {
    std::array<unsigned char, 16> name{};
    std::array<unsigned char, 32> aes{};
    std::array<unsigned char, 32> hmac{};
    int64_t created_s = 0;
  };

  static bool make_key(int64_t now, Key& key);
  // Precondition: mutex_ held. False when no random key can be made.
  bool rotate_if_due(int64_t now);
  static int set_up(const Key& key, const unsigned char* iv, EVP_CIPHER_CTX* cipher,
                    EVP_MAC_CTX* mac, bool encrypting);

  const int64_t lifetime_s_;
  const std::function<int64_t()> now_s_;
  mutable std::mutex mutex_;
  Key current_;
  std::optional<Key> previous_;
  uint64_t rotations_ = 0;
};

}  // namespace wif::tls
