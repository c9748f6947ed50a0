// Stats: what a load thread counts, merged on the main thread at the end.
//
// Successes, handshakes and latencies count only inside the measured window;
// errors count over the whole run (warm-up included), so a run with any
// failure cannot look clean.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

#include "bench/loadgen/histogram.h"

namespace wif::loadgen {

enum class ErrorKind {
  kConnect,    // TCP connect or a socket error
  kHandshake,  // TLS handshake refused or broken (a refused client certificate too)
  kRecord,     // a TLS record error after the handshake
  kClosed,     // the server closed before the answer was complete
  kTimeout,    // no complete answer within --timeout
  kMalformed,  // not a Content-Length framed HTTP/1.x answer
  kStatus,     // an answer other than 200
  kBody,       // a 200 whose body is not the expected token
  kCount,
};

std::string_view error_name(ErrorKind kind);

struct Stats {
  uint64_t ok = 0;                  // measured 200 answers with the expected token
  uint64_t handshakes = 0;          // measured completed handshakes
  uint64_t resumed = 0;             // of which resumed from a ticket
  uint64_t connections = 0;         // connections opened, whole run
  uint64_t server_closed_idle = 0;  // idle connections the server ended (not an error)
  std::array<uint64_t, static_cast<size_t>(ErrorKind::kCount)> errors{};
  std::array<uint64_t, 1000> statuses{};  // non-200 answers by status code
  Histogram latency;                      // of the measured successes
  // --rate: how late the pacer handed each measured request to an idle slot,
  // the generator's own share of that request's latency.
  Histogram pacer_lag;

  uint64_t error_total() const;
  void merge(const Stats& other);
};

}  // namespace wif::loadgen
