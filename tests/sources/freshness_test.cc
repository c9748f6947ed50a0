#include "sources/common/freshness.h"

#include <gtest/gtest.h>

#include <vector>

namespace wif::sources {
namespace {

constexpr int64_t kHour = 3'600'000;
constexpr int64_t kMinute = 60'000;
// Just below 1: the largest draw draw_unit() can return, near enough.
constexpr double kTop = 0.999999;

TEST(RefreshAhead, RefreshesFiveMinutesBeforeALongLivedTokenExpires) {
  EXPECT_EQ(refresh_at_ms(0, kHour, kDefaultRefreshAheadMs, 30'000, 0.0), kHour - 5 * kMinute);
}

TEST(RefreshAhead, JitterOnlyMovesTheRefreshEarlierByAtMostATenthOfTheWindow) {
  const int64_t latest = refresh_at_ms(0, kHour, kDefaultRefreshAheadMs, 30'000, 0.0);
  const int64_t earliest = refresh_at_ms(0, kHour, kDefaultRefreshAheadMs, 30'000, kTop);
  EXPECT_EQ(latest, kHour - 300'000);
  EXPECT_LT(earliest, latest);
  EXPECT_GE(earliest, kHour - 330'000);
  EXPECT_EQ(refresh_at_ms(0, kHour, kDefaultRefreshAheadMs, 30'000, 0.5), kHour - 315'000);
}

TEST(RefreshAhead, AShortLivedTokenRefreshesAtHalfItsLifetime) {
  EXPECT_EQ(refresh_at_ms(1'000, 1'000 + 4 * kMinute, kDefaultRefreshAheadMs, 30'000, 0.0),
            1'000 + 2 * kMinute);
}

TEST(RefreshAhead, NeverLaterThanTheTokenStopsBeingServed) {
  // Lifetime 50 s: half is 25 s, but the token is served only until 30 s
  // before expiry.
  EXPECT_EQ(refresh_at_ms(0, 50'000, kDefaultRefreshAheadMs, 30'000, 0.0), 20'000);
}

TEST(RefreshAhead, NeverBeforeTheTokenWasObtained) {
  EXPECT_EQ(refresh_at_ms(10'000, 20'000, kDefaultRefreshAheadMs, 30'000, 0.0), 10'000);
  EXPECT_EQ(refresh_at_ms(10'000, 5'000, kDefaultRefreshAheadMs, 0, 0.0), 10'000);
}

TEST(Backoff, DoublesFromOneSecondUpToSixty) {
  // A draw of 0.5 is no jitter below the cap; a draw of 0 is no jitter at it.
  std::vector<int64_t> delays;
  for (int failures = 1; failures <= 6; ++failures) {
    delays.push_back(backoff_delay_ms(failures, /*urgent=*/false, 0.5));
  }
  for (int failures = 7; failures <= 9; ++failures) {
    delays.push_back(backoff_delay_ms(failures, /*urgent=*/false, 0.0));
  }
  EXPECT_EQ(delays, (std::vector<int64_t>{1'000, 2'000, 4'000, 8'000, 16'000, 32'000, 60'000,
                                          60'000, 60'000}));
}

TEST(Backoff, IsCappedAtFifteenSecondsWhenUrgent) {
  std::vector<int64_t> delays;
  for (int failures = 1; failures <= 7; ++failures) {
    delays.push_back(backoff_delay_ms(failures, /*urgent=*/true, 0.0));
  }
  EXPECT_EQ(delays, (std::vector<int64_t>{750, 1'500, 3'000, 6'000, 15'000, 15'000, 15'000}));
}

TEST(Backoff, JitterStaysWithinAQuarterAndNeverPassesTheCap) {
  for (bool urgent : {false, true}) {
    const int64_t cap = urgent ? kBackoffUrgentMaxMs : kBackoffMaxMs;
    for (int failures = 1; failures <= 70; ++failures) {
      const int64_t base = std::min<int64_t>(int64_t{1'000} << std::min(failures - 1, 6), cap);
      for (double draw : {0.0, 0.25, 0.5, 0.75, kTop}) {
        const int64_t delay = backoff_delay_ms(failures, urgent, draw);
        EXPECT_GE(delay, base * 3 / 4) << failures << " " << draw;
        EXPECT_LE(delay, base * 5 / 4) << failures << " " << draw;
        EXPECT_LE(delay, cap) << failures << " " << draw;
      }
    }
  }
  EXPECT_EQ(backoff_delay_ms(1, false, 0.0), 750);
  EXPECT_EQ(backoff_delay_ms(1, false, kTop), 1'250);
  EXPECT_EQ(backoff_delay_ms(7, false, kTop), 45'000);
}

TEST(Backoff, ResetsAfterASuccess) {
  Backoff backoff;
  EXPECT_EQ(backoff.next_delay_ms(false, 0.5), 1'000);
  EXPECT_EQ(backoff.next_delay_ms(false, 0.5), 2'000);
  EXPECT_EQ(backoff.next_delay_ms(false, 0.5), 4'000);
  backoff.reset();
  EXPECT_EQ(backoff.failures(), 0);
  EXPECT_EQ(backoff.next_delay_ms(false, 0.5), 1'000);
}

TEST(Backoff, KeepsItsCountBoundedThroughLongOutages) {
  Backoff backoff;
  for (int i = 0; i < 1'000; ++i) {
    EXPECT_LE(backoff.next_delay_ms(false, 0.5), kBackoffMaxMs);
  }
  EXPECT_LE(backoff.failures(), 64);
}

TEST(Backoff, IsUrgentWithoutATokenOrCloseToItsEnd) {
  EXPECT_TRUE(backoff_is_urgent(false, std::nullopt, 0));
  EXPECT_FALSE(backoff_is_urgent(true, std::nullopt, 0));
  EXPECT_FALSE(backoff_is_urgent(true, kHour, 0));
  EXPECT_TRUE(backoff_is_urgent(true, kHour, kHour - kCloseToExpiryMs + 1));
  EXPECT_TRUE(backoff_is_urgent(true, kHour, kHour + 1));
}

TEST(DrawUnit, StaysWithinZeroAndOne) {
  for (int i = 0; i < 1'000; ++i) {
    const double draw = draw_unit();
    EXPECT_GE(draw, 0.0);
    EXPECT_LT(draw, 1.0);
  }
}

}  // namespace
}  // namespace wif::sources
