// What an access check costs a token request: AccessPolicy::allows() for a
// client the first rule matches, one only the last of twenty rules matches,
// and one no rule matches (the 403 path), with rules of every kind.
//
// Each benchmark also reports allocations per check, counted by the global
// operator new below: the check must allocate nothing.
#include <benchmark/benchmark.h>

#include <atomic>
#include <cstdlib>
#include <new>

#include "src/authz/access_policy.h"

namespace {

std::atomic<uint64_t> g_allocations{0};

wif::tls::PeerIdentity runner() {
  wif::tls::PeerIdentity peer;
  peer.subject = "OU=CI,O=Internal,CN=ci-runner";
  peer.common_names = {"ci-runner"};
  peer.organizations = {"Internal"};
  peer.organizational_units = {"CI"};
  peer.dns_names = {"runner-7.ci.corp.example"};
  peer.uris = {"spiffe://corp/ns/ci/sa/runner"};
  peer.emails = {"ci-bot@corp.example"};
  peer.ips = {"10.20.30.40"};
  peer.sha256_hex = std::string(64, 'a');
  peer.spki_sha256_hex = std::string(64, 'b');
  return peer;
}

// Nineteen rules of every kind that miss the runner, then `last`.
wif::authz::AccessPolicy twenty_rules(wif::config::AllowRule last) {
  std::vector<wif::config::AllowRule> rules;
  for (int i = 0; i < 19; ++i) {
    wif::config::AllowRule rule;
    rule.field = "tokens.wif.allow[" + std::to_string(i) + "]";
    switch (i % 5) {
      case 0:
        rule.cn = "team-" + std::to_string(i);
        rule.o = "Internal";
        break;
      case 1:
        rule.uri = "spiffe://corp/ns/team" + std::to_string(i) + "/**";
        break;
      case 2:
        rule.dns = "*.team" + std::to_string(i) + ".corp.example";
        break;
      case 3:
        rule.ip = "10." + std::to_string(100 + i) + ".0.0/16";
        break;
      default:
        rule.sha256 = std::string(64, 'c');
        break;
    }
    rules.push_back(rule);
  }
  rules.push_back(std::move(last));
  wif::config::Diagnostics diag;
  return *wif::authz::AccessPolicy::compile(rules, diag);
}

void check(benchmark::State& state, const wif::authz::AccessPolicy& policy, bool expected) {
  const wif::tls::PeerIdentity peer = runner();
  const uint64_t before = g_allocations.load();
  for (auto _ : state) {
    const bool allowed = policy.allows(peer);
    benchmark::DoNotOptimize(allowed);
    if (allowed != expected) {
      state.SkipWithError("the policy answered wrong");
      break;
    }
  }
  state.counters["allocs_per_op"] = benchmark::Counter(
      static_cast<double>(g_allocations.load() - before), benchmark::Counter::kAvgIterations);
}

void BM_FirstRuleMatches(benchmark::State& state) {
  wif::config::AllowRule rule;
  rule.cn = "ci-runner";
  wif::config::Diagnostics diag;
  check(state, *wif::authz::AccessPolicy::compile({rule}, diag), true);
}
BENCHMARK(BM_FirstRuleMatches);

void BM_LastOfTwentyRulesMatchesAUriGlob(benchmark::State& state) {
  wif::config::AllowRule rule;
  rule.uri = "spiffe://corp/ns/*/sa/**";
  check(state, twenty_rules(rule), true);
}
BENCHMARK(BM_LastOfTwentyRulesMatchesAUriGlob);

void BM_NoneOfTwentyRulesMatches(benchmark::State& state) {
  wif::config::AllowRule rule;
  rule.email = "someone@else.example";
  check(state, twenty_rules(rule), false);
}
BENCHMARK(BM_NoneOfTwentyRulesMatches);

}  // namespace

// The replaced operators pair malloc with free; GCC cannot see that the
// sized delete receives only pointers from this operator new.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
void* operator new(std::size_t size) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(size == 0 ? 1 : size)) {
    return p;
  }
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
#pragma GCC diagnostic pop

BENCHMARK_MAIN();
