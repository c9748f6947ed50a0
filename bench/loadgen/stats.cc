#include "bench/loadgen/stats.h"

namespace wif::loadgen {

std::string_view error_name(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kConnect:
      return "connect";
    case ErrorKind::kHandshake:
      return "tls_handshake";
    case ErrorKind::kRecord:
      return "tls_record";
    case ErrorKind::kClosed:
      return "closed_early";
    case ErrorKind::kTimeout:
      return "timeout";
    case ErrorKind::kMalformed:
      return "malformed_answer";
    case ErrorKind::kStatus:
      return "status_not_200";
    case ErrorKind::kBody:
      return "unexpected_body";
    case ErrorKind::kCount:
      break;
  }
  return "unknown";
}

uint64_t Stats::error_total() const {
  uint64_t total = 0;
  for (uint64_t n : errors) {
    total += n;
  }
  return total;
}

void Stats::merge(const Stats& other) {
  ok += other.ok;
  handshakes += other.handshakes;
  resumed += other.resumed;
  connections += other.connections;
  server_closed_idle += other.server_closed_idle;
  for (size_t i = 0; i < errors.size(); ++i) {
    errors[i] += other.errors[i];
  }
  for (size_t i = 0; i < statuses.size(); ++i) {
    statuses[i] += other.statuses[i];
  }
  latency.merge(other.latency);
  pacer_lag.merge(other.pacer_lag);
}

}  // namespace wif::loadgen
