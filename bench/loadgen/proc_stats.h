// ProcStats: CPU time and memory of the server under load, read from /proc.
//
// A snapshot sums a set of processes and their children (nginx's workers
// under its master), so the same code measures a single-process daemon and a
// pre-forking one. CPU comes from /proc/PID/stat (utime + stime, which count
// every thread, live or ended; resolution one clock tick, 10 ms), memory
// from /proc/PID/status (VmRSS, VmHWM).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <vector>

namespace wif::loadgen {

struct ProcSnapshot {
  bool ok = false;         // every listed process could be read
  double cpu_seconds = 0;  // user + system
  uint64_t rss_kib = 0;    // resident now
  uint64_t hwm_kib = 0;    // resident at its peak (sum of each process's peak)
  unsigned processes = 0;  // how many were summed
};

// The listed processes and their direct children. A process that has gone
// makes the snapshot not ok.
ProcSnapshot snapshot(const std::vector<pid_t>& pids);

}  // namespace wif::loadgen
