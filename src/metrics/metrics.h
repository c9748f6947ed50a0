// Metrics: every number wif-tokend exposes to Prometheus, and the text
// exposition of /metrics.
//
// Three kinds of numbers, kept apart by how they change:
//  * data-path counters (requests, handshakes, connections): one
//    DataPathCounters per worker, written without locks by that worker and
//    summed at scrape time;
//  * control-loop events (token refreshes, reloads): prometheus-cpp counters
//    in a Registry, incremented on the control loop;
//  * state (token freshness, certificate expiry, CRL next update, process):
//    read at scrape time from a provider the daemon sets, so no gauge can go
//    stale between events.
// Names and labels are an interface (DESIGN.md "Metrics"): the prefix is
// wif_tokend_, counters end in _total, times are seconds.
//
// Built on the main thread before the workers start; add_worker() and the
// setters only then. count_*() on the control loop; render() on any thread.
#pragma once

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/registry.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "src/metrics/data_path.h"

namespace wif::metrics {

// What the state provider reports at each scrape.
struct TokenState {
  std::string name;
  bool available = false;                  // a servable value right now
  std::optional<double> expiry_seconds;    // unix time; unset when unknown
  std::optional<double> obtained_seconds;  // unix time of the current value
};
struct CertificateState {
  std::string role;     // "server", "client_ca", "client_intermediate"
  std::string subject;  // from the operator's files, never from a client
  double not_after_seconds = 0;
};
struct CrlState {
  std::string issuer;
  double next_update_seconds = 0;
};
struct State {
  double now_seconds = 0;
  std::vector<TokenState> tokens;
  std::vector<CertificateState> certificates;
  std::vector<CrlState> crls;
};
// Called at every scrape, on the scraping thread: it may only read what is
// safe from any thread (the TokenStore, the current TLS context snapshot).
using StateProvider = std::function<void(State& out)>;

enum class RefreshResult { kOk, kFailed, kWithdrawn };
enum class ReloadKind { kTls, kConfig };

struct BuildInfo {
  std::string version;
  std::string openssl;
  std::string libuv;
};

class Metrics {
 public:
  Metrics(std::vector<std::string> token_names, const BuildInfo& build);
  ~Metrics();
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  // Before the workers start: the counters one worker of `listener` owns.
  DataPathCounters& add_worker(Listener listener);
  void set_state_provider(StateProvider provider);

  // Control loop.
  void count_refresh(size_t token_index, RefreshResult result);
  void count_reload(ReloadKind kind, bool applied);

  // Any thread: appends the Prometheus text exposition (format 0.0.4).
  void render(std::string& out) const;

  const std::vector<std::string>& token_names() const { return token_names_; }

 private:
  class DataPathCollector;
  class StateCollector;

  const std::vector<std::string> token_names_;
  std::shared_ptr<prometheus::Registry> registry_;
  std::vector<std::unique_ptr<DataPathCounters>> workers_;
  StateProvider provider_;
  std::shared_ptr<DataPathCollector> data_path_;
  std::shared_ptr<StateCollector> state_;
  // One counter per (token, result) and per (kind, result), made up front so
  // every series exists from the first scrape.
  std::vector<std::array<prometheus::Counter*, 3>> refreshes_;
  // [kind][0: applied, 1: rejected]
  std::array<std::array<prometheus::Counter*, 2>, 2> reloads_{};
};

}  // namespace wif::metrics
