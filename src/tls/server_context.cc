#include "src/tls/server_context.h"

#include <openssl/err.h>

#include <string_view>
#include <utility>

#include "src/tls/openssl_helpers.h"
#include "src/tls/pem_files.h"

namespace wif::tls {
namespace {

// TLS 1.2 suites: ephemeral ECDH key exchange with an AEAD cipher only, the
// ECDSA ones first (smaller, faster handshakes). TLS 1.3 keeps OpenSSL's
// defaults, which are all AEAD.
constexpr char kTls12Ciphers[] =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

// Sessions are cached, and resumed with client authentication, only under a
// session id context (SSL_CTX_set_session_id_context(3)); without one OpenSSL
// fails every resumption attempt. A reload makes a new SSL_CTX with an empty
// cache and fresh ticket keys, so sessions never outlive the anchors and
// CRLs they were verified against.
constexpr unsigned char kSessionIdContext[] = "wif-tokend";

constexpr int kMaxVerifyDepth = 100;

CertificateSummary summary_of(const X509* certificate) {
  CertificateSummary summary;
  summary.subject = rfc2253(X509_get_subject_name(certificate));
  summary.issuer = rfc2253(X509_get_issuer_name(certificate));
  summary.not_before_unix = unix_seconds(X509_get0_notBefore(certificate));
  summary.not_after_unix = unix_seconds(X509_get0_notAfter(certificate));
  return summary;
}

// The client_intermediates certificates live in the SSL_CTX's ex_data, so
// they are freed with the SSL_CTX and outlive every connection made from it
// (an SSL holds a reference to its SSL_CTX), even after a reload.
void free_intermediates(void* /*parent*/, void* stack, CRYPTO_EX_DATA* /*data*/, int /*index*/,
                        long /*argl*/, void* /*argp*/) {
  X509StackFree()(static_cast<STACK_OF(X509)*>(stack));
}

int intermediates_index() {
  static const int index =
      SSL_CTX_get_ex_new_index(0, nullptr, nullptr, nullptr, free_intermediates);
  return index;
}

// SSL_CTX_set_cert_verify_callback(3): verifies with the extra untrusted
// certificates appended to the chain the client sent. The X509_STORE_CTX
// OpenSSL prepared is reused rather than a fresh one, because it already
// carries what a fresh one would lose: the SSL in its ex_data, the verify
// parameters (purpose, depth, CRL flags, security level), and it is where
// OpenSSL reads the verify result and the verified chain from afterwards.
// Runs on the connection's thread; touches only objects that are never
// written after build().
int verify_with_intermediates(X509_STORE_CTX* store_ctx, void* arg) {
  const auto* extras = static_cast<const STACK_OF(X509)*>(arg);
  STACK_OF(X509)* sent = X509_STORE_CTX_get0_untrusted(store_ctx);
  X509StackShallowPtr untrusted(sent != nullptr ? sk_X509_dup(sent) : sk_X509_new_null());
  if (!untrusted) {
    X509_STORE_CTX_set_error(store_ctx, X509_V_ERR_OUT_OF_MEM);
    return 0;
  }
  for (int i = 0; i < sk_X509_num(extras); ++i) {
    if (sk_X509_push(untrusted.get(), sk_X509_value(extras, i)) <= 0) {
      X509_STORE_CTX_set_error(store_ctx, X509_V_ERR_OUT_OF_MEM);
      return 0;
    }
  }
  X509_STORE_CTX_set0_untrusted(store_ctx, untrusted.get());
  int verified = X509_verify_cert(store_ctx);
  X509_STORE_CTX_set0_untrusted(store_ctx, sent);
  return verified;
}

void set_protocol(SSL_CTX* ctx, const ContextOptions& options) {
  int min_version = options.min_version == MinVersion::kTls13 ? TLS1_3_VERSION : TLS1_2_VERSION;
  if (SSL_CTX_set_min_proto_version(ctx, min_version) != 1 ||
      SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION) != 1 ||
      SSL_CTX_set_cipher_list(ctx, kTls12Ciphers) != 1) {
    fail_with_reason("cannot set the TLS versions and ciphers");
  }

  // Renegotiation is refused outright: a TLS 1.2 client asking for it gets a
  // no_renegotiation alert. OpenSSL 3 already refuses client-initiated
  // renegotiation unless SSL_OP_ALLOW_CLIENT_RENEGOTIATION is set; the option
  // keeps it so whatever the defaults. Compression stays off (CRIME).
  uint64_t flags = SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION;
  if (!options.session_tickets) {
    // SSL_OP_NO_TICKET alone still makes a TLS 1.3 server send stateful
    // tickets (SSL_CTX_set_options(3)); no tickets at all needs both.
    flags |= SSL_OP_NO_TICKET;
    SSL_CTX_set_num_tickets(ctx, 0);
  }
  SSL_CTX_set_options(ctx, flags);
  // Idle keep-alive connections give their record buffers back.
  SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);

  if (SSL_CTX_set_session_id_context(ctx, kSessionIdContext, sizeof(kSessionIdContext) - 1) != 1) {
    fail_with_reason("cannot set the session id context");
  }
}

void use_certificate_and_key(SSL_CTX* ctx, const ContextOptions& options) {
  // Opened first only to name the file and the system's reason if it cannot
  // be read. SSL_CTX_use_certificate_chain_file(3) then reads the leaf and
  // every intermediate after it, which are all sent to the client.
  open_file(options.cert_file, "certificate");
  if (SSL_CTX_use_certificate_chain_file(ctx, options.cert_file.c_str()) != 1) {
    DrainedErrors errors = drain_error_queue();
    if (errors.has(ERR_LIB_PEM, PEM_R_NO_START_LINE)) {
      fail("certificate " + options.cert_file + " holds no PEM certificate");
    }
    throw ContextError("cannot load certificate " + options.cert_file + ": " + errors.text);
  }

  EvpPkeyPtr key = load_private_key(options);
  const std::string mismatch =
      "key " + options.key_file + " does not match certificate " + options.cert_file;
  if (X509_check_private_key(SSL_CTX_get0_certificate(ctx), key.get()) != 1) {
    fail(mismatch);
  }
  if (SSL_CTX_use_PrivateKey(ctx, key.get()) != 1) {
    fail_with_reason("cannot use key " + options.key_file);
  }
  if (SSL_CTX_check_private_key(ctx) != 1) {
    fail(mismatch);
  }
}

// Client certificates are required and verified against the anchors; the
// purpose check refuses a certificate whose extended key usage lacks
// clientAuth (a certificate without the extension may be used for anything,
// RFC 5280 section 4.2.1.12). OpenSSL already gives a server's verification
// the ssl_client purpose by default; setting it states the requirement
// rather than relying on that.
void verify_clients(SSL_CTX* ctx, const ContextOptions& options,
                    std::vector<CertificateSummary>& anchors) {
  if (options.verify_depth < 0 || options.verify_depth > kMaxVerifyDepth) {
    fail("verify_depth " + std::to_string(options.verify_depth) + " is out of range (0 to " +
         std::to_string(kMaxVerifyDepth) + ")");
  }
  X509_STORE* store = SSL_CTX_get_cert_store(ctx);
  X509NameStackPtr ca_names(sk_X509_NAME_new_null());
  if (!ca_names) {
    fail_with_reason("cannot allocate the CA name list");
  }
  std::vector<X509Ptr> loaded = load_certificates(options.client_ca_file, "client_ca");
  for (size_t i = 0; i < loaded.size(); ++i) {
    X509* anchor = loaded[i].get();
    bool repeated = false;
    for (size_t j = 0; j < i; ++j) {
      repeated = repeated || X509_cmp(loaded[j].get(), anchor) == 0;
    }
    if (repeated) {
      continue;
    }
    if (X509_STORE_add_cert(store, anchor) != 1) {
      fail_with_reason("cannot add an anchor from client_ca " + options.client_ca_file);
    }
    anchors.push_back(summary_of(anchor));

    // The names sent in CertificateRequest, once each (a renewed CA keeps
    // its name). They are built here rather than with
    // SSL_load_client_CA_file(3), which reads with the default passphrase
    // callback, the one that prompts on the terminal.
    const X509_NAME* subject = X509_get_subject_name(anchor);
    bool named = false;
    for (int j = 0; j < sk_X509_NAME_num(ca_names.get()); ++j) {
      named = named || X509_NAME_cmp(sk_X509_NAME_value(ca_names.get(), j), subject) == 0;
    }
    if (named) {
      continue;
    }
    X509NamePtr name(X509_NAME_dup(subject));
    if (!name || sk_X509_NAME_push(ca_names.get(), name.get()) <= 0) {
      fail_with_reason("cannot allocate the CA name list");
    }
    name.release();  // now owned by ca_names
  }
  SSL_CTX_set_client_CA_list(ctx, ca_names.release());

  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
  SSL_CTX_set_verify_depth(ctx, options.verify_depth);
  if (SSL_CTX_set_purpose(ctx, X509_PURPOSE_SSL_CLIENT) != 1) {
    fail_with_reason("cannot require the TLS client purpose");
  }
}

void use_intermediates(SSL_CTX* ctx, const ContextOptions& options) {
  if (options.client_intermediates_file.empty()) {
    return;
  }
  X509StackPtr extras(sk_X509_new_null());
  if (!extras) {
    fail_with_reason("cannot allocate the intermediate list");
  }
  for (X509Ptr& certificate :
       load_certificates(options.client_intermediates_file, "client_intermediates")) {
    if (sk_X509_push(extras.get(), certificate.get()) <= 0) {
      fail_with_reason("cannot allocate the intermediate list");
    }
    certificate.release();  // now owned by extras
  }
  int index = intermediates_index();
  if (index < 0 || SSL_CTX_set_ex_data(ctx, index, extras.get()) != 1) {
    fail_with_reason("cannot attach the intermediates to the TLS context");
  }
  SSL_CTX_set_cert_verify_callback(ctx, verify_with_intermediates, extras.release());
}

void check_revocation(SSL_CTX* ctx, const ContextOptions& options) {
  if (options.crl_files.empty()) {
    return;
  }
  X509_STORE* store = SSL_CTX_get_cert_store(ctx);
  for (const std::string& path : options.crl_files) {
    for (const X509CrlPtr& crl : load_crls(path)) {
      if (X509_STORE_add_crl(store, crl.get()) != 1) {
        fail_with_reason("cannot add a CRL from " + path);
      }
    }
  }
  // With CRL_CHECK_ALL every CA in the chain needs a current CRL from its
  // issuer too, or verification fails with "unable to get certificate CRL".
  unsigned long flags = X509_V_FLAG_CRL_CHECK;
  if (options.crl_check_chain) {
    flags |= X509_V_FLAG_CRL_CHECK_ALL;
  }
  if (X509_VERIFY_PARAM_set_flags(SSL_CTX_get0_param(ctx), flags) != 1) {
    fail_with_reason("cannot turn on CRL checking");
  }
}

}  // namespace

std::shared_ptr<const ServerContext> ServerContext::build(const ContextOptions& options) {
  ERR_clear_error();
  std::shared_ptr<ServerContext> context(new ServerContext());
  context->ctx_.reset(SSL_CTX_new(TLS_server_method()));
  if (!context->ctx_) {
    fail_with_reason("cannot create a TLS context");
  }
  SSL_CTX* ctx = context->ctx_.get();
  SSL_CTX_set_default_passwd_cb(ctx, refuse_passphrase);

  set_protocol(ctx, options);
  use_certificate_and_key(ctx, options);
  context->server_certificate_ = summary_of(SSL_CTX_get0_certificate(ctx));
  verify_clients(ctx, options, context->anchors_);
  use_intermediates(ctx, options);
  check_revocation(ctx, options);
  return context;
}

ServerContext::~ServerContext() = default;

}  // namespace wif::tls
