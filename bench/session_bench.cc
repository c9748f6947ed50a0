// tls::Session through memory BIOs against a real OpenSSL client: one request
// and answer on an established connection (a TLS record each way), and the
// server's share of a full and of a resumed handshake with a client
// certificate, RSA-2048 and ECDSA P-256.
//
// The handshake benchmarks report manual time: only the time spent inside the
// server's calls (Session construction, feed, handshake, take_ciphertext),
// which is what the daemon pays per connection; the client's signing is left
// out. The figure to hold against it is the signature arithmetic alone
// (`openssl speed rsa2048 ecdsap256`).
#include <benchmark/benchmark.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "bench/support/tls_pair.h"

namespace wif::bench {
namespace {

constexpr std::string_view kRequest =
    "GET /get_wif_token HTTP/1.1\r\nHost: localhost:7001\r\n"
    "User-Agent: curl/7.88.1\r\nAccept: */*\r\n\r\n";

std::string answer() {
  const std::string body =
      R"({"access_token":"ya29.)" + std::string(240, 'x') + R"(","token_type":"Bearer"})";
  return "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " +
         std::to_string(body.size()) +
         "\r\nCache-Control: no-store\r\nPragma: no-cache\r\nConnection: keep-alive\r\n\r\n" + body;
}

void BM_RecordRoundTrip(benchmark::State& state, std::string_view kind) {
  const KeySet keys = key_set(kind);
  const auto server = server_context(keys);
  const tls::SslCtxPtr client = client_context(keys);
  TlsPair pair(client.get(), *server);
  pair.handshake();
  const std::string response = answer();
  const auto server_before = pair.server_time();
  for (auto _ : state) {
    if (pair.round_trip(kRequest, response) != response.size()) {
      state.SkipWithError("the client did not receive the whole answer");
      return;
    }
  }
  const double server_us =
      std::chrono::duration<double, std::micro>(pair.server_time() - server_before).count();
  state.counters["server_us"] = benchmark::Counter(server_us, benchmark::Counter::kAvgIterations);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK_CAPTURE(BM_RecordRoundTrip, rsa, "rsa");
BENCHMARK_CAPTURE(BM_RecordRoundTrip, ec, "ec");

// One full handshake to get a session to resume from.
SSL_SESSION* first_session(SSL_CTX* client, const tls::ServerContext& server) {
  TlsPair pair(client, server);
  pair.handshake();
  return SSL_get1_session(pair.client());
}

void BM_ServerHandshake(benchmark::State& state, std::string_view kind, bool resume) {
  const KeySet keys = key_set(kind);
  const auto server = server_context(keys);
  const tls::SslCtxPtr client = client_context(keys);
  SSL_SESSION* session = resume ? first_session(client.get(), *server) : nullptr;
  for (auto _ : state) {
    TlsPair pair(client.get(), *server, session);
    pair.handshake();
    if (pair.server().resumed() != resume || pair.server().peer() == nullptr) {
      state.SkipWithError(resume ? "the session was not resumed" : "no peer identity");
      break;
    }
    state.SetIterationTime(std::chrono::duration<double>(pair.server_time()).count());
    if (resume) {
      // The next connection resumes from the newest ticket, as a client
      // does.
      SSL_SESSION_free(session);
      session = SSL_get1_session(pair.client());
    }
  }
  SSL_SESSION_free(session);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK_CAPTURE(BM_ServerHandshake, rsa_full, "rsa", false)->UseManualTime();
BENCHMARK_CAPTURE(BM_ServerHandshake, ec_full, "ec", false)->UseManualTime();
BENCHMARK_CAPTURE(BM_ServerHandshake, rsa_resumed, "rsa", true)->UseManualTime();
BENCHMARK_CAPTURE(BM_ServerHandshake, ec_resumed, "ec", true)->UseManualTime();

}  // namespace
}  // namespace wif::bench

BENCHMARK_MAIN();
