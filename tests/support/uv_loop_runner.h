// LoopRunner: a real libuv loop for one test, run until a condition holds
// or a deadline passes, never by sleeping. The condition is checked just
// before the loop would block (a prepare callback) and on a short repeating
// timer, for conditions on the world outside the loop (a file written).
// At the end every handle the test opened must be closed: the destructor
// drains the loop and fails the test if it does not close.
#pragma once

#include <uv.h>

#include <cstdint>
#include <functional>

namespace wif::testing {

class LoopRunner {
 public:
  static constexpr uint64_t kDeadlineMs = 5'000;

  LoopRunner();
  ~LoopRunner();
  LoopRunner(const LoopRunner&) = delete;
  LoopRunner& operator=(const LoopRunner&) = delete;

  uv_loop_t* loop() { return &loop_; }

  // True once `condition` holds; false if deadline_ms passed first.
  bool run_until(const std::function<bool()>& condition, uint64_t deadline_ms = kDeadlineMs);

 private:
  uv_loop_t loop_{};
  uv_timer_t deadline_{};
  uv_timer_t recheck_{};
  uv_prepare_t check_{};
  const std::function<bool()>* condition_ = nullptr;
};

}  // namespace wif::testing
