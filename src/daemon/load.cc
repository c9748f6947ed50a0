#include "src/daemon/load.h"

#include <cstdio>
#include <filesystem>
#include <string>

#include "sources/register_all.h"
#include "src/tls/cipher_settings.h"

namespace wif::daemon {
namespace {

// The cipher, suite and group names against OpenSSL's tables, reported at
// their place in the file. False when any is unknown.
bool check_tls_names(const config::TlsConfig& c, config::Diagnostics& diag) {
  struct NameList {
    const char* key;
    const std::vector<std::string>& names;
    std::string (*check)(const std::vector<std::string>&);
  };
  bool ok = true;
  for (const NameList& list :
       {NameList{"tls12_ciphers", c.tls12_ciphers, tls::check_tls12_ciphers},
        NameList{"tls13_ciphersuites", c.tls13_ciphersuites, tls::check_tls13_ciphersuites},
        NameList{"groups", c.groups, tls::check_groups}}) {
    const std::string problem = list.check(list.names);
    if (problem.empty()) {
      continue;
    }
    std::string written;
    for (const std::string& name : list.names) {
      written += (written.empty() ? "" : ":") + name;
    }
    const auto mark = c.marks.find(list.key);
    diag.error(mark != c.marks.end() ? mark->second : config::Mark{},
               std::string("tls.") + list.key,
               "got " + config::quote(written) + " (expected " + problem + ")");
    ok = false;
  }
  return ok;
}

void print_problems(const std::vector<std::string>& problems) {
  for (const auto& p : problems) {
    std::fprintf(stderr, "wif-tokend: %s\n", p.c_str());
  }
}

}  // namespace

tls::ContextOptions tls_options(const config::TlsConfig& c) {
  tls::ContextOptions o;
  o.cert_file = c.cert;
  o.key_file = c.key;
  o.key_passphrase_file = c.key_passphrase_file;
  switch (c.key_readable_by) {
    case config::TlsConfig::KeyReaders::kOwner:
      o.key_readable_by = tls::KeyAccess::kOwner;
      break;
    case config::TlsConfig::KeyReaders::kGroup:
      o.key_readable_by = tls::KeyAccess::kGroup;
      break;
    case config::TlsConfig::KeyReaders::kAnyone:
      o.key_readable_by = tls::KeyAccess::kAnyone;
      break;
  }
  o.client_ca_file = c.client_ca;
  o.client_intermediates_file = c.client_intermediates;
  o.crl_files = c.crl;
  o.crl_check_chain = c.crl_check_chain;
  o.min_version = c.min_version_13 ? tls::MinVersion::kTls13 : tls::MinVersion::kTls12;
  o.verify_depth = c.verify_depth;
  o.partial_chain = c.partial_chain;
  o.require_client_auth_eku = c.require_client_auth_eku;
  o.tls12_ciphers = c.tls12_ciphers;
  o.tls13_ciphersuites = c.tls13_ciphersuites;
  o.groups = c.groups;
  o.session_tickets = c.session_tickets;
  o.session_lifetime_s = static_cast<int64_t>(c.session_lifetime_ms / 1000);
  return o;
}

std::optional<Loaded> load_all(const Options& options) {
  Loaded loaded;
  std::error_code ec;
  const std::string cwd = std::filesystem::current_path(ec).string();
  // A config with problems is still read as far as it goes, so that the
  // token sources' problems are reported with the config's in one pass.
  config::Diagnostics diag;
  try {
    loaded.config = config::load(options.config_path, cwd, config::process_environment(), diag);
  } catch (const config::ConfigError& e) {
    print_problems(e.messages());
    return std::nullopt;
  }

  bool ok = diag.ok() && check_tls_names(loaded.config.tls, diag);
  try {
    if (ok) {
      loaded.tls = tls::ServerContext::build(tls_options(loaded.config.tls));
    }
  } catch (const tls::ContextError& e) {
    std::fprintf(stderr, "wif-tokend: tls: %s\n", e.what());
    ok = false;
  }

  token::SourceRegistry registry;
  sources::register_all(registry);
  for (const config::TokenConfig& t : loaded.config.tokens) {
    loaded.policies.push_back(compile_token_policy(t, diag));
    token::SourceContext context;
    context.token_name = t.name;
    context.base_dir = loaded.config.base_dir;
    context.clock = &token::system_clock();
    context.allow_exec = options.allow_exec;
    loaded.sources.push_back(registry.create(t.source, context, diag));
  }
  loaded.metrics_policy = compile_metrics_policy(loaded.config.metrics, diag);
  if (!diag.ok()) {
    print_problems(diag.messages());
    ok = false;
  }
  if (!ok) {
    return std::nullopt;
  }
  return loaded;
}

authz::AccessPolicy compile_token_policy(const config::TokenConfig& token,
                                         config::Diagnostics& diag) {
  return authz::AccessPolicy::compile(token.allow, diag).value_or(authz::AccessPolicy());
}

std::optional<authz::AccessPolicy> compile_metrics_policy(const config::MetricsConfig& metrics,
                                                          config::Diagnostics& diag) {
  if (metrics.allow.empty()) {
    return std::nullopt;
  }
  return authz::AccessPolicy::compile(metrics.allow, diag);
}

}  // namespace wif::daemon
