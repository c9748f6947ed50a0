// TokenStore: the current snapshot of every configured token.
//
// The set of names is fixed when the store is built (one slot per configured
// token, in config order), so lookups need no lock. Sources publish from the
// control loop; workers read from any thread. A read is one atomic load of a
// shared_ptr: a request never waits for a refresh.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "src/token/token.h"

namespace wif::token {

// What /readyz and the 503 answer say about a token that has no valid value.
enum class SlotState {
  kPending,  // no value yet: the first read or run is under way
  kReady,    // a value is published (it may still have expired: check expiry)
  kFailing,  // no value and the last attempt failed
};

class TokenStore {
 public:
  explicit TokenStore(std::vector<std::string> names);

  size_t size() const { return slots_.size(); }
  const std::string& name(size_t index) const { return slots_[index]->name; }
  // Index of `name`, or size() when unknown.
  size_t find(std::string_view name) const;

  // Control loop: replaces the value (a newer token always wins, even if it
  // expires sooner: the writer is the source of truth). Sets token->version.
  void publish(size_t index, std::shared_ptr<Token> token);
  // Control loop: removes the value (a source that must stop serving).
  void withdraw(size_t index, SlotState state);
  // Control loop: records a failed attempt while keeping any current value.
  void set_state(size_t index, SlotState state);
  // Control loop: when the source will try again (Retry-After), ms since epoch.
  void set_next_attempt(size_t index, int64_t at_ms);

  // Control loop: `listener` runs at each notify_changed(), which the
  // publisher (SlotSink) calls after every report, so that requests waiting
  // for a value look again. Set it before any source starts; it must not
  // block (the daemon's wakes each worker with a uv_async_send).
  void set_change_listener(std::function<void()> listener);
  void notify_changed() const;

  // Any thread.
  std::shared_ptr<const Token> current(size_t index) const;
  SlotState state(size_t index) const;
  int64_t next_attempt_ms(size_t index) const;

  // A token is servable until expiry − min_remaining, never after.
  static bool servable(const Token& token, int64_t now_ms, int64_t min_remaining_ms);

 private:
  struct Slot {
    std::string name;
    std::atomic<std::shared_ptr<const Token>> current;
    std::atomic<SlotState> state{SlotState::kPending};
    std::atomic<int64_t> next_attempt_ms{0};
    uint64_t versions = 0;  // control loop only
  };
  std::vector<std::unique_ptr<Slot>> slots_;
  std::function<void()> change_listener_;  // control loop only
};

}  // namespace wif::token
