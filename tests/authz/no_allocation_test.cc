// The access check runs on every token request: it must not allocate. This
// binary counts every operator new (replaced below) to check it.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>

#include "src/authz/access_policy.h"

namespace {
std::atomic<uint64_t> g_allocations{0};
}

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

namespace wif::authz {
namespace {

TEST(AuthzAccessPolicy, ChecksAPeerWithoutAllocating) {
  std::vector<config::AllowRule> rules(7);
  rules[0].cn = "someone";
  rules[1].dns = "*.ci.corp.example";
  rules[1].o = "Elsewhere";
  rules[2].uri = "spiffe://corp/ns/*/sa/**";
  rules[2].ou = "Nobody";
  rules[3].email = "CI-Bot@Corp.Example";
  rules[3].cn = "not-ci";
  rules[4].ip = "10.20.0.0/16";
  rules[4].spki = std::string(64, 'c');
  rules[5].sha256 = std::string(64, 'a');
  rules[5].ip = "fd00::/8";
  rules[6].uri = "spiffe://corp/ns/ci/sa/runner";  // the one that matches
  for (size_t i = 0; i < rules.size(); ++i) {
    rules[i].field = "tokens.wif.allow[" + std::to_string(i) + "]";
  }
  config::Diagnostics diag;
  const std::optional<AccessPolicy> policy = AccessPolicy::compile(rules, diag);
  ASSERT_TRUE(policy) << diag.messages().front();
  tls::PeerIdentity peer;
  peer.common_names = {"ci-runner"};
  peer.organizations = {"Internal"};
  peer.dns_names = {"runner-7.ci.corp.example"};
  peer.uris = {"spiffe://corp/ns/ci/sa/runner"};
  peer.emails = {"ci-bot@corp.example"};
  peer.ips = {"10.20.30.40", "fd00::1"};
  peer.sha256_hex = std::string(64, 'b');
  peer.spki_sha256_hex = std::string(64, 'd');

  uint64_t before = g_allocations.load();
  const bool allowed = policy->allows(peer);
  const uint64_t allocations_allowing = g_allocations.load() - before;

  peer.uris = {"spiffe://corp/ns/web/sa/frontend"};
  before = g_allocations.load();
  const bool refused = !policy->allows(peer);
  const uint64_t allocations_refusing = g_allocations.load() - before;

  EXPECT_TRUE(allowed);
  EXPECT_TRUE(refused);
  EXPECT_EQ(allocations_allowing, 0u);
  EXPECT_EQ(allocations_refusing, 0u);
}

}  // namespace
}  // namespace wif::authz
