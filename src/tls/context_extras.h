// ContextExtras: what an SSL_CTX carries for this daemon's callbacks besides
// OpenSSL's own state: the untrusted client intermediates, the extra usage
// rule, and the client chains verified so far. Internal to src/tls/.
//
// Attached to the SSL_CTX's ex_data and freed with it, so it lives exactly
// as long as the last SSL made from that context (an SSL holds a reference
// to its SSL_CTX), across reloads. Written only while the context is built;
// after that the callbacks on worker threads only read it (VerifiedChains
// guards its own state).
#pragma once

#include <openssl/types.h>

#include <memory>

#include "src/tls/openssl_helpers.h"
#include "src/tls/verified_chains.h"

namespace wif::tls {

struct ContextExtras {
  X509StackPtr intermediates;  // client_intermediates; never trusted
  bool require_client_auth_eku = false;
  std::unique_ptr<VerifiedChains> verified;  // null: verify every handshake in full
};

// Hands `extras` to ctx and returns it. Throws ContextError on failure
// (extras is freed then).
ContextExtras& attach_extras(SSL_CTX* ctx, std::unique_ptr<ContextExtras> extras);
// Null when none was attached.
const ContextExtras* extras_of(const SSL_CTX* ctx);

}  // namespace wif::tls
