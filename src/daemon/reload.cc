#include "src/daemon/daemon.h"

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "src/authz/access_policy.h"
#include "src/log/log.h"

namespace wif::daemon {

// SIGHUP: the config file again. What a reload may change (allow rules,
// metrics.allow, response, request_wait, log) applies at once to every new
// request; anything else takes a restart, and then nothing of the new file
// is applied. A bad file is refused whole, with its problems logged.
void Daemon::reload_config() {
  const config::Config& running = loaded_.config;
  if (running.file.empty()) {
    return;  // built-in defaults: no file to read again
  }
  const std::string file = log::untrusted(running.file);
  config::Config next;
  std::vector<authz::AccessPolicy> policies;
  std::optional<authz::AccessPolicy> metrics_policy;
  std::vector<std::string> problems;
  try {
    next = config::load(running.file, running.base_dir, config::process_environment());
    config::Diagnostics diag;
    for (const config::TokenConfig& t : next.tokens) {
      policies.push_back(compile_token_policy(t, diag));
    }
    metrics_policy = compile_metrics_policy(next.metrics, diag);
    problems = diag.messages();
  } catch (const config::ConfigError& e) {
    problems = e.messages();
  }
  if (!problems.empty()) {
    std::string text;
    for (const std::string& problem : problems) {
      text += (text.empty() ? "" : "; ") + problem;
    }
    log::error("main", "config_reload_rejected",
               {{"file", file}, {"problems", log::untrusted(text, 2048)}});
    metrics_->count_reload(metrics::ReloadKind::kConfig, false);
    return;
  }
  if (next.restart_settings != running.restart_settings) {
    log::warn("main", "config_reload_needs_restart",
              {{"file", file},
               {"detail",
                "only allow rules, metrics.allow, response, request_wait and log change on "
                "reload; this file changes more, so none of it was applied"}});
    metrics_->count_reload(metrics::ReloadKind::kConfig, false);
    return;
  }
  loaded_.config = std::move(next);
  loaded_.policies = std::move(policies);
  loaded_.metrics_policy = std::move(metrics_policy);
  server_->swap_serve(make_state(false), make_state(true));
  apply_log_config(loaded_.config.log);
  metrics_->count_reload(metrics::ReloadKind::kConfig, true);
  for (size_t i = 0; i < loaded_.policies.size(); ++i) {
    log::info(
        "main", "config_reloaded",
        {{"token", loaded_.config.tokens[i].name}, {"allow", loaded_.policies[i].describe()}});
  }
}

}  // namespace wif::daemon
