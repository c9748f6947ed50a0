// The small parsers and the message format behind every config error.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "src/config/config.h"

namespace wif::config {
namespace {

using ::testing::ElementsAre;
using ::testing::Optional;

TEST(ParseDuration, ReadsEachUnit) {
  EXPECT_THAT(parse_duration_ms("500ms"), Optional(500u));
  EXPECT_THAT(parse_duration_ms("10s"), Optional(10'000u));
  EXPECT_THAT(parse_duration_ms("5m"), Optional(300'000u));
  EXPECT_THAT(parse_duration_ms("1h"), Optional(3'600'000u));
  EXPECT_THAT(parse_duration_ms("0s"), Optional(0u));
}

TEST(ParseDuration, RejectsBareNumbersAndOtherUnits) {
  EXPECT_EQ(parse_duration_ms("10"), std::nullopt);
  EXPECT_EQ(parse_duration_ms("10d"), std::nullopt);
  EXPECT_EQ(parse_duration_ms("10S"), std::nullopt);
  EXPECT_EQ(parse_duration_ms("1m30s"), std::nullopt);
  EXPECT_EQ(parse_duration_ms("ms"), std::nullopt);
  EXPECT_EQ(parse_duration_ms(""), std::nullopt);
}

TEST(ParseDuration, RejectsSignsSpacesAndFractions) {
  EXPECT_EQ(parse_duration_ms("-5s"), std::nullopt);
  EXPECT_EQ(parse_duration_ms("+5s"), std::nullopt);
  EXPECT_EQ(parse_duration_ms(" 5s"), std::nullopt);
  EXPECT_EQ(parse_duration_ms("5 s"), std::nullopt);
  EXPECT_EQ(parse_duration_ms("1.5s"), std::nullopt);
}

TEST(ParseDuration, RejectsValuesThatOverflowMilliseconds) {
  EXPECT_THAT(parse_duration_ms("18446744073709551615ms"), Optional(18446744073709551615u));
  EXPECT_EQ(parse_duration_ms("18446744073709551616ms"), std::nullopt);
  EXPECT_EQ(parse_duration_ms("18446744073709552s"), std::nullopt);
  EXPECT_EQ(parse_duration_ms("99999999999999999999999h"), std::nullopt);
}

TEST(ParseEndpoint, ReadsAnIpv4AddressAndPort) {
  const std::optional<Endpoint> endpoint = parse_endpoint("127.0.0.1:9464");
  ASSERT_TRUE(endpoint);
  EXPECT_EQ(endpoint->host, "127.0.0.1");
  EXPECT_EQ(endpoint->port, 9464);
}

TEST(ParseEndpoint, ReadsABracketedIpv6AddressWithoutTheBrackets) {
  const std::optional<Endpoint> endpoint = parse_endpoint("[::]:7001");
  ASSERT_TRUE(endpoint);
  EXPECT_EQ(endpoint->host, "::");
  EXPECT_EQ(endpoint->port, 7001);
  EXPECT_EQ(parse_endpoint("[fe80::1]:443")->host, "fe80::1");
}

TEST(ParseEndpoint, AcceptsPortsFromZeroTo65535) {
  EXPECT_EQ(parse_endpoint("0.0.0.0:0")->port, 0);
  EXPECT_EQ(parse_endpoint("0.0.0.0:65535")->port, 65535);
  EXPECT_EQ(parse_endpoint("0.0.0.0:65536"), std::nullopt);
  EXPECT_EQ(parse_endpoint("0.0.0.0:100000"), std::nullopt);
}

TEST(ParseEndpoint, RejectsAMissingHostOrPort) {
  EXPECT_EQ(parse_endpoint("7001"), std::nullopt);
  EXPECT_EQ(parse_endpoint(":7001"), std::nullopt);
  EXPECT_EQ(parse_endpoint("0.0.0.0:"), std::nullopt);
  EXPECT_EQ(parse_endpoint("[]:7001"), std::nullopt);
  EXPECT_EQ(parse_endpoint(""), std::nullopt);
}

TEST(ParseEndpoint, RejectsMalformedPortsAndBrackets) {
  EXPECT_EQ(parse_endpoint("0.0.0.0:-1"), std::nullopt);
  EXPECT_EQ(parse_endpoint("0.0.0.0:+80"), std::nullopt);
  EXPECT_EQ(parse_endpoint("0.0.0.0:80 "), std::nullopt);
  EXPECT_EQ(parse_endpoint("[::1:7001"), std::nullopt);
  EXPECT_EQ(parse_endpoint("::1:7001"), std::nullopt);
}

TEST(ParseEndpoint, RejectsHostsThatAreNotAddresses) {
  EXPECT_EQ(parse_endpoint("localhost:7001"), std::nullopt);
  EXPECT_EQ(parse_endpoint("256.0.0.1:7001"), std::nullopt);
  EXPECT_EQ(parse_endpoint("[127.0.0.1]:7001"), std::nullopt);
}

TEST(Diagnostics, PrefixesFileLineAndColumnThenTheField) {
  Diagnostics diag;
  diag.error(Mark{"/etc/wif.yaml", 7, 18}, "tls.verify_depth", "got \"deep\"");
  EXPECT_THAT(diag.messages(), ElementsAre("/etc/wif.yaml:7:18: tls.verify_depth: got \"deep\""));
}

TEST(Diagnostics, NamesTheBuiltInDefaultForAMarkWithoutFileOrLine) {
  Diagnostics diag;
  diag.error(Mark{}, "tls.cert", "cannot read");
  EXPECT_THAT(diag.messages(), ElementsAre("(built-in default): tls.cert: cannot read"));
}

TEST(Diagnostics, PrintsOnlyTheFileOfAMarkWithoutLine) {
  Diagnostics diag;
  diag.error(Mark{"(environment WIF_TOKEND_LISTEN)", 0, 0}, "listen", "got \"x\"");
  diag.error(Mark{"/etc/wif.yaml", 0, 0}, "", "cannot read the config file");
  EXPECT_THAT(diag.messages(), ElementsAre("(environment WIF_TOKEND_LISTEN): listen: got \"x\"",
                                           "/etc/wif.yaml: cannot read the config file"));
  EXPECT_FALSE(diag.ok());
}

TEST(ConfigError, JoinsItsMessagesOnePerLine) {
  const ConfigError error({"first", "second"});
  EXPECT_STREQ(error.what(), "first\nsecond");
  EXPECT_THAT(error.messages(), ElementsAre("first", "second"));
}

}  // namespace
}  // namespace wif::config
