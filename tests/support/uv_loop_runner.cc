#include "tests/support/uv_loop_runner.h"

#include <gtest/gtest.h>

namespace wif::testing {
namespace {
constexpr uint64_t kRecheckMs = 10;
}

LoopRunner::LoopRunner() {
  uv_loop_init(&loop_);
  uv_timer_init(&loop_, &deadline_);
  uv_timer_init(&loop_, &recheck_);
  uv_prepare_init(&loop_, &check_);
  check_.data = this;
}

LoopRunner::~LoopRunner() {
  for (uv_handle_t* handle :
       {reinterpret_cast<uv_handle_t*>(&deadline_), reinterpret_cast<uv_handle_t*>(&recheck_),
        reinterpret_cast<uv_handle_t*>(&check_)}) {
    uv_close(handle, nullptr);
  }
  // Whatever the test closed finishes closing here; a handle it left open
  // keeps the loop alive, and uv_loop_close says so.
  uv_run(&loop_, UV_RUN_NOWAIT);
  uv_run(&loop_, UV_RUN_NOWAIT);
  EXPECT_EQ(uv_loop_close(&loop_), 0) << "a handle was left open";
}

bool LoopRunner::run_until(const std::function<bool()>& condition, uint64_t deadline_ms) {
  if (condition()) {
    return true;
  }
  condition_ = &condition;
  uv_timer_start(
      &deadline_, [](uv_timer_t* t) { uv_stop(t->loop); }, deadline_ms, 0);
  uv_timer_start(
      &recheck_, [](uv_timer_t*) {}, kRecheckMs, kRecheckMs);
  uv_prepare_start(&check_, [](uv_prepare_t* p) {
    if ((*static_cast<LoopRunner*>(p->data)->condition_)()) {
      uv_stop(p->loop);
    }
  });
  uv_run(&loop_, UV_RUN_DEFAULT);
  uv_prepare_stop(&check_);
  uv_timer_stop(&deadline_);
  uv_timer_stop(&recheck_);
  condition_ = nullptr;
  return condition();
}

}  // namespace wif::testing
