#include "src/tls/certificate_summary.h"

#include <ctime>

namespace wif::tls {

std::string format_utc(int64_t unix_seconds) {
  const auto t = static_cast<time_t>(unix_seconds);
  std::tm utc{};
  gmtime_r(&t, &utc);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return buf;
}

}  // namespace wif::tls
