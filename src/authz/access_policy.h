// AccessPolicy: who may fetch one token, as the allow rules of its config
// say. Any one rule is enough; no rules at all means any client whose
// certificate verified (the handshake already refused every other client).
//
// Compiled once when the config is loaded, then shared read-only by every
// worker; allows() never allocates and is safe on any thread. The policy
// answers yes or no only: why a client was refused is for the debug log of
// the connection layer, never for the client.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "src/authz/rule.h"
#include "src/config/config.h"
#include "src/tls/peer_identity.h"

namespace wif::authz {

class AccessPolicy {
 public:
  // A policy without rules: any verified client.
  AccessPolicy() = default;

  // Compiles every rule, reporting every value of the wrong form into diag
  // (see compile_rule). nullopt when any was wrong, never a policy missing
  // a rule: a policy left with no rules would let every client in.
  static std::optional<AccessPolicy> compile(const std::vector<config::AllowRule>& rules,
                                             config::Diagnostics& diag);

  bool allows(const tls::PeerIdentity& peer) const;
  bool any_verified_client() const { return rules_.empty(); }
  size_t rule_count() const { return rules_.size(); }

  // Who the policy lets in, for logs and `wif-tokend check`: "any verified
  // client", else the rule count and `rules_noun`, as in "2 rule(s)".
  std::string describe(std::string_view rules_noun = "rule(s)") const;

 private:
  std::vector<Rule> rules_;
};

}  // namespace wif::authz
