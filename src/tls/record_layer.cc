#include "src/tls/record_layer.h"

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>

#include <algorithm>
#include <cstring>

namespace wif::tls {
namespace {

// Content types (RFC 8446 section 5.1). Every protected record goes out as
// application_data; its real type is the last non-zero byte inside.
constexpr unsigned char kAlert = 21;
constexpr unsigned char kHandshake = 22;
constexpr unsigned char kApplicationData = 23;

constexpr unsigned char kKeyUpdate = 24;  // handshake type (section 4)

// Alert levels and descriptions (section 6). TLS 1.3 ignores the level;
// close_notify goes out as a warning and every error as fatal, as OpenSSL
// sends them.
constexpr unsigned char kWarning = 1;
constexpr unsigned char kFatal = 2;
constexpr unsigned char kCloseNotify = 0;
constexpr unsigned char kUnexpectedMessage = 10;
constexpr unsigned char kBadRecordMac = 20;
constexpr unsigned char kRecordOverflow = 22;
constexpr unsigned char kIllegalParameter = 47;
constexpr unsigned char kDecodeError = 50;
constexpr unsigned char kInternalError = 80;
constexpr unsigned char kUserCanceled = 90;

// Records in a row that carry no application data (empty data records,
// KeyUpdates, user_canceled alerts) before the client is cut off: each costs
// work and none moves the connection on. OpenSSL allows 32 empty records,
// BoringSSL 32 KeyUpdates; legitimate clients send a few at most.
constexpr unsigned kMaxRecordsWithoutData = 32;

constexpr size_t kHeaderBytes = 5;
constexpr size_t kTagBytes = 16;  // every TLS 1.3 AEAD
// Section 5.1: at most 2^14 bytes of content a record; section 5.2: at
// most 2^14 + 256 bytes of ciphertext after the header.
constexpr size_t kMaxContentBytes = 16384;
constexpr size_t kMaxCiphertextBytes = 16384 + 256;

}  // namespace

RecordLayer::RecordLayer(const CipherSuite& suite, uint64_t records_per_key)
    : suite_(suite), records_per_key_(records_per_key) {
  read_.encrypt = false;
  write_.encrypt = true;
}

RecordLayer::~RecordLayer() = default;

std::unique_ptr<RecordLayer> RecordLayer::create(const CipherSuite& suite,
                                                 const unsigned char* client_secret,
                                                 const unsigned char* server_secret,
                                                 uint64_t server_records,
                                                 uint64_t records_per_key) {
  std::unique_ptr<RecordLayer> layer(new RecordLayer(suite, records_per_key));
  if (!layer->read_.keys.derive(suite, client_secret, suite.secret_bytes) ||
      !layer->write_.keys.derive(suite, server_secret, suite.secret_bytes)) {
    return nullptr;
  }
  layer->write_.sequence = server_records;
  return layer;
}

void RecordLayer::feed(const char* data, size_t len) {
  if (!failed_ && !peer_closed_) {
    in_.append(data, len);
  }
}

void RecordLayer::queue_sent(const char* data, size_t len) { out_.append(data, len); }

RecordLayer::Status RecordLayer::read(std::string& out) {
  if (failed_) {
    return Status::kFailed;
  }
  if (peer_closed_) {
    return Status::kClosed;
  }
  size_t offset = 0;
  Status status = Status::kOk;
  while (status == Status::kOk && in_.size() - offset >= kHeaderBytes) {
    auto* record = reinterpret_cast<unsigned char*>(in_.data() + offset);
    const size_t length = size_t{record[3]} << 8 | record[4];
    // The outer type of every record after the handshake is application_data
    // (section 5.2); a change_cipher_spec is allowed only before the peer's
    // Finished (section 5). The version field is ignored (section 5.1).
    if (record[0] != kApplicationData) {
      status = fail(kUnexpectedMessage, "an unprotected record of type " +
                                            std::to_string(record[0]) + " after the handshake");
      break;
    }
    if (length > kMaxCiphertextBytes) {
      status = fail(kRecordOverflow, "a record of " + std::to_string(length) + " bytes");
      break;
    }
    if (in_.size() - offset - kHeaderBytes < length) {
      break;  // the rest of this record is still on its way
    }
    status = open(record, length, out);
    offset += kHeaderBytes + length;
  }
  if (failed_ || peer_closed_) {
    std::string().swap(in_);  // nothing after the end is looked at
  } else {
    in_.erase(0, offset);
  }
  return status;
}

RecordLayer::Status RecordLayer::open(unsigned char* record, size_t length, std::string& out) {
  if (length < 1 + kTagBytes) {
    return fail(kBadRecordMac, "a record too short to carry a tag");
  }
  unsigned char* body = record + kHeaderBytes;
  const size_t sealed = length - kTagBytes;
  if (!crypt(read_, record, body, sealed, body + sealed)) {
    return fail(kBadRecordMac, "a record that failed authentication");
  }
  ++read_.sequence;

  // TLSInnerPlaintext (section 5.2): the content, its type, then zeros, at
  // most 2^14 + 1 bytes in all (section 5.4).
  if (sealed > kMaxContentBytes + 1) {
    return fail(kRecordOverflow, "a record of " + std::to_string(sealed) + " plaintext bytes");
  }
  size_t end = sealed;
  while (end > 0 && body[end - 1] == 0) {
    --end;
  }
  if (end == 0) {
    return fail(kUnexpectedMessage, "a record without a content type");
  }
  const unsigned char type = body[end - 1];
  const size_t content = end - 1;
  // Section 5.1: nothing may come between the parts of a handshake message.
  if (type != kHandshake && handshake_bytes_ != 0) {
    return fail(kUnexpectedMessage, "a record inside a split handshake message");
  }
  if (type == kApplicationData && content > 0) {
    records_without_data_ = 0;
  } else if (++records_without_data_ > kMaxRecordsWithoutData) {
    return fail(kUnexpectedMessage, std::to_string(kMaxRecordsWithoutData + 1) +
                                        " records in a row without application data");
  }
  switch (type) {
    case kApplicationData:
      out.append(reinterpret_cast<const char*>(body), content);
      return Status::kOk;
    case kAlert:
      return on_alert(body, content);
    case kHandshake:
      return on_handshake(body, content);
    default:
      return fail(kUnexpectedMessage,
                  "a record of content type " + std::to_string(type) + " after the handshake");
  }
}

RecordLayer::Status RecordLayer::on_alert(const unsigned char* content, size_t length) {
  if (length != 2) {
    return fail(kDecodeError, "an alert of " + std::to_string(length) + " bytes");
  }
  switch (content[1]) {
    case kCloseNotify:
      peer_closed_ = true;
      return Status::kClosed;
    case kUserCanceled:
      return Status::kOk;  // section 6.1: a close_notify follows
    default:
      // Section 6.2: a fatal alert ends the connection; no alert answers it.
      failed_ = true;
      failure_detail_ = "the client sent alert " + std::to_string(content[1]);
      return Status::kFailed;
  }
}

// Section 4.6.3. A KeyUpdate is the only message accepted; each arrives whole
// or in parts (handshake_ holds the parts), and must end its record, since
// the next record is under the new key (section 5.1).
RecordLayer::Status RecordLayer::on_handshake(const unsigned char* content, size_t length) {
  if (length == 0) {
    return fail(kUnexpectedMessage, "an empty handshake record");
  }
  for (size_t i = 0; i < length; ++i) {
    handshake_[handshake_bytes_++] = content[i];
    if (handshake_bytes_ == 4) {
      const size_t body_bytes =
          size_t{handshake_[1]} << 16 | size_t{handshake_[2]} << 8 | size_t{handshake_[3]};
      if (handshake_[0] != kKeyUpdate) {
        return fail(kUnexpectedMessage,
                    "handshake message " + std::to_string(handshake_[0]) + " after the handshake");
      }
      if (body_bytes != 1) {
        return fail(kDecodeError, "a KeyUpdate of " + std::to_string(body_bytes) + " bytes");
      }
    } else if (handshake_bytes_ == sizeof handshake_) {
      if (i + 1 != length) {
        return fail(kUnexpectedMessage, "a KeyUpdate that does not end its record");
      }
      handshake_bytes_ = 0;
      return on_key_update(handshake_[4]);
    }
  }
  return Status::kOk;
}

RecordLayer::Status RecordLayer::on_key_update(unsigned char request_update) {
  if (request_update > 1) {
    return fail(kIllegalParameter,
                "a KeyUpdate with request_update " + std::to_string(request_update));
  }
  if (!read_.keys.update(suite_)) {
    return fail(kInternalError, "cannot derive the client's next traffic keys");
  }
  read_.sequence = 0;
  read_.aead.reset();
  // update_requested: ours goes out before our next record, and once for
  // however many requests came before it (section 4.6.3), so a client that
  // asks again and again without reading gets no more than one answer.
  if (request_update == 1) {
    update_owed_ = true;
  }
  return Status::kOk;
}

RecordLayer::Status RecordLayer::write(std::string_view plaintext) {
  if (failed_) {
    return Status::kFailed;
  }
  if (close_sent_) {
    failed_ = true;
    failure_detail_ = "data to send after close_notify";
    return Status::kFailed;
  }
  const auto* data = reinterpret_cast<const unsigned char*>(plaintext.data());
  size_t left = plaintext.size();
  while (left > 0) {
    const size_t n = std::min(left, kMaxContentBytes);
    if (!seal(kApplicationData, data, n)) {
      failed_ = true;
      failure_detail_ = "cannot protect a record";
      return Status::kFailed;
    }
    data += n;
    left -= n;
  }
  return Status::kOk;
}

void RecordLayer::close() {
  if (failed_ || close_sent_) {
    return;
  }
  const unsigned char alert[2] = {kWarning, kCloseNotify};
  if (!seal(kAlert, alert, sizeof alert)) {
    failed_ = true;
    failure_detail_ = "cannot protect close_notify";
  }
  close_sent_ = true;
}

void RecordLayer::release_buffers() {
  if (!in_.empty() || pending_ciphertext() != 0 || handshake_bytes_ != 0) {
    return;
  }
  std::string().swap(in_);
  std::string().swap(out_);
  out_sent_ = 0;
  read_.aead.reset();
  write_.aead.reset();
}

size_t RecordLayer::take_ciphertext(char* buf, size_t cap) {
  const size_t n = std::min(cap, pending_ciphertext());
  std::memcpy(buf, out_.data() + out_sent_, n);
  out_sent_ += n;
  if (out_sent_ == out_.size()) {
    out_.clear();
    out_sent_ = 0;
  }
  return n;
}

bool RecordLayer::seal(unsigned char content_type, const unsigned char* data, size_t length) {
  if (update_owed_) {
    update_owed_ = false;
    if (!update_write_key(false)) {
      return false;
    }
  }
  if (write_.sequence >= records_per_key_ && !update_write_key(true)) {
    return false;
  }
  return seal_one(content_type, data, length);
}

// One record: the header (the AEAD's additional data, section 5.2), then the
// content and its type sealed in place, then the tag. No padding.
bool RecordLayer::seal_one(unsigned char content_type, const unsigned char* data, size_t length) {
  const size_t sealed = length + 1;
  const size_t body_bytes = sealed + kTagBytes;
  const size_t start = out_.size();
  out_.resize(start + kHeaderBytes + body_bytes);
  auto* record = reinterpret_cast<unsigned char*>(out_.data() + start);
  record[0] = kApplicationData;
  record[1] = 0x03;  // legacy_record_version TLS 1.2
  record[2] = 0x03;
  record[3] = static_cast<unsigned char>(body_bytes >> 8);
  record[4] = static_cast<unsigned char>(body_bytes);
  unsigned char* body = record + kHeaderBytes;
  std::memcpy(body, data, length);
  body[length] = content_type;
  if (!crypt(write_, record, body, sealed, body + sealed)) {
    OPENSSL_cleanse(body, sealed);  // the plaintext must not go out
    out_.resize(start);
    return false;
  }
  ++write_.sequence;
  return true;
}

// Sends a KeyUpdate under the current key, then moves to the next one.
bool RecordLayer::update_write_key(bool request_update) {
  const unsigned char message[5] = {kKeyUpdate, 0, 0, 1,
                                    static_cast<unsigned char>(request_update ? 1 : 0)};
  if (!seal_one(kHandshake, message, sizeof message) || !write_.keys.update(suite_)) {
    close_sent_ = true;  // the keys are gone: nothing more can be sent
    return false;
  }
  write_.sequence = 0;
  write_.aead.reset();
  return true;
}

// Seals (write_) or opens (read_) `length` bytes in place, with the record
// header as additional data; the tag is written to, or checked from, `tag`.
// The AEAD context is made from the keys on first use after an idle spell.
// Only return values are looked at, never the thread's error queue, so the
// queue is not cleared before each record (that was 1.4 % of a kept-alive
// request's CPU in a profile); what a failure queued is cleared here.
bool RecordLayer::crypt(Direction& direction, const unsigned char* header, unsigned char* data,
                        size_t length, unsigned char* tag) {
  if (!direction.aead) {
    direction.aead.reset(EVP_CIPHER_CTX_new());
    if (!direction.aead ||
        EVP_CipherInit_ex2(direction.aead.get(), aead_of(suite_), direction.keys.key(), nullptr,
                           direction.encrypt ? 1 : 0, nullptr) != 1) {
      direction.aead.reset();
      ERR_clear_error();
      return false;
    }
  }
  EVP_CIPHER_CTX* ctx = direction.aead.get();
  const auto nonce = direction.keys.nonce(direction.sequence);
  const int n = static_cast<int>(length);
  int written = 0;
  bool ok = EVP_CipherInit_ex2(ctx, nullptr, nullptr, nonce.data(), -1, nullptr) == 1 &&
            EVP_CipherUpdate(ctx, nullptr, &written, header, kHeaderBytes) == 1;
  if (direction.encrypt) {
    ok = ok && EVP_CipherUpdate(ctx, data, &written, data, n) == 1 &&
         EVP_CipherFinal_ex(ctx, data + written, &written) == 1 &&
         EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, kTagBytes, tag) == 1;
  } else {
    ok = ok && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, kTagBytes, tag) == 1 &&
         EVP_CipherUpdate(ctx, data, &written, data, n) == 1 &&
         EVP_CipherFinal_ex(ctx, data + written, &written) == 1;
  }
  if (!ok) {
    ERR_clear_error();
  }
  return ok;
}

RecordLayer::Status RecordLayer::fail(unsigned char alert, std::string detail) {
  failed_ = true;
  failure_detail_ = std::move(detail);
  if (!close_sent_) {
    const unsigned char message[2] = {kFatal, alert};
    seal_one(kAlert, message, sizeof message);  // best effort: the connection ends anyway
    close_sent_ = true;
  }
  return Status::kFailed;
}

}  // namespace wif::tls
