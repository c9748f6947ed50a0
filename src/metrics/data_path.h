// DataPathCounters: what one worker counts while it serves, with no lock and
// no allocation per event.
//
// Each worker owns one DataPathCounters and is its only writer; the scrape
// (on any thread) only reads. So an increment is a relaxed load and store of
// the worker's own cache lines, not a locked read-modify-write, and readers
// see each value whole (std::atomic) if a little late. The collector sums
// every worker's copy at scrape time (see Metrics).
//
// Label values come from the fixed enums below, never from a client: a
// route is one of the router's kinds, a method one of llhttp's names that we
// know, a status one of the codes the daemon sends.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

namespace wif::metrics {

enum class Listener { kMtls, kMetrics };
inline constexpr size_t kListenerCount = 2;
std::string_view listener_name(Listener listener);

enum class Route { kRoot, kToken, kHealthz, kReadyz, kMetrics, kNotFound, kInvalid };
inline constexpr size_t kRouteCount = 7;
std::string_view route_name(Route route);

enum class Method { kGet, kHead, kPost, kPut, kDelete, kPatch, kOptions, kTrace, kConnect, kOther };
inline constexpr size_t kMethodCount = 10;
std::string_view method_name(Method method);

// The statuses the daemon sends; anything else counts as "other".
inline constexpr std::array<int, 11> kStatusCodes = {200, 400, 403, 404, 405, 408,
                                                     413, 431, 501, 503, 505};
inline constexpr size_t kStatusCount = kStatusCodes.size() + 1;
size_t status_index(int status);
std::string_view status_label(size_t index);  // "200" ... "other"

// Handshake outcomes: success, then tls::Failure's reasons, then a timeout.
enum class Handshake {
  kOk,
  kNoCertificate,
  kUnknownCa,
  kExpired,
  kNotYetValid,
  kRevoked,
  kBadUsage,
  kRevocationUnknown,
  kServerCertificateRefused,
  kProtocol,
  kTimeout,
};
inline constexpr size_t kHandshakeCount = 11;
std::string_view handshake_reason(Handshake outcome);  // "none" for kOk

// Why a connection was closed by a deadline rather than by its peer.
enum class Timeout { kHandshake, kHeader, kIdle, kWrite };
inline constexpr size_t kTimeoutCount = 4;
std::string_view timeout_phase(Timeout timeout);

enum class TokenResult { kServed, kUnavailable, kForbidden };
inline constexpr size_t kTokenResultCount = 3;
std::string_view token_result_name(TokenResult result);

// A counter with one writer thread. inc() is a relaxed load and store: no
// lock prefix, because no other thread ever writes it.
class Cell {
 public:
  void inc(uint64_t n = 1) { value_.store(value_.load(std::memory_order_relaxed) + n, kOrder); }
  uint64_t get() const { return value_.load(std::memory_order_relaxed); }

 private:
  static constexpr std::memory_order kOrder = std::memory_order_relaxed;
  std::atomic<uint64_t> value_{0};
};

// Upper bounds of the latency buckets, in nanoseconds: 100 µs to 10 s. The
// same bounds serve requests and handshakes, so their histograms compare.
inline constexpr std::array<uint64_t, 16> kLatencyBoundsNs = {
    100'000,       250'000,       500'000,       1'000'000,     2'500'000,   5'000'000,
    10'000'000,    25'000'000,    50'000'000,    100'000'000,   250'000'000, 500'000'000,
    1'000'000'000, 2'500'000'000, 5'000'000'000, 10'000'000'000};

// A latency histogram with one writer thread. Buckets are stored
// non-cumulative (one increment per observation); the collector adds them
// up. The last bucket is +Inf.
class LatencyCells {
 public:
  void observe(uint64_t ns) {
    size_t i = 0;
    while (i < kLatencyBoundsNs.size() && ns > kLatencyBoundsNs[i]) {
      ++i;
    }
    buckets_[i].inc();
    sum_ns_.inc(ns);
  }
  uint64_t bucket(size_t i) const { return buckets_[i].get(); }
  uint64_t sum_ns() const { return sum_ns_.get(); }

  static constexpr size_t kBuckets = kLatencyBoundsNs.size() + 1;

 private:
  std::array<Cell, kBuckets> buckets_;
  Cell sum_ns_;
};

// One worker's counters. Heap-allocated by Metrics::add_worker, never moved;
// aligned so that two workers' counters never share a cache line.
struct alignas(64) DataPathCounters {
  explicit DataPathCounters(Listener l, size_t token_count)
      : listener(l), token_requests(new TokenCells[token_count]) {}

  void request(Route route, Method method, int status, uint64_t duration_ns) {
    const auto r = static_cast<size_t>(route);
    requests[r][static_cast<size_t>(method)][status_index(status)].inc();
    request_latency[r].observe(duration_ns);
  }
  void token_request(size_t token_index, TokenResult result) {
    token_requests[token_index][static_cast<size_t>(result)].inc();
  }
  void handshake(Handshake outcome) { handshakes[static_cast<size_t>(outcome)].inc(); }
  void timeout(Timeout what) { timeouts[static_cast<size_t>(what)].inc(); }

  using TokenCells = std::array<Cell, kTokenResultCount>;

  const Listener listener;
  std::array<std::array<std::array<Cell, kStatusCount>, kMethodCount>, kRouteCount> requests;
  std::array<LatencyCells, kRouteCount> request_latency;
  std::unique_ptr<TokenCells[]> token_requests;  // one per configured token
  std::array<Cell, kHandshakeCount> handshakes;
  LatencyCells handshake_latency;  // completed handshakes only
  Cell resumptions;
  Cell renegotiations_refused;  // TLS 1.2 clients that asked after the handshake
  // Connections a record ended after the handshake: one that failed
  // authentication or was malformed, or the client's fatal alert.
  Cell record_failures;
  Cell connections_opened;
  Cell connections_closed;
  Cell connections_refused;  // at max_connections
  std::array<Cell, kTimeoutCount> timeouts;
};

}  // namespace wif::metrics
