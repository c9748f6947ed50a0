#include "bench/loadgen/summary.h"

#include <cstdio>

namespace wif::loadgen {
namespace {

class Json {
 public:
  void key(const char* name) {
    comma();
    out_ += '"';
    out_ += name;
    out_ += "\":";
    fresh_ = false;
  }
  void number(const char* name, double value) {
    key(name);
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.6g", value);
    out_ += buf;
  }
  void integer(const char* name, uint64_t value) {
    key(name);
    out_ += std::to_string(value);
  }
  void boolean(const char* name, bool value) {
    key(name);
    out_ += value ? "true" : "false";
  }
  // Only names and labels from this program: no escaping needed.
  void text(const char* name, std::string_view value) {
    key(name);
    out_ += '"';
    out_ += value;
    out_ += '"';
  }
  void open(const char* name) {
    key(name);
    out_ += '{';
    fresh_ = true;
  }
  void close() {
    out_ += '}';
    fresh_ = false;
  }
  std::string take() {
    out_ += '}';
    return std::move(out_);
  }

 private:
  void comma() {
    if (!fresh_) {
      out_ += ',';
    }
  }
  std::string out_ = "{";
  bool fresh_ = true;
};

double us(uint64_t ns) { return static_cast<double>(ns) / 1000.0; }

}  // namespace

std::string summary_json(const Options& options, const RunResult& r) {
  const Stats& s = r.stats;
  Json j;
  j.text("mode",
         options.idle ? "idle" : (options.mode == ConnectionMode::kClose ? "close" : "keepalive"));
  j.boolean("resume", options.resume);
  j.integer("connections", options.connections);
  j.integer("threads", options.threads);
  j.number("rate", options.rate);
  j.number("measured_s", r.measured_s);
  j.number("set_up_s", r.set_up_s);
  j.integer("ok", s.ok);
  j.number("rps", r.measured_s > 0 ? static_cast<double>(s.ok) / r.measured_s : 0);
  j.integer("errors_total", s.error_total());
  j.open("errors");
  for (size_t i = 0; i < s.errors.size(); ++i) {
    j.integer(std::string(error_name(static_cast<ErrorKind>(i))).c_str(), s.errors[i]);
  }
  j.close();
  j.open("statuses");
  for (size_t i = 0; i < s.statuses.size(); ++i) {
    if (s.statuses[i] != 0) {
      j.integer(std::to_string(i).c_str(), s.statuses[i]);
    }
  }
  j.close();
  j.integer("handshakes", s.handshakes);
  j.integer("resumed", s.resumed);
  j.integer("connections_opened", s.connections);
  j.integer("server_closed_idle", s.server_closed_idle);
  j.open("latency_us");
  j.number("p50", us(s.latency.percentile(0.50)));
  j.number("p90", us(s.latency.percentile(0.90)));
  j.number("p99", us(s.latency.percentile(0.99)));
  j.number("p999", us(s.latency.percentile(0.999)));
  j.number("max", us(s.latency.max()));
  j.number("mean", s.latency.mean() / 1000.0);
  j.close();
  if (options.rate > 0) {
    // Requests that waited for a busy slot are not counted: that wait is
    // the server's.
    j.open("pacer_lag_us");
    j.integer("count", s.pacer_lag.count());
    j.number("p50", us(s.pacer_lag.percentile(0.50)));
    j.number("p99", us(s.pacer_lag.percentile(0.99)));
    j.number("max", us(s.pacer_lag.max()));
    j.close();
  }

  if (!options.server_pids.empty()) {
    const ProcSnapshot& a = r.server_before;
    const ProcSnapshot& b = r.server_after;
    j.open("server");
    j.boolean("sampled", a.ok && b.ok);
    j.integer("processes", b.processes);
    const double cpu = b.cpu_seconds - a.cpu_seconds;
    j.number("cpu_s", cpu);
    j.number("cpu_us_per_request", s.ok > 0 ? cpu * 1e6 / static_cast<double>(s.ok) : 0);
    j.number("cpu_us_per_handshake",
             s.handshakes > 0 ? cpu * 1e6 / static_cast<double>(s.handshakes) : 0);
    j.integer("rss_kib_before", a.rss_kib);
    j.integer("rss_kib_after", b.rss_kib);
    j.integer("hwm_kib", b.hwm_kib);
    if (options.idle) {
      const double delta = static_cast<double>(b.rss_kib) - static_cast<double>(a.rss_kib);
      j.number("kib_per_idle_connection", r.held > 0 ? delta / static_cast<double>(r.held) : 0);
    }
    j.close();
  }
  if (options.idle) {
    j.open("idle");
    j.integer("established", r.established);
    j.integer("held", r.held > 0 ? static_cast<uint64_t>(r.held) : 0);
    j.integer("rss_kib_established", r.server_established.rss_kib);
    j.close();
  }
  return j.take();
}

}  // namespace wif::loadgen
