// When a source should try again: refresh-ahead times and failure backoff
// (SOURCES.md "Freshness").
//
// Pure functions of the times and a random draw in [0, 1) that the caller
// passes, so tests are deterministic; draw_unit() gives production draws.
// Backoff is a small value type owned by one source on the control loop.
#pragma once

#include <cstdint>
#include <optional>

namespace wif::sources {

inline constexpr int64_t kDefaultRefreshAheadMs = 5 * 60'000;
// Refresh-ahead jitter: up to this fraction of the ahead window earlier.
inline constexpr double kRefreshJitter = 0.1;

inline constexpr int64_t kBackoffInitialMs = 1'000;
inline constexpr int64_t kBackoffMaxMs = 60'000;
// The cap while there is no token, or the cached one is close to its end.
inline constexpr int64_t kBackoffUrgentMaxMs = 15'000;
inline constexpr double kBackoffJitter = 0.25;
// "Close to expiry": less than this left before the token stops being served.
inline constexpr int64_t kCloseToExpiryMs = 2 * kBackoffMaxMs;

// When to refresh a token obtained at `obtained_ms` that expires at
// `expires_ms`: expiry − min(refresh_ahead, half the lifetime), moved earlier
// by up to kRefreshJitter of that window, so replicas spread out. Never later
// than expiry − min_remaining (the token would already be unservable) and
// never before `obtained_ms`. `random_unit` is a draw in [0, 1).
int64_t refresh_at_ms(int64_t obtained_ms, int64_t expires_ms, int64_t refresh_ahead_ms,
                      int64_t min_remaining_ms, double random_unit);

// Whether a failure should be retried at the urgent cap: no token is cached,
// or the cached one stops being served within kCloseToExpiryMs. A cached
// token without expiry is never urgent.
bool backoff_is_urgent(bool has_token, std::optional<int64_t> serve_until_ms, int64_t now_ms);

// The wait after the `failures`-th failure in a row (1 for the first): 1 s
// doubling to 60 s (15 s when urgent), ±25 % jitter. Once the doubled delay
// reaches the cap, the jitter only shortens it, so the cap is never passed
// and Retry-After stays within 1..60 s.
int64_t backoff_delay_ms(int failures, bool urgent, double random_unit);

// Counts failures in a row; a success resets it.
class Backoff {
 public:
  // Records one more failure and returns the wait before the next attempt.
  int64_t next_delay_ms(bool urgent, double random_unit) {
    if (failures_ < kMaxCountedFailures) {
      ++failures_;
    }
    return backoff_delay_ms(failures_, urgent, random_unit);
  }
  void reset() { failures_ = 0; }
  int failures() const { return failures_; }

 private:
  // Far past the cap; stops the count from growing without bound.
  static constexpr int kMaxCountedFailures = 64;
  int failures_ = 0;
};

// A uniform draw in [0, 1) from a per-thread generator seeded from
// std::random_device. Not for cryptography: jitter only.
double draw_unit();

}  // namespace wif::sources
