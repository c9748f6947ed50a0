// libFuzzer harness for tls::Session, the memory-BIO TLS engine (issue #7).
//
// The first byte picks what the fuzzer plays:
//   0  raw bytes from the first one: the record layer, ClientHello parsing
//      and every failure before a handshake completes;
//   1  raw bytes after a real handshake (TLS 1.2 or 1.3) with an in-memory
//      client: records that do not decrypt, truncated ones, garbage;
//   2  a real client after a real handshake, driven by the input: data in
//      any sizes, key updates, a TLS 1.2 renegotiation, close_notify, and
//      the server answering and closing in between.
// Bytes are fed in arbitrary splits. Each step checks the Session's
// contract (a failure stays a failure, with a reason; nothing is read
// before the handshake; a refused renegotiation is a failure); sanitizers
// catch the rest. Certificates: the ECDSA ones of the test PKI
// (WIF_TEST_PKI), so handshakes stay cheap.
#include <openssl/err.h>
#include <openssl/ssl.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "src/tls/server_context.h"
#include "src/tls/session.h"
#include "tests/fuzz/fuzz_input.h"
#include "tests/support/test_support.h"
#include "tests/tls/tls_client.h"

namespace {

using wif::fuzz::check;
using wif::fuzz::FuzzInput;
using wif::tls::Failure;
using wif::tls::Session;
using wif::tls::test::TlsClient;
using Status = Session::Status;

const wif::tls::ServerContext& context() {
  static const std::shared_ptr<const wif::tls::ServerContext> shared = [] {
    wif::tls::ContextOptions options;
    options.cert_file = wif::testing::pki("ec-server.crt");
    options.key_file = wif::testing::pki("ec-server.key");
    options.client_ca_file = wif::testing::pki("ca-chain.crt");
    return wif::tls::ServerContext::build(options);
  }();
  return *shared;
}

// Empties the server's write BIO, as the connection does after each step.
std::string drain_output(Session& server) {
  std::string out(server.pending_ciphertext(), '\0');
  out.resize(server.take_ciphertext(out.data(), out.size()));
  check(server.pending_ciphertext() == 0);
  return out;
}

void check_failed(const Session& server) {
  check(server.failure() != Failure::kNone);
  check(!server.failure_detail().empty());
}

// Raw modes: a count, that many split choices, then the bytes to feed.
struct RawInput {
  explicit RawInput(FuzzInput& in)
      : splits_bytes(in.take(in.byte())),
        splits(reinterpret_cast<const uint8_t*>(splits_bytes.data()), splits_bytes.size()),
        data(in.rest()) {}

  bool empty() const { return offset == data.size(); }
  std::string_view next() {
    const size_t n = std::min(splits.length(2048), data.size() - offset);
    offset += n;
    return data.substr(offset - n, n);
  }

  std::string_view splits_bytes;
  FuzzInput splits;
  std::string_view data;
  size_t offset = 0;
};

void raw_before_handshake(FuzzInput& in) {
  Session server(context());
  RawInput raw(in);
  while (!raw.empty()) {
    const std::string_view chunk = raw.next();
    server.feed(chunk.data(), chunk.size());
    const Status status = server.handshake();
    check(status != Status::kClosed);
    drain_output(server);
    if (status == Status::kFailed) {
      check_failed(server);
      check(server.peer() == nullptr);
      check(server.handshake() == Status::kFailed);
      return;
    }
    // A handshake cannot complete without a client that can sign.
    check(status == Status::kWantMore && !server.established() && server.peer() == nullptr);
  }
}

std::unique_ptr<TlsClient> connected_client(FuzzInput& in, Session& server) {
  wif::tls::test::ClientOptions options;
  options.certificate = wif::testing::pki("ec-client.crt");
  options.key = wif::testing::pki("ec-client.key");
  options.max_version = (in.byte() & 1) != 0 ? TLS1_2_VERSION : TLS1_3_VERSION;
  auto client = std::make_unique<TlsClient>(options);
  // A real client with a trusted certificate must get in: anything else is
  // a bug in the engine (or in this harness).
  check(wif::tls::test::run_handshake(*client, server) == Status::kOk);
  check(server.established() && server.peer() != nullptr);
  return client;
}

// After a failed or closed read, the session must stay that way.
bool settled(Session& server, Status status) {
  if (status == Status::kFailed) {
    check_failed(server);
    std::string more;
    check(server.read(more) == Status::kFailed && more.empty());
    check(server.write("late") == Status::kFailed);
    return true;
  }
  return status == Status::kClosed;
}

void raw_after_handshake(FuzzInput& in) {
  Session server(context());
  std::unique_ptr<TlsClient> client = connected_client(in, server);
  RawInput raw(in);
  std::string received;
  while (!raw.empty()) {
    const std::string_view chunk = raw.next();
    server.feed(chunk.data(), chunk.size());
    const size_t before = received.size();
    const Status status = server.read(received);
    check(received.size() >= before);
    drain_output(server);
    if (settled(server, status)) {
      return;
    }
  }
}

void client_after_handshake(FuzzInput& in) {
  Session server(context());
  std::unique_ptr<TlsClient> client = connected_client(in, server);
  const bool tls12 = SSL_version(client->ssl()) == TLS1_2_VERSION;
  std::string received;
  std::string sent;
  while (!in.empty()) {
    ERR_clear_error();
    switch (in.byte() % 6) {
      case 0:
      case 1: {
        const std::string_view data = in.take(in.length(20000));
        client->write(data);
        sent.append(data);
        break;
      }
      case 2:
        SSL_key_update(client->ssl(), SSL_KEY_UPDATE_REQUESTED);
        break;
      case 3:
        if (tls12 && SSL_renegotiate(client->ssl()) == 1) {
          SSL_do_handshake(client->ssl());
        }
        break;
      case 4:
        SSL_shutdown(client->ssl());
        break;
      case 5:
        if (server.write(in.take(in.length(2000))) == Status::kOk && (in.byte() & 1) != 0) {
          server.close();
        }
        break;
    }
    ERR_clear_error();
    // The client's records reach the server in arbitrary splits.
    const std::string wire = client->take_ciphertext();
    Status status = Status::kOk;
    for (size_t offset = 0; offset < wire.size() && status == Status::kOk;) {
      const size_t n = std::min(in.length(4096), wire.size() - offset);
      server.feed(wire.data() + offset, n);
      offset += n;
      status = server.read(received);
    }
    if (wire.empty()) {
      status = server.read(received);
    }
    // What the server read is exactly what the client sent, in order.
    check(sent.compare(0, received.size(), received) == 0);
    if (server.renegotiation_refused()) {
      check(status == Status::kFailed && server.failure() == Failure::kProtocol);
    }
    client->feed(drain_output(server));
    client->step();
    if (settled(server, status)) {
      return;
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzInput in(data, size);
  switch (in.byte() % 3) {
    case 0:
      raw_before_handshake(in);
      break;
    case 1:
      raw_after_handshake(in);
      break;
    default:
      client_after_handshake(in);
      break;
  }
  ERR_clear_error();
  return 0;
}
