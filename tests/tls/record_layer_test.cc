#include "src/tls/record_layer.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <string>
#include <utility>
#include <vector>

#include "src/tls/traffic_keys.h"

namespace wif::tls {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using Status = RecordLayer::Status;

// Bytes from hex written in pairs, spaces ignored.
std::string bytes(std::string_view hex) {
  std::string out;
  int high = -1;
  for (char c : hex) {
    if (c == ' ' || c == '\n') {
      continue;
    }
    const int v = c <= '9' ? c - '0' : c - 'a' + 10;
    if (high < 0) {
      high = v;
    } else {
      out.push_back(static_cast<char>(high << 4 | v));
      high = -1;
    }
  }
  return out;
}

const unsigned char* u8(const std::string& s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

// RFC 8448 section 3, a simple 1-RTT handshake under TLS_AES_128_GCM_SHA256:
// the application traffic secrets, the keys and ivs they give, and the
// records of the trace after the handshake. The server's data record is its
// second under its key (the NewSessionTicket was the first); the client's is
// its first.
const std::string kClientSecret = bytes(
    "9e 40 64 6c e7 9a 7f 9d c0 5a f8 88 9b ce 65 52"
    "87 5a fa 0b 06 df 00 87 f7 92 eb b7 c1 75 04 a5");
const std::string kServerSecret = bytes(
    "a1 1a f9 f0 55 31 f8 56 ad 47 11 6b 45 a9 50 32"
    "82 04 b4 f4 4b fb 6b 3a 4b 4f 1f 3f cb 63 16 43");
const std::string kClientKey = bytes("17 42 2d da 59 6e d5 d9 ac d8 90 e3 c6 3f 50 51");
const std::string kClientIv = bytes("5b 78 92 3d ee 08 57 90 33 e5 23 d9");
const std::string kServerKey = bytes("9f 02 28 3b 6c 9c 07 ef c2 6b b9 f2 ac 92 e3 56");
const std::string kServerIv = bytes("cf 78 2b 88 dd 83 54 9a ad f1 e9 84");
const std::string kClientRecord = bytes(
    "17 03 03 00 43 a2 3f 70 54 b6 2c 94 d0 af fa fe 82 28 ba 55"
    "cb ef ac ea 42 f9 14 aa 66 bc ab 3f 2b 98 19 a8 a5 b4 6b 39"
    "5b d5 4a 9a 20 44 1e 2b 62 97 4e 1f 5a 62 92 a2 97 70 14 bd"
    "1e 3d ea e6 3a ee bb 21 69 49 15 e4");
const std::string kServerRecord = bytes(
    "17 03 03 00 43 2e 93 7e 11 ef 4a c7 40 e5 38 ad 36 00 5f c4"
    "a4 69 32 fc 32 25 d0 5f 82 aa 1b 36 e3 0e fa f9 7d 90 e6 df"
    "fc 60 2d cb 50 1a 59 a8 fc c4 9c 4b f2 e5 f0 a2 1c 00 47 c2"
    "ab f3 32 54 0d d0 32 e1 67 c2 95 5d");
const std::string kClientCloseNotify =
    bytes("17 03 03 00 13 c9 87 27 60 65 56 66 b7 4d 7f f1 15 3e fd 6d b6 d0 b0 e3");
const std::string kServerCloseNotify =
    bytes("17 03 03 00 13 b5 8f d6 71 66 eb f5 99 d2 47 20 cf be 7e fa 7a 88 64 a9");

// The 50 bytes each side sends in the trace: 00 01 ... 31.
std::string trace_payload() {
  std::string payload;
  for (int i = 0; i < 50; ++i) {
    payload.push_back(static_cast<char>(i));
  }
  return payload;
}

const CipherSuite& aes128() { return *find_cipher_suite(0x1301); }

constexpr unsigned char kAlert = 21;
constexpr unsigned char kHandshake = 22;
constexpr unsigned char kData = 23;

// One record as the test's client sees it: the content type inside, and the
// content.
struct Opened {
  int type;
  std::string content;
  bool operator==(const Opened& other) const {
    return type == other.type && content == other.content;
  }
};

std::ostream& operator<<(std::ostream& out, const Opened& r) {
  return out << "{type " << r.type << ", " << r.content.size() << " bytes}";
}

Opened alert(unsigned char level, unsigned char description) {
  return {kAlert, std::string{static_cast<char>(level), static_cast<char>(description)}};
}

Opened key_update(unsigned char request) {
  return {kHandshake, std::string{24, 0, 0, 1, static_cast<char>(request)}};
}

// The client's end, written from RFC 8446 section 5.2 apart from RecordLayer:
// it seals whatever inner plaintext a test makes up, and opens what the
// server sent.
class Client {
 public:
  Client(const std::string& client_secret, const std::string& server_secret,
         uint64_t server_records) {
    EXPECT_TRUE(write_.derive(aes128(), u8(client_secret), client_secret.size()));
    EXPECT_TRUE(read_.derive(aes128(), u8(server_secret), server_secret.size()));
    read_sequence_ = server_records;
  }

  std::string seal(unsigned char type, std::string_view content, size_t padding = 0) {
    std::string inner(content);
    inner.push_back(static_cast<char>(type));
    inner.append(padding, '\0');
    const size_t length = inner.size() + 16;
    std::string record{23, 3, 3, static_cast<char>(length >> 8), static_cast<char>(length)};
    std::string tag(16, '\0');
    EXPECT_TRUE(aead(write_, write_sequence_++, true, record, inner, tag));
    return record + inner + tag;
  }

  // Opens every whole record in `wire`, moving to the next read key after a
  // KeyUpdate, as RFC 8446 section 4.6.3 has a client do.
  std::vector<Opened> open_all(std::string_view wire) {
    std::vector<Opened> records;
    while (wire.size() >= 5) {
      const size_t length =
          static_cast<unsigned char>(wire[3]) << 8 | static_cast<unsigned char>(wire[4]);
      std::string header(wire.substr(0, 5));
      std::string body(wire.substr(5, length - 16));
      std::string tag(wire.substr(5 + length - 16, 16));
      wire.remove_prefix(5 + length);
      if (!aead(read_, read_sequence_++, false, header, body, tag)) {
        ADD_FAILURE() << "a server record does not open";
        return records;
      }
      while (!body.empty() && body.back() == 0) {
        body.pop_back();
      }
      const int type = static_cast<unsigned char>(body.back());
      body.pop_back();
      records.push_back({type, body});
      if (type == kHandshake && !body.empty() && body[0] == 24) {
        EXPECT_TRUE(read_.update(aes128()));
        read_sequence_ = 0;
      }
    }
    EXPECT_TRUE(wire.empty()) << "a partial record";
    return records;
  }

  void next_write_key() {
    EXPECT_TRUE(write_.update(aes128()));
    write_sequence_ = 0;
  }

 private:
  static bool aead(const TrafficKeys& keys, uint64_t sequence, bool encrypt,
                   const std::string& header, std::string& data, std::string& tag) {
    EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
    const auto nonce = keys.nonce(sequence);
    auto* p = reinterpret_cast<unsigned char*>(data.data());
    auto* t = reinterpret_cast<unsigned char*>(tag.data());
    int n = 0;
    bool ok = EVP_CipherInit_ex2(ctx, EVP_aes_128_gcm(), keys.key(), nonce.data(), encrypt,
                                 nullptr) == 1 &&
              EVP_CipherUpdate(ctx, nullptr, &n, u8(header), 5) == 1;
    if (!encrypt) {
      ok = ok && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, 16, t) == 1;
    }
    ok = ok && EVP_CipherUpdate(ctx, p, &n, p, static_cast<int>(data.size())) == 1 &&
         EVP_CipherFinal_ex(ctx, p + n, &n) == 1;
    if (encrypt) {
      ok = ok && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, 16, t) == 1;
    }
    EVP_CIPHER_CTX_free(ctx);
    return ok;
  }

  TrafficKeys write_;
  TrafficKeys read_;
  uint64_t write_sequence_ = 0;
  uint64_t read_sequence_ = 0;
};

std::string take_all(RecordLayer& layer) {
  std::string out(layer.pending_ciphertext(), '\0');
  out.resize(layer.take_ciphertext(out.data(), out.size()));
  return out;
}

TEST(TrafficKeys, DerivesTheRfc8448ApplicationKeysAndIvs) {
  TrafficKeys client;
  TrafficKeys server;
  ASSERT_TRUE(client.derive(aes128(), u8(kClientSecret), kClientSecret.size()));
  ASSERT_TRUE(server.derive(aes128(), u8(kServerSecret), kServerSecret.size()));

  EXPECT_EQ(std::string(reinterpret_cast<const char*>(client.key()), 16), kClientKey);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(client.iv()), 12), kClientIv);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(server.key()), 16), kServerKey);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(server.iv()), 12), kServerIv);
}

TEST(TrafficKeys, XorsTheSequenceNumberIntoTheEndOfTheIv) {
  TrafficKeys server;
  ASSERT_TRUE(server.derive(aes128(), u8(kServerSecret), kServerSecret.size()));
  const auto as_string = [](const auto& nonce) {
    return std::string(reinterpret_cast<const char*>(nonce.data()), nonce.size());
  };

  EXPECT_EQ(as_string(server.nonce(0)), kServerIv);
  EXPECT_EQ(as_string(server.nonce(0x0102030405060708)),
            bytes("cf 78 2b 88 dc 81 57 9e a8 f7 ee 8c"));
}

TEST(TrafficKeys, RefusesASecretOfTheWrongLength) {
  TrafficKeys keys;
  EXPECT_FALSE(keys.derive(aes128(), u8(kServerSecret), 31));
  EXPECT_FALSE(keys.update(aes128()));  // nothing to update from
}

TEST(TrafficKeys, KnowsTheTls13AeadSuitesAndLeavesCcmToOpenSsl) {
  ASSERT_NE(find_cipher_suite(0x1301), nullptr);
  EXPECT_EQ(find_cipher_suite(0x1301)->name, "TLS_AES_128_GCM_SHA256");
  ASSERT_NE(find_cipher_suite(0x1302), nullptr);
  EXPECT_EQ(find_cipher_suite(0x1302)->secret_bytes, 48u);
  ASSERT_NE(find_cipher_suite(0x1303), nullptr);
  EXPECT_EQ(find_cipher_suite(0x1303)->name, "TLS_CHACHA20_POLY1305_SHA256");
  EXPECT_EQ(find_cipher_suite(0x1304), nullptr);  // TLS_AES_128_CCM_SHA256
  EXPECT_EQ(find_cipher_suite(0x1305), nullptr);  // TLS_AES_128_CCM_8_SHA256
  EXPECT_EQ(find_cipher_suite(0xc02f), nullptr);  // a TLS 1.2 suite
}

class TlsRecordLayer : public ::testing::Test {
 protected:
  // The layer of the trace's server, after its one ticket record.
  std::unique_ptr<RecordLayer> layer(uint64_t records_per_key = RecordLayer::kRecordsPerKey) {
    return RecordLayer::create(aes128(), u8(kClientSecret), u8(kServerSecret), 1, records_per_key);
  }

  // Feeds `wire` and reads; what came out is in read_.
  Status feed_and_read(RecordLayer& layer, const std::string& wire) {
    layer.feed(wire.data(), wire.size());
    return layer.read(read_);
  }

  Client client_{kClientSecret, kServerSecret, 1};
  std::string read_;
};

TEST_F(TlsRecordLayer, SealsTheRfc8448ServerRecord) {
  auto server = layer();
  ASSERT_NE(server, nullptr);
  ASSERT_EQ(server->write(trace_payload()), Status::kOk);
  EXPECT_EQ(take_all(*server), kServerRecord);
}

TEST_F(TlsRecordLayer, OpensTheRfc8448ClientRecord) {
  auto server = layer();
  EXPECT_EQ(feed_and_read(*server, kClientRecord), Status::kOk);
  EXPECT_EQ(read_, trace_payload());
  EXPECT_EQ(server->pending_ciphertext(), 0u);
}

TEST_F(TlsRecordLayer, EndsBothWaysAsTheRfc8448TraceDoes) {
  auto server = layer();
  EXPECT_EQ(feed_and_read(*server, kClientRecord + kClientCloseNotify), Status::kClosed);
  EXPECT_EQ(read_, trace_payload());

  ASSERT_EQ(server->write(trace_payload()), Status::kOk);
  server->close();
  EXPECT_TRUE(server->close_sent());
  EXPECT_EQ(take_all(*server), kServerRecord + kServerCloseNotify);
  server->close();
  EXPECT_EQ(server->pending_ciphertext(), 0u);  // once
}

TEST_F(TlsRecordLayer, IgnoresWhatFollowsCloseNotify) {
  auto server = layer();
  EXPECT_EQ(feed_and_read(*server, kClientRecord + kClientCloseNotify + "garbage"),
            Status::kClosed);
  read_.clear();
  EXPECT_EQ(feed_and_read(*server, kClientRecord), Status::kClosed);
  EXPECT_TRUE(read_.empty());
}

TEST_F(TlsRecordLayer, OpensARecordFedOneByteAtATime) {
  auto server = layer();
  for (char byte : kClientRecord) {
    EXPECT_EQ(feed_and_read(*server, std::string(1, byte)), Status::kOk);
  }
  EXPECT_EQ(read_, trace_payload());
}

TEST_F(TlsRecordLayer, SplitsLongDataIntoRecordsOfAtMost16KiB) {
  auto server = layer();
  const std::string big(40000, 'x');
  ASSERT_EQ(server->write(big), Status::kOk);

  const std::vector<Opened> records = client_.open_all(take_all(*server));
  ASSERT_EQ(records.size(), 3u);
  EXPECT_EQ(records[0].content.size(), 16384u);
  EXPECT_EQ(records[1].content.size(), 16384u);
  EXPECT_EQ(records[0].content + records[1].content + records[2].content, big);
}

TEST_F(TlsRecordLayer, DropsThePaddingAfterTheContentType) {
  auto server = layer();
  EXPECT_EQ(feed_and_read(*server, client_.seal(kData, "padded", 300)), Status::kOk);
  EXPECT_EQ(read_, "padded");
}

TEST_F(TlsRecordLayer, DeliversNothingForAnEmptyDataRecord) {
  auto server = layer();
  const std::string empty = client_.seal(kData, "");
  const std::string after = client_.seal(kData, "after");
  EXPECT_EQ(feed_and_read(*server, empty + after), Status::kOk);
  EXPECT_EQ(read_, "after");
}

TEST_F(TlsRecordLayer, FailsARecordWithoutAContentType) {
  auto server = layer();
  std::string sealed = client_.seal(0, "", 20);  // nothing but zeros inside
  EXPECT_EQ(feed_and_read(*server, sealed), Status::kFailed);
  EXPECT_THAT(server->failure_detail(), HasSubstr("without a content type"));
  EXPECT_THAT(client_.open_all(take_all(*server)), ElementsAre(alert(2, 10)));
}

TEST_F(TlsRecordLayer, FailsATamperedRecordWithBadRecordMac) {
  auto server = layer();
  std::string sealed = client_.seal(kData, "GET / HTTP/1.1\r\n\r\n");
  sealed[8] ^= 0x01;
  EXPECT_EQ(feed_and_read(*server, sealed), Status::kFailed);
  EXPECT_TRUE(read_.empty());
  EXPECT_THAT(client_.open_all(take_all(*server)), ElementsAre(alert(2, 20)));
  EXPECT_EQ(server->write("more"), Status::kFailed);
}

TEST_F(TlsRecordLayer, FailsARecordTooShortForItsTag) {
  auto server = layer();
  EXPECT_EQ(feed_and_read(*server, bytes("17 03 03 00 04 01 02 03 04")), Status::kFailed);
  EXPECT_THAT(client_.open_all(take_all(*server)), ElementsAre(alert(2, 20)));
}

TEST_F(TlsRecordLayer, FailsAnUnprotectedRecordAfterTheHandshake) {
  auto server = layer();
  EXPECT_EQ(feed_and_read(*server, bytes("15 03 03 00 02 02 28")), Status::kFailed);
  EXPECT_THAT(server->failure_detail(), HasSubstr("unprotected record of type 21"));
  EXPECT_THAT(client_.open_all(take_all(*server)), ElementsAre(alert(2, 10)));
}

TEST_F(TlsRecordLayer, FailsAnOversizedRecordFromItsHeaderAlone) {
  auto server = layer();
  EXPECT_EQ(feed_and_read(*server, bytes("17 03 03 41 01")), Status::kFailed);  // 16,641 bytes
  EXPECT_THAT(client_.open_all(take_all(*server)), ElementsAre(alert(2, 22)));
}

TEST_F(TlsRecordLayer, FailsMoreContentThanARecordMayHold) {
  auto server = layer();
  EXPECT_EQ(feed_and_read(*server, client_.seal(kData, std::string(16385, 'x'))), Status::kFailed);
  EXPECT_TRUE(read_.empty());
  EXPECT_THAT(client_.open_all(take_all(*server)), ElementsAre(alert(2, 22)));
}

TEST_F(TlsRecordLayer, FailsAnOversizedRecordOfZerosWithRecordOverflow) {
  auto server = layer();
  EXPECT_EQ(feed_and_read(*server, client_.seal(0, "", 16385)), Status::kFailed);
  EXPECT_THAT(client_.open_all(take_all(*server)), ElementsAre(alert(2, 22)));
}

TEST_F(TlsRecordLayer, FailsAnUnknownContentType) {
  auto server = layer();
  EXPECT_EQ(feed_and_read(*server, client_.seal(20, "\x01")), Status::kFailed);
  EXPECT_THAT(client_.open_all(take_all(*server)), ElementsAre(alert(2, 10)));
}

TEST_F(TlsRecordLayer, TakesTheClientsKeyUpdateAndReadsUnderTheNewKey) {
  auto server = layer();
  EXPECT_EQ(feed_and_read(*server, client_.seal(kHandshake, std::string{24, 0, 0, 1, 0})),
            Status::kOk);
  client_.next_write_key();
  EXPECT_EQ(feed_and_read(*server, client_.seal(kData, "under the new key")), Status::kOk);
  EXPECT_EQ(read_, "under the new key");
  EXPECT_EQ(server->pending_ciphertext(), 0u);  // not requested: no answer
}

TEST_F(TlsRecordLayer, TakesAKeyUpdateSplitAcrossRecords) {
  auto server = layer();
  const std::string first = client_.seal(kHandshake, std::string{24, 0});
  const std::string second = client_.seal(kHandshake, std::string{0, 1, 0});
  EXPECT_EQ(feed_and_read(*server, first + second), Status::kOk);
  client_.next_write_key();
  EXPECT_EQ(feed_and_read(*server, client_.seal(kData, "after")), Status::kOk);
  EXPECT_EQ(read_, "after");
}

TEST_F(TlsRecordLayer, AnswersUpdateRequestedWithItsOwnKeyUpdateFirst) {
  auto server = layer();
  EXPECT_EQ(feed_and_read(*server, client_.seal(kHandshake, std::string{24, 0, 0, 1, 1})),
            Status::kOk);
  ASSERT_EQ(server->write("answer"), Status::kOk);

  EXPECT_THAT(client_.open_all(take_all(*server)),
              ElementsAre(key_update(0), Opened{kData, "answer"}));
}

// A client that asks again and again without reading gets one answer, so
// what the server holds stays bounded (RFC 8446 section 4.6.3 allows it).
TEST_F(TlsRecordLayer, AnswersManyUpdateRequestsWithOneKeyUpdate) {
  auto server = layer();
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(feed_and_read(*server, client_.seal(kHandshake, std::string{24, 0, 0, 1, 1})),
              Status::kOk);
    client_.next_write_key();
  }
  EXPECT_EQ(server->pending_ciphertext(), 0u);
  ASSERT_EQ(server->write("answer"), Status::kOk);

  EXPECT_THAT(client_.open_all(take_all(*server)),
              ElementsAre(key_update(0), Opened{kData, "answer"}));
}

TEST_F(TlsRecordLayer, CutsOffAClientAfter32RecordsInARowWithoutData) {
  auto server = layer();
  std::string wire;
  for (int i = 0; i < 32; ++i) {
    wire += client_.seal(kData, "");
  }
  EXPECT_EQ(feed_and_read(*server, wire), Status::kOk);  // up to 32 are allowed
  EXPECT_EQ(feed_and_read(*server, client_.seal(kData, "x")), Status::kOk);
  wire.clear();
  for (int i = 0; i < 16; ++i) {
    wire += client_.seal(kData, "");
    wire += client_.seal(kAlert, std::string{1, 90});  // user_canceled
  }
  EXPECT_EQ(feed_and_read(*server, wire), Status::kOk);  // data in between reset the count
  EXPECT_EQ(feed_and_read(*server, client_.seal(kData, "")), Status::kFailed);

  EXPECT_EQ(read_, "x");
  EXPECT_THAT(server->failure_detail(), HasSubstr("33 records in a row without application data"));
  EXPECT_THAT(client_.open_all(take_all(*server)), ElementsAre(alert(2, 10)));
}

TEST_F(TlsRecordLayer, CutsOffAKeyUpdateFlood) {
  auto server = layer();
  Status status = Status::kOk;
  for (int i = 0; i < 40 && status == Status::kOk; ++i) {
    status = feed_and_read(*server, client_.seal(kHandshake, std::string{24, 0, 0, 1, 1}));
    client_.next_write_key();
  }
  EXPECT_EQ(status, Status::kFailed);
  EXPECT_THAT(client_.open_all(take_all(*server)), ElementsAre(alert(2, 10)));
}

TEST_F(TlsRecordLayer, FailsAKeyUpdateThatDoesNotEndItsRecord) {
  auto server = layer();
  EXPECT_EQ(feed_and_read(*server, client_.seal(kHandshake, std::string{24, 0, 0, 1, 0, 24})),
            Status::kFailed);
  EXPECT_THAT(server->failure_detail(), HasSubstr("does not end its record"));
  EXPECT_THAT(client_.open_all(take_all(*server)), ElementsAre(alert(2, 10)));
}

TEST_F(TlsRecordLayer, FailsAKeyUpdateWithAnUnknownRequest) {
  auto server = layer();
  EXPECT_EQ(feed_and_read(*server, client_.seal(kHandshake, std::string{24, 0, 0, 1, 2})),
            Status::kFailed);
  EXPECT_THAT(client_.open_all(take_all(*server)), ElementsAre(alert(2, 47)));
}

TEST_F(TlsRecordLayer, FailsAKeyUpdateOfTheWrongLength) {
  auto server = layer();
  EXPECT_EQ(feed_and_read(*server, client_.seal(kHandshake, std::string{24, 0, 0, 2, 0, 0})),
            Status::kFailed);
  EXPECT_THAT(client_.open_all(take_all(*server)), ElementsAre(alert(2, 50)));
}

TEST_F(TlsRecordLayer, FailsEveryOtherHandshakeMessage) {
  auto server = layer();
  // A NewSessionTicket, which only a server sends.
  EXPECT_EQ(feed_and_read(*server, client_.seal(kHandshake, std::string{4, 0, 0, 1, 0})),
            Status::kFailed);
  EXPECT_THAT(server->failure_detail(), HasSubstr("handshake message 4"));
  EXPECT_THAT(client_.open_all(take_all(*server)), ElementsAre(alert(2, 10)));
}

TEST_F(TlsRecordLayer, FailsAnEmptyHandshakeRecord) {
  auto server = layer();
  EXPECT_EQ(feed_and_read(*server, client_.seal(kHandshake, "")), Status::kFailed);
  EXPECT_THAT(client_.open_all(take_all(*server)), ElementsAre(alert(2, 10)));
}

TEST_F(TlsRecordLayer, FailsDataBetweenThePartsOfAHandshakeMessage) {
  auto server = layer();
  const std::string part = client_.seal(kHandshake, std::string{24, 0});
  const std::string data = client_.seal(kData, "in between");
  EXPECT_EQ(feed_and_read(*server, part + data), Status::kFailed);
  EXPECT_TRUE(read_.empty());
  EXPECT_THAT(client_.open_all(take_all(*server)), ElementsAre(alert(2, 10)));
}

TEST_F(TlsRecordLayer, IgnoresUserCanceledAndStopsAtAFatalAlert) {
  auto server = layer();
  EXPECT_EQ(feed_and_read(*server, client_.seal(kAlert, std::string{1, 90})), Status::kOk);
  EXPECT_EQ(feed_and_read(*server, client_.seal(kAlert, std::string{2, 40})), Status::kFailed);
  EXPECT_THAT(server->failure_detail(), HasSubstr("alert 40"));
  EXPECT_EQ(server->pending_ciphertext(), 0u);  // a fatal alert is not answered
}

TEST_F(TlsRecordLayer, FailsAnAlertOfTheWrongLength) {
  auto server = layer();
  EXPECT_EQ(feed_and_read(*server, client_.seal(kAlert, std::string{1, 0, 0})), Status::kFailed);
  EXPECT_THAT(client_.open_all(take_all(*server)), ElementsAre(alert(2, 50)));
}

TEST_F(TlsRecordLayer, UpdatesItsKeyAfterRecordsPerKeyRecords) {
  auto server = layer(3);  // the ticket was the first of three
  for (const char* answer : {"a", "b", "c", "d"}) {
    ASSERT_EQ(server->write(answer), Status::kOk);
  }

  EXPECT_THAT(client_.open_all(take_all(*server)),
              ElementsAre(Opened{kData, "a"}, Opened{kData, "b"}, key_update(1), Opened{kData, "c"},
                          Opened{kData, "d"}));
}

TEST_F(TlsRecordLayer, RefusesToWriteAfterCloseNotify) {
  auto server = layer();
  server->close();
  EXPECT_EQ(server->write("late"), Status::kFailed);
  EXPECT_THAT(server->failure_detail(), HasSubstr("after close_notify"));
  EXPECT_THAT(client_.open_all(take_all(*server)), ElementsAre(alert(1, 0)));
}

TEST_F(TlsRecordLayer, HandsOutCiphertextInPiecesInOrder) {
  auto server = layer();
  const char sent[] = "sent before the hand-over";
  server->queue_sent(sent, sizeof sent - 1);
  ASSERT_EQ(server->write(trace_payload()), Status::kOk);

  std::string out;
  char piece[7];
  while (server->pending_ciphertext() > 0) {
    out.append(piece, server->take_ciphertext(piece, sizeof piece));
  }
  EXPECT_EQ(out, std::string(sent) + kServerRecord);
}

TEST_F(TlsRecordLayer, KeepsWorkingAfterGivingItsBuffersBack) {
  auto server = layer();
  ASSERT_EQ(feed_and_read(*server, kClientRecord), Status::kOk);
  ASSERT_EQ(server->write(trace_payload()), Status::kOk);
  server->release_buffers();  // refused: the answer is pending
  EXPECT_THAT(client_.open_all(take_all(*server)), ElementsAre(Opened{kData, trace_payload()}));
  server->release_buffers();

  ASSERT_EQ(server->write("next"), Status::kOk);
  EXPECT_THAT(client_.open_all(take_all(*server)), ElementsAre(Opened{kData, "next"}));
}

}  // namespace
}  // namespace wif::tls
