#include "src/daemon/daemon.h"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <ctime>
#include <optional>
#include <string>

#include "src/authz/access_policy.h"
#include "src/daemon/commands.h"
#include "src/daemon/privileges.h"
#include "src/log/log.h"
#include "src/net/listener.h"
#include "src/tls/certificate_summary.h"
#include "src/tls/server_context.h"
#include "src/version.h"

namespace wif::daemon {
namespace {

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
                 {"next_update", tls::format_utc(crl.next_update_unix)},
                 {"detail", "clients under this CA are refused until a current CRL is loaded"}});
    }
  }
}

}  // namespace

void apply_log_config(const config::LogConfig& c) {
  log::Level level = log::Level::kInfo;
  log::parse_level(c.level, &level);
  log::configure(level, c.format == "json" ? log::Format::kJson : log::Format::kText);
  log::set_access(c.access);
}

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
             {"cert_not_after", tls::format_utc(cert.not_after_unix)},
             {"client_anchors", static_cast<uint64_t>(loaded_.tls->anchors().size())},
             {"crls", static_cast<uint64_t>(loaded_.tls->crls().size())},
             {"crl_check", loaded_.tls->crl_check_chain() ? "chain" : "leaf"}});
  for (const tls::CertificateSummary& anchor : loaded_.tls->anchors()) {
    log::info("tls", "client_anchor",
              {{"subject", log::untrusted(anchor.subject)},
               {"not_after", tls::format_utc(anchor.not_after_unix)}});
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
    log::info("main", "token_source",
              {{"token", cfg.tokens[i].name},
               {"source", log::untrusted(loaded_.sources[i]->describe())},
               {"allow", loaded_.policies[i].describe()}});
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

}  // namespace wif::daemon

namespace wif {

int serve(const Options& options) {
  signal(SIGPIPE, SIG_IGN);  // a peer that vanished is an error return, not a signal
  std::optional<daemon::Loaded> loaded = daemon::load_all(options);
  if (!loaded) {
    return 2;
  }
  daemon::apply_log_config(loaded->config.log);
  daemon::Daemon running(std::move(*loaded));
  return running.run();
}

}  // namespace wif
