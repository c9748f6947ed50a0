#include "src/authz/ip_range.h"

#include <gtest/gtest.h>

namespace wif::authz {
namespace {

IpRange range(std::string_view text) {
  std::string error;
  std::optional<IpRange> parsed = IpRange::parse(text, error);
  if (!parsed) {
    throw std::runtime_error("range " + std::string(text) + " refused: " + error);
  }
  return *parsed;
}

std::string refusal(std::string_view text) {
  std::string error;
  return IpRange::parse(text, error) ? "accepted" : error;
}

TEST(AuthzIpRange, MatchesOneIpv4Address) {
  const IpRange r = range("10.1.2.3");
  EXPECT_TRUE(r.matches("10.1.2.3"));
  EXPECT_FALSE(r.matches("10.1.2.4"));
  EXPECT_FALSE(r.matches("::ffff:10.1.2.3"));
}

TEST(AuthzIpRange, MatchesAnIpv4Block) {
  const IpRange r = range("10.1.0.0/16");
  EXPECT_TRUE(r.matches("10.1.0.0"));
  EXPECT_TRUE(r.matches("10.1.255.254"));
  EXPECT_FALSE(r.matches("10.2.0.1"));
}

TEST(AuthzIpRange, MatchesABlockThatEndsInsideAByte) {
  const IpRange r = range("192.168.4.0/22");
  EXPECT_TRUE(r.matches("192.168.7.255"));
  EXPECT_FALSE(r.matches("192.168.8.0"));
  EXPECT_FALSE(r.matches("192.168.3.255"));
}

TEST(AuthzIpRange, MatchesIpv6AddressesInAnyTextForm) {
  const IpRange r = range("fd00:0:0:0::7");
  EXPECT_TRUE(r.matches("fd00::7"));
  EXPECT_FALSE(r.matches("fd00::8"));
  EXPECT_FALSE(r.matches("0.0.0.7"));
}

TEST(AuthzIpRange, MatchesAnIpv6Block) {
  const IpRange r = range("fd00:abcd::/32");
  EXPECT_TRUE(r.matches("fd00:abcd:1::1"));
  EXPECT_FALSE(r.matches("fd00:abce::1"));
}

TEST(AuthzIpRange, ZeroPrefixMatchesEveryAddressOfItsFamily) {
  const IpRange r = range("0.0.0.0/0");
  EXPECT_TRUE(r.matches("203.0.113.9"));
  EXPECT_FALSE(r.matches("::1"));
}

TEST(AuthzIpRange, NeverMatchesTextThatIsNotAnAddress) {
  EXPECT_FALSE(range("10.0.0.0/8").matches("10.0.0.1.evil"));
  EXPECT_FALSE(range("10.0.0.0/8").matches(""));
}

TEST(AuthzIpRange, RefusesWhatIsNotAnAddress) {
  const std::string expected =
      "an IPv4 or IPv6 address, or a block such as 10.0.0.0/8 or fd00::/16";
  EXPECT_EQ(refusal("10.0.0.300"), expected);
  EXPECT_EQ(refusal("localhost"), expected);
  EXPECT_EQ(refusal("10.0.0"), expected);
  EXPECT_EQ(refusal("fd00:::1"), expected);
}

TEST(AuthzIpRange, RefusesABadPrefixLength) {
  EXPECT_EQ(refusal("10.0.0.0/33"), "a prefix length from 0 to 32 after the /");
  EXPECT_EQ(refusal("fd00::/129"), "a prefix length from 0 to 128 after the /");
  EXPECT_EQ(refusal("10.0.0.0/"), "a prefix length from 0 to 32 after the /");
  EXPECT_EQ(refusal("10.0.0.0/08"), "a prefix length from 0 to 32 after the /");
  EXPECT_EQ(refusal("10.0.0.0/8x"), "a prefix length from 0 to 32 after the /");
}

TEST(AuthzIpRange, RefusesABlockWithHostBitsSet) {
  EXPECT_EQ(refusal("10.0.0.7/8"),
            "a block whose address has no bits set past the prefix, such as 10.0.0.0/8");
}

}  // namespace
}  // namespace wif::authz
