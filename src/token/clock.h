// Clock: wall time in milliseconds since the epoch. The one thing tests fake.
#pragma once

#include <cstdint>

namespace wif::token {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual int64_t now_ms() const = 0;
};

// The real clock (CLOCK_REALTIME); a process-wide instance.
const Clock& system_clock();

}  // namespace wif::token
