// Answering a parsed request: route, one TokenStore read, and rendering into
// the connection's reused output buffer (net::handle_request), plus the bare
// renderer for comparison.
#include <benchmark/benchmark.h>

#include <memory>
#include <optional>
#include <string>

#include "src/http/response.h"
#include "src/net/handler.h"
#include "src/token/clock.h"
#include "src/token/token.h"
#include "src/token/token_store.h"

namespace wif::net {
namespace {

// A token value of the size Google access tokens have (about 250 bytes).
std::string long_token() { return "ya29." + std::string(240, 'x'); }

class Fixture {
 public:
  explicit Fixture(std::optional<int64_t> expires_at_ms) : store_({"wif"}) {
    TokenRoute route;
    route.name = "wif";
    state_.tokens.push_back(route);
    state_.router = token_listener_routes(state_.tokens);
    state_.store = &store_;
    state_.clock = &token::system_clock();
    auto t = std::make_shared<token::Token>();
    t->value = token::Secret(long_token());
    t->expires_at_ms = expires_at_ms;
    token::render_bodies(*t);
    store_.publish(0, std::move(t));
    request_.method = http::Method::kGet;
    request_.target = "/get_wif_token";
  }

  Answer answer(std::string& out) const { return handle_request(state_, request_, nullptr, out); }

  void run(benchmark::State& state) const {
    std::string out;
    out.reserve(1024);
    for (auto _ : state) {
      out.clear();
      if (answer(out).status != 200) {
        state.SkipWithError("the token was not served");
        return;
      }
      benchmark::DoNotOptimize(out.data());
    }
    state.SetItemsProcessed(state.iterations());
    state.counters["bytes"] = static_cast<double>(out.size());
  }

 private:
  token::TokenStore store_;
  ServeState state_;
  http::Request request_;
};

void BM_AnswerTokenWithoutExpiry(benchmark::State& state) { Fixture(std::nullopt).run(state); }
BENCHMARK(BM_AnswerTokenWithoutExpiry);

void BM_AnswerTokenWithExpiresIn(benchmark::State& state) {
  Fixture(token::system_clock().now_ms() + 3'600'000).run(state);
}
BENCHMARK(BM_AnswerTokenWithExpiresIn);

// Two workers reading the same token at once, as the daemon's do.
void BM_AnswerTokenFromTwoThreads(benchmark::State& state) {
  static Fixture* shared = nullptr;
  if (state.thread_index() == 0) {
    shared = new Fixture(std::nullopt);
  }
  // Google Benchmark starts the timed loop of every thread together, after
  // thread 0's setup above.
  std::string out;
  out.reserve(1024);
  for (auto _ : state) {
    out.clear();
    if (shared->answer(out).status != 200) {
      state.SkipWithError("the token was not served");
      break;
    }
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations());
  if (state.thread_index() == 0) {
    delete shared;
    shared = nullptr;
  }
}
BENCHMARK(BM_AnswerTokenFromTwoThreads)->Threads(2)->UseRealTime();

void BM_RenderResponseOnly(benchmark::State& state) {
  const std::string body = R"({"access_token":")" + long_token() + R"(","token_type":"Bearer"})";
  std::string out;
  out.reserve(1024);
  for (auto _ : state) {
    out.clear();
    http::render_response(out, http::ResponseHead{}, body);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_RenderResponseOnly);

}  // namespace
}  // namespace wif::net

BENCHMARK_MAIN();
