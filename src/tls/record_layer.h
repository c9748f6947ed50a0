// RecordLayer: TLS 1.3 record protection (RFC 8446 section 5) for the server
// end of a connection whose handshake OpenSSL completed.
//
// Why it exists: an SSL object holds about 12 KiB for as long as its
// connection lives (its own state, the record layer's, two AEAD contexts),
// and most connections here are kept-alive clients that are idle between
// requests. After a TLS 1.3 handshake, protecting records takes only the two
// application traffic secrets and two sequence numbers, so Session hands the
// connection over to this class and frees the SSL (see session.h).
//
// What it accepts from the client after the handshake: application data;
// alerts (close_notify ends the stream, user_canceled is ignored, any other
// is fatal); and KeyUpdate, the one post-handshake message a server that
// never asks for post-handshake authentication can receive. Anything else
// fails the connection with the alert RFC 8446 names for it, queued as
// ciphertext for the owner to flush, and so do more than 32 records in a row
// that carry no data. It sends application data, alerts and its own
// KeyUpdates: one before its next record after the client asked for any
// number, and one every records_per_key records, well before AES-GCM's limit
// (section 5.5). So what it queues is bounded by what it is asked to write.
//
// Like Session, it holds no socket: ciphertext in through feed(), out
// through take_ciphertext(). Owned by one Session, on that connection's loop
// thread. Keys and secrets are wiped when it is destroyed; decrypted input is
// the client's and plaintext output is overwritten by its own ciphertext.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "src/tls/openssl_helpers.h"
#include "src/tls/traffic_keys.h"

namespace wif::tls {

class RecordLayer {
 public:
  enum class Status {
    kOk,      // progress made, or nothing to do yet
    kClosed,  // the client sent close_notify
    kFailed,  // fatal; an alert may be pending for the client
  };

  // A key protects this many records, then the KeyUpdate that retires it
  // (and at most one alert). AES-GCM allows about 2^24.5 full records per key
  // (RFC 8446 section 5.5).
  static constexpr uint64_t kRecordsPerKey = uint64_t{1} << 23;

  // Takes over a connection: records from the client are protected under
  // client_secret, ours under server_secret, of which server_records were
  // already sent (the session tickets); none was read under client_secret
  // yet. Null if the keys cannot be derived; the caller keeps OpenSSL then.
  static std::unique_ptr<RecordLayer> create(const CipherSuite& suite,
                                             const unsigned char* client_secret,
                                             const unsigned char* server_secret,
                                             uint64_t server_records,
                                             uint64_t records_per_key = kRecordsPerKey);
  ~RecordLayer();
  RecordLayer(const RecordLayer&) = delete;
  RecordLayer& operator=(const RecordLayer&) = delete;

  // Ciphertext received from the client.
  void feed(const char* data, size_t len);
  // Ciphertext already produced for the client before the hand-over (the
  // tickets), sent ahead of anything this layer writes.
  void queue_sent(const char* data, size_t len);

  // Opens every complete record and appends its application data to out.
  // kClosed at close_notify (after appending what came before it; later
  // input is ignored), kFailed on a fatal error.
  Status read(std::string& out);

  // Protects plaintext as application data records. kFailed once the layer
  // has failed or close_notify was sent.
  Status write(std::string_view plaintext);

  // Queues close_notify (RFC 8446 section 6.1), once; nothing after a
  // failure.
  void close();

  // Gives back the buffers and both AEAD contexts while nothing is pending;
  // the next read or write makes them again from the keys.
  void release_buffers();

  size_t pending_ciphertext() const { return out_.size() - out_sent_; }
  size_t take_ciphertext(char* buf, size_t cap);

  bool close_sent() const { return close_sent_; }
  // Why the layer failed, for debug logs (never for a peer).
  const std::string& failure_detail() const { return failure_detail_; }

 private:
  // One direction's keys, its sequence number and, while the connection is
  // busy, its AEAD context.
  struct Direction {
    TrafficKeys keys;
    uint64_t sequence = 0;
    EvpCipherCtxPtr aead;
    bool encrypt = false;
  };

  RecordLayer(const CipherSuite& suite, uint64_t records_per_key);

  Status open(unsigned char* record, size_t length, std::string& out);
  Status on_alert(const unsigned char* content, size_t length);
  Status on_handshake(const unsigned char* content, size_t length);
  Status on_key_update(unsigned char request_update);
  bool seal(unsigned char content_type, const unsigned char* data, size_t length);
  bool seal_one(unsigned char content_type, const unsigned char* data, size_t length);
  bool update_write_key(bool request_update);
  bool crypt(Direction& direction, const unsigned char* header, unsigned char* data, size_t length,
             unsigned char* tag);
  Status fail(unsigned char alert, std::string detail);

  const CipherSuite& suite_;
  const uint64_t records_per_key_;
  Direction read_;
  Direction write_;
  std::string in_;   // ciphertext not yet opened
  std::string out_;  // ciphertext for the client; [0, out_sent_) already taken
  size_t out_sent_ = 0;
  unsigned char handshake_[5] = {};  // a KeyUpdate split across records
  size_t handshake_bytes_ = 0;
  unsigned records_without_data_ = 0;  // in a row, from the client
  bool update_owed_ = false;           // the client asked for our KeyUpdate
  bool peer_closed_ = false;
  bool close_sent_ = false;
  bool failed_ = false;
  std::string failure_detail_;
};

}  // namespace wif::tls
