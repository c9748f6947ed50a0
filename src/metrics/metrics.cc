#include "src/metrics/metrics.h"

#include <prometheus/collectable.h>
#include <prometheus/gauge.h>
#include <prometheus/metric_family.h>
#include <prometheus/text_serializer.h>

#include <limits>
#include <sstream>

#include "src/metrics/process.h"

namespace wif::metrics {
namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;

MetricFamily family(std::string name, std::string help, MetricType type) {
  MetricFamily f;
  f.name = std::move(name);
  f.help = std::move(help);
  f.type = type;
  return f;
}

ClientMetric sample(std::vector<ClientMetric::Label> labels) {
  ClientMetric m;
  m.label = std::move(labels);
  return m;
}

void add_counter(MetricFamily& f, std::vector<ClientMetric::Label> labels, double value) {
  ClientMetric m = sample(std::move(labels));
  m.counter.value = value;
  f.metric.push_back(std::move(m));
}

void add_gauge(MetricFamily& f, std::vector<ClientMetric::Label> labels, double value) {
  ClientMetric m = sample(std::move(labels));
  m.gauge.value = value;
  f.metric.push_back(std::move(m));
}

// Sums one LatencyCells per worker into a cumulative Prometheus histogram.
class HistogramSum {
 public:
  void add(const LatencyCells& cells) {
    for (size_t i = 0; i < LatencyCells::kBuckets; ++i) {
      buckets_[i] += cells.bucket(i);
    }
    sum_ns_ += cells.sum_ns();
  }
  uint64_t count() const {
    uint64_t n = 0;
    for (uint64_t b : buckets_) {
      n += b;
    }
    return n;
  }
  void emit(MetricFamily& f, std::vector<ClientMetric::Label> labels) const {
    ClientMetric m = sample(std::move(labels));
    uint64_t cumulative = 0;
    for (size_t i = 0; i < LatencyCells::kBuckets; ++i) {
      cumulative += buckets_[i];
      ClientMetric::Bucket b;
      b.cumulative_count = cumulative;
      b.upper_bound = i < kLatencyBoundsNs.size() ? static_cast<double>(kLatencyBoundsNs[i]) / 1e9
                                                  : std::numeric_limits<double>::infinity();
      m.histogram.bucket.push_back(b);
    }
    m.histogram.sample_count = cumulative;
    m.histogram.sample_sum = static_cast<double>(sum_ns_) / 1e9;
    f.metric.push_back(std::move(m));
  }

 private:
  std::array<uint64_t, LatencyCells::kBuckets> buckets_{};
  uint64_t sum_ns_ = 0;
};

std::string_view refresh_result_name(size_t i) {
  static constexpr std::array<std::string_view, 3> kNames = {"ok", "failed", "withdrawn"};
  return kNames[i];
}

}  // namespace

// Sums the workers' DataPathCounters. Only reads them, so it may run while
// the workers write.
class Metrics::DataPathCollector final : public prometheus::Collectable {
 public:
  DataPathCollector(const std::vector<std::unique_ptr<DataPathCounters>>& workers,
                    const std::vector<std::string>& token_names)
      : workers_(workers), token_names_(token_names) {}

  std::vector<MetricFamily> Collect() const override {
    std::vector<MetricFamily> out;
    collect_requests(out);
    collect_tls(out);
    collect_connections(out);
    collect_tokens(out);
    return out;
  }

 private:
  // Requests by listener, route, method and status. Only series that have
  // counted something are listed: the full cross product is hundreds of
  // series that stay zero.
  void collect_requests(std::vector<MetricFamily>& out) const {
    MetricFamily requests = family("wif_tokend_requests_total",
                                   "HTTP requests answered, by listener, route, method and status.",
                                   MetricType::Counter);
    MetricFamily duration =
        family("wif_tokend_request_duration_seconds",
               "Time from a request's first byte to its answer being queued, by route.",
               MetricType::Histogram);
    for (size_t l = 0; l < kListenerCount; ++l) {
      const auto listener = static_cast<Listener>(l);
      for (size_t r = 0; r < kRouteCount; ++r) {
        HistogramSum latency;
        for (size_t m = 0; m < kMethodCount; ++m) {
          for (size_t s = 0; s < kStatusCount; ++s) {
            uint64_t n = 0;
            for (const auto& w : workers_) {
              n += w->listener == listener ? w->requests[r][m][s].get() : 0;
            }
            if (n != 0) {
              add_counter(requests,
                          {{"listener", std::string(listener_name(listener))},
                           {"route", std::string(route_name(static_cast<Route>(r)))},
                           {"method", std::string(method_name(static_cast<Method>(m)))},
                           {"code", std::string(status_label(s))}},
                          static_cast<double>(n));
            }
          }
        }
        for (const auto& w : workers_) {
          if (w->listener == listener) {
            latency.add(w->request_latency[r]);
          }
        }
        if (latency.count() != 0) {
          latency.emit(duration, {{"listener", std::string(listener_name(listener))},
                                  {"route", std::string(route_name(static_cast<Route>(r)))}});
        }
      }
    }
    out.push_back(std::move(requests));
    out.push_back(std::move(duration));
  }

  // Handshakes exist only on the mTLS listener; every reason is listed from
  // the start so an alert on rate(...{reason="revoked"}) sees its first one.
  void collect_tls(std::vector<MetricFamily>& out) const {
    MetricFamily handshakes = family(
        "wif_tokend_tls_handshakes_total",
        "TLS handshakes on the mTLS listener, by result and failure reason.", MetricType::Counter);
    for (size_t h = 0; h < kHandshakeCount; ++h) {
      uint64_t n = 0;
      for (const auto& w : workers_) {
        n += w->handshakes[h].get();
      }
      const auto outcome = static_cast<Handshake>(h);
      add_counter(handshakes,
                  {{"result", outcome == Handshake::kOk ? "ok" : "failed"},
                   {"reason", std::string(handshake_reason(outcome))}},
                  static_cast<double>(n));
    }
    out.push_back(std::move(handshakes));

    MetricFamily duration =
        family("wif_tokend_tls_handshake_duration_seconds",
               "Time from accept to a completed TLS handshake.", MetricType::Histogram);
    HistogramSum latency;
    uint64_t resumed = 0;
    uint64_t renegotiations = 0;
    uint64_t record_failures = 0;
    for (const auto& w : workers_) {
      latency.add(w->handshake_latency);
      resumed += w->resumptions.get();
      renegotiations += w->renegotiations_refused.get();
      record_failures += w->record_failures.get();
    }
    latency.emit(duration, {});
    out.push_back(std::move(duration));

    MetricFamily resumptions =
        family("wif_tokend_tls_session_resumptions_total",
               "Completed TLS handshakes that resumed a session.", MetricType::Counter);
    add_counter(resumptions, {}, static_cast<double>(resumed));
    out.push_back(std::move(resumptions));

    MetricFamily refused = family(
        "wif_tokend_tls_renegotiations_refused_total",
        "TLS 1.2 renegotiation requests refused (each ends its connection).", MetricType::Counter);
    add_counter(refused, {}, static_cast<double>(renegotiations));
    out.push_back(std::move(refused));

    MetricFamily records = family(
        "wif_tokend_tls_record_failures_total",
        "Connections ended after the handshake by a record that failed authentication or was "
        "malformed, or by the client's fatal alert (renegotiation requests are counted apart).",
        MetricType::Counter);
    add_counter(records, {}, static_cast<double>(record_failures));
    out.push_back(std::move(records));
  }

  void collect_connections(std::vector<MetricFamily>& out) const {
    MetricFamily active = family("wif_tokend_connections_active",
                                 "Connections open now, by listener.", MetricType::Gauge);
    MetricFamily total =
        family("wif_tokend_connections_total", "Connections accepted and served, by listener.",
               MetricType::Counter);
    MetricFamily refused =
        family("wif_tokend_connections_refused_total",
               "Connections closed at once because max_connections were open, by listener.",
               MetricType::Counter);
    MetricFamily timeouts =
        family("wif_tokend_connection_timeouts_total",
               "Connections closed by a deadline, by listener and phase.", MetricType::Counter);
    for (size_t l = 0; l < kListenerCount; ++l) {
      const auto listener = static_cast<Listener>(l);
      uint64_t opened = 0, closed = 0, refused_n = 0;
      std::array<uint64_t, kTimeoutCount> timeout_n{};
      bool any = false;
      for (const auto& w : workers_) {
        if (w->listener != listener) {
          continue;
        }
        any = true;
        opened += w->connections_opened.get();
        closed += w->connections_closed.get();
        refused_n += w->connections_refused.get();
        for (size_t t = 0; t < kTimeoutCount; ++t) {
          timeout_n[t] += w->timeouts[t].get();
        }
      }
      if (!any) {
        continue;
      }
      const std::string name(listener_name(listener));
      // Each counter is read once, so closed may run ahead of opened by a
      // connection that opened and closed during the read.
      add_gauge(active, {{"listener", name}},
                opened > closed ? static_cast<double>(opened - closed) : 0.0);
      add_counter(total, {{"listener", name}}, static_cast<double>(opened));
      add_counter(refused, {{"listener", name}}, static_cast<double>(refused_n));
      for (size_t t = 0; t < kTimeoutCount; ++t) {
        add_counter(
            timeouts,
            {{"listener", name}, {"phase", std::string(timeout_phase(static_cast<Timeout>(t)))}},
            static_cast<double>(timeout_n[t]));
      }
    }
    out.push_back(std::move(active));
    out.push_back(std::move(total));
    out.push_back(std::move(refused));
    out.push_back(std::move(timeouts));
  }

  void collect_tokens(std::vector<MetricFamily>& out) const {
    MetricFamily requests =
        family("wif_tokend_token_requests_total",
               "Requests for a token, by token and result (served, unavailable, forbidden).",
               MetricType::Counter);
    MetricFamily denied =
        family("wif_tokend_access_denied_total",
               "Verified clients refused by a token's allow rules, by token.", MetricType::Counter);
    for (size_t t = 0; t < token_names_.size(); ++t) {
      for (size_t r = 0; r < kTokenResultCount; ++r) {
        uint64_t n = 0;
        for (const auto& w : workers_) {
          n += w->token_requests[t][r].get();
        }
        const auto result = static_cast<TokenResult>(r);
        add_counter(
            requests,
            {{"token", token_names_[t]}, {"result", std::string(token_result_name(result))}},
            static_cast<double>(n));
        if (result == TokenResult::kForbidden) {
          add_counter(denied, {{"token", token_names_[t]}}, static_cast<double>(n));
        }
      }
    }
    out.push_back(std::move(requests));
    out.push_back(std::move(denied));
  }

  const std::vector<std::unique_ptr<DataPathCounters>>& workers_;
  const std::vector<std::string>& token_names_;
};

// Turns the provider's State and /proc/self into gauges.
class Metrics::StateCollector final : public prometheus::Collectable {
 public:
  explicit StateCollector(const StateProvider& provider) : provider_(provider) {}

  std::vector<MetricFamily> Collect() const override {
    std::vector<MetricFamily> out;
    if (provider_) {
      State state;
      provider_(state);
      collect_tokens(state, out);
      collect_certificates(state, out);
    }
    collect_process(out);
    return out;
  }

 private:
  static void collect_tokens(const State& state, std::vector<MetricFamily>& out) {
    MetricFamily available =
        family("wif_tokend_token_available",
               "1 while the token has a value that may be served, else 0.", MetricType::Gauge);
    MetricFamily expiry = family("wif_tokend_token_expiry_timestamp_seconds",
                                 "When the current value expires (unix time); absent when the "
                                 "expiry is unknown.",
                                 MetricType::Gauge);
    MetricFamily age = family("wif_tokend_token_age_seconds",
                              "Seconds since the current value was obtained.", MetricType::Gauge);
    for (const TokenState& t : state.tokens) {
      add_gauge(available, {{"token", t.name}}, t.available ? 1.0 : 0.0);
      if (t.expiry_seconds) {
        add_gauge(expiry, {{"token", t.name}}, *t.expiry_seconds);
      }
      if (t.obtained_seconds) {
        add_gauge(age, {{"token", t.name}}, state.now_seconds - *t.obtained_seconds);
      }
    }
    out.push_back(std::move(available));
    out.push_back(std::move(expiry));
    out.push_back(std::move(age));
  }

  static void collect_certificates(const State& state, std::vector<MetricFamily>& out) {
    MetricFamily certs = family("wif_tokend_certificate_expiry_timestamp_seconds",
                                "notAfter of the served certificate and of each configured CA "
                                "(unix time), by role and subject.",
                                MetricType::Gauge);
    for (const CertificateState& c : state.certificates) {
      add_gauge(certs, {{"role", c.role}, {"subject", c.subject}}, c.not_after_seconds);
    }
    out.push_back(std::move(certs));

    MetricFamily crls =
        family("wif_tokend_crl_next_update_timestamp_seconds",
               "nextUpdate of each loaded CRL (unix time), by issuer.", MetricType::Gauge);
    for (const CrlState& c : state.crls) {
      add_gauge(crls, {{"issuer", c.issuer}}, c.next_update_seconds);
    }
    out.push_back(std::move(crls));
  }

  static void collect_process(std::vector<MetricFamily>& out) {
    const std::optional<ProcessSample> p = read_process_sample();
    if (!p) {
      return;
    }
    const auto one = [&out](const char* name, const char* help, MetricType type, double v) {
      MetricFamily f = family(name, help, type);
      if (type == MetricType::Counter) {
        add_counter(f, {}, v);
      } else {
        add_gauge(f, {}, v);
      }
      out.push_back(std::move(f));
    };
    one("process_cpu_seconds_total", "User and system CPU time spent, in seconds.",
        MetricType::Counter, p->cpu_seconds);
    one("process_resident_memory_bytes", "Resident memory size in bytes.", MetricType::Gauge,
        p->resident_bytes);
    one("process_virtual_memory_bytes", "Virtual memory size in bytes.", MetricType::Gauge,
        p->virtual_bytes);
    one("process_start_time_seconds", "Start time of the process since the unix epoch.",
        MetricType::Gauge, p->start_time_seconds);
    one("process_open_fds", "Open file descriptors.", MetricType::Gauge, p->open_fds);
    one("process_max_fds", "Maximum number of open file descriptors.", MetricType::Gauge,
        p->max_fds);
  }

  const StateProvider& provider_;
};

Metrics::Metrics(std::vector<std::string> token_names, const BuildInfo& build)
    : token_names_(std::move(token_names)), registry_(std::make_shared<prometheus::Registry>()) {
  prometheus::BuildGauge()
      .Name("wif_tokend_build_info")
      .Help("Always 1; the labels say which build and libraries are running.")
      .Register(*registry_)
      .Add({{"version", build.version}, {"openssl", build.openssl}, {"libuv", build.libuv}})
      .Set(1);

  auto& refreshes = prometheus::BuildCounter()
                        .Name("wif_tokend_token_refreshes_total")
                        .Help("Reads or runs of each token's source, by token and result.")
                        .Register(*registry_);
  for (const std::string& name : token_names_) {
    std::array<prometheus::Counter*, 3> cells{};
    for (size_t r = 0; r < cells.size(); ++r) {
      cells[r] = &refreshes.Add({{"token", name}, {"result", std::string(refresh_result_name(r))}});
    }
    refreshes_.push_back(cells);
  }

  auto& reloads = prometheus::BuildCounter()
                      .Name("wif_tokend_reloads_total")
                      .Help(
                          "Reloads of the TLS material and of the config file, by kind and "
                          "result.")
                      .Register(*registry_);
  for (auto [kind, name] : {std::pair{ReloadKind::kTls, "tls"}, {ReloadKind::kConfig, "config"}}) {
    auto& cells = reloads_[static_cast<size_t>(kind)];
    cells[0] = &reloads.Add({{"kind", name}, {"result", "applied"}});
    cells[1] = &reloads.Add({{"kind", name}, {"result", "rejected"}});
  }

  data_path_ = std::make_shared<DataPathCollector>(workers_, token_names_);
  state_ = std::make_shared<StateCollector>(provider_);
}

Metrics::~Metrics() = default;

DataPathCounters& Metrics::add_worker(Listener listener) {
  workers_.push_back(std::make_unique<DataPathCounters>(listener, token_names_.size()));
  return *workers_.back();
}

void Metrics::set_state_provider(StateProvider provider) { provider_ = std::move(provider); }

void Metrics::count_refresh(size_t token_index, RefreshResult result) {
  refreshes_[token_index][static_cast<size_t>(result)]->Increment();
}

void Metrics::count_reload(ReloadKind kind, bool applied) {
  reloads_[static_cast<size_t>(kind)][applied ? 0 : 1]->Increment();
}

void Metrics::render(std::string& out) const {
  std::vector<prometheus::MetricFamily> families = registry_->Collect();
  for (const auto* collector : {static_cast<const prometheus::Collectable*>(data_path_.get()),
                                static_cast<const prometheus::Collectable*>(state_.get())}) {
    std::vector<prometheus::MetricFamily> more = collector->Collect();
    families.insert(families.end(), std::make_move_iterator(more.begin()),
                    std::make_move_iterator(more.end()));
  }
  std::ostringstream text;
  prometheus::TextSerializer().Serialize(text, families);
  out.append(text.str());
}

}  // namespace wif::metrics
