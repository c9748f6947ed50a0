// Plain descriptions of the certificates and CRLs a ServerContext was built
// from, for start-up logs, `wif-tokend check` and the metrics layer (expiry
// and next-update gauges). Values only, no OpenSSL types: safe to copy and
// to read from any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace wif::tls {

// "2026-12-03T21:40:01Z": how validity dates and CRL updates are written in
// messages, logs and `check`.
std::string format_utc(int64_t unix_seconds);

struct CertificateSummary {
  std::string subject;  // RFC 2253
  std::string issuer;
  int64_t not_before_unix = 0;
  int64_t not_after_unix = 0;
  bool is_ca = false;  // basicConstraints CA:TRUE
  // keyUsage bits by their RFC 5280 names ("digitalSignature",
  // "keyCertSign"); empty when the extension is absent.
  std::vector<std::string> key_usage;
  // extendedKeyUsage by OpenSSL's short names ("serverAuth", "clientAuth"),
  // or the dotted OID of one it does not know; empty when absent.
  std::vector<std::string> extended_key_usage;
};

struct CrlSummary {
  std::string file;
  std::string issuer;  // RFC 2253
  int64_t last_update_unix = 0;
  int64_t next_update_unix = 0;  // 0: the CRL names no next update
  size_t revoked = 0;            // serials listed
};

}  // namespace wif::tls
