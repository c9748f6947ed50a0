// Router::match for the paths of a daemon with a few tokens: the original
// path, a named token, and a miss (every entry compared).
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "src/http/router.h"
#include "src/net/handler.h"

namespace wif::http {
namespace {

Router make_router() {
  std::vector<net::TokenRoute> tokens;
  for (const char* name : {"wif", "build", "deploy", "audit"}) {
    net::TokenRoute route;
    route.name = name;
    tokens.push_back(route);
  }
  return net::token_listener_routes(tokens);
}

void match(benchmark::State& state, std::string_view target, RouteKind expected) {
  const Router router = make_router();
  for (auto _ : state) {
    const RouteMatch m = router.match(Method::kGet, target);
    if (m.kind != expected) {
      state.SkipWithError("the route did not match as expected");
      return;
    }
    benchmark::DoNotOptimize(m);
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_RouteOriginalPath(benchmark::State& state) {
  match(state, "/get_wif_token", RouteKind::kToken);
}
BENCHMARK(BM_RouteOriginalPath);

void BM_RouteNamedTokenWithQuery(benchmark::State& state) {
  match(state, "/v1/tokens/audit?x=1", RouteKind::kToken);
}
BENCHMARK(BM_RouteNamedTokenWithQuery);

void BM_RouteUnknownPath(benchmark::State& state) {
  match(state, "/v1/tokens/unknown", RouteKind::kNotFound);
}
BENCHMARK(BM_RouteUnknownPath);

}  // namespace
}  // namespace wif::http

BENCHMARK_MAIN();
