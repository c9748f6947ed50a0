// Ownership aliases and small conversions shared by the src/tls/ files.
//
// Every object this folder gets from an OpenSSL new, get1 or dup function goes
// into one of these unique_ptr aliases at once; get0 results are borrowed and
// never freed. The deleters are stateless, so each holder is pointer-sized.
// Internal to src/tls/ (and its tests); the connection layer sees only
// ServerContext, Session and PeerIdentity. Everything here is thread-safe in
// the sense of OpenSSL threads(7): it touches only the objects passed in and
// the calling thread's error queue.
#pragma once

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace wif::tls {

// The OpenSSL version the process runs with ("3.0.19"), for build info.
std::string openssl_version();

template <auto free_function>
struct OpenSslFree {
  template <typename T>
  void operator()(T* object) const {
    free_function(object);
  }
};

using SslCtxPtr = std::unique_ptr<SSL_CTX, OpenSslFree<SSL_CTX_free>>;
using SslPtr = std::unique_ptr<SSL, OpenSslFree<SSL_free>>;
using SslSessionPtr = std::unique_ptr<SSL_SESSION, OpenSslFree<SSL_SESSION_free>>;
using BioPtr = std::unique_ptr<BIO, OpenSslFree<BIO_free_all>>;
using X509Ptr = std::unique_ptr<X509, OpenSslFree<X509_free>>;
using X509CrlPtr = std::unique_ptr<X509_CRL, OpenSslFree<X509_CRL_free>>;
using X509NamePtr = std::unique_ptr<X509_NAME, OpenSslFree<X509_NAME_free>>;
using EvpPkeyPtr = std::unique_ptr<EVP_PKEY, OpenSslFree<EVP_PKEY_free>>;
using GeneralNamesPtr = std::unique_ptr<GENERAL_NAMES, OpenSslFree<GENERAL_NAMES_free>>;
using EvpMdPtr = std::unique_ptr<EVP_MD, OpenSslFree<EVP_MD_free>>;
using EvpMdCtxPtr = std::unique_ptr<EVP_MD_CTX, OpenSslFree<EVP_MD_CTX_free>>;
using EvpCipherCtxPtr = std::unique_ptr<EVP_CIPHER_CTX, OpenSslFree<EVP_CIPHER_CTX_free>>;
using EvpKdfCtxPtr = std::unique_ptr<EVP_KDF_CTX, OpenSslFree<EVP_KDF_CTX_free>>;

// The stack functions are macros or static inline functions, so these
// deleters are spelled out rather than instantiated from OpenSslFree.
struct X509StackFree {
  void operator()(STACK_OF(X509) * stack) const { sk_X509_pop_free(stack, X509_free); }
};
using X509StackPtr = std::unique_ptr<STACK_OF(X509), X509StackFree>;

// A stack whose certificates are borrowed: only the stack itself is freed.
struct X509StackShallowFree {
  void operator()(STACK_OF(X509) * stack) const { sk_X509_free(stack); }
};
using X509StackShallowPtr = std::unique_ptr<STACK_OF(X509), X509StackShallowFree>;

struct X509NameStackFree {
  void operator()(STACK_OF(X509_NAME) * stack) const {
    sk_X509_NAME_pop_free(stack, X509_NAME_free);
  }
};
using X509NameStackPtr = std::unique_ptr<STACK_OF(X509_NAME), X509NameStackFree>;

// Buffers OpenSSL allocates for the caller (i2d output, ASN1_STRING_to_UTF8).
struct OpenSslBytesFree {
  void operator()(unsigned char* bytes) const { OPENSSL_free(bytes); }
};
using OpenSslBytesPtr = std::unique_ptr<unsigned char, OpenSslBytesFree>;

// The whole of the calling thread's error queue, taken off the queue.
struct DrainedErrors {
  std::vector<unsigned long> codes;
  // Each error's reason (and its attached text, if any), joined with "; ".
  std::string text;

  bool has(int library, int reason) const;
};

// Empties the thread's error queue (ERR_get_error_all(3)) so no stale entry
// is left for the next operation on this thread.
DrainedErrors drain_error_queue();

// The RFC 2253 rendering of a name (X509_NAME_print_ex(3), XN_FLAG_RFC2253):
// the last RDN comes first, "/CN=a/O=b" prints as "O=b,CN=a".
std::string rfc2253(const X509_NAME* name);

// Seconds since the epoch; 0 if the time does not parse (never the case for
// a certificate that passed verification, which checks both dates).
int64_t unix_seconds(const ASN1_TIME* time);

std::string lowercase_hex(const unsigned char* bytes, size_t len);

}  // namespace wif::tls
