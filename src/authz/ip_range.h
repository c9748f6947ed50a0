// IpRange: the addresses an allow rule's `ip` field matches, one address
// ("10.0.0.7", "fd00::7") or a CIDR block ("10.0.0.0/8", "fd00::/16").
//
// An IPv4 rule matches only 4-byte iPAddress entries and an IPv6 rule only
// 16-byte ones, so "::ffff:10.0.0.7" never matches 10.0.0.0/8 (RFC 5280
// section 4.2.1.6 keeps the two apart). Parsed once when the config is
// loaded; matches() never allocates. An immutable value.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace wif::authz {

class IpRange {
 public:
  // nullopt when `text` is not an address or a block whose bits past the
  // prefix are zero; `error` then says what was expected.
  static std::optional<IpRange> parse(std::string_view text, std::string& error);

  // `address` in the text form PeerIdentity holds (inet_ntop's).
  bool matches(const std::string& address) const;

 private:
  bool v6_ = false;
  unsigned prefix_bits_ = 0;
  std::array<uint8_t, 16> bytes_{};
};

}  // namespace wif::authz
