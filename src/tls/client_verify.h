// How a client certificate chain is verified, during the handshake and again
// later for a connection made under an older context. Internal to src/tls/.
//
// OpenSSL builds and checks the chain (X509_verify_cert(3)) against the
// context's store: the client_ca anchors, the CRLs and the verify
// parameters (purpose ssl_client, depth, CRL and partial-chain flags). On top
// of that, this adds the untrusted client_intermediates to what the client
// sent, so a client sending only its leaf still verifies, and the optional
// rule that the leaf carry an extended key usage naming clientAuth.
//
// Runs on the calling thread (a worker's, during a handshake) and reads only
// what the context froze when it was built.
#pragma once

#include <openssl/ssl.h>
#include <openssl/x509.h>

namespace wif::tls {

// Installs verify_client_chain as the context's certificate verification
// (SSL_CTX_set_cert_verify_callback(3)). The context must carry
// ContextExtras.
void install_client_verification(SSL_CTX* ctx);

// Verifies `leaf` with the certificates the client sent (`sent`, may be
// null) against `ctx` as its handshake would now. X509_V_OK, or the
// verification error (X509_STORE_CTX_get_error(3)) of the first problem.
long verify_again(SSL_CTX* ctx, X509* leaf, STACK_OF(X509) * sent);

}  // namespace wif::tls
