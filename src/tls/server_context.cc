#include "src/tls/server_context.h"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <atomic>
#include <string_view>
#include <utility>

#include "src/tls/cipher_settings.h"
#include "src/tls/client_verify.h"
#include "src/tls/context_extras.h"
#include "src/tls/key_access.h"
#include "src/tls/openssl_helpers.h"
#include "src/tls/pem_files.h"
#include "src/tls/summaries.h"
#include "src/tls/traffic_secrets.h"

namespace wif::tls {
namespace {

// Sessions are cached, and resumed with client authentication, only under a
// session id context (SSL_CTX_set_session_id_context(3)); without one OpenSSL
// fails every resumption attempt. A reload makes a new SSL_CTX with an empty
// cache, so sessions never outlive the anchors and CRLs they were verified
// against.
constexpr unsigned char kSessionIdContext[] = "wif-tokend";

// Sessions kept for resumption; the oldest go first once it is full. Each
// holds a reference to its client certificate, a few KiB.
constexpr long kSessionCacheSize = 20480;

constexpr int kMaxVerifyDepth = 100;
// RFC 8446 section 4.6.1: a ticket lives at most seven days.
constexpr int64_t kMaxSessionLifetimeS = 7 * 24 * 3600;

using X509StorePtr = std::unique_ptr<X509_STORE, OpenSslFree<X509_STORE_free>>;
using X509StoreCtxPtr = std::unique_ptr<X509_STORE_CTX, OpenSslFree<X509_STORE_CTX_free>>;

std::atomic<uint64_t> last_generation{0};

std::string quoted(const std::string& text) {
  std::string out;
  out.reserve(text.size() + 2);
  out.append(1, '"').append(text).append(1, '"');
  return out;
}

// The CAs a client chain may run through: the anchors and the untrusted
// intermediates, with the file each came from, for messages.
struct KnownCa {
  X509* certificate;  // owned by the builder's vectors
  const char* field;  // "client_ca" or "client_intermediates"
  const std::string* file;
};

}  // namespace

// Builds one ServerContext step by step; each step throws ContextError.
class ContextBuilder {
 public:
  explicit ContextBuilder(const ContextOptions& options)
      : options_(options), context_(new ServerContext()) {}

  std::shared_ptr<const ServerContext> build();

 private:
  void create();
  void set_protocol();
  void set_sessions();
  void use_certificate_and_key();
  void check_server_chain();
  void verify_clients();
  void use_intermediates();
  void check_revocation();
  void check_chain_has_crls(const std::vector<X509_CRL*>& verified);
  void describe_server_chain_trust();
  void add_trust(X509* certificate);
  void add_trust(X509_CRL* crl);
  void seal_trust();
  void remember_verified_chains();

  SSL_CTX* ctx() const { return context_->ctx_.get(); }

  const ContextOptions& options_;
  std::shared_ptr<ServerContext> context_;
  std::unique_ptr<ContextExtras> extras_ = std::make_unique<ContextExtras>();
  std::vector<X509Ptr> anchors_;
  std::vector<KnownCa> known_cas_;
  std::string trust_material_;  // DER of every anchor, intermediate and CRL
};

std::shared_ptr<const ServerContext> ContextBuilder::build() {
  ERR_clear_error();
  create();
  set_protocol();
  set_sessions();
  use_certificate_and_key();
  check_server_chain();
  verify_clients();
  use_intermediates();
  check_revocation();
  describe_server_chain_trust();
  remember_verified_chains();

  attach_extras(ctx(), std::move(extras_));
  install_client_verification(ctx());
  context_->generation_ = last_generation.fetch_add(1, std::memory_order_relaxed) + 1;
  context_->partial_chain_ = options_.partial_chain;
  context_->crl_check_chain_ = options_.crl_check_chain;
  seal_trust();
  ERR_clear_error();
  return context_;
}

void ContextBuilder::add_trust(X509* certificate) {
  unsigned char* der = nullptr;
  const int n = i2d_X509(certificate, &der);
  if (n <= 0) {
    fail_with_reason("cannot encode a client CA certificate");
  }
  trust_material_.append(reinterpret_cast<const char*>(der), static_cast<size_t>(n));
  OPENSSL_free(der);
}

void ContextBuilder::add_trust(X509_CRL* crl) {
  unsigned char* der = nullptr;
  const int n = i2d_X509_CRL(crl, &der);
  if (n <= 0) {
    fail_with_reason("cannot encode a CRL");
  }
  trust_material_.append(reinterpret_cast<const char*>(der), static_cast<size_t>(n));
  OPENSSL_free(der);
}

// The settings that decide a client's verification, after the material.
void ContextBuilder::seal_trust() {
  trust_material_ += "depth=" + std::to_string(options_.verify_depth) +
                     ";chain=" + std::to_string(options_.crl_check_chain) +
                     ";partial=" + std::to_string(options_.partial_chain) +
                     ";eku=" + std::to_string(options_.require_client_auth_eku);
  unsigned int size = 0;
  if (EVP_Digest(trust_material_.data(), trust_material_.size(), context_->trust_digest_.data(),
                 &size, EVP_sha256(), nullptr) != 1 ||
      size != context_->trust_digest_.size()) {
    fail_with_reason("cannot digest the client trust material");
  }
}

void ContextBuilder::create() {
  context_->ctx_.reset(SSL_CTX_new(TLS_server_method()));
  if (!context_->ctx_) {
    fail_with_reason("cannot create a TLS context");
  }
  SSL_CTX_set_default_passwd_cb(ctx(), refuse_passphrase);
  // TLS 1.3 connections leave OpenSSL for RecordLayer after the handshake,
  // which needs their application traffic secrets (session.h).
  catch_traffic_secrets(ctx());
}

void ContextBuilder::set_protocol() {
  const int min_version =
      options_.min_version == MinVersion::kTls13 ? TLS1_3_VERSION : TLS1_2_VERSION;
  if (SSL_CTX_set_min_proto_version(ctx(), min_version) != 1 ||
      SSL_CTX_set_max_proto_version(ctx(), TLS1_3_VERSION) != 1) {
    fail_with_reason("cannot set the TLS versions");
  }
  apply_cipher_settings(ctx(), options_.tls12_ciphers, options_.tls13_ciphersuites,
                        options_.groups);

  // Renegotiation is refused outright: a TLS 1.2 client asking for it gets a
  // no_renegotiation alert. OpenSSL 3 already refuses client-initiated
  // renegotiation unless SSL_OP_ALLOW_CLIENT_RENEGOTIATION is set; the option
  // keeps it so whatever the defaults. Compression stays off (CRIME).
  SSL_CTX_set_options(ctx(), SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION);
  // No SSL_MODE_RELEASE_BUFFERS: it frees and allocates both record buffers
  // around every record, four allocations per request. A connection gives
  // them back once it has been idle a while (Session::release_buffers).
}

void ContextBuilder::set_sessions() {
  if (options_.session_lifetime_s < 1 || options_.session_lifetime_s > kMaxSessionLifetimeS) {
    fail("session lifetime " + std::to_string(options_.session_lifetime_s) +
         " s is out of range (1 s to 7 days)");
  }
  if (SSL_CTX_set_session_id_context(ctx(), kSessionIdContext, sizeof(kSessionIdContext) - 1) !=
      1) {
    fail_with_reason("cannot set the session id context");
  }
  // The lifetime of cached sessions and the ticket_lifetime_hint a client
  // is given (SSL_CTX_set_timeout(3)).
  SSL_CTX_set_timeout(ctx(), static_cast<long>(options_.session_lifetime_s));

  // Resumption state stays in this context's session cache and a ticket
  // carries only its id: with SSL_OP_NO_TICKET a TLS 1.3 server sends
  // stateful tickets, and TLS 1.2 resumes by session id
  // (SSL_CTX_set_options(3)); session_tickets: false sends no TLS 1.3
  // ticket at all. Stateless tickets cost too much in OpenSSL 3.0: making
  // one encodes the session, decodes it back and encodes it again
  // (construct_stateless_ticket), resuming decodes it once more, and each
  // decode parses the client certificate, whose public key goes through
  // the provider decoders (about a third of a full handshake's server
  // instructions went there, half of a resumed one's; issue #6). With no
  // ticket key there is none to rotate or steal: a session lives in memory
  // for session_lifetime at most and goes with its context on a reload.
  // One ticket per handshake is enough for a client that resumes its last
  // session. Each ticket issued (on a resumption too) is a session in the
  // cache until session_lifetime passes or the cache is full; a ticket may
  // be resumed more than once within its lifetime, as a stateless one can
  // (OpenSSL removes a session on use only when early data is on).
  SSL_CTX_set_options(ctx(), SSL_OP_NO_TICKET);
  SSL_CTX_set_num_tickets(ctx(), options_.session_tickets ? 1 : 0);
  SSL_CTX_set_session_cache_mode(ctx(), SSL_SESS_CACHE_SERVER);
  SSL_CTX_sess_set_cache_size(ctx(), kSessionCacheSize);
}

void ContextBuilder::use_certificate_and_key() {
  // Opened first only to name the file and the system's reason if it cannot
  // be read. SSL_CTX_use_certificate_chain_file(3) then reads the leaf and
  // every intermediate after it, which are all sent to the client.
  open_file(options_.cert_file, "certificate");
  if (SSL_CTX_use_certificate_chain_file(ctx(), options_.cert_file.c_str()) != 1) {
    DrainedErrors errors = drain_error_queue();
    if (errors.has(ERR_LIB_PEM, PEM_R_NO_START_LINE)) {
      fail("certificate " + options_.cert_file + " holds no PEM certificate");
    }
    throw ContextError("cannot load certificate " + options_.cert_file + ": " + errors.text);
  }

  EvpPkeyPtr key = load_private_key(options_);
  const std::string mismatch =
      "key " + options_.key_file + " does not match certificate " + options_.cert_file;
  if (X509_check_private_key(SSL_CTX_get0_certificate(ctx()), key.get()) != 1) {
    ERR_clear_error();
    throw ContextError(mismatch, ContextError::Kind::kKeyMismatch);
  }
  if (SSL_CTX_use_PrivateKey(ctx(), key.get()) != 1) {
    fail_with_reason("cannot use key " + options_.key_file);
  }
  if (SSL_CTX_check_private_key(ctx()) != 1) {
    ERR_clear_error();
    throw ContextError(mismatch, ContextError::Kind::kKeyMismatch);
  }
}

// The served chain must be usable as it is: a leaf for TLS servers within
// its validity, each certificate issued (and signed) by the one after it.
// Whether it leads to a root the clients trust is their business; `check`
// reports it (describe_server_chain_trust).
void ContextBuilder::check_server_chain() {
  X509* leaf = SSL_CTX_get0_certificate(ctx());
  const std::string& file = options_.cert_file;
  if (X509_cmp_current_time(X509_get0_notAfter(leaf)) <= 0) {
    fail("certificate " + file + " expired on " +
         format_utc(unix_seconds(X509_get0_notAfter(leaf))));
  }
  if (X509_cmp_current_time(X509_get0_notBefore(leaf)) >= 0) {
    fail("certificate " + file + " is not valid before " +
         format_utc(unix_seconds(X509_get0_notBefore(leaf))));
  }
  if (X509_check_purpose(leaf, X509_PURPOSE_SSL_SERVER, 0) != 1) {
    fail("certificate " + file +
         " is not for TLS servers (its key usage or extended key usage leaves out serverAuth)");
  }

  STACK_OF(X509)* extra = nullptr;
  SSL_CTX_get0_chain_certs(ctx(), &extra);
  context_->server_chain_.push_back(summary_of(leaf));
  X509* subject = leaf;
  for (int i = 0; i < sk_X509_num(extra); ++i) {
    X509* issuer = sk_X509_value(extra, i);
    if (X509_check_issued(issuer, subject) != X509_V_OK ||
        X509_verify(subject, X509_get0_pubkey(issuer)) != 1) {
      fail("certificate " + file + ": certificate " + std::to_string(i + 2) + " (" +
           quoted(rfc2253(X509_get_subject_name(issuer))) + ") did not issue certificate " +
           std::to_string(i + 1) + " (" + quoted(rfc2253(X509_get_subject_name(subject))) +
           "); list the leaf first, then each issuer");
    }
    context_->server_chain_.push_back(summary_of(issuer));
    subject = issuer;
  }
  ERR_clear_error();
}

// Client certificates are required and verified against the anchors; the
// purpose check refuses a certificate whose extended key usage lacks
// clientAuth (a certificate without the extension may be used for anything,
// RFC 5280 section 4.2.1.12, unless require_client_auth_eku). OpenSSL
// already gives a server's verification the ssl_client purpose by default;
// setting it states the requirement rather than relying on that.
void ContextBuilder::verify_clients() {
  if (options_.verify_depth < 0 || options_.verify_depth > kMaxVerifyDepth) {
    fail("verify_depth " + std::to_string(options_.verify_depth) + " is out of range (0 to " +
         std::to_string(kMaxVerifyDepth) + ")");
  }
  X509_STORE* store = SSL_CTX_get_cert_store(ctx());
  X509NameStackPtr ca_names(sk_X509_NAME_new_null());
  if (!ca_names) {
    fail_with_reason("cannot allocate the CA name list");
  }
  for (X509Ptr& loaded : load_certificates(options_.client_ca_file, "client_ca")) {
    X509* anchor = loaded.get();
    bool repeated = false;
    for (const X509Ptr& kept : anchors_) {
      repeated = repeated || X509_cmp(kept.get(), anchor) == 0;
    }
    if (repeated) {
      continue;
    }
    if (X509_STORE_add_cert(store, anchor) != 1) {
      fail_with_reason("cannot add an anchor from client_ca " + options_.client_ca_file);
    }
    add_trust(anchor);
    context_->anchors_.push_back(summary_of(anchor));
    anchors_.push_back(std::move(loaded));
    known_cas_.push_back({anchor, "client_ca", &options_.client_ca_file});

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
  SSL_CTX_set_client_CA_list(ctx(), ca_names.release());

  SSL_CTX_set_verify(ctx(), SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
  SSL_CTX_set_verify_depth(ctx(), options_.verify_depth);
  if (SSL_CTX_set_purpose(ctx(), X509_PURPOSE_SSL_CLIENT) != 1) {
    fail_with_reason("cannot require the TLS client purpose");
  }
  if (options_.partial_chain &&
      X509_VERIFY_PARAM_set_flags(SSL_CTX_get0_param(ctx()), X509_V_FLAG_PARTIAL_CHAIN) != 1) {
    fail_with_reason("cannot allow partial chains");
  }
  extras_->require_client_auth_eku = options_.require_client_auth_eku;
}

// The intermediates go into the context's extras, never into the store:
// they help build a chain but are not trusted.
void ContextBuilder::use_intermediates() {
  if (options_.client_intermediates_file.empty()) {
    return;
  }
  extras_->intermediates.reset(sk_X509_new_null());
  if (!extras_->intermediates) {
    fail_with_reason("cannot allocate the intermediate list");
  }
  for (X509Ptr& certificate :
       load_certificates(options_.client_intermediates_file, "client_intermediates")) {
    if (sk_X509_push(extras_->intermediates.get(), certificate.get()) <= 0) {
      fail_with_reason("cannot allocate the intermediate list");
    }
    X509* intermediate = certificate.release();  // now owned by the list
    add_trust(intermediate);
    context_->intermediates_.push_back(summary_of(intermediate));
    known_cas_.push_back(
        {intermediate, "client_intermediates", &options_.client_intermediates_file});
  }
}

// Loads every CRL; one whose issuer is a configured CA must carry that CA's
// signature, or OpenSSL would refuse every client it covers later with an
// unhelpful "CRL signature failure". A CRL from another CA (one a client
// sends in its chain) is kept and checked by OpenSSL when it is used.
void ContextBuilder::check_revocation() {
  if (options_.crl_files.empty()) {
    if (options_.crl_check_chain) {
      fail("crl_check chain needs a CRL from every CA, and crl lists none");
    }
    return;
  }
  X509_STORE* store = SSL_CTX_get_cert_store(ctx());
  std::vector<X509CrlPtr> crls;
  std::vector<X509_CRL*> verified;
  for (const std::string& path : options_.crl_files) {
    size_t index = 0;
    for (X509CrlPtr& crl : load_crls(path)) {
      ++index;
      const X509_NAME* issuer = X509_CRL_get_issuer(crl.get());
      bool named = false;
      bool signed_by_it = false;
      for (const KnownCa& ca : known_cas_) {
        if (X509_NAME_cmp(X509_get_subject_name(ca.certificate), issuer) == 0) {
          named = true;
          signed_by_it =
              signed_by_it || X509_CRL_verify(crl.get(), X509_get0_pubkey(ca.certificate)) == 1;
        }
      }
      ERR_clear_error();
      if (named && !signed_by_it) {
        fail("crl " + path + ": CRL " + std::to_string(index) + " names " +
             quoted(rfc2253(issuer)) + " as its issuer but does not carry that CA's signature");
      }
      if (X509_STORE_add_crl(store, crl.get()) != 1) {
        fail_with_reason("cannot add a CRL from " + path);
      }
      add_trust(crl.get());
      context_->crls_.push_back(summary_of(crl.get(), path));
      if (signed_by_it) {
        verified.push_back(crl.get());
      }
      crls.push_back(std::move(crl));
    }
  }
  if (options_.crl_check_chain) {
    check_chain_has_crls(verified);
  }

  unsigned long flags = X509_V_FLAG_CRL_CHECK;
  if (options_.crl_check_chain) {
    flags |= X509_V_FLAG_CRL_CHECK_ALL;
  }
  if (X509_VERIFY_PARAM_set_flags(SSL_CTX_get0_param(ctx()), flags) != 1) {
    fail_with_reason("cannot turn on CRL checking");
  }
}

// With CRL_CHECK_ALL every certificate of a chain needs a current CRL from
// its issuer, or OpenSSL refuses the client ("unable to get certificate
// CRL"). A configured CA without one would refuse every client under it, so
// start-up stops instead, naming the CA.
void ContextBuilder::check_chain_has_crls(const std::vector<X509_CRL*>& verified) {
  for (const KnownCa& ca : known_cas_) {
    const X509_NAME* subject = X509_get_subject_name(ca.certificate);
    bool covered = false;
    for (X509_CRL* crl : verified) {
      covered = covered || (X509_NAME_cmp(X509_CRL_get_issuer(crl), subject) == 0 &&
                            X509_CRL_verify(crl, X509_get0_pubkey(ca.certificate)) == 1);
    }
    ERR_clear_error();
    if (!covered) {
      fail("crl_check chain: no CRL from CA " + quoted(rfc2253(subject)) + " (from " + ca.field +
           " " + *ca.file + "); add its CRL to crl, or check the leaf only with crl_check: leaf");
    }
  }
}

// For `check` only: does the served chain lead to a root that a client could
// trust, among the client anchors or the system's store?
void ContextBuilder::describe_server_chain_trust() {
  X509StorePtr store(X509_STORE_new());
  X509StoreCtxPtr store_ctx(X509_STORE_CTX_new());
  STACK_OF(X509)* chain = nullptr;
  SSL_CTX_get0_chain_certs(ctx(), &chain);
  bool ready = store && store_ctx && X509_STORE_set_default_paths(store.get()) == 1;
  for (const X509Ptr& anchor : anchors_) {
    ready = ready && X509_STORE_add_cert(store.get(), anchor.get()) == 1;
  }
  ready = ready &&
          X509_STORE_CTX_init(store_ctx.get(), store.get(), SSL_CTX_get0_certificate(ctx()),
                              chain) == 1 &&
          X509_STORE_CTX_set_purpose(store_ctx.get(), X509_PURPOSE_SSL_SERVER) == 1;
  ChainCheck& check = context_->server_chain_check_;
  if (!ready) {
    check.detail = "cannot set up the verification: " + drain_error_queue().text;
    return;
  }
  check.verified = X509_verify_cert(store_ctx.get()) == 1;
  if (!check.verified) {
    check.detail = X509_verify_cert_error_string(X509_STORE_CTX_get_error(store_ctx.get()));
  }
  ERR_clear_error();
}

// Verified client chains are remembered no later than the first nextUpdate
// of the CRLs: past it OpenSSL refuses the clients that CRL covers ("CRL has
// expired"), so a remembered success would no longer be the answer.
void ContextBuilder::remember_verified_chains() {
  int64_t crl_cap = 0;
  for (const CrlSummary& crl : context_->crls_) {
    if (crl.next_update_unix != 0 && (crl_cap == 0 || crl.next_update_unix < crl_cap)) {
      crl_cap = crl.next_update_unix;
    }
  }
  extras_->verified = std::make_unique<VerifiedChains>(crl_cap);
}

std::shared_ptr<const ServerContext> ServerContext::build(const ContextOptions& options) {
  check_key_access(options);
  return ContextBuilder(options).build();
}

ServerContext::~ServerContext() = default;

}  // namespace wif::tls
