// The one-line JSON summary a run prints, for people and for compare.py.
#pragma once

#include <string>

#include "bench/loadgen/options.h"
#include "bench/loadgen/proc_stats.h"
#include "bench/loadgen/stats.h"

namespace wif::loadgen {

struct RunResult {
  double measured_s = 0;  // length of the measured window
  double set_up_s = 0;    // until every connection had made its first request
  Stats stats;
  // Around the measured window (or, with --idle, before connecting and at
  // the end of the hold).
  ProcSnapshot server_before;
  ProcSnapshot server_after;
  ProcSnapshot server_established;  // --idle: once every connection is set up
  uint64_t established = 0;         // --idle
  int64_t held = 0;                 // --idle: still open at the end of the hold
};

std::string summary_json(const Options& options, const RunResult& result);

}  // namespace wif::loadgen
