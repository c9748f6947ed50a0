// What the token source tests share: a clock the test moves by hand, a sink
// that records everything a source reports, and a fixture that owns a real
// uv loop and runs it until a condition holds or a deadline passes.
//
// Single-threaded: everything runs on the test's thread, inside the loop.
#pragma once

#include <uv.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "src/token/clock.h"
#include "src/token/token_source.h"

namespace wif::testing {

class FakeClock final : public token::Clock {
 public:
  explicit FakeClock(int64_t now_ms) : now_ms_(now_ms) {}
  int64_t now_ms() const override { return now_ms_; }
  void advance(int64_t ms) { now_ms_ += ms; }
  void set(int64_t now_ms) { now_ms_ = now_ms; }

 private:
  int64_t now_ms_;
};

// Records everything a source reports, in order, with the token bytes copied
// out so tests can assert on every value ever published.
class RecordingSink final : public token::SourceSink {
 public:
  enum class Kind { kPublish, kFailed, kWithdraw };
  struct Event {
    Kind kind;
    std::string value;
    std::optional<int64_t> expires_at_ms;
    std::optional<int64_t> serve_until_ms;
    int64_t obtained_at_ms = 0;
    std::string origin;
    std::string body_prefix;
    std::string reason;
    int64_t next_attempt_ms = 0;
  };

  void publish(std::shared_ptr<token::Token> token) override;
  void failed(std::string_view reason, int64_t next_attempt_ms) override;
  void withdraw(std::string_view reason) override;

  std::vector<std::string> published() const;
  const Event* last(Kind kind) const;
  size_t count(Kind kind) const;
  bool last_published_is(std::string_view value) const;

  std::vector<Event> events;
};

// The path of a test hook in tests/data/hooks (WIF_SOURCE_ROOT).
std::string hook_path(std::string_view name);

// Whether `pid` is a live process (a zombie is dead: it only waits to be
// reaped), and whether any live process is in process group `pgid`. Read
// from /proc.
bool process_alive(int pid);
bool group_alive(int pgid);

// A real uv loop per test. TearDown stops the source under test (through
// stop_source(), which derived fixtures implement), closes the fixture's own
// handles and checks that the loop closes.
class LoopTest : public ::testing::Test {
 protected:
  static constexpr uint64_t kDeadlineMs = 5'000;

  void SetUp() override;
  void TearDown() override;

  // Runs the loop until `condition` holds or `deadline_ms` pass. The
  // condition is checked in a prepare callback, just before the loop would
  // block, so a change made by any callback stops the loop at once; a short
  // repeating timer also wakes the loop, for conditions on the world outside
  // it (a process gone, a file written by a child).
  bool run_until(const std::function<bool()>& condition, uint64_t deadline_ms = kDeadlineMs);
  bool run_until_published(std::string_view value, uint64_t deadline_ms = kDeadlineMs);
  bool run_until_event(RecordingSink::Kind kind, uint64_t deadline_ms = kDeadlineMs);

  // Stops `source` and runs the loop until its `done` has run.
  void stop(token::TokenSource& source);
  virtual void stop_source() {}

  uv_loop_t loop_{};
  RecordingSink sink_;

 private:
  uv_timer_t deadline_{};
  uv_timer_t recheck_{};
  uv_prepare_t check_condition_{};
  const std::function<bool()>* condition_ = nullptr;
};

}  // namespace wif::testing
