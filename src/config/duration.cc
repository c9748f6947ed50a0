#include <limits>

#include "src/config/config.h"

namespace wif::config {
namespace {

struct Unit {
  std::string_view suffix;
  uint64_t ms;
};

// "ms" comes before "m" and "s" so that "500ms" is not read as minutes.
constexpr Unit kUnits[] = {{"ms", 1}, {"s", 1'000}, {"m", 60'000}, {"h", 3'600'000}};

}  // namespace

std::optional<uint64_t> parse_duration_ms(std::string_view text) {
  size_t digits = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') {
    ++digits;
  }
  if (digits == 0) {
    return std::nullopt;
  }

  const std::string_view suffix = text.substr(digits);
  for (const Unit& unit : kUnits) {
    if (suffix != unit.suffix) {
      continue;
    }
    constexpr uint64_t kMax = std::numeric_limits<uint64_t>::max();
    uint64_t count = 0;
    for (char c : text.substr(0, digits)) {
      const auto digit = static_cast<uint64_t>(c - '0');
      if (count > (kMax - digit) / 10) {
        return std::nullopt;
      }
      count = count * 10 + digit;
    }
    if (count > kMax / unit.ms) {
      return std::nullopt;
    }
    return count * unit.ms;
  }
  return std::nullopt;
}

}  // namespace wif::config
