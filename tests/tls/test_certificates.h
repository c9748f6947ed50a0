// Certificate helpers for the tls tests: load files of the test PKI, issue
// extra certificates and CRLs with the OpenSSL API, and write them as PEM into
// a per-test folder. Failures throw std::runtime_error, which fails the test.
#pragma once

#include <openssl/asn1.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "src/tls/openssl_helpers.h"
#include "src/tls/server_context.h"

namespace wif::tls::test {

// The options that mirror the original layout: server.crt, server.key and
// ca-chain.crt from the test PKI.
ContextOptions default_options();

X509Ptr load_certificate(const std::string& path);  // the first one in the file
EvpPkeyPtr load_key(const std::string& path);

EvpPkeyPtr generate_ec_key();
EvpPkeyPtr generate_ed25519_key();

struct CertificateRequest {
  // In order, e.g. {{"CN", "ci-runner"}, {"O", "Internal"}}; values are UTF-8.
  std::vector<std::pair<std::string, std::string>> subject;
  // openssl x509v3_config(5) syntax, e.g. {"subjectAltName", "DNS:a, IP:::1"}.
  std::vector<std::pair<std::string, std::string>> extensions;
  int64_t serial = 4096;
  int64_t valid_from_offset_s = -3600;
  int64_t valid_for_s = 86400;
};

// Signs with SHA-256 (or pure EdDSA for an Ed25519 issuer key).
X509Ptr issue(const CertificateRequest& request, EVP_PKEY* subject_key, X509* issuer,
              EVP_PKEY* issuer_key);

// A v2 CRL from issuer listing the given serials, valid from an hour ago for
// a day.
X509CrlPtr make_crl(X509* issuer, EVP_PKEY* issuer_key,
                    const std::vector<const ASN1_INTEGER*>& revoked);

void write_certificates(const std::string& path, const std::vector<X509*>& certificates);
void write_crl(const std::string& path, X509_CRL* crl);
// Keys are written with mode 0600.
// PKCS#8, encrypted with AES-256-CBC when passphrase is not empty.
void write_pkcs8_key(const std::string& path, EVP_PKEY* key, std::string_view passphrase = {});
// The traditional form (PKCS#1 for RSA, SEC1 for EC), Proc-Type encrypted
// when passphrase is not empty.
void write_traditional_key(const std::string& path, EVP_PKEY* key,
                           std::string_view passphrase = {});

// Lowercase hex SHA-256 of bytes, through EVP_Q_digest (a different path
// from the one PeerIdentity uses).
std::string sha256_hex(const unsigned char* bytes, size_t len);

}  // namespace wif::tls::test
