#include "src/token/clock.h"

#include <time.h>

namespace wif::token {
namespace {

class SystemClock final : public Clock {
 public:
  int64_t now_ms() const override {
    timespec ts{};
    clock_gettime(CLOCK_REALTIME, &ts);
    return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1'000'000;
  }
};

}  // namespace

const Clock& system_clock() {
  static const SystemClock clock;
  return clock;
}

}  // namespace wif::token
