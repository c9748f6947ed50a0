// Daemon: the running daemon, from binding its sockets to the end of the
// drain. serve() owns it on the main thread, and it is touched only on the
// control loop there (report_state, which a scrape may run on a worker, reads
// only what is safe from any thread). The SIGHUP config reload is in
// reload.cc, everything else in daemon.cc.
#pragma once

#include <uv.h>

#include <memory>
#include <utility>
#include <vector>

#include "src/config/config.h"
#include "src/daemon/load.h"
#include "src/metrics/metrics.h"
#include "src/net/handler.h"
#include "src/net/server.h"
#include "src/net/tls_reloader.h"
#include "src/token/slot_sink.h"
#include "src/token/token_store.h"

namespace wif::daemon {

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

// Sets the whole process's log level (info if unknown), format and access
// lines from the log section: at start, and again on each config reload.
void apply_log_config(const config::LogConfig& c);

}  // namespace wif::daemon
