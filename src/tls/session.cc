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
    case Failure::kProtocol:
      return "protocol";
  }
  return "protocol";
}

// Allocation failure is the only way these calls fail. It is reported like
// any other allocation failure on this path (std::string, make_unique).
Session::Session(const ServerContext& context) : ssl_(SSL_new(context.native())) {
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
  if (established_ && failure_ == Failure::kNone) {
    SSL_set_shutdown(ssl_.get(), SSL_get_shutdown(ssl_.get()) | SSL_SENT_SHUTDOWN);
  }
}

void Session::feed(const char* data, size_t len) {
  if (len == 0 || failure_ != Failure::kNone) {
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
  // SSL_VERIFY_FAIL_IF_NO_PEER_CERT makes this certificate present; a
  // resumed session carries the one verified when it was made.
  X509* certificate = SSL_get0_peer_certificate(ssl_.get());
  if (certificate == nullptr) {
    failure_ = Failure::kNoCertificate;
    failure_detail_ = "handshake completed without a client certificate";
    return Status::kFailed;
  }

  // OpenSSL does not verify again when it resumes a session, so a session
  // made shortly before the certificate expired would outlive it by up to
  // the session timeout. The handshake is over, so no alert can be sent;
  // the owner closes the connection.
  if (resumed() && X509_cmp_current_time(X509_get0_notAfter(certificate)) <= 0) {
    ERR_clear_error();
    failure_ = Failure::kExpired;
    failure_detail_ = "the resumed session's client certificate has expired";
    return Status::kFailed;
  }

  peer_ = std::make_unique<PeerIdentity>(identity_of(certificate));
  established_ = true;
  return Status::kOk;
}

Failure Session::verify_again(const ServerContext& current, std::string& detail) const {
  assert(established_ && "verify_again() before the handshake completed");
  // On the server side the peer's chain leaves out its own certificate
  // (SSL_get_peer_cert_chain(3)); a resumed session keeps both.
  const long result = tls::verify_again(current.native(), SSL_get0_peer_certificate(ssl_.get()),
                                        SSL_get_peer_cert_chain(ssl_.get()));
  if (result == X509_V_OK) {
    return Failure::kNone;
  }
  detail = std::string("certificate verify failed: ") + X509_verify_cert_error_string(result);
  return failure_of_verify_result(result);
}

bool Session::resumed() const { return SSL_session_reused(ssl_.get()) == 1; }

std::string_view Session::protocol_version() const { return SSL_get_version(ssl_.get()); }

std::string_view Session::cipher_name() const {
  const char* name = SSL_get_cipher_name(ssl_.get());
  return name != nullptr ? name : "";
}

Session::Status Session::read(std::string& out) {
  if (failure_ != Failure::kNone) {
    return Status::kFailed;
  }
  assert(established_ && "read() before the handshake completed");
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
  if (!established_ || failure_ != Failure::kNone ||
      (SSL_get_shutdown(ssl_.get()) & SSL_SENT_SHUTDOWN) != 0) {
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
  if (!established_ || failure_ != Failure::kNone || BIO_ctrl_pending(read_bio_) != 0 ||
      BIO_ctrl_pending(write_bio_) != 0 || SSL_has_pending(ssl_.get()) == 1) {
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

size_t Session::pending_ciphertext() const { return BIO_ctrl_pending(write_bio_); }

size_t Session::take_ciphertext(char* buf, size_t cap) {
  if (cap == 0 || pending_ciphertext() == 0) {
    return 0;
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
