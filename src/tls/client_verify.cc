#include "src/tls/client_verify.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <ctime>
#include <optional>

#include "src/tls/context_extras.h"
#include "src/tls/openssl_helpers.h"
#include "src/tls/verified_chains.h"

namespace wif::tls {
namespace {

using X509StoreCtxPtr = std::unique_ptr<X509_STORE_CTX, OpenSslFree<X509_STORE_CTX_free>>;

// RFC 5280 section 4.2.1.12: a certificate without the extension may be
// used for any purpose, which OpenSSL's ssl_client purpose accepts. With
// require_client_auth_eku, the leaf must name clientAuth explicitly
// (anyExtendedKeyUsage is not enough either).
bool names_client_auth(X509* leaf) {
  const uint32_t flags = X509_get_extension_flags(leaf);
  return (flags & EXFLAG_XKUSAGE) != 0 && (X509_get_extended_key_usage(leaf) & XKU_SSL_CLIENT) != 0;
}

// The verification proper, for the handshake and for verify_again. The
// X509_STORE_CTX comes set up by the caller (for a handshake, by OpenSSL:
// it carries the SSL in its ex_data and the verify parameters, and OpenSSL
// reads the result and the verified chain from it afterwards).
int verify_chain(X509_STORE_CTX* store_ctx, const ContextExtras& extras) {
  STACK_OF(X509)* sent = X509_STORE_CTX_get0_untrusted(store_ctx);
  X509StackShallowPtr untrusted;
  if (extras.intermediates) {
    untrusted.reset(sent != nullptr ? sk_X509_dup(sent) : sk_X509_new_null());
    if (!untrusted) {
      X509_STORE_CTX_set_error(store_ctx, X509_V_ERR_OUT_OF_MEM);
      return 0;
    }
    for (int i = 0; i < sk_X509_num(extras.intermediates.get()); ++i) {
      if (sk_X509_push(untrusted.get(), sk_X509_value(extras.intermediates.get(), i)) <= 0) {
        X509_STORE_CTX_set_error(store_ctx, X509_V_ERR_OUT_OF_MEM);
        return 0;
      }
    }
    X509_STORE_CTX_set0_untrusted(store_ctx, untrusted.get());
  }
  int verified = X509_verify_cert(store_ctx);
  if (untrusted) {
    X509_STORE_CTX_set0_untrusted(store_ctx, sent);
  }

  if (verified == 1 && extras.require_client_auth_eku &&
      !names_client_auth(X509_STORE_CTX_get0_cert(store_ctx))) {
    // The same error as a serverAuth-only certificate, so the client gets
    // the same unsupported_certificate alert.
    X509_STORE_CTX_set_error_depth(store_ctx, 0);
    X509_STORE_CTX_set_current_cert(store_ctx, X509_STORE_CTX_get0_cert(store_ctx));
    X509_STORE_CTX_set_error(store_ctx, X509_V_ERR_INVALID_PURPOSE);
    verified = 0;
  }
  return verified;
}

// A client whose certificates this context verified before, and whose
// entry is still good, is accepted without verifying again
// (VerifiedChains). The store then keeps its initial X509_V_OK and no
// verified chain is set (SSL_get0_verified_chain(3) is empty; nothing here
// reads it).
int handshake_verify(X509_STORE_CTX* store_ctx, void* arg) {
  const auto& extras = *static_cast<const ContextExtras*>(arg);
  VerifiedChains* remembered = extras.verified.get();
  if (remembered == nullptr) {
    return verify_chain(store_ctx, extras);
  }
  // OpenSSL checks validity against time(2) too (X509_cmp_current_time).
  const int64_t now = static_cast<int64_t>(std::time(nullptr));
  const std::optional<VerifiedChains::Key> key = remembered->key_of(store_ctx);
  if (key && remembered->recall(*key, now)) {
    return 1;
  }
  ERR_clear_error();  // a failed key computation must not look like a verify error

  const int verified = verify_chain(store_ctx, extras);
  if (verified == 1 && key && X509_STORE_CTX_get_error(store_ctx) == X509_V_OK) {
    remembered->remember(*key, X509_STORE_CTX_get0_chain(store_ctx), now);
  }
  return verified;
}

}  // namespace

void install_client_verification(SSL_CTX* ctx) {
  // The callback's argument is the extras themselves: they live as long as
  // ctx, and the callback need not look them up per handshake.
  SSL_CTX_set_cert_verify_callback(ctx, handshake_verify,
                                   const_cast<ContextExtras*>(extras_of(ctx)));
}

long verify_again(SSL_CTX* ctx, X509* leaf, STACK_OF(X509) * sent) {
  const ContextExtras* extras = extras_of(ctx);
  X509StoreCtxPtr store_ctx(X509_STORE_CTX_new());
  // What ssl_verify_cert_chain() does for a server checking its client: the
  // ssl_client defaults, then the context's own parameters on top.
  if (extras == nullptr || !store_ctx ||
      X509_STORE_CTX_init(store_ctx.get(), SSL_CTX_get_cert_store(ctx), leaf, sent) != 1 ||
      X509_STORE_CTX_set_default(store_ctx.get(), "ssl_client") != 1 ||
      X509_VERIFY_PARAM_set1(X509_STORE_CTX_get0_param(store_ctx.get()), SSL_CTX_get0_param(ctx)) !=
          1) {
    ERR_clear_error();
    return X509_V_ERR_UNSPECIFIED;
  }
  const int verified = verify_chain(store_ctx.get(), *extras);
  long result = X509_STORE_CTX_get_error(store_ctx.get());
  ERR_clear_error();
  if (verified != 1 && result == X509_V_OK) {
    result = X509_V_ERR_UNSPECIFIED;
  }
  return verified == 1 ? X509_V_OK : result;
}

}  // namespace wif::tls
