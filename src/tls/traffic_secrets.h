// TrafficSecrets: the two TLS 1.3 application traffic secrets of one
// handshake, caught as OpenSSL derives them, so that Session can hand the
// connection to RecordLayer once the handshake is over.
//
// OpenSSL 3.0 has one documented way out for these secrets: the key log
// callback (SSL_CTX_set_keylog_callback(3)), which receives each secret as an
// NSS key log line ("SERVER_TRAFFIC_SECRET_0 <client random> <secret>", both
// in hex). The callback installed here parses only the two application
// secrets into the TrafficSecrets attached to the SSL, and keeps nothing
// else; no line is ever written anywhere. OpenSSL wipes its copy of the line
// after the call.
//
// The callback runs inside SSL_do_handshake on the connection's thread; the
// attached TrafficSecrets must outlive the SSL's handshake.
#pragma once

#include <openssl/types.h>

#include <array>
#include <cstddef>

namespace wif::tls {

struct TrafficSecrets {
  static constexpr size_t kMaxBytes = 48;  // SHA-384, the longest TLS 1.3 hash

  std::array<unsigned char, kMaxBytes> client{};
  std::array<unsigned char, kMaxBytes> server{};
  size_t client_len = 0;  // 0 until caught
  size_t server_len = 0;

  TrafficSecrets() = default;
  ~TrafficSecrets() { wipe(); }
  TrafficSecrets(const TrafficSecrets&) = delete;
  TrafficSecrets& operator=(const TrafficSecrets&) = delete;

  void wipe();
};

// Installs the callback on a server context. Without it no connection is
// handed over, and OpenSSL protects every record.
void catch_traffic_secrets(SSL_CTX* ctx);

// Makes the secrets of `ssl`'s handshake land in `secrets`. False if OpenSSL
// cannot store the pointer (allocation failure); the connection then stays
// with OpenSSL.
bool attach_traffic_secrets(SSL* ssl, TrafficSecrets* secrets);

}  // namespace wif::tls
