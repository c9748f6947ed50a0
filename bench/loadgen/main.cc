// wif-loadgen: an mTLS load generator for wif-tokend and the servers it is
// compared with. This file reads the command line, starts the load threads,
// samples the server from /proc around the measured window and prints the
// summary.
#include <sys/resource.h>
#include <uv.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "bench/loadgen/client_tls.h"
#include "bench/loadgen/load.h"
#include "bench/loadgen/options.h"
#include "bench/loadgen/proc_stats.h"
#include "bench/loadgen/summary.h"

namespace wif::loadgen {
namespace {

constexpr uint64_t kNsPerMs = 1'000'000;
// Threads start together this long after the main thread set them up.
constexpr uint64_t kStartDelayNs = 50 * kNsPerMs;
// Setting up every connection may take this long before the warm-up
// begins anyway (a server that refuses some, or is very slow).
constexpr uint64_t kSetUpBoundMs = 60'000;
// How often the main thread looks at the shared counters.
constexpr auto kPollInterval = std::chrono::milliseconds(5);

// Ten thousand connections need more descriptors than the usual soft limit;
// the soft limit may be raised to the hard one without privileges.
void raise_descriptor_limit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
  }
}

bool read_token(const std::string& path, std::string* token) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return false;
  }
  std::ostringstream s;
  s << in.rdbuf();
  *token = s.str();
  while (!token->empty() && (token->back() == '\n' || token->back() == '\r')) {
    token->pop_back();
  }
  return true;
}

std::string request_for(const Options& o) {
  // What curl sends, with our own User-Agent.
  return "GET " + o.path + " HTTP/1.1\r\nHost: " + o.servername + ":" + std::to_string(o.port) +
         "\r\nUser-Agent: wif-loadgen\r\nAccept: */*\r\n\r\n";
}

void sleep_until_ns(uint64_t at_ns) {
  const uint64_t now = uv_hrtime();
  if (at_ns > now) {
    std::this_thread::sleep_for(std::chrono::nanoseconds(at_ns - now));
  }
}

// Waits until count (of slots set up) reaches connections, or set_up_by_ns
// has passed; returns when that was.
uint64_t wait_for_set_up(const std::atomic<uint64_t>& count, const Shared& shared,
                         unsigned connections, uint64_t set_up_by_ns) {
  while (count.load(std::memory_order_relaxed) < connections && uv_hrtime() < set_up_by_ns &&
         !shared.stop.load(std::memory_order_relaxed)) {
    std::this_thread::sleep_for(kPollInterval);
  }
  return uv_hrtime();
}

// Waits for the end of the measured window, which --requests may bring
// forward; returns when it ended.
uint64_t wait_for_end(const Shared& shared) {
  const uint64_t end = shared.end_ns.load(std::memory_order_relaxed);
  while (uv_hrtime() < end && !shared.stop.load(std::memory_order_relaxed)) {
    std::this_thread::sleep_for(kPollInterval);
  }
  const uint64_t stopped = shared.stopped_ns.load(std::memory_order_relaxed);
  return stopped != 0 ? stopped : std::min<uint64_t>(uv_hrtime(), end);
}

int run(const Options& options) {
  std::unique_ptr<ClientTls> tls;
  try {
    tls = std::make_unique<ClientTls>(options);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "wif-loadgen: %s\n", e.what());
    return 2;
  }
  std::string token;
  if (!options.token_file.empty() && !read_token(options.token_file, &token)) {
    std::fprintf(stderr, "wif-loadgen: cannot read --token-file %s\n", options.token_file.c_str());
    return 2;
  }

  Shared shared;
  shared.start_ns = uv_hrtime() + kStartDelayNs;
  const uint64_t set_up_by_ns = shared.start_ns + kSetUpBoundMs * kNsPerMs;

  std::vector<std::unique_ptr<Load>> loads;
  for (unsigned i = 0; i < options.threads; ++i) {
    // Spread connections and rate as evenly as the counts allow.
    const unsigned slots =
        options.connections / options.threads + (i < options.connections % options.threads);
    loads.push_back(std::make_unique<Load>(
        options, *tls, shared, slots, options.rate / options.threads, request_for(options), token));
  }
  std::vector<std::string> outcomes(loads.size());
  std::vector<std::thread> threads;
  RunResult result;
  if (options.idle) {
    result.server_before = snapshot(options.server_pids);
  }
  for (size_t i = 0; i < loads.size(); ++i) {
    threads.emplace_back([&, i] { outcomes[i] = loads[i]->run(); });
  }

  if (options.idle) {
    // Set-up may take the warm-up and the duration; then the memory of the
    // connections still open is read and they are held for --hold.
    wait_for_set_up(shared.established, shared, options.connections,
                    shared.start_ns + (options.warmup_ms + options.duration_ms) * kNsPerMs);
    result.established = shared.established.load(std::memory_order_relaxed);
    result.server_established = snapshot(options.server_pids);
    result.measured_s = static_cast<double>(uv_hrtime() - shared.start_ns) * 1e-9;
    // Read at the end of the hold, when every connection has been idle for
    // it: a server may keep buffers for a while after an answer.
    sleep_until_ns(uv_hrtime() + options.hold_ms * kNsPerMs);
    result.server_after = snapshot(options.server_pids);
    result.held = shared.held.load(std::memory_order_relaxed);
  } else {
    // The warm-up starts once every connection has made its first request,
    // so that thousands of handshakes are not measured as part of a
    // keep-alive load; a failed first request counts, so that a refusing
    // server does not stall the run.
    const uint64_t set_up =
        wait_for_set_up(shared.attempted, shared, options.connections, set_up_by_ns);
    result.set_up_s = static_cast<double>(set_up - shared.start_ns) * 1e-9;
    const uint64_t measure = set_up + options.warmup_ms * kNsPerMs;
    shared.end_ns.store(measure + options.duration_ms * kNsPerMs, std::memory_order_relaxed);
    shared.measure_ns.store(measure, std::memory_order_relaxed);
    sleep_until_ns(measure);
    result.server_before = snapshot(options.server_pids);
    const uint64_t ended = wait_for_end(shared);
    result.server_after = snapshot(options.server_pids);
    result.measured_s = static_cast<double>(ended - measure) * 1e-9;
  }
  shared.stop.store(true, std::memory_order_relaxed);
  for (std::thread& t : threads) {
    t.join();
  }

  for (size_t i = 0; i < loads.size(); ++i) {
    if (!outcomes[i].empty()) {
      std::fprintf(stderr, "wif-loadgen: load thread %zu: %s\n", i, outcomes[i].c_str());
      return 2;
    }
    result.stats.merge(loads[i]->stats());
  }
  std::printf("%s\n", summary_json(options, result).c_str());
  std::fflush(stdout);

  const bool clean =
      result.stats.error_total() == 0 &&
      (options.idle ? result.established == options.connections : result.stats.ok > 0);
  return clean ? 0 : 1;
}

}  // namespace
}  // namespace wif::loadgen

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    if (std::string_view(argv[i]) == "--help" || std::string_view(argv[i]) == "-h") {
      std::fputs(wif::loadgen::kUsage, stdout);
      return 0;
    }
  }
  std::string error;
  const auto options = wif::loadgen::parse_options(argc, argv, &error);
  if (!options) {
    std::fprintf(stderr, "wif-loadgen: %s\n%s", error.c_str(), wif::loadgen::kUsage);
    return 2;
  }
  wif::loadgen::raise_descriptor_limit();
  return wif::loadgen::run(*options);
}
