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

namespace wif::tls {

struct PeerIdentity {
  // RFC 2253 rendering of the subject, e.g. "CN=app-team-client,O=Internal".
  std::string subject;
  std::string issuer;
  // Subject attributes; a name may carry several of each.
  std::vector<std::string> common_names;
  std::vector<std::string> organizations;
  std::vector<std::string> organizational_units;
  // subjectAltName entries by kind. IPs are in their textual form
  // ("127.0.0.1", "::1").
  std::vector<std::string> dns_names;
  std::vector<std::string> uris;
  std::vector<std::string> emails;
  std::vector<std::string> ips;
  // Lowercase hex of the serial number, without separators.
  std::string serial_hex;
  // Lowercase hex SHA-256 of the DER certificate, and of the DER
  // SubjectPublicKeyInfo (the "SPKI pin").
  std::string sha256_hex;
  std::string spki_sha256_hex;
  // Seconds since the epoch.
  int64_t not_after_unix = 0;
};

}  // namespace wif::tls
