#include "src/tls/session.h"

#include <openssl/buffer.h>
#include <openssl/err.h>

#include <cassert>
#include <new>

#include "src/tls/client_verify.h"

namespace wif::tls {
namespace {

// SSL_read_ex is asked for this much at a time; a TLS record holds at most
// 16 KB of plaintext (RFC 8446 section 5.1).
constexpr size_t kReadChunk = 16384;

// The storage a memory BIO has kept (BIO_s_mem(3): it grows, never shrinks).
size_t capacity(BIO* bio) {
  BUF_MEM* mem = nullptr;
  if (BIO_get_mem_ptr(bio, &mem) != 1 || mem == nullptr) {
    return 0;
  }
  return mem->max;
}

// An empty read or write BIO for a Session. An empty read BIO means "more
// later" (retry), not end of stream: the owner feeds ciphertext as the
// socket delivers it (BIO_s_mem(3)).
BioPtr new_memory_bio() {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (bio) {
    BIO_set_mem_eof_return(bio.get(), -1);
  }
  return bio;
}

// Maps a verification result (X509_STORE_CTX_get_error(3)) to a failure.
// Anything not about time, revocation or usage means no trusted chain could
// be built: unknown or untrusted issuers, bad signatures, a chain too long.
Failure failure_of_verify_result(long result) {
  switch (result) {
    case X509_V_ERR_UNABLE_TO_GET_CRL:
    case X509_V_ERR_CRL_HAS_EXPIRED:
    case X509_V_ERR_CRL_NOT_YET_VALID:
    case X509_V_ERR_UNABLE_TO_DECRYPT_CRL_SIGNATURE:
    case X509_V_ERR_CRL_SIGNATURE_FAILURE:
    case X509_V_ERR_ERROR_IN_CRL_LAST_UPDATE_FIELD:
    case X509_V_ERR_ERROR_IN_CRL_NEXT_UPDATE_FIELD:
    case X509_V_ERR_UNABLE_TO_GET_CRL_ISSUER:
    case X509_V_ERR_DIFFERENT_CRL_SCOPE:
    case X509_V_ERR_CRL_PATH_VALIDATION_ERROR:
      return Failure::kRevocationUnknown;
    case X509_V_ERR_CERT_HAS_EXPIRED:
      return Failure::kExpired;
    case X509_V_ERR_CERT_NOT_YET_VALID:
      return Failure::kNotYetValid;
    case X509_V_ERR_CERT_REVOKED:
      return Failure::kRevoked;
    case X509_V_ERR_INVALID_PURPOSE:
    case X509_V_ERR_KEYUSAGE_NO_DIGITAL_SIGNATURE:
      return Failure::kBadUsage;
    default:
      return Failure::kUnknownCa;
  }
}

// Whether the client ended the handshake with an alert about the server's
// certificate. libssl reports a received alert as the reason
// SSL_AD_REASON_OFFSET + its description.
bool refuses_our_certificate(const DrainedErrors& errors) {
  for (const int alert :
       {SSL_AD_BAD_CERTIFICATE, SSL_AD_UNSUPPORTED_CERTIFICATE, SSL_AD_CERTIFICATE_REVOKED,
        SSL_AD_CERTIFICATE_EXPIRED, SSL_AD_CERTIFICATE_UNKNOWN, SSL_AD_UNKNOWN_CA}) {
    if (errors.has(ERR_LIB_SSL, SSL_AD_REASON_OFFSET + alert)) {
      return true;
    }
  }
  return false;
}

const char* ssl_error_name(int ssl_error) {
  switch (ssl_error) {
    case SSL_ERROR_NONE:
      return "SSL_ERROR_NONE";
    case SSL_ERROR_SSL:
      return "SSL_ERROR_SSL";
    case SSL_ERROR_WANT_READ:
      return "SSL_ERROR_WANT_READ";
    case SSL_ERROR_WANT_WRITE:
      return "SSL_ERROR_WANT_WRITE";
    case SSL_ERROR_WANT_X509_LOOKUP:
      return "SSL_ERROR_WANT_X509_LOOKUP";
    case SSL_ERROR_SYSCALL:
      return "SSL_ERROR_SYSCALL";
    case SSL_ERROR_ZERO_RETURN:
      return "SSL_ERROR_ZERO_RETURN";
    case SSL_ERROR_WANT_CONNECT:
      return "SSL_ERROR_WANT_CONNECT";
    case SSL_ERROR_WANT_ACCEPT:
      return "SSL_ERROR_WANT_ACCEPT";
    case SSL_ERROR_WANT_ASYNC:
      return "SSL_ERROR_WANT_ASYNC";
    case SSL_ERROR_WANT_ASYNC_JOB:
      return "SSL_ERROR_WANT_ASYNC_JOB";
    case SSL_ERROR_WANT_CLIENT_HELLO_CB:
      return "SSL_ERROR_WANT_CLIENT_HELLO_CB";
    case SSL_ERROR_WANT_RETRY_VERIFY:
      return "SSL_ERROR_WANT_RETRY_VERIFY";
    default:
      return "unknown SSL_get_error result";
  }
}

}  // namespace

std::string_view failure_name(Failure failure) {
  switch (failure) {
    case Failure::kNone:
      return "none";
    case Failure::kNoCertificate:
      return "no_certificate";
    case Failure::kUnknownCa:
      return "unknown_ca";
    case Failure::kExpired:
      return "expired";
    case Failure::kNotYetValid:
      return "not_yet_valid";
    case Failure::kRevoked:
      return "revoked";
    case Failure::kBadUsage:
      return "bad_usage";
    case Failure::kRevocationUnknown:
      return "revocation_unknown";
    case Failure::kServerCertificateRefused:
      return "server_certificate_refused";
    case Failure::kProtocol:
      return "protocol";
  }
  return "protocol";
}

// Allocation failure is the only way these calls fail. It is reported like
// any other allocation failure on this path (std::string, make_unique).
Session::Session(const ServerContext& context, uint64_t records_per_key)
    : ssl_(SSL_new(context.native())), records_per_key_(records_per_key) {
  BioPtr read_bio = new_memory_bio();
  BioPtr write_bio = new_memory_bio();
  if (!ssl_ || !read_bio || !write_bio) {
    ERR_clear_error();
    throw std::bad_alloc();
  }
  read_bio_ = read_bio.get();
  write_bio_ = write_bio.get();
  SSL_set_bio(ssl_.get(), read_bio.release(), write_bio.release());
  SSL_set_accept_state(ssl_.get());
  SSL_set_app_data(ssl_.get(), this);
  SSL_set_info_callback(ssl_.get(), on_info);

  // The tickets go out once the handshake is over (send_tickets), so that
  // the records under the server's application key can be counted. Without
  // the secrets (no slot for them), the connection stays with OpenSSL.
  tickets_ = SSL_CTX_get_num_tickets(context.native());
  SSL_set_num_tickets(ssl_.get(), 0);
  secrets_ = std::make_unique<TrafficSecrets>();
  if (!attach_traffic_secrets(ssl_.get(), secrets_.get())) {
    secrets_.reset();
  }
}

// SSL_CTX_set_info_callback(3). SSL_OP_NO_RENEGOTIATION makes OpenSSL answer
// a TLS 1.2 ClientHello on an established connection with a warning
// no_renegotiation alert (RFC 5746 section 4.5) without entering the
// handshake state machine, so the alert we write is the only sign of it.
// RFC 8446 has no renegotiation, so the alert means this case only.
void Session::on_info(const SSL* ssl, int where, int ret) {
  if ((where & SSL_CB_WRITE_ALERT) == SSL_CB_WRITE_ALERT &&
      (ret & 0xff) == SSL_AD_NO_RENEGOTIATION) {
    static_cast<Session*>(SSL_get_app_data(ssl))->renegotiation_refused_ = true;
  }
}

Session::~Session() {
  // SSL_free(3) drops the session from the cache unless close_notify was
  // sent, so a client that merely closed its socket could not resume. Since
  // TLS 1.1 an improper close no longer forbids resumption (RFC 5246
  // section 7.2.1); a failed handshake never made a resumable session.
  if (ssl_ && established_ && failure_ == Failure::kNone) {
    SSL_set_shutdown(ssl_.get(), SSL_get_shutdown(ssl_.get()) | SSL_SENT_SHUTDOWN);
  }
}

void Session::feed(const char* data, size_t len) {
  if (len == 0 || failure_ != Failure::kNone) {
    return;
  }
  if (records_) {
    records_->feed(data, len);
    return;
  }
  ERR_clear_error();
  size_t written = 0;
  if (BIO_write_ex(read_bio_, data, len, &written) != 1 || written != len) {
    // A memory BIO only refuses bytes when memory runs out. The next call
    // reports the failure.
    failure_ = Failure::kProtocol;
    failure_detail_ = "cannot buffer received ciphertext";
    DrainedErrors errors = drain_error_queue();
    if (!errors.text.empty()) {
      failure_detail_ += ": " + errors.text;
    }
  }
}

Session::Status Session::handshake() {
  if (failure_ != Failure::kNone) {
    return Status::kFailed;
  }
  if (established_) {
    return Status::kOk;
  }
  ERR_clear_error();
  int rc = SSL_do_handshake(ssl_.get());
  if (rc == 1) {
    return finish_handshake();
  }

  int ssl_error = SSL_get_error(ssl_.get(), rc);
  switch (ssl_error) {
    case SSL_ERROR_WANT_READ:
      return Status::kWantMore;
    case SSL_ERROR_SSL:
    case SSL_ERROR_SYSCALL:
    case SSL_ERROR_ZERO_RETURN:
      return fail_from_error(ssl_error);
    // A memory BIO takes every write, and this context sets no callback
    // that could suspend the handshake, so these cannot happen; if they
    // did, waiting for more ciphertext would hang the connection.
    case SSL_ERROR_WANT_WRITE:
    case SSL_ERROR_WANT_X509_LOOKUP:
    case SSL_ERROR_WANT_CONNECT:
    case SSL_ERROR_WANT_ACCEPT:
    case SSL_ERROR_WANT_ASYNC:
    case SSL_ERROR_WANT_ASYNC_JOB:
    case SSL_ERROR_WANT_CLIENT_HELLO_CB:
    case SSL_ERROR_WANT_RETRY_VERIFY:
    default:
      return fail_from_error(ssl_error);
  }
}

Session::Status Session::finish_handshake() {
  SSL* ssl = ssl_.get();
  // SSL_VERIFY_FAIL_IF_NO_PEER_CERT makes this certificate present; a
  // resumed session carries the one verified when it was made.
  X509* certificate = SSL_get0_peer_certificate(ssl);
  if (certificate == nullptr) {
    failure_ = Failure::kNoCertificate;
    failure_detail_ = "handshake completed without a client certificate";
    return Status::kFailed;
  }

  // OpenSSL does not verify again when it resumes a session, so a session
  // made shortly before the certificate expired would outlive it by up to
  // the session timeout. The handshake is over, so no alert can be sent;
  // the owner closes the connection.
  resumed_ = SSL_session_reused(ssl) == 1;
  if (resumed_ && X509_cmp_current_time(X509_get0_notAfter(certificate)) <= 0) {
    ERR_clear_error();
    failure_ = Failure::kExpired;
    failure_detail_ = "the resumed session's client certificate has expired";
    return Status::kFailed;
  }

  // The ticket first: if OpenSSL cannot make it, the handshake fails and
  // the session is never established.
  uint64_t server_records = 0;
  if (!send_tickets(&server_records)) {
    return fail_from_error(SSL_ERROR_SSL);
  }

  peer_ = std::make_unique<PeerIdentity>(identity_of(certificate));
  // What verify_again needs, kept past the SSL. On the server side the
  // peer's chain leaves out its own certificate (SSL_get_peer_cert_chain(3));
  // a resumed session keeps both.
  peer_certificate_.reset(SSL_get1_peer_certificate(ssl));
  if (STACK_OF(X509)* chain = SSL_get_peer_cert_chain(ssl)) {
    peer_chain_.reset(X509_chain_up_ref(chain));
  }
  version_ = SSL_get_version(ssl);
  cipher_ = SSL_get_cipher_name(ssl);
  established_ = true;
  hand_off(server_records);
  return Status::kOk;
}

// Sends the context's TLS 1.3 session tickets now that the handshake is
// over (SSL_new_session_ticket(3)). With none sent during the handshake
// (SSL_set_num_tickets(ssl, 0)), these are the only records OpenSSL writes
// under the server's application traffic key: `records` is their count,
// taken from the record headers written, or UINT64_MAX when that output is
// not whole records (then no hand-off). False if OpenSSL failed.
bool Session::send_tickets(uint64_t* records) {
  *records = 0;
  SSL* ssl = ssl_.get();
  if (SSL_version(ssl) != TLS1_3_VERSION) {
    return true;  // TLS 1.2 resumes by session id, cached during the handshake
  }
  const size_t before = BIO_ctrl_pending(write_bio_);
  if (tickets_ > 0) {
    ERR_clear_error();
    for (size_t i = 0; i < tickets_; ++i) {
      if (SSL_new_session_ticket(ssl) != 1) {
        return false;
      }
    }
    if (SSL_do_handshake(ssl) != 1) {
      return false;
    }
  }
  char* data = nullptr;
  const long pending = BIO_get_mem_data(write_bio_, &data);
  size_t offset = before;
  while (pending > 0 && offset + 5 <= static_cast<size_t>(pending)) {
    const auto* header = reinterpret_cast<const unsigned char*>(data + offset);
    offset += 5 + (size_t{header[3]} << 8 | header[4]);
    ++*records;
  }
  if (offset != static_cast<size_t>(pending < 0 ? 0 : pending)) {
    *records = UINT64_MAX;
  }
  return true;
}

// Moves the connection to RecordLayer and frees the SSL, when everything
// the record layer needs is at hand: TLS 1.3, a suite it does, both traffic
// secrets, the ticket records counted, and nothing OpenSSL has read but not
// yet processed (SSL_has_pending(3); without read-ahead it reads one record
// at a time, so bytes past the client's Finished stay in the read BIO).
// Otherwise OpenSSL keeps the connection, with nothing lost.
void Session::hand_off(uint64_t server_records) {
  SSL* ssl = ssl_.get();
  const SSL_CIPHER* cipher = SSL_get_current_cipher(ssl);
  const CipherSuite* suite = SSL_version(ssl) == TLS1_3_VERSION && cipher != nullptr
                                 ? find_cipher_suite(SSL_CIPHER_get_protocol_id(cipher))
                                 : nullptr;
  std::unique_ptr<RecordLayer> records;
  if (suite != nullptr && server_records != UINT64_MAX && secrets_ &&
      secrets_->client_len == suite->secret_bytes && secrets_->server_len == suite->secret_bytes &&
      SSL_has_pending(ssl) == 0) {
    records = RecordLayer::create(*suite, secrets_->client.data(), secrets_->server.data(),
                                  server_records, records_per_key_);
  }
  // No secret is derived after the handshake (a TLS 1.3 KeyUpdate is not
  // logged), so the slot goes, wiped, whatever happens next.
  if (secrets_) {
    attach_traffic_secrets(ssl, nullptr);
    secrets_.reset();
  }
  if (!records) {
    return;
  }

  // The client's first records under its application key, not yet read,
  // and the tickets, not yet sent.
  char* data = nullptr;
  long n = BIO_get_mem_data(read_bio_, &data);
  if (n > 0) {
    records->feed(data, static_cast<size_t>(n));
  }
  n = BIO_get_mem_data(write_bio_, &data);
  if (n > 0) {
    records->queue_sent(data, static_cast<size_t>(n));
  }
  session_.reset(SSL_get1_session(ssl));
  SSL_CTX* ctx = SSL_get_SSL_CTX(ssl);
  if (session_ && SSL_CTX_up_ref(ctx) == 1) {
    session_ctx_.reset(ctx);
  }
  // Freed without close_notify: marked as ended cleanly, or SSL_free(3)
  // would drop the session from the cache (see ~Session).
  SSL_set_shutdown(ssl, SSL_get_shutdown(ssl) | SSL_SENT_SHUTDOWN);
  ssl_.reset();
  read_bio_ = nullptr;
  write_bio_ = nullptr;
  records_ = std::move(records);
  ERR_clear_error();
}

Session::Status Session::from_records(RecordLayer::Status status) {
  switch (status) {
    case RecordLayer::Status::kOk:
      return Status::kOk;
    case RecordLayer::Status::kClosed:
      return Status::kClosed;
    case RecordLayer::Status::kFailed:
      failure_ = Failure::kProtocol;
      failure_detail_ = records_->failure_detail();
      if (session_ && session_ctx_) {
        SSL_CTX_remove_session(session_ctx_.get(), session_.get());
      }
      session_.reset();
      return Status::kFailed;
  }
  return Status::kFailed;
}

Failure Session::verify_again(const ServerContext& current, std::string& detail) const {
  assert(established_ && "verify_again() before the handshake completed");
  const long result =
      tls::verify_again(current.native(), peer_certificate_.get(), peer_chain_.get());
  if (result == X509_V_OK) {
    return Failure::kNone;
  }
  detail = std::string("certificate verify failed: ") + X509_verify_cert_error_string(result);
  return failure_of_verify_result(result);
}

std::string_view Session::protocol_version() const {
  return version_ != nullptr ? version_ : SSL_get_version(ssl_.get());
}

std::string_view Session::cipher_name() const {
  const char* name = cipher_ != nullptr ? cipher_ : SSL_get_cipher_name(ssl_.get());
  return name != nullptr ? name : "";
}

Session::Status Session::read(std::string& out) {
  if (failure_ != Failure::kNone) {
    return Status::kFailed;
  }
  assert(established_ && "read() before the handshake completed");
  if (records_) {
    return from_records(records_->read(out));
  }
  ERR_clear_error();
  // Records are decrypted into this buffer and only their bytes appended:
  // growing out by a whole record first would zero 16 KiB per call (twice
  // per request: the last call finds nothing) and leave every idle
  // connection holding that capacity.
  char chunk[kReadChunk];
  for (;;) {
    size_t n = 0;
    int rc = SSL_read_ex(ssl_.get(), chunk, sizeof chunk, &n);
    if (rc == 1) {
      out.append(chunk, n);
      continue;
    }

    int ssl_error = SSL_get_error(ssl_.get(), rc);
    switch (ssl_error) {
      case SSL_ERROR_WANT_READ:
        // Every complete record is consumed; the rest needs more ciphertext.
        if (renegotiation_refused_) {
          // The client waits for a handshake that will not come; OpenSSL's
          // own clients abort on the alert. Ending the connection here makes
          // the outcome the same whatever the client does next.
          failure_ = Failure::kProtocol;
          failure_detail_ = "the client asked to renegotiate (refused with no_renegotiation)";
          return Status::kFailed;
        }
        return Status::kOk;
      case SSL_ERROR_ZERO_RETURN:
        return Status::kClosed;
      case SSL_ERROR_SSL:
      case SSL_ERROR_SYSCALL:
        return fail_from_error(ssl_error);
      // WANT_WRITE cannot happen on a memory BIO, and the others belong to
      // callbacks this context does not set. Renegotiation is refused, so
      // no handshake can start here either.
      case SSL_ERROR_WANT_WRITE:
      case SSL_ERROR_WANT_X509_LOOKUP:
      case SSL_ERROR_WANT_CONNECT:
      case SSL_ERROR_WANT_ACCEPT:
      case SSL_ERROR_WANT_ASYNC:
      case SSL_ERROR_WANT_ASYNC_JOB:
      case SSL_ERROR_WANT_CLIENT_HELLO_CB:
      case SSL_ERROR_WANT_RETRY_VERIFY:
      default:
        return fail_from_error(ssl_error);
    }
  }
}

Session::Status Session::write(std::string_view plaintext) {
  if (failure_ != Failure::kNone) {
    return Status::kFailed;
  }
  assert(established_ && "write() before the handshake completed");
  if (plaintext.empty()) {
    return Status::kOk;
  }
  if (records_) {
    return from_records(records_->write(plaintext));
  }
  ERR_clear_error();
  // Without SSL_MODE_ENABLE_PARTIAL_WRITE, SSL_write_ex(3) succeeds only
  // once every byte is in records, and a memory BIO never pushes back.
  size_t written = 0;
  int rc = SSL_write_ex(ssl_.get(), plaintext.data(), plaintext.size(), &written);
  if (rc == 1) {
    return Status::kOk;
  }

  int ssl_error = SSL_get_error(ssl_.get(), rc);
  switch (ssl_error) {
    case SSL_ERROR_SSL:
    case SSL_ERROR_SYSCALL:
    case SSL_ERROR_ZERO_RETURN:
      return fail_from_error(ssl_error);
    // Writing needs no peer input once renegotiation is refused, and the
    // write BIO takes everything; a retry would have to repeat the same
    // buffer, which this interface does not offer.
    case SSL_ERROR_WANT_READ:
    case SSL_ERROR_WANT_WRITE:
    case SSL_ERROR_WANT_X509_LOOKUP:
    case SSL_ERROR_WANT_CONNECT:
    case SSL_ERROR_WANT_ACCEPT:
    case SSL_ERROR_WANT_ASYNC:
    case SSL_ERROR_WANT_ASYNC_JOB:
    case SSL_ERROR_WANT_CLIENT_HELLO_CB:
    case SSL_ERROR_WANT_RETRY_VERIFY:
    default:
      return fail_from_error(ssl_error);
  }
}

void Session::close() {
  if (!established_ || failure_ != Failure::kNone) {
    return;
  }
  if (records_) {
    records_->close();
    return;
  }
  if ((SSL_get_shutdown(ssl_.get()) & SSL_SENT_SHUTDOWN) != 0) {
    return;
  }
  ERR_clear_error();
  // 0 means close_notify is queued and the peer's is not yet seen, 1 that
  // the peer's came first (SSL_shutdown(3)); either way ours is queued.
  int rc = SSL_shutdown(ssl_.get());
  if (rc < 0) {
    fail_from_error(SSL_get_error(ssl_.get(), rc));
  }
}

void Session::release_buffers() {
  if (!established_ || failure_ != Failure::kNone) {
    return;
  }
  if (records_) {
    records_->release_buffers();
    return;
  }
  if (BIO_ctrl_pending(read_bio_) != 0 || BIO_ctrl_pending(write_bio_) != 0 ||
      SSL_has_pending(ssl_.get()) == 1) {
    return;
  }
  // It refuses (0) only while a record is partly read or written, which
  // cannot be with both BIOs empty and nothing pending.
  SSL_free_buffers(ssl_.get());
  if (capacity(read_bio_) > 0) {
    if (BioPtr fresh = new_memory_bio()) {
      read_bio_ = fresh.get();
      SSL_set0_rbio(ssl_.get(), fresh.release());  // frees the old one
    }
  }
  if (capacity(write_bio_) > 0) {
    if (BioPtr fresh = new_memory_bio()) {
      write_bio_ = fresh.get();
      SSL_set0_wbio(ssl_.get(), fresh.release());
    }
  }
  ERR_clear_error();
}

size_t Session::pending_ciphertext() const {
  return records_ ? records_->pending_ciphertext() : BIO_ctrl_pending(write_bio_);
}

size_t Session::take_ciphertext(char* buf, size_t cap) {
  if (cap == 0 || pending_ciphertext() == 0) {
    return 0;
  }
  if (records_) {
    return records_->take_ciphertext(buf, cap);
  }
  size_t n = 0;
  if (BIO_read_ex(write_bio_, buf, cap, &n) != 1) {
    ERR_clear_error();
    return 0;
  }
  return n;
}

// Classifies a fatal error and drains the whole error queue into
// failure_detail_. A failed certificate check shows as a verify result
// (SSL_get_verify_result(3)); a missing certificate as the reason
// PEER_DID_NOT_RETURN_A_CERTIFICATE, which TLS 1.3 sends to the client as
// certificate_required (RFC 8446 section 4.4.2.4) and TLS 1.2 as
// handshake_failure.
Session::Status Session::fail_from_error(int ssl_error) {
  DrainedErrors errors = drain_error_queue();
  long verify_result = SSL_get_verify_result(ssl_.get());

  if (verify_result != X509_V_OK) {
    failure_ = failure_of_verify_result(verify_result);
    failure_detail_ =
        std::string("certificate verify failed: ") + X509_verify_cert_error_string(verify_result);
  } else if (errors.has(ERR_LIB_SSL, SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE)) {
    failure_ = Failure::kNoCertificate;
    failure_detail_ = "the client sent no certificate";
  } else if (refuses_our_certificate(errors)) {
    failure_ = Failure::kServerCertificateRefused;
    failure_detail_ = "the client refused the server's certificate";
  } else {
    failure_ = Failure::kProtocol;
    failure_detail_ = ssl_error_name(ssl_error);
  }
  if (!errors.text.empty()) {
    failure_detail_ += ": " + errors.text;
  }
  return Status::kFailed;
}

}  // namespace wif::tls
