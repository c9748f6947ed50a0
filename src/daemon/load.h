// Everything the daemon needs, loaded and validated before anything starts:
// the config, the TLS context, one token source and one access policy per
// token. serve() and check() share it, so check refuses exactly what serve
// would. Main thread only.
#pragma once

#include <memory>
#include <optional>
#include <vector>

#include "src/authz/access_policy.h"
#include "src/config/config.h"
#include "src/daemon/commands.h"
#include "src/tls/context_options.h"
#include "src/tls/server_context.h"
#include "src/token/token_source.h"

namespace wif::daemon {

struct Loaded {
  config::Config config;
  std::shared_ptr<const tls::ServerContext> tls;
  std::vector<std::unique_ptr<token::TokenSource>> sources;  // one per token
  std::vector<authz::AccessPolicy> policies;                 // one per token
  // Who may read /metrics on the mTLS listener; unset: only the plain one.
  std::optional<authz::AccessPolicy> metrics_policy;
};

// The TLS section as the context builder takes it; the reloader builds each
// new context from the same options.
tls::ContextOptions tls_options(const config::TlsConfig& c);

// Loads the config, the TLS material and the sources, printing every problem
// to standard error. nullopt when anything is wrong.
std::optional<Loaded> load_all(const Options& options);

// The allow rules of one token, compiled, with every wrong value reported
// into diag. A token with a wrong value gets an empty policy, which would
// let any verified client in: use the result only once diag is ok.
authz::AccessPolicy compile_token_policy(const config::TokenConfig& token,
                                         config::Diagnostics& diag);

// metrics.allow, compiled likewise; unset when it names no one.
std::optional<authz::AccessPolicy> compile_metrics_policy(const config::MetricsConfig& metrics,
                                                          config::Diagnostics& diag);

}  // namespace wif::daemon
