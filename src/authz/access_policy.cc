#include "src/authz/access_policy.h"

#include <algorithm>

namespace wif::authz {

std::optional<AccessPolicy> AccessPolicy::compile(const std::vector<config::AllowRule>& rules,
                                                  config::Diagnostics& diag) {
  AccessPolicy policy;
  bool ok = true;
  for (const config::AllowRule& source : rules) {
    std::optional<Rule> rule = compile_rule(source, diag);
    if (rule) {
      policy.rules_.push_back(std::move(*rule));
    } else {
      ok = false;
    }
  }
  if (!ok) {
    return std::nullopt;
  }
  return policy;
}

bool AccessPolicy::allows(const tls::PeerIdentity& peer) const {
  return rules_.empty() ||
         std::any_of(rules_.begin(), rules_.end(), [&](const Rule& r) { return r.matches(peer); });
}

std::string AccessPolicy::describe(std::string_view rules_noun) const {
  if (any_verified_client()) {
    return "any verified client";
  }
  return std::to_string(rules_.size()) + " " + std::string(rules_noun);
}

}  // namespace wif::authz
