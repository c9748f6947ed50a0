// Session: one server-side TLS connection driven entirely through memory BIOs.
//
// The socket never touches OpenSSL. The owner (net::Connection) feeds the
// ciphertext it read from the socket, asks for plaintext, writes plaintext,
// and drains the ciphertext the engine produced back to the socket. Nothing in
// here blocks, logs or knows about sockets, so a client SSL and a server
// Session can be wired together in a unit test.
//
// OpenSSL does every handshake and all certificate work. Once a TLS 1.3
// handshake is complete (and its session ticket sent), the session hands its
// records over to RecordLayer and frees the SSL object, which would otherwise
// hold about 12 KiB for the life of a kept-alive connection (see
// record_layer.h). TLS 1.2 connections, suites RecordLayer does not do, and
// any connection where the hand-over's preconditions do not hold stay with
// OpenSSL; handed_off() tells which. The interface is the same either way.
//
// Owned by one connection and used only on that connection's loop thread.
#pragma once

#include <openssl/types.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "src/tls/openssl_helpers.h"
#include "src/tls/peer_identity.h"
#include "src/tls/record_layer.h"
#include "src/tls/server_context.h"
#include "src/tls/traffic_secrets.h"

namespace wif::tls {

// Why a handshake or a record failed. The names (failure_name) are metric
// label values, so this set stays small and fixed.
enum class Failure {
  kNone,
  kNoCertificate,  // the client sent no certificate
  kUnknownCa,      // the chain does not lead to a configured anchor
  kExpired,
  kNotYetValid,
  kRevoked,
  kBadUsage,  // key usage or extended key usage forbids client auth
  // No current revocation status: the issuer's CRL is missing, expired, not
  // yet valid or unusable. The client may be fine; the daemon cannot tell.
  kRevocationUnknown,
  // The client refused the server's certificate with an alert about it
  // (unknown_ca, bad_certificate, certificate_expired...): a problem with
  // this server's certificate or the clients' trust, not with the client.
  kServerCertificateRefused,
  kProtocol,  // anything else the peer got wrong: bad record, version, alert
};

std::string_view failure_name(Failure failure);

class Session {
 public:
  enum class Status {
    kOk,        // progress made; for handshake(): the handshake is complete
    kWantMore,  // needs more ciphertext from the peer
    kClosed,    // the peer sent close_notify
    kFailed,    // fatal; see failure(). Pending ciphertext (an alert) should
                // still be flushed to the peer before closing the socket.
  };

  // records_per_key: how many records a key protects after the hand-over
  // before it is updated (RecordLayer); tests make it small.
  explicit Session(const ServerContext& context,
                   uint64_t records_per_key = RecordLayer::kRecordsPerKey);
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // Appends ciphertext received from the peer to the read BIO.
  void feed(const char* data, size_t len);

  // Drives the handshake with what was fed so far. Once it returns kOk,
  // established() is true and peer() is set. After every call (kOk too: a
  // TLS 1.3 server sends its session tickets then; kFailed too: the alert)
  // the owner flushes pending_ciphertext() to the peer.
  Status handshake();
  bool established() const { return established_; }
  // Whether the handshake resumed a session; false until established().
  bool resumed() const { return resumed_; }
  // Whether RecordLayer protects the records now, the SSL object freed.
  bool handed_off() const { return records_ != nullptr; }
  // The negotiated version ("TLSv1.3") and cipher, for debug logs.
  std::string_view protocol_version() const;
  std::string_view cipher_name() const;

  // Decrypts every complete record available and appends the plaintext to
  // out. kOk if anything was appended or nothing is pending, kClosed on
  // close_notify (after appending what came before it), kFailed on a fatal
  // error. Only once established(). May queue ciphertext (a TLS 1.3
  // KeyUpdate answer, an alert) for the owner to flush.
  //
  // A TLS 1.2 ClientHello after the handshake (a renegotiation request) is
  // refused with a no_renegotiation alert and fails the session:
  // renegotiation_refused() tells that failure from the others. The plaintext
  // that came before the request is still appended.
  Status read(std::string& out);

  // Encrypts plaintext; the records go to the write BIO. kOk or kFailed.
  // Only once established().
  Status write(std::string_view plaintext);

  // Queues close_notify in the write BIO (RFC 8446 section 6.1). Does
  // nothing before the handshake completes, after a failure (the alert
  // already ends the connection) or when close_notify was already queued.
  void close();

  // Gives back what an idle connection does not need: OpenSSL's record
  // buffers (SSL_free_buffers(3), about 34 KiB), and the memory BIOs'
  // storage, which keeps the size of the largest flight it ever held (the
  // handshake's); once handed off, RecordLayer's buffers and AEAD contexts.
  // Does nothing while anything is buffered in either direction; the next
  // read or write allocates again.
  void release_buffers();

  // Ciphertext waiting to go to the socket.
  size_t pending_ciphertext() const;
  // Moves up to cap bytes of pending ciphertext into buf; returns the count.
  size_t take_ciphertext(char* buf, size_t cap);

  Failure failure() const { return failure_; }
  // True once the peer asked to renegotiate and was refused (see read()).
  bool renegotiation_refused() const { return renegotiation_refused_; }
  // OpenSSL's reason for the failure, for debug logs only: never for a peer.
  const std::string& failure_detail() const { return failure_detail_; }

  // The verified client identity; null until established().
  const PeerIdentity* peer() const { return peer_.get(); }

  // Verifies the client's chain again, as a handshake under `current` (a
  // context built after this session's) would: kNone when it would still be
  // accepted, else why not, with OpenSSL's reason in `detail` (for debug
  // logs only). Only once established().
  Failure verify_again(const ServerContext& current, std::string& detail) const;

 private:
  static void on_info(const SSL* ssl, int where, int ret);
  Status finish_handshake();
  bool send_tickets(uint64_t* records);
  void hand_off(uint64_t server_records);
  Status from_records(RecordLayer::Status status);
  Status fail_from_error(int ssl_error);

  SslPtr ssl_;                            // null once handed off
  BIO* read_bio_ = nullptr;               // owned by ssl_
  BIO* write_bio_ = nullptr;              // owned by ssl_
  std::unique_ptr<RecordLayer> records_;  // set by the hand-off
  // After the hand-off: the connection's session and the context caching it,
  // so that a connection that fails forgets it (RFC 8446 section 6.2), as
  // OpenSSL does when it sends or receives a fatal alert. The cache holds
  // the same session, so keeping it costs nothing.
  SslCtxPtr session_ctx_;
  SslSessionPtr session_;
  // Filled by OpenSSL's key log callback during the handshake; freed (and
  // wiped) once it is over.
  std::unique_ptr<TrafficSecrets> secrets_;
  const uint64_t records_per_key_;
  size_t tickets_ = 0;  // TLS 1.3 session tickets to send after the handshake
  // Taken from the SSL once established, so they outlive it.
  X509Ptr peer_certificate_;
  X509StackPtr peer_chain_;        // what the client sent besides its leaf
  const char* version_ = nullptr;  // static strings in libssl
  const char* cipher_ = nullptr;
  bool resumed_ = false;
  bool established_ = false;
  bool renegotiation_refused_ = false;
  Failure failure_ = Failure::kNone;
  std::string failure_detail_;
  std::unique_ptr<PeerIdentity> peer_;
};

}  // namespace wif::tls
