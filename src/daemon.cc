#include "src/daemon.h"

#include <signal.h>
#include <unistd.h>
#include <uv.h>

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <memory>
#include <optional>
#include <vector>

#include "sources/register_all.h"
#include "src/authz/access_policy.h"
#include "src/config/config.h"
#include "src/log/log.h"
#include "src/metrics/metrics.h"
#include "src/net/handler.h"
#include "src/net/listener.h"
#include "src/net/server.h"
#include "src/net/tls_reloader.h"
#include "src/privileges.h"
#include "src/tls/cipher_settings.h"
#include "src/tls/server_context.h"
#include "src/tls_report.h"
#include "src/token/slot_sink.h"
#include "src/token/token_source.h"
#include "src/token/token_store.h"
#include "src/version.h"

namespace wif {
namespace {

// Everything loaded and validated before anything starts.
struct Loaded {
  config::Config config;
  std::shared_ptr<const tls::ServerContext> tls;
  std::vector<std::unique_ptr<token::TokenSource>> sources;  // one per token
  std::vector<authz::AccessPolicy> policies;                 // one per token
  // Who may read /metrics on the mTLS listener; unset: only the plain one.
  std::optional<authz::AccessPolicy> metrics_policy;
};

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

// Loads the config, the TLS material and the sources, printing every problem
// to standard error. nullopt when anything is wrong.
std::optional<Loaded> load_all(const Options& options) {
  Loaded loaded;
  std::error_code ec;
  const std::string cwd = std::filesystem::current_path(ec).string();
  try {
    loaded.config = config::load(options.config_path, cwd, config::process_environment());
  } catch (const config::ConfigError& e) {
    print_problems(e.messages());
    return std::nullopt;
  }

  config::Diagnostics diag;
  bool ok = check_tls_names(loaded.config.tls, diag);
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
    loaded.policies.push_back(
        authz::AccessPolicy::compile(t.allow, diag).value_or(authz::AccessPolicy()));
    token::SourceContext context;
    context.token_name = t.name;
    context.base_dir = loaded.config.base_dir;
    context.clock = &token::system_clock();
    context.allow_exec = options.allow_exec;
    loaded.sources.push_back(registry.create(t.source, context, diag));
  }
  if (!loaded.config.metrics.allow.empty()) {
    loaded.metrics_policy = authz::AccessPolicy::compile(loaded.config.metrics.allow, diag);
  }
  if (!diag.ok()) {
    print_problems(diag.messages());
    ok = false;
  }
  if (!ok) {
    return std::nullopt;
  }
  return loaded;
}

log::Format log_format(const config::LogConfig& c) {
  return c.format == "json" ? log::Format::kJson : log::Format::kText;
}

std::string format_time(int64_t unix_seconds) {
  const time_t t = static_cast<time_t>(unix_seconds);
  tm utc{};
  gmtime_r(&t, &utc);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return buf;
}

// What a context trusts beyond the plain anchors, said at start and after
// each reload: a partial chain is never trusted silently, and a CRL past
// its next update refuses every client it covers.
void log_trust(const tls::ServerContext& context) {
  if (context.partial_chain()) {
    log::warn("tls", "partial_chain_trusted",
              {{"anchors", static_cast<uint64_t>(context.anchors().size())},
               {"detail",
                "client chains may end at any client_ca certificate, not only at a "
                "self-signed root"}});
  }
  const int64_t now = std::time(nullptr);
  for (const tls::CrlSummary& crl : context.crls()) {
    if (crl.next_update_unix != 0 && crl.next_update_unix <= now) {
      log::warn("tls", "crl_expired",
                {{"file", log::untrusted(crl.file)},
                 {"issuer", log::untrusted(crl.issuer)},
                 {"next_update", format_time(crl.next_update_unix)},
                 {"detail", "clients under this CA are refused until a current CRL is loaded"}});
    }
  }
}

// The running daemon: owned by serve(), touched only on the control loop.
class Daemon {
 public:
  explicit Daemon(Loaded loaded) : loaded_(std::move(loaded)) {}

  int run();

 private:
  static void on_signal(uv_signal_t* handle, int signum);
  static void on_workers_stopped(uv_async_t* async);
  // Runs drop_privileges() and logs what it did; false when the daemon
  // must stop.
  bool become_configured_user();
  void start_reloader();
  void begin_shutdown();
  void reload_config();
  int abandon_start(size_t started_sources);
  std::shared_ptr<const net::ServeState> make_state(bool metrics_listener) const;
  void report_state(metrics::State& out) const;

  Loaded loaded_;
  uv_loop_t loop_{};
  std::unique_ptr<token::TokenStore> store_;
  std::unique_ptr<metrics::Metrics> metrics_;
  std::vector<std::unique_ptr<token::SlotSink>> sinks_;
  std::unique_ptr<net::Server> server_;
  net::TlsReloader* reloader_ = nullptr;  // closes itself; see TlsReloader::close
  uv_signal_t sigterm_{};
  uv_signal_t sigint_{};
  uv_signal_t sighup_{};
  uv_async_t workers_stopped_{};
  bool stopping_ = false;
};

std::shared_ptr<const net::ServeState> Daemon::make_state(bool metrics_listener) const {
  auto state = std::make_shared<net::ServeState>();
  for (size_t i = 0; i < loaded_.config.tokens.size(); ++i) {
    net::TokenRoute route;
    const config::TokenConfig& t = loaded_.config.tokens[i];
    route.name = t.name;
    route.minimal_response = t.minimal_response;
    route.request_wait_ms = static_cast<int64_t>(t.request_wait_ms);
    route.policy = loaded_.policies[i];
    state->tokens.push_back(std::move(route));
  }
  // /metrics on the mTLS listener too, for the clients metrics.allow names.
  const bool metrics_over_tls = !metrics_listener && loaded_.metrics_policy.has_value();
  state->router = metrics_listener ? net::metrics_listener_routes()
                                   : net::token_listener_routes(state->tokens, metrics_over_tls);
  state->store = store_.get();
  state->clock = &token::system_clock();
  if (metrics_listener || metrics_over_tls) {
    state->render_metrics = [m = metrics_.get()](std::string& out) { m->render(out); };
  }
  if (metrics_over_tls) {
    state->metrics_access = loaded_.metrics_policy;
  }
  return state;
}

// Runs at each scrape, possibly on a worker thread: reads only the store and
// the current TLS context snapshot, both safe from any thread.
void Daemon::report_state(metrics::State& out) const {
  const int64_t now_ms = token::system_clock().now_ms();
  out.now_seconds = static_cast<double>(now_ms) / 1000.0;
  for (size_t i = 0; i < store_->size(); ++i) {
    metrics::TokenState t;
    t.name = store_->name(i);
    const std::shared_ptr<const token::Token> token = store_->current(i);
    if (token) {
      t.available = token::TokenStore::servable(*token, now_ms, 0);
      t.obtained_seconds = static_cast<double>(token->obtained_at_ms) / 1000.0;
      if (token->expires_at_ms) {
        t.expiry_seconds = static_cast<double>(*token->expires_at_ms) / 1000.0;
      }
    }
    out.tokens.push_back(std::move(t));
  }
  const std::shared_ptr<const tls::ServerContext> tls = server_->tls_context();
  const auto add = [&out](std::string role, const tls::CertificateSummary& c) {
    out.certificates.push_back({std::move(role), c.subject, static_cast<double>(c.not_after_unix)});
  };
  add("server", tls->server_certificate());
  for (const tls::CertificateSummary& anchor : tls->anchors()) {
    add("client_ca", anchor);
  }
  for (const tls::CertificateSummary& intermediate : tls->intermediates()) {
    add("client_intermediate", intermediate);
  }
  // One series per issuer: with several CRLs from one CA, the latest next
  // update is the one that matters. A CRL without one has nothing to show.
  for (const tls::CrlSummary& crl : tls->crls()) {
    if (crl.next_update_unix == 0) {
      continue;
    }
    const auto next = static_cast<double>(crl.next_update_unix);
    auto same = std::find_if(out.crls.begin(), out.crls.end(),
                             [&](const metrics::CrlState& c) { return c.issuer == crl.issuer; });
    if (same == out.crls.end()) {
      out.crls.push_back({crl.issuer, next});
    } else {
      same->next_update_seconds = std::max(same->next_update_seconds, next);
    }
  }
}

int Daemon::run() {
  const config::Config& cfg = loaded_.config;
  net::tune_allocator();
  uv_loop_init(&loop_);

  std::vector<std::string> names;
  for (const auto& t : cfg.tokens) {
    names.push_back(t.name);
  }
  store_ = std::make_unique<token::TokenStore>(names);
  metrics_ = std::make_unique<metrics::Metrics>(
      names, metrics::BuildInfo{WIF_TOKEND_VERSION, tls::openssl_version(), uv_version_string()});

  net::ServerOptions server_options;
  server_options.listen = *config::parse_endpoint(cfg.listen);
  server_options.workers = cfg.workers != 0 ? cfg.workers : uv_available_parallelism();
  server_options.http = cfg.http;
  if (!cfg.metrics.listen.empty()) {
    server_options.metrics_listen = config::parse_endpoint(cfg.metrics.listen);
  }
  server_options.token_state = make_state(false);
  server_options.metrics_state = make_state(true);
  server_options.tls = loaded_.tls;
  server_options.metrics = metrics_.get();
  server_ = std::make_unique<net::Server>(std::move(server_options));
  metrics_->set_state_provider([this](metrics::State& out) { report_state(out); });

  const tls::CertificateSummary& cert = loaded_.tls->server_certificate();
  log::info("main", "starting",
            {{"version", WIF_TOKEND_VERSION},
             {"config", cfg.file.empty() ? std::string("(built-in defaults)") : cfg.file},
             {"cert_subject", log::untrusted(cert.subject)},
             {"cert_not_after", format_time(cert.not_after_unix)},
             {"client_anchors", static_cast<uint64_t>(loaded_.tls->anchors().size())},
             {"crls", static_cast<uint64_t>(loaded_.tls->crls().size())},
             {"crl_check", loaded_.tls->crl_check_chain() ? "chain" : "leaf"}});
  for (const tls::CertificateSummary& anchor : loaded_.tls->anchors()) {
    log::info("tls", "client_anchor",
              {{"subject", log::untrusted(anchor.subject)},
               {"not_after", format_time(anchor.not_after_unix)}});
  }
  log_trust(*loaded_.tls);

  for (const std::string& warning : cfg.warnings) {
    log::warn("config", "config_warning", {{"detail", log::untrusted(warning)}});
  }

  // Bind while still root (a port below 1024, the same socket owner as a
  // daemon this one replaces under SO_REUSEPORT), then give root up before
  // any thread starts and before the sources touch a file.
  if (std::string error = server_->bind(); !error.empty()) {
    log::error("net", "cannot_listen", {{"error", error}});
    return 1;
  }
  if (!become_configured_user()) {
    return 1;
  }

  for (size_t i = 0; i < loaded_.sources.size(); ++i) {
    sinks_.push_back(
        std::make_unique<token::SlotSink>(*store_, i, token::system_clock(), *metrics_));
    const authz::AccessPolicy& policy = loaded_.policies[i];
    log::info("main", "token_source",
              {{"token", cfg.tokens[i].name},
               {"source", log::untrusted(loaded_.sources[i]->describe())},
               {"allow", policy.any_verified_client()
                             ? std::string("any verified client")
                             : std::to_string(policy.rule_count()) + " rule(s)"}});
    const int rc = loaded_.sources[i]->start(&loop_, *sinks_[i]);
    if (rc != 0) {
      log::error("main", "source_start_failed",
                 {{"token", cfg.tokens[i].name}, {"error", uv_strerror(rc)}});
      return abandon_start(i);
    }
  }

  if (std::string error = server_->start(&loop_); !error.empty()) {
    log::error("net", "cannot_listen", {{"error", error}});
    return abandon_start(loaded_.sources.size());
  }
  // Requests held for a value (request_wait) look again after each report.
  // The sources report only from the loop, which has not run yet.
  store_->set_change_listener([this] { server_->notify_tokens_changed(); });

  uv_signal_init(&loop_, &sigterm_);
  uv_signal_init(&loop_, &sigint_);
  uv_signal_init(&loop_, &sighup_);
  for (uv_signal_t* s : {&sigterm_, &sigint_, &sighup_}) {
    s->data = this;
  }
  uv_signal_start(&sigterm_, on_signal, SIGTERM);
  uv_signal_start(&sigint_, on_signal, SIGINT);
  uv_signal_start(&sighup_, on_signal, SIGHUP);
  start_reloader();

  // Returns once on_workers_stopped has closed the last handles, so the
  // control loop keeps taking signals for the whole drain.
  uv_run(&loop_, UV_RUN_DEFAULT);
  server_->join();  // the threads have left their loops already
  if (uv_loop_close(&loop_) != 0) {
    log::warn("main", "loop_not_closed");
  }
  log::info("main", "stopped");
  return 0;
}

bool Daemon::become_configured_user() {
  const config::RunAs& run_as = loaded_.config.run_as;
  const RunAsResult result = drop_privileges(run_as);
  if (!result.error.empty()) {
    log::error("main", "cannot_switch_user",
               {{"user", log::untrusted(run_as.user)}, {"error", result.error}});
    return false;
  }
  switch (result.outcome) {
    case RunAsOutcome::kDropped:
    case RunAsOutcome::kAlreadyThem:
      log::info("main", "running_as",
                {{"user", log::untrusted(run_as.user)}, {"uid", run_as.uid}, {"gid", run_as.gid}});
      break;
    case RunAsOutcome::kStayedRoot:
      log::warn("main", "running_as_root",
                {{"detail", "no user is configured: set user: to drop root after binding"}});
      break;
    case RunAsOutcome::kNotRoot:
      break;
  }
  return true;
}

void Daemon::on_signal(uv_signal_t* handle, int signum) {
  auto* d = static_cast<Daemon*>(handle->data);
  if (signum == SIGHUP) {
    d->reload_config();
    if (d->reloader_ != nullptr) {
      d->reloader_->reload_now();
    }
    return;
  }
  if (d->stopping_) {
    log::warn("main", "forced_exit", {{"signal", signum}});
    _exit(1);
  }
  d->begin_shutdown();
}

// SIGHUP and changes to the TLS files build a new context; the new one
// serves new connections, and connections kept alive from before check
// their client against it at their next request.
void Daemon::start_reloader() {
  net::ReloaderOptions options;
  options.context = tls_options(loaded_.config.tls);
  options.watch = loaded_.config.tls.reload_on_change;
  options.delay_ms = loaded_.config.tls.reload_delay_ms;
  reloader_ = net::TlsReloader::open(
      &loop_, std::move(options),
      [this](std::shared_ptr<const tls::ServerContext> context) {
        log_trust(*context);
        server_->swap_tls(std::move(context));
      },
      [this](net::ReloadTrigger /*trigger*/, net::ReloadResult result) {
        if (result == net::ReloadResult::kApplied || result == net::ReloadResult::kRejected) {
          metrics_->count_reload(metrics::ReloadKind::kTls, result == net::ReloadResult::kApplied);
        }
      });
}

// Start-up failed once `started_sources` sources were running (the server
// started nothing): stop them, let their handles and children go, and exit 1
// with the message already logged.
int Daemon::abandon_start(size_t started_sources) {
  for (size_t i = 0; i < started_sources; ++i) {
    loaded_.sources[i]->stop([] {});
  }
  uv_run(&loop_, UV_RUN_DEFAULT);
  if (uv_loop_close(&loop_) != 0) {
    log::warn("main", "loop_not_closed");
  }
  return 1;
}

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
      policies.push_back(
          authz::AccessPolicy::compile(t.allow, diag).value_or(authz::AccessPolicy()));
    }
    if (!next.metrics.allow.empty()) {
      metrics_policy = authz::AccessPolicy::compile(next.metrics.allow, diag);
    }
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
  log::Level level = log::Level::kInfo;
  log::parse_level(loaded_.config.log.level, &level);
  log::configure(level, log_format(loaded_.config.log));
  log::set_access(loaded_.config.log.access);
  metrics_->count_reload(metrics::ReloadKind::kConfig, true);
  for (size_t i = 0; i < loaded_.policies.size(); ++i) {
    const authz::AccessPolicy& policy = loaded_.policies[i];
    log::info("main", "config_reloaded",
              {{"token", loaded_.config.tokens[i].name},
               {"allow", policy.any_verified_client()
                             ? std::string("any verified client")
                             : std::to_string(policy.rule_count()) + " rule(s)"}});
  }
}

void Daemon::begin_shutdown() {
  stopping_ = true;
  log::info("main", "shutting_down",
            {{"timeout_ms", static_cast<uint64_t>(loaded_.config.shutdown_timeout_ms)}});
  uv_async_init(&loop_, &workers_stopped_, on_workers_stopped);
  workers_stopped_.data = this;
  server_->request_stop(loaded_.config.shutdown_timeout_ms, &workers_stopped_);
  if (reloader_ != nullptr) {
    reloader_->close();
    reloader_ = nullptr;
  }
  for (auto& source : loaded_.sources) {
    source->stop([] {});
  }
}

// Sent by each worker thread as it ends. The signal handles stay open (and
// a second signal exits at once) until the last one has.
void Daemon::on_workers_stopped(uv_async_t* async) {
  auto* d = static_cast<Daemon*>(async->data);
  if (!d->server_->threads_done()) {
    return;
  }
  uv_close(reinterpret_cast<uv_handle_t*>(&d->workers_stopped_), nullptr);
  for (uv_signal_t* s : {&d->sigterm_, &d->sigint_, &d->sighup_}) {
    uv_close(reinterpret_cast<uv_handle_t*>(s), nullptr);
  }
}

}  // namespace

int serve(const Options& options) {
  signal(SIGPIPE, SIG_IGN);  // a peer that vanished is an error return, not a signal
  std::optional<Loaded> loaded = load_all(options);
  if (!loaded) {
    return 2;
  }
  log::Level level = log::Level::kInfo;
  log::parse_level(loaded->config.log.level, &level);
  log::configure(level, log_format(loaded->config.log));
  log::set_access(loaded->config.log.access);
  Daemon daemon(std::move(*loaded));
  return daemon.run();
}

int check(const Options& options) {
  std::optional<Loaded> loaded = load_all(options);
  if (!loaded) {
    std::fprintf(stderr, "wif-tokend: check failed\n");
    return 2;
  }
  const config::Config& cfg = loaded->config;
  std::printf("config: %s\n", cfg.file.empty() ? "(built-in defaults)" : cfg.file.c_str());
  std::printf("listen: %s, workers: %u, metrics: %s\n", cfg.listen.c_str(), cfg.workers,
              cfg.metrics.listen.empty() ? "off" : cfg.metrics.listen.c_str());
  if (!cfg.run_as.user.empty()) {
    std::printf("runs as: %s (uid %u, gid %u) once its sockets are bound\n",
                cfg.run_as.user.c_str(), cfg.run_as.uid, cfg.run_as.gid);
  }

  int warnings = print_tls_report(*loaded->tls, std::time(nullptr), stdout);
  for (const std::string& warning : cfg.warnings) {
    std::printf("warning: %s\n", warning.c_str());
    ++warnings;
  }
  int source_warnings = 0;
  for (size_t i = 0; i < cfg.tokens.size(); ++i) {
    const authz::AccessPolicy& policy = loaded->policies[i];
    std::printf("token %s: %s, %s\n", cfg.tokens[i].name.c_str(),
                loaded->sources[i]->describe().c_str(),
                policy.any_verified_client()
                    ? "any verified client"
                    : (std::to_string(policy.rule_count()) + " allow rule(s)").c_str());
    for (const std::string& warning : loaded->sources[i]->preflight()) {
      std::printf("  warning: %s\n", warning.c_str());
      ++source_warnings;
    }
  }
  std::printf("check passed%s\n", warnings + source_warnings != 0 ? " with warnings" : "");
  return 0;
}

}  // namespace wif
