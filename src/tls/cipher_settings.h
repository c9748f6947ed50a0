// Checks and applies the configurable protocol settings: the TLS 1.2 cipher
// list, the TLS 1.3 cipher suites and the key exchange groups.
//
// OpenSSL skips names it does not know in a list (SSL_CTX_set_ciphersuites
// does so silently), so a typo would quietly shrink what is offered; here
// every name is checked on its own against OpenSSL's tables. The check_*
// functions are for the config loader, which reports with file and line:
// each returns "" or the end of an "(expected ...)" message naming the first
// bad entry. Any thread.
#pragma once

#include <openssl/types.h>

#include <string>
#include <vector>

namespace wif::tls {

// TLS 1.2 suites: exact OpenSSL names (no keywords such as HIGH), each with
// an ephemeral key exchange (ECDHE or DHE) and an AEAD cipher, as the
// default list has.
std::string check_tls12_ciphers(const std::vector<std::string>& names);
// TLS 1.3 suites by their RFC 8446 names (TLS_AES_128_GCM_SHA256, ...).
std::string check_tls13_ciphersuites(const std::vector<std::string>& names);
// Groups by OpenSSL's names (X25519, P-256, ffdhe2048, ...).
std::string check_groups(const std::vector<std::string>& names);

// The default TLS 1.2 list: ECDHE with AES-GCM or ChaCha20-Poly1305, the
// ECDSA suites first (smaller, faster handshakes).
const std::vector<std::string>& default_tls12_ciphers();

// Applies the settings to ctx; an empty list keeps the default. Throws
// ContextError naming the setting if OpenSSL refuses it.
void apply_cipher_settings(SSL_CTX* ctx, const std::vector<std::string>& tls12_ciphers,
                           const std::vector<std::string>& tls13_ciphersuites,
                           const std::vector<std::string>& groups);

}  // namespace wif::tls
