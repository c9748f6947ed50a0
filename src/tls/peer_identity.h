// PeerIdentity: what a verified client certificate says about its holder.
//
// Computed once per connection, right after the handshake, by
// tls::Session::peer(); then read by access rules, logs and metrics. A plain
// value type with no OpenSSL in it, so src/authz/ can use it without linking
// TLS. Immutable after construction; safe to read from any thread.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

// OpenSSL's X509 (openssl/types.h), named by its struct tag so that this
// header needs no OpenSSL header: src/authz/ reads identities without TLS.
struct x509_st;

namespace wif::tls {

struct PeerIdentity {
  // RFC 2253 rendering of the subject. RFC 2253 lists the last RDN first, so
  // the test PKI's "/CN=app-team-client/O=Internal" reads
  // "O=Internal,CN=app-team-client". Non-ASCII bytes are escaped (\C3\A9);
  // the attribute lists below hold plain UTF-8.
  std::string subject;
  std::string issuer;
  // Subject attributes, in certificate order; a name may carry several of
  // each. Here and in the subjectAltName lists, a value holding a NUL byte
  // is left out (it is malformed, and could fool a C-string comparison).
  std::vector<std::string> common_names;
  std::vector<std::string> organizations;
  std::vector<std::string> organizational_units;
  // subjectAltName entries by kind. IPs are in their textual form
  // ("127.0.0.1", "::1").
  std::vector<std::string> dns_names;
  std::vector<std::string> uris;
  std::vector<std::string> emails;
  std::vector<std::string> ips;
  // Hex of the serial number's bytes, without separators, as
  // `openssl x509 -serial` prints them, in lowercase ("0abcde").
  std::string serial_hex;
  // Lowercase hex SHA-256 of the DER certificate, and of the DER
  // SubjectPublicKeyInfo (the "SPKI pin").
  std::string sha256_hex;
  std::string spki_sha256_hex;
  // Seconds since the epoch.
  int64_t not_after_unix = 0;
};

// Builds the identity of a verified certificate (used by Session, and by
// `check` to describe files). Implemented in peer_identity.cc with OpenSSL.
PeerIdentity identity_of(x509_st* certificate);

}  // namespace wif::tls
