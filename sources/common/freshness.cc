#include "sources/common/freshness.h"

#include <algorithm>
#include <cmath>
#include <random>

namespace wif::sources {

int64_t refresh_at_ms(int64_t obtained_ms, int64_t expires_ms, int64_t refresh_ahead_ms,
                      int64_t min_remaining_ms, double random_unit) {
  const int64_t lifetime_ms = std::max<int64_t>(0, expires_ms - obtained_ms);
  const int64_t ahead_ms = std::min(refresh_ahead_ms, lifetime_ms / 2);
  const auto jitter_ms = static_cast<int64_t>(std::llround(
      static_cast<double>(ahead_ms) * kRefreshJitter * std::clamp(random_unit, 0.0, 1.0)));
  int64_t at_ms = expires_ms - ahead_ms - jitter_ms;
  at_ms = std::min(at_ms, expires_ms - min_remaining_ms);
  return std::max(at_ms, obtained_ms);
}

bool backoff_is_urgent(bool has_token, std::optional<int64_t> serve_until_ms, int64_t now_ms) {
  if (!has_token) {
    return true;
  }
  return serve_until_ms && *serve_until_ms - now_ms < kCloseToExpiryMs;
}

int64_t backoff_delay_ms(int failures, bool urgent, double random_unit) {
  const int64_t cap_ms = urgent ? kBackoffUrgentMaxMs : kBackoffMaxMs;
  // 1 s << 6 is 64 s, already past both caps: no need to shift further.
  const int doublings = std::clamp(failures - 1, 0, 6);
  const int64_t base_ms = std::min(kBackoffInitialMs << doublings, cap_ms);
  const double unit = std::clamp(random_unit, 0.0, 1.0);

  double factor = 1.0 - kBackoffJitter + 2 * kBackoffJitter * unit;  // ±25 %
  if (base_ms == cap_ms) {
    factor = 1.0 - kBackoffJitter * unit;  // −25 %..0: never past the cap
  }
  const auto delay_ms = static_cast<int64_t>(std::llround(static_cast<double>(base_ms) * factor));
  return std::clamp<int64_t>(delay_ms, 1, cap_ms);
}

double draw_unit() {
  thread_local std::mt19937_64 generator{std::random_device{}()};
  return std::uniform_real_distribution<double>(0.0, 1.0)(generator);
}

}  // namespace wif::sources
