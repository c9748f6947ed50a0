// The standard process_* metrics of Prometheus client libraries, read from
// /proc/self at scrape time (Linux only). Any thread.
#pragma once

#include <optional>

namespace wif::metrics {

struct ProcessSample {
  double cpu_seconds = 0;  // user + system
  double resident_bytes = 0;
  double virtual_bytes = 0;
  double start_time_seconds = 0;  // unix time
  double open_fds = 0;
  double max_fds = 0;
};

// nullopt when /proc cannot be read (then the process_* series are left out).
std::optional<ProcessSample> read_process_sample();

}  // namespace wif::metrics
