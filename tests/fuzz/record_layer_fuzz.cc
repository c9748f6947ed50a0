// libFuzzer harness for tls::RecordLayer, the TLS 1.3 record protection that
// takes over a connection after its handshake (issue #7).
//
// tls_session_fuzz cannot forge a record that authenticates, so it never
// gets past the AEAD. Here the harness holds both traffic secrets (those of
// RFC 8448 section 3), plays the client and seals whatever inner plaintext
// the input asks for, so the server opens authentic records with arbitrary
// content types, content, padding, alerts and KeyUpdates, whole or split.
// The harness follows its own KeyUpdates, so later records still
// authenticate. The first two bytes pick the suite, a small records_per_key
// (so the server updates its key often) and how many ticket records went
// out before the hand-over; the rest is a script of operations (see Op).
//
// Every step checks the layer's contract:
//   - every record the server sends opens under the key a client following
//     the server's KeyUpdates holds, and nothing follows its close_notify or
//     fatal alert; no key protects more than records_per_key records plus
//     the KeyUpdate that retires it;
//   - the client reads exactly what the server wrote, and the server reads a
//     prefix of what the client sealed as application data, all of it when
//     every record was one the layer must accept;
//   - after read() reported kFailed or kClosed nothing more is appended;
//   - write() fails exactly when the layer has failed or sent close_notify;
//   - pending_ciphertext() stays within a bound set by what was written and
//     sealed, whatever raw bytes were fed;
//   - no plaintext of a server write shows up in the ciphertext.
// Sanitizers catch the rest.
#include <openssl/err.h>
#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "src/tls/openssl_helpers.h"
#include "src/tls/record_layer.h"
#include "src/tls/traffic_keys.h"
#include "tests/fuzz/fuzz_input.h"

namespace {

using wif::fuzz::check;
using wif::fuzz::FuzzInput;
using wif::tls::CipherSuite;
using wif::tls::RecordLayer;
using wif::tls::TrafficKeys;
using Status = RecordLayer::Status;

// Content types and the KeyUpdate handshake type (RFC 8446 sections 4, 5.1).
constexpr unsigned char kAlert = 21;
constexpr unsigned char kHandshake = 22;
constexpr unsigned char kApplicationData = 23;
constexpr unsigned char kKeyUpdate = 24;
constexpr unsigned char kNewSessionTicket = 4;

constexpr size_t kHeaderBytes = 5;
constexpr size_t kTagBytes = 16;
constexpr size_t kMaxContentBytes = 16384;
// The longest record a sender without padding makes: content, type, tag.
constexpr size_t kMaxServerRecordBytes = kMaxContentBytes + 1 + kTagBytes;
// More than any one server record adds besides its content: header, type
// and tag (22 bytes), and a KeyUpdate (27 bytes) that may go before it.
constexpr size_t kRecordOverheadBound = 64;
constexpr size_t kMarkerBytes = 16;
// What the harness makes up itself (server writes, padding) per input, so
// that a short input cannot ask for hundreds of megabytes.
constexpr size_t kMadeUpBudget = size_t{1} << 20;

// RFC 8448 section 3's application traffic secrets, the client's then the
// server's. TLS_AES_256_GCM_SHA384 takes 48-byte secrets, so each runs on
// into the next 16 bytes (the client's first ones again at the end): any
// fixed value does, as the harness derives both ends from it.
constexpr char kSecrets[] =
    "\x9e\x40\x64\x6c\xe7\x9a\x7f\x9d\xc0\x5a\xf8\x88\x9b\xce\x65\x52"
    "\x87\x5a\xfa\x0b\x06\xdf\x00\x87\xf7\x92\xeb\xb7\xc1\x75\x04\xa5"
    "\xa1\x1a\xf9\xf0\x55\x31\xf8\x56\xad\x47\x11\x6b\x45\xa9\x50\x32"
    "\x82\x04\xb4\xf4\x4b\xfb\x6b\x3a\x4b\x4f\x1f\x3f\xcb\x63\x16\x43"
    "\x9e\x40\x64\x6c\xe7\x9a\x7f\x9d\xc0\x5a\xf8\x88\x9b\xce\x65\x52";
const auto* const kClientSecret = reinterpret_cast<const unsigned char*>(kSecrets);
const auto* const kServerSecret = reinterpret_cast<const unsigned char*>(kSecrets + 32);

const CipherSuite& suite_for(uint8_t choice) {
  static const uint16_t kIds[] = {0x1301, 0x1301, 0x1302, 0x1303};
  const CipherSuite* suite = wif::tls::find_cipher_suite(kIds[choice % 4]);
  if (suite == nullptr) {
    suite = wif::tls::find_cipher_suite(0x1301);
  }
  check(suite != nullptr);
  return *suite;
}

const unsigned char* u8(const std::string& s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

// One direction's keys as the harness's client holds them, written from
// RFC 8446 section 5.2 apart from RecordLayer.
class Direction {
 public:
  Direction(const CipherSuite& suite, const unsigned char* secret) : suite_(suite) {
    check(keys_.derive(suite, secret, suite.secret_bytes));
  }

  // A record of `inner` (content, type, padding) under the current key.
  std::string seal(std::string inner) {
    const size_t length = inner.size() + kTagBytes;
    std::string record{kApplicationData, 3, 3, static_cast<char>(length >> 8),
                       static_cast<char>(length)};
    std::string tag(kTagBytes, '\0');
    check(crypt(true, record, inner, tag));
    return record + inner + tag;
  }

  // Opens a whole record in place; false if it does not authenticate.
  bool open(const std::string& header, std::string& body, std::string& tag) {
    return crypt(false, header, body, tag);
  }

  void next_key() {
    check(keys_.update(suite_));
    sequence_ = 0;
    ++generation_;
  }

  uint64_t sequence() const { return sequence_; }
  uint64_t generation() const { return generation_; }

 private:
  bool crypt(bool encrypt, const std::string& header, std::string& data, std::string& tag) {
    wif::tls::EvpCipherCtxPtr ctx(EVP_CIPHER_CTX_new());
    check(ctx != nullptr);
    const auto nonce = keys_.nonce(sequence_);
    auto* p = reinterpret_cast<unsigned char*>(data.data());
    auto* t = reinterpret_cast<unsigned char*>(tag.data());
    int n = 0;
    bool ok = EVP_CipherInit_ex2(ctx.get(), wif::tls::aead_of(suite_), keys_.key(), nonce.data(),
                                 encrypt ? 1 : 0, nullptr) == 1 &&
              EVP_CipherUpdate(ctx.get(), nullptr, &n, u8(header), kHeaderBytes) == 1;
    if (!encrypt) {
      ok = ok && EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_AEAD_SET_TAG, kTagBytes, t) == 1;
    }
    ok = ok && EVP_CipherUpdate(ctx.get(), p, &n, p, static_cast<int>(data.size())) == 1 &&
         EVP_CipherFinal_ex(ctx.get(), p + n, &n) == 1;
    if (encrypt) {
      ok = ok && EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_AEAD_GET_TAG, kTagBytes, t) == 1;
    }
    ERR_clear_error();
    if (ok) {
      ++sequence_;
    }
    return ok;
  }

  const CipherSuite& suite_;
  TrafficKeys keys_;
  uint64_t sequence_ = 0;
  uint64_t generation_ = 0;
};

// What one script step does. The byte that picks it is taken modulo kCount.
enum Op : uint8_t {
  kSealRecord,     // type, content length, content, padding: any inner plaintext
  kSealData,       // application data, the common case
  kSealKeyUpdate,  // a whole KeyUpdate; request_update 0, 1 or an illegal 2
  kSealAlert,      // close_notify, user_canceled or any other
  kRawBytes,       // unauthenticated bytes: garbage, or headers of any length
  kTamper,         // flips bits in a byte not yet fed
  kReplay,         // one of the last records sealed, again
  kFeedAll,        // everything not yet fed, in pieces of one size, reading after each
  kFeedSome,       // the next few bytes, then a read
  kServerWrite,    // the server writes n bytes, up to two records' worth
  kServerClose,
  kReleaseBuffers,
  kTake,  // the client takes ciphertext with a cap
  kRead,  // a read with nothing new fed
  kCount,
};

class Harness {
 public:
  Harness(FuzzInput& in, const CipherSuite& suite, uint64_t records_per_key, uint64_t tickets)
      : in_(in),
        records_per_key_(records_per_key),
        tickets_(tickets),
        client_write_(suite, kClientSecret),
        client_read_(suite, kServerSecret) {
    layer_ = RecordLayer::create(suite, kClientSecret, kServerSecret, tickets, records_per_key);
    check(layer_ != nullptr);

    // The tickets OpenSSL sent before the hand-over, sealed here under the
    // server's key as it would have.
    Direction server_write(suite, kServerSecret);
    for (uint64_t i = 0; i < tickets; ++i) {
      const std::string ticket = server_write.seal({kNewSessionTicket, 0, 0, 0, kHandshake});
      layer_->queue_sent(ticket.data(), ticket.size());
      ticket_bytes_ += ticket.size();
    }
  }

  void run() {
    while (!in_.empty()) {
      step(static_cast<Op>(in_.byte() % kCount));
      check_output_bound();
    }
    finish();
  }

 private:
  void step(Op op) {
    switch (op) {
      case kSealRecord: {
        const unsigned char type = in_.byte();
        const std::string_view content = in_.take(size(kMaxContentBytes + 600));
        const uint8_t pad = in_.byte();
        seal(type, content, made_up(pad < 200 ? pad % 8 : size_t{pad - 200u} * 300));
        break;
      }
      case kSealData:
        seal(kApplicationData, in_.take(size(kMaxContentBytes + 16)), 0);
        break;
      case kSealKeyUpdate: {
        const char request = static_cast<char>(in_.byte() % 3);
        seal(kHandshake, std::string{kKeyUpdate, 0, 0, 1, request}, 0);
        break;
      }
      case kSealAlert: {
        const uint8_t b = in_.byte();
        const unsigned char description = b < 64 ? 0 : b < 128 ? 90 : b;
        seal(kAlert, std::string{static_cast<char>(1 + (b & 1)), static_cast<char>(description)},
             0);
        break;
      }
      case kRawBytes:
        wire_.append(in_.take(in_.length(64)));
        unmodelled();
        break;
      case kTamper:
        tamper();
        break;
      case kReplay:
        if (!recent_.empty()) {
          wire_.append(recent_[in_.byte() % recent_.size()]);
          unmodelled();
        }
        break;
      case kFeedAll:
        feed(wire_.size() - fed_, in_.length(4096));
        break;
      case kFeedSome: {
        const size_t n = std::min(in_.length(64), wire_.size() - fed_);
        feed(n, in_.length(64));
        break;
      }
      case kServerWrite:
        server_write(made_up(size(32767)));
        break;
      case kServerClose:
        server_close();
        break;
      case kReleaseBuffers: {
        // Only ever refused while something is pending: nothing is dropped.
        const size_t pending = layer_->pending_ciphertext();
        layer_->release_buffers();
        check(layer_->pending_ciphertext() == pending);
        break;
      }
      case kTake:
        take(size(20000));
        break;
      case kRead:
        read();
        break;
      case kCount:
        break;
    }
  }

  // A size from 0 to max (at most 32,767), small ones common. Unlike
  // FuzzInput::length, which reaches only part of 17..max once max passes
  // 14,336 (its two-byte values start at 200 << 8), it reaches them all.
  size_t size(size_t max) {
    const size_t raw = in_.byte();
    if (raw < 128) {
      return raw % 17;
    }
    const size_t low = in_.byte();
    return ((raw - 128) << 8 | low) % (max + 1);
  }

  size_t made_up(size_t n) {
    n = std::min(n, made_up_left_);
    made_up_left_ -= n;
    return n;
  }

  // Seals content + type + padding under the client's key and appends it to
  // the wire; keeps the client's key in step with the server's reading of it.
  void seal(unsigned char type, std::string_view content, size_t padding) {
    std::string inner(content);
    inner.push_back(static_cast<char>(type));
    inner.append(padding, '\0');
    const std::string record = client_write_.seal(inner);
    wire_.append(record);
    recent_.push_back(record);
    if (recent_.size() > 8) {
      recent_.pop_front();
    }
    follow_inner_plaintext(inner);
  }

  // What the server makes of the record (section 5.2): the content type is
  // the last non-zero byte. Application data counts towards what it may
  // deliver; a KeyUpdate moves the client to its next key, whole or
  // assembled from parts, as section 4.6.3 has it.
  void follow_inner_plaintext(std::string inner) {
    const bool fits = inner.size() <= kMaxContentBytes + 1;
    while (!inner.empty() && inner.back() == 0) {
      inner.pop_back();
    }
    if (inner.empty()) {
      unmodelled();
      return;
    }
    const auto type = static_cast<unsigned char>(inner.back());
    inner.pop_back();
    if (type == kApplicationData) {
      sealed_data_.append(inner);
    }
    if (!fits || (type != kHandshake && !handshake_.empty())) {
      handshake_.clear();
      unmodelled();
      return;
    }
    // More than 32 records in a row without application data end the
    // connection, whatever they are.
    if (type == kApplicationData && !inner.empty()) {
      records_without_data_ = 0;
    } else if (++records_without_data_ > 32) {
      unmodelled();
      return;
    }
    switch (type) {
      case kApplicationData:
        if (!model_closed_) {
          expected_data_.append(inner);
        }
        return;
      case kAlert:
        if (inner.size() == 2 && inner[1] == 0) {
          model_closed_ = true;
        } else if (inner.size() != 2 || inner[1] != 90) {
          unmodelled();
        }
        return;
      case kHandshake:
        follow_handshake(inner);
        return;
      default:
        unmodelled();
        return;
    }
  }

  void follow_handshake(std::string_view content) {
    const bool whole = handshake_.empty() && content.size() == 5;
    if (content.empty()) {
      unmodelled();
    }
    for (size_t i = 0; i < content.size(); ++i) {
      handshake_.push_back(content[i]);
      if (handshake_.size() == 4 && handshake_ != std::string{kKeyUpdate, 0, 0, 1}) {
        handshake_.clear();
        unmodelled();
        return;
      }
      if (handshake_.size() == 5) {
        const auto request = static_cast<unsigned char>(handshake_[4]);
        handshake_.clear();
        if (i + 1 != content.size() || request > 1) {
          unmodelled();
          return;
        }
        client_write_.next_key();
        client_update_requests_ += request;
        if (!whole) {
          unmodelled();
        }
        return;
      }
    }
    unmodelled();  // a KeyUpdate left in parts
  }

  // From here on the harness no longer predicts exactly what the server
  // reads; it still checks that it reads a prefix of what was sealed.
  void unmodelled() {
    if (!model_closed_) {
      modelled_ = false;
    }
  }

  void tamper() {
    if (fed_ == wire_.size()) {
      return;
    }
    const size_t high = in_.byte();
    const size_t at = fed_ + (high << 8 | in_.byte()) % (wire_.size() - fed_);
    wire_[at] = static_cast<char>(wire_[at] ^ (in_.byte() | 1));
    modelled_ = false;
  }

  // Feeds `n` bytes of the wire in pieces, reading after each, as the
  // connection does on every socket read.
  void feed(size_t n, size_t piece) {
    const size_t end = fed_ + n;
    while (fed_ < end) {
      const size_t k = std::min(piece, end - fed_);
      layer_->feed(wire_.data() + fed_, k);
      fed_ += k;
      read();
    }
    if (fed_ == wire_.size()) {
      wire_.clear();
      fed_ = 0;
      check_model();
    }
  }

  void read() {
    const size_t before = received_.size();
    const bool failed_before = !layer_->failure_detail().empty();
    const Status status = layer_->read(received_);

    // Once failed, failed for good; once closed, closed (or failed, by a
    // write after the server's own close_notify); nothing read after either.
    // The read that fails or closes may still deliver the records before.
    if (read_status_ == Status::kFailed || failed_before) {
      check(status == Status::kFailed);
    } else if (read_status_ == Status::kClosed) {
      check(status != Status::kOk);
    }
    if (read_status_ != Status::kOk || failed_before) {
      check(received_.size() == before);
    }
    if (status == Status::kFailed) {
      check(!layer_->failure_detail().empty());
    }
    read_status_ = status;

    // Only authentic application data is ever delivered, in order.
    check(sealed_data_.compare(0, received_.size(), received_) == 0);
  }

  // Everything fed: when every record was one the layer must accept, it read
  // all of the data, and closed exactly if a close_notify was among them.
  void check_model() {
    if (!modelled_ || server_refused_write_) {
      return;
    }
    check(received_ == expected_data_);
    check(read_status_ == (model_closed_ ? Status::kClosed : Status::kOk));
    check(layer_->failure_detail().empty());
  }

  // Plaintext the server writes: a pseudo-random stream, so that 16 bytes
  // of it turning up in ciphertext cannot be chance.
  std::string plaintext(size_t n) {
    std::string out(n, '\0');
    for (char& c : out) {
      plaintext_state_ = plaintext_state_ * 6364136223846793005u + 1442695040888963407u;
      c = static_cast<char>(plaintext_state_ >> 56);
    }
    return out;
  }

  void server_write(size_t n) {
    const bool may_write = !layer_->close_sent() && layer_->failure_detail().empty();
    const std::string data = plaintext(n);
    const Status status = layer_->write(data);
    check((status == Status::kOk) == may_write);
    check(status == Status::kOk || status == Status::kFailed);
    if (status != Status::kOk) {
      server_refused_write_ = true;
      return;
    }
    written_.append(data);
    data_records_ += (n + kMaxContentBytes - 1) / kMaxContentBytes;
    if (n >= kMarkerBytes) {
      markers_.emplace_back(data, 0, kMarkerBytes);
    }
  }

  void server_close() {
    const bool failed = !layer_->failure_detail().empty();
    layer_->close();
    check(layer_->close_sent() || failed);
    ++closes_;
  }

  // The client takes up to `cap` bytes and opens every whole record.
  void take(size_t cap) {
    const size_t pending = layer_->pending_ciphertext();
    std::string chunk(cap, '\0');
    const size_t n = layer_->take_ciphertext(chunk.data(), cap);
    check(n == std::min(cap, pending));
    check(layer_->pending_ciphertext() == pending - n);
    chunk.resize(n);
    taken_bytes_ += n;
    check_no_plaintext(chunk);
    client_in_.append(chunk);
    open_server_records();
  }

  // Each marker (the start of one write) is looked for in what was taken
  // since that write, across chunk boundaries.
  void check_no_plaintext(const std::string& chunk) {
    const std::string window = taken_tail_ + chunk;
    for (const std::string& marker : markers_) {
      check(window.find(marker) == std::string::npos);
    }
    taken_tail_ = window.substr(window.size() - std::min(window.size(), kMarkerBytes - 1));
    if (layer_->pending_ciphertext() == 0) {
      markers_.clear();
    }
  }

  void open_server_records() {
    size_t offset = 0;
    while (client_in_.size() - offset >= kHeaderBytes) {
      const auto* h = u8(client_in_) + offset;
      const size_t length = size_t{h[3]} << 8 | h[4];
      check(h[0] == kApplicationData && h[1] == 3 && h[2] == 3);
      check(length > kTagBytes && length <= kMaxServerRecordBytes);
      if (client_in_.size() - offset - kHeaderBytes < length) {
        break;
      }
      const std::string header = client_in_.substr(offset, kHeaderBytes);
      std::string body = client_in_.substr(offset + kHeaderBytes, length - kTagBytes);
      std::string tag = client_in_.substr(offset + kHeaderBytes + length - kTagBytes, kTagBytes);
      offset += kHeaderBytes + length;
      const uint64_t sequence = client_read_.sequence();
      check(client_read_.open(header, body, tag));
      on_server_record(sequence, body);
    }
    client_in_.erase(0, offset);
  }

  // One opened server record. The server never pads, so its last byte is
  // the content type.
  void on_server_record(uint64_t sequence, std::string& body) {
    check(!server_ended_);
    check(!body.empty() && body.back() != 0);
    const auto type = static_cast<unsigned char>(body.back());
    body.pop_back();
    // A key protects records_per_key records, then the KeyUpdate that
    // retires it (or an alert) may be one more.
    check(sequence <= records_per_key_);

    switch (type) {
      case kApplicationData:
        check(sequence < records_per_key_);
        client_data_.append(body);
        check(written_.compare(0, client_data_.size(), client_data_) == 0);
        return;
      case kAlert:
        check(body.size() == 2);
        check((body[0] == 1 && body[1] == 0) || body[0] == 2);
        server_ended_ = true;
        return;
      case kHandshake:
        if (client_read_.generation() == 0 && sequence < tickets_) {
          check(body == std::string{kNewSessionTicket, 0, 0, 0});
          return;
        }
        check(body.size() == 5 && body.substr(0, 4) == std::string{kKeyUpdate, 0, 0, 1});
        if (body[4] == 1) {
          // Its own: due exactly when the key has protected records_per_key.
          check(sequence == records_per_key_);
        } else {
          // An answer to the client's update_requested, one each at most.
          check(body[4] == 0);
          check(++server_update_answers_ <= client_update_requests_);
        }
        client_read_.next_key();
        return;
      default:
        fail_invariant();
    }
  }

  // All the server ever produced is what was written, with a bounded
  // overhead per record it had reason to send; raw input adds nothing.
  void check_output_bound() {
    const size_t produced = taken_bytes_ + layer_->pending_ciphertext();
    const size_t records = data_records_ + client_update_requests_ + closes_ + 2;
    check(produced <= ticket_bytes_ + written_.size() + kRecordOverheadBound * records);
  }

  // The input is spent: the client's records all reach the server, and the
  // server's all reach the client.
  void finish() {
    feed(wire_.size() - fed_, wire_.size() - fed_ + 1);
    take(layer_->pending_ciphertext());
    check(client_in_.empty());
    check(client_data_ == written_);
    // close_notify or a fatal alert went out exactly when the layer says so.
    check(server_ended_ == layer_->close_sent());
  }

  [[noreturn]] static void fail_invariant() { wif::fuzz::fail_invariant(); }

  FuzzInput& in_;
  const uint64_t records_per_key_;
  const uint64_t tickets_;
  std::unique_ptr<RecordLayer> layer_;
  size_t made_up_left_ = kMadeUpBudget;
  Direction client_write_;
  Direction client_read_;

  // The client's side of the wire: sealed records, raw bytes, replays.
  std::string wire_;
  size_t fed_ = 0;
  std::deque<std::string> recent_;
  std::string handshake_;              // parts of a KeyUpdate split across records
  unsigned records_without_data_ = 0;  // in a row, as the server counts them
  uint64_t client_update_requests_ = 0;

  // What the server must read: a prefix of sealed_data_; expected_data_
  // exactly while modelled_.
  std::string sealed_data_;
  std::string expected_data_;
  bool modelled_ = true;
  bool model_closed_ = false;
  std::string received_;
  Status read_status_ = Status::kOk;

  // The server's side.
  size_t ticket_bytes_ = 0;
  std::string written_;
  uint64_t data_records_ = 0;
  uint64_t closes_ = 0;
  bool server_refused_write_ = false;
  uint64_t plaintext_state_ = 1;
  std::vector<std::string> markers_;
  std::string taken_tail_;

  // What the client made of it.
  size_t taken_bytes_ = 0;
  std::string client_in_;
  std::string client_data_;
  bool server_ended_ = false;
  uint64_t server_update_answers_ = 0;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzInput in(data, size);
  const CipherSuite& suite = suite_for(in.byte());
  const uint8_t keys = in.byte();
  const uint64_t records_per_key = 1 + keys % 8;
  const uint64_t tickets = (keys >> 3) % (records_per_key + 1);
  Harness(in, suite, records_per_key, tickets).run();
  ERR_clear_error();
  return 0;
}
