#include "src/tls/cipher_settings.h"

#include <openssl/err.h>
#include <openssl/obj_mac.h>
#include <openssl/ssl.h>

#include <string_view>

#include "src/tls/openssl_helpers.h"
#include "src/tls/pem_files.h"

namespace wif::tls {
namespace {

std::string joined(const std::vector<std::string>& names) {
  std::string out;
  for (const std::string& name : names) {
    if (!out.empty()) {
      out += ':';
    }
    out += name;
  }
  return out;
}

// A list entry must be one plain name: a separator or an operator inside it
// would make OpenSSL read several entries or a keyword.
bool is_plain_name(const std::string& name) {
  return !name.empty() && name.front() != '-' && name.find_first_of(":,; !+@") == std::string::npos;
}

// A scratch context, for asking OpenSSL what one name selects.
SslCtxPtr scratch_context() {
  SslCtxPtr ctx(SSL_CTX_new(TLS_server_method()));
  if (!ctx) {
    fail_with_reason("cannot create a TLS context");
  }
  return ctx;
}

// The one cipher `name` selects for TLS 1.2, or null.
const SSL_CIPHER* tls12_cipher_named(const std::string& name) {
  SslCtxPtr ctx = scratch_context();
  const bool selected = SSL_CTX_set_ciphersuites(ctx.get(), "") == 1 &&
                        SSL_CTX_set_cipher_list(ctx.get(), name.c_str()) == 1;
  ERR_clear_error();
  if (!selected) {
    return nullptr;
  }
  STACK_OF(SSL_CIPHER)* ciphers = SSL_CTX_get_ciphers(ctx.get());
  if (sk_SSL_CIPHER_num(ciphers) != 1) {
    return nullptr;
  }
  // SSL_CIPHER objects are static tables: the pointer outlives ctx.
  const SSL_CIPHER* cipher = sk_SSL_CIPHER_value(ciphers, 0);
  return name == SSL_CIPHER_get_name(cipher) ? cipher : nullptr;
}

bool is_tls13_suite(const std::string& name) {
  SslCtxPtr ctx = scratch_context();
  if (SSL_CTX_set_ciphersuites(ctx.get(), name.c_str()) != 1) {
    ERR_clear_error();
    return false;
  }
  STACK_OF(SSL_CIPHER)* ciphers = SSL_CTX_get_ciphers(ctx.get());
  for (int i = 0; i < sk_SSL_CIPHER_num(ciphers); ++i) {
    const SSL_CIPHER* cipher = sk_SSL_CIPHER_value(ciphers, i);
    // A TLS 1.3 suite names TLSv1.3 as its version (SSL_CIPHER_get_version(3)).
    if (std::string_view(SSL_CIPHER_get_version(cipher)) == "TLSv1.3" &&
        name == SSL_CIPHER_get_name(cipher)) {
      return true;
    }
  }
  return false;
}

bool is_group(const std::string& name) {
  SslCtxPtr ctx = scratch_context();
  const bool known = SSL_CTX_set1_groups_list(ctx.get(), name.c_str()) == 1;
  ERR_clear_error();
  return known;
}

}  // namespace

std::string check_tls12_ciphers(const std::vector<std::string>& names) {
  for (const std::string& name : names) {
    const SSL_CIPHER* cipher = is_plain_name(name) ? tls12_cipher_named(name) : nullptr;
    if (cipher == nullptr || std::string_view(SSL_CIPHER_get_version(cipher)) == "TLSv1.3") {
      return "TLS 1.2 cipher names as OpenSSL spells them, such as "
             "ECDHE-RSA-AES128-GCM-SHA256; \"" +
             name + "\" is not one";
    }
    const int kx = SSL_CIPHER_get_kx_nid(cipher);
    if ((kx != NID_kx_ecdhe && kx != NID_kx_dhe) || SSL_CIPHER_is_aead(cipher) != 1) {
      return "TLS 1.2 ciphers with an ephemeral key exchange (ECDHE or DHE) and an AEAD "
             "cipher (GCM, CCM or CHACHA20-POLY1305); \"" +
             name + "\" is not one";
    }
  }
  return "";
}

std::string check_tls13_ciphersuites(const std::vector<std::string>& names) {
  for (const std::string& name : names) {
    if (!is_plain_name(name) || !is_tls13_suite(name)) {
      return "TLS 1.3 cipher suites such as TLS_AES_128_GCM_SHA256, TLS_AES_256_GCM_SHA384 or "
             "TLS_CHACHA20_POLY1305_SHA256; \"" +
             name + "\" is not one";
    }
  }
  return "";
}

std::string check_groups(const std::vector<std::string>& names) {
  for (const std::string& name : names) {
    if (!is_plain_name(name) || !is_group(name)) {
      return "key exchange groups such as X25519, P-256 or P-384; \"" + name + "\" is not one";
    }
  }
  return "";
}

const std::vector<std::string>& default_tls12_ciphers() {
  static const std::vector<std::string> ciphers = {
      "ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-RSA-AES128-GCM-SHA256",
      "ECDHE-ECDSA-AES256-GCM-SHA384", "ECDHE-RSA-AES256-GCM-SHA384",
      "ECDHE-ECDSA-CHACHA20-POLY1305", "ECDHE-RSA-CHACHA20-POLY1305"};
  return ciphers;
}

void apply_cipher_settings(SSL_CTX* ctx, const std::vector<std::string>& tls12_ciphers,
                           const std::vector<std::string>& tls13_ciphersuites,
                           const std::vector<std::string>& groups) {
  // Checked again here, so a context is never built from a list OpenSSL
  // would only partly apply.
  for (const std::string& problem :
       {check_tls12_ciphers(tls12_ciphers), check_tls13_ciphersuites(tls13_ciphersuites),
        check_groups(groups)}) {
    if (!problem.empty()) {
      fail("expected " + problem);
    }
  }
  const std::string tls12 = joined(tls12_ciphers.empty() ? default_tls12_ciphers() : tls12_ciphers);
  if (SSL_CTX_set_cipher_list(ctx, tls12.c_str()) != 1) {
    fail_with_reason("cannot set the TLS 1.2 ciphers");
  }
  if (!tls13_ciphersuites.empty() &&
      SSL_CTX_set_ciphersuites(ctx, joined(tls13_ciphersuites).c_str()) != 1) {
    fail_with_reason("cannot set the TLS 1.3 cipher suites");
  }
  if (!groups.empty() && SSL_CTX_set1_groups_list(ctx, joined(groups).c_str()) != 1) {
    fail_with_reason("cannot set the key exchange groups");
  }
}

}  // namespace wif::tls
