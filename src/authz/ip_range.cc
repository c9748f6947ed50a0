#include "src/authz/ip_range.h"

#include <arpa/inet.h>

#include <charconv>

namespace wif::authz {
namespace {

constexpr std::string_view kIpExpected =
    "an IPv4 or IPv6 address, or a block such as 10.0.0.0/8 or fd00::/16";

// Parses an address into bytes; false when it is neither form. inet_pton
// needs a NUL-terminated string, and an address fits in INET6_ADDRSTRLEN.
bool parse_address(std::string_view text, bool& v6, std::array<uint8_t, 16>& bytes) {
  char buf[INET6_ADDRSTRLEN] = {};
  if (text.size() >= sizeof buf) {
    return false;
  }
  text.copy(buf, text.size());
  v6 = text.find(':') != std::string_view::npos;
  return inet_pton(v6 ? AF_INET6 : AF_INET, buf, bytes.data()) == 1;
}

bool same_prefix(const std::array<uint8_t, 16>& a, const std::array<uint8_t, 16>& b,
                 unsigned bits) {
  const unsigned whole = bits / 8;
  for (unsigned i = 0; i < whole; ++i) {
    if (a[i] != b[i]) {
      return false;
    }
  }
  const unsigned partial = bits % 8;
  if (partial == 0) {
    return true;
  }
  const auto mask = static_cast<uint8_t>(0xff << (8 - partial));
  return (a[whole] & mask) == (b[whole] & mask);
}

bool host_bits_are_zero(const std::array<uint8_t, 16>& bytes, unsigned prefix_bits,
                        unsigned max_bits) {
  for (unsigned bit = prefix_bits; bit < max_bits; ++bit) {
    if (((bytes[bit / 8] >> (7 - bit % 8)) & 1) != 0) {
      return false;
    }
  }
  return true;
}

}  // namespace

std::optional<IpRange> IpRange::parse(std::string_view text, std::string& error) {
  IpRange range;
  const size_t slash = text.find('/');
  if (!parse_address(text.substr(0, slash), range.v6_, range.bytes_)) {
    error = kIpExpected;
    return std::nullopt;
  }
  const unsigned max_bits = range.v6_ ? 128 : 32;
  range.prefix_bits_ = max_bits;
  if (slash == std::string_view::npos) {
    return range;
  }

  const std::string_view bits = text.substr(slash + 1);
  unsigned value = 0;
  const auto [end, ec] = std::from_chars(bits.data(), bits.data() + bits.size(), value);
  if (bits.empty() || ec != std::errc() || end != bits.data() + bits.size() || value > max_bits ||
      (bits.size() > 1 && bits[0] == '0')) {
    error = "a prefix length from 0 to " + std::to_string(max_bits) + " after the /";
    return std::nullopt;
  }
  range.prefix_bits_ = value;
  // "10.0.0.7/8" reads like a single host: probably not the block meant.
  if (!host_bits_are_zero(range.bytes_, value, max_bits)) {
    error = "a block whose address has no bits set past the prefix, such as 10.0.0.0/8";
    return std::nullopt;
  }
  return range;
}

bool IpRange::matches(const std::string& address) const {
  std::array<uint8_t, 16> bytes{};
  const bool v6 = address.find(':') != std::string::npos;
  if (v6 != v6_ || inet_pton(v6 ? AF_INET6 : AF_INET, address.c_str(), bytes.data()) != 1) {
    return false;
  }
  return same_prefix(bytes, bytes_, prefix_bits_);
}

}  // namespace wif::authz
