#include "src/authz/access_policy.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace wif::authz {
namespace {

config::AllowRule cn_rule(std::string cn) {
  config::AllowRule rule;
  rule.field = "tokens.wif.allow[0]";
  rule.cn = std::move(cn);
  return rule;
}

tls::PeerIdentity peer_named(std::string cn) {
  tls::PeerIdentity peer;
  peer.common_names = {std::move(cn)};
  return peer;
}

AccessPolicy compiled(const std::vector<config::AllowRule>& rules) {
  config::Diagnostics diag;
  std::optional<AccessPolicy> policy = AccessPolicy::compile(rules, diag);
  if (!policy) {
    throw std::runtime_error(diag.messages().front());
  }
  return *policy;
}

TEST(AuthzAccessPolicy, WithoutRulesAllowsAnyVerifiedClient) {
  const AccessPolicy policy = compiled({});
  EXPECT_TRUE(policy.any_verified_client());
  EXPECT_TRUE(policy.allows(peer_named("anyone")));
  EXPECT_TRUE(AccessPolicy().allows(tls::PeerIdentity{}));
}

TEST(AuthzAccessPolicy, AllowsAClientThatAnyOneRuleMatches) {
  const AccessPolicy policy = compiled({cn_rule("ci-runner"), cn_rule("deployer")});
  EXPECT_EQ(policy.rule_count(), 2u);
  EXPECT_TRUE(policy.allows(peer_named("ci-runner")));
  EXPECT_TRUE(policy.allows(peer_named("deployer")));
}

TEST(AuthzAccessPolicy, RefusesAClientNoRuleMatches) {
  const AccessPolicy policy = compiled({cn_rule("ci-runner")});
  EXPECT_FALSE(policy.any_verified_client());
  EXPECT_FALSE(policy.allows(peer_named("app-team-client")));
  EXPECT_FALSE(policy.allows(tls::PeerIdentity{}));
}

TEST(AuthzAccessPolicy, DescribesWhoItLetsIn) {
  EXPECT_EQ(compiled({}).describe(), "any verified client");
  EXPECT_EQ(compiled({}).describe("allow rule(s)"), "any verified client");
  const AccessPolicy two = compiled({cn_rule("ci-runner"), cn_rule("deployer")});
  EXPECT_EQ(two.describe(), "2 rule(s)");
  EXPECT_EQ(two.describe("allow rule(s)"), "2 allow rule(s)");
}

// One bad rule must not leave a policy with fewer rules, least of all an
// empty one that would let every client in.
TEST(AuthzAccessPolicy, RefusesToCompileWhenAnyRuleIsBad) {
  config::AllowRule bad;
  bad.field = "tokens.wif.allow[0]";
  bad.ip = "not-an-address";
  config::Diagnostics diag;
  EXPECT_EQ(AccessPolicy::compile({bad}, diag), std::nullopt);
  EXPECT_EQ(AccessPolicy::compile({cn_rule("a"), bad}, diag), std::nullopt);
  EXPECT_EQ(diag.messages().size(), 2u);
}

}  // namespace
}  // namespace wif::authz
