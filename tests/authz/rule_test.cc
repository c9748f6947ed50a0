#include "src/authz/rule.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace wif::authz {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

constexpr char kFingerprint[] = "3f9a1c0b5d2e4f6a7b8c9d0e1f2a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c";

tls::PeerIdentity runner() {
  tls::PeerIdentity peer;
  peer.subject = "OU=CI,O=Internal,CN=ci-runner";
  peer.common_names = {"ci-runner"};
  peer.organizations = {"Internal"};
  peer.organizational_units = {"CI", "Build"};
  peer.dns_names = {"runner-7.ci.corp.example", "ci.corp.example"};
  peer.uris = {"spiffe://corp/ns/ci/sa/runner"};
  peer.emails = {"CI-Bot@Corp.Example"};
  peer.ips = {"10.20.30.40", "fd00::40"};
  peer.sha256_hex = kFingerprint;
  peer.spki_sha256_hex = std::string(64, 'a');
  return peer;
}

class AuthzRule : public ::testing::Test {
 protected:
  // A rule as the config loader hands it over, with a mark per value.
  config::AllowRule source(std::initializer_list<std::pair<std::string, std::string>> fields) {
    config::AllowRule rule;
    rule.mark = {"wif.yaml", 5, 9};
    rule.field = "tokens.wif.allow[0]";
    int column = 10;
    for (const auto& [key, value] : fields) {
      rule.marks[key] = {"wif.yaml", 5, column};
      column += 20;
      std::optional<std::string> config::AllowRule::*member = nullptr;
      for (const auto& [name, m] : kMembers) {
        if (name == key) {
          member = m;
        }
      }
      if (member == nullptr) {
        throw std::runtime_error("no rule field " + key);
      }
      rule.*member = value;
    }
    return rule;
  }

  Rule compile(std::initializer_list<std::pair<std::string, std::string>> fields) {
    config::Diagnostics diag;
    std::optional<Rule> rule = compile_rule(source(fields), diag);
    if (!rule) {
      throw std::runtime_error("rule refused: " + diag.messages().front());
    }
    return *rule;
  }

  std::vector<std::string> errors(
      std::initializer_list<std::pair<std::string, std::string>> fields) {
    config::Diagnostics diag;
    EXPECT_EQ(compile_rule(source(fields), diag), std::nullopt);
    return diag.messages();
  }

  static constexpr std::pair<std::string_view, std::optional<std::string> config::AllowRule::*>
      kMembers[] = {{"cn", &config::AllowRule::cn},    {"o", &config::AllowRule::o},
                    {"ou", &config::AllowRule::ou},    {"dns", &config::AllowRule::dns},
                    {"uri", &config::AllowRule::uri},  {"email", &config::AllowRule::email},
                    {"ip", &config::AllowRule::ip},    {"sha256", &config::AllowRule::sha256},
                    {"spki", &config::AllowRule::spki}};

  tls::PeerIdentity peer_ = runner();
};

TEST_F(AuthzRule, MatchesSubjectAttributesExactly) {
  EXPECT_TRUE(compile({{"cn", "ci-runner"}}).matches(peer_));
  EXPECT_FALSE(compile({{"cn", "CI-Runner"}}).matches(peer_));
  EXPECT_FALSE(compile({{"cn", "ci-runne"}}).matches(peer_));
  EXPECT_TRUE(compile({{"o", "Internal"}}).matches(peer_));
  EXPECT_FALSE(compile({{"o", "External"}}).matches(peer_));
}

TEST_F(AuthzRule, MatchesAnyOfSeveralValuesOfOneKind) {
  EXPECT_TRUE(compile({{"ou", "Build"}}).matches(peer_));
  EXPECT_TRUE(compile({{"dns", "ci.corp.example"}}).matches(peer_));
  EXPECT_TRUE(compile({{"ip", "fd00::40"}}).matches(peer_));
}

TEST_F(AuthzRule, NeedsEveryFieldToMatch) {
  EXPECT_TRUE(compile({{"cn", "ci-runner"}, {"o", "Internal"}, {"ou", "CI"}}).matches(peer_));
  EXPECT_FALSE(compile({{"cn", "ci-runner"}, {"o", "External"}}).matches(peer_));
  EXPECT_FALSE(compile({{"cn", "someone"}, {"o", "Internal"}}).matches(peer_));
}

TEST_F(AuthzRule, MatchesDnsNamesIgnoringCase) {
  EXPECT_TRUE(compile({{"dns", "Runner-7.CI.corp.example"}}).matches(peer_));
  EXPECT_FALSE(compile({{"dns", "runner-8.ci.corp.example"}}).matches(peer_));
}

TEST_F(AuthzRule, DnsWildcardStandsForExactlyOneLabel) {
  peer_.dns_names = {"runner-7.ci.corp.example"};
  EXPECT_TRUE(compile({{"dns", "*.ci.corp.example"}}).matches(peer_));
  EXPECT_FALSE(compile({{"dns", "*.corp.example"}}).matches(peer_));  // two labels in front
  EXPECT_FALSE(compile({{"dns", "*.runner-7.ci.corp.example"}}).matches(peer_));
  peer_.dns_names = {".ci.corp.example"};
  EXPECT_FALSE(compile({{"dns", "*.ci.corp.example"}}).matches(peer_));
}

TEST_F(AuthzRule, MatchesUrisWithWildcards) {
  EXPECT_TRUE(compile({{"uri", "spiffe://corp/ns/ci/**"}}).matches(peer_));
  EXPECT_TRUE(compile({{"uri", "spiffe://corp/ns/*/sa/runner"}}).matches(peer_));
  EXPECT_FALSE(compile({{"uri", "spiffe://corp/ns/prod/**"}}).matches(peer_));
}

TEST_F(AuthzRule, MatchesEmailsWithTheDomainIgnoringCase) {
  EXPECT_TRUE(compile({{"email", "CI-Bot@corp.example"}}).matches(peer_));
  EXPECT_FALSE(compile({{"email", "ci-bot@corp.example"}}).matches(peer_));
}

TEST_F(AuthzRule, MatchesAddressesAndBlocks) {
  EXPECT_TRUE(compile({{"ip", "10.20.0.0/16"}}).matches(peer_));
  EXPECT_FALSE(compile({{"ip", "10.21.0.0/16"}}).matches(peer_));
}

TEST_F(AuthzRule, MatchesFingerprintsInEitherSpelling) {
  EXPECT_TRUE(compile({{"sha256", kFingerprint}}).matches(peer_));
  std::string colons;
  for (size_t i = 0; i < 64; i += 2) {
    colons += (i == 0 ? "" : ":") + std::string(kFingerprint + i, 2);
  }
  for (char& c : colons) {
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  EXPECT_TRUE(compile({{"sha256", colons}}).matches(peer_));
  EXPECT_TRUE(compile({{"spki", std::string(64, 'A')}}).matches(peer_));
  EXPECT_FALSE(compile({{"spki", std::string(64, 'b')}}).matches(peer_));
}

TEST_F(AuthzRule, NeverMatchesAFingerprintThePeerLacks) {
  peer_.sha256_hex.clear();
  EXPECT_FALSE(compile({{"sha256", kFingerprint}}).matches(peer_));
}

TEST_F(AuthzRule, NeverMatchesAKindThePeerHasNoneOf) {
  peer_.uris.clear();
  peer_.ips.clear();
  EXPECT_FALSE(compile({{"uri", "spiffe://corp/**"}}).matches(peer_));
  EXPECT_FALSE(compile({{"ip", "0.0.0.0/0"}}).matches(peer_));
}

TEST_F(AuthzRule, NamesFileLineAndFieldOfABadAddress) {
  EXPECT_THAT(errors({{"cn", "x"}, {"ip", "10.0.0.300"}}),
              ElementsAre("wif.yaml:5:30: tokens.wif.allow[0].ip: got \"10.0.0.300\" (expected "
                          "an IPv4 or IPv6 address, or a block such as 10.0.0.0/8 or fd00::/16)"));
}

TEST_F(AuthzRule, RefusesAFingerprintOfTheWrongLength) {
  const std::string expected =
      "wif.yaml:5:10: tokens.wif.allow[0].sha256: got \"AB:CD\" (expected the certificate's "
      "SHA-256 fingerprint: 64 hex digits, optionally in colon-separated pairs as `openssl x509 "
      "-noout -fingerprint -sha256` prints them)";
  EXPECT_THAT(errors({{"sha256", "AB:CD"}}), ElementsAre(expected));
  EXPECT_EQ(errors({{"sha256", std::string(63, 'a')}}).size(), 1u);
  EXPECT_EQ(errors({{"sha256", std::string(66, 'a')}}).size(), 1u);
  EXPECT_EQ(errors({{"spki", std::string(64, 'g')}}).size(), 1u);
  EXPECT_EQ(errors({{"sha256", "a" + std::string(63, ':')}}).size(), 1u);
}

TEST_F(AuthzRule, RefusesABadGlobAndSaysWhy) {
  EXPECT_THAT(errors({{"uri", "spiffe://corp/ns/ci-*"}}),
              ElementsAre("wif.yaml:5:10: tokens.wif.allow[0].uri: got \"spiffe://corp/ns/ci-*\" "
                          "(expected * or ** only as a whole path segment, such as "
                          "spiffe://corp/ns/*/sa/runner)"));
}

TEST_F(AuthzRule, RefusesBadDnsNamesAndEmails) {
  EXPECT_EQ(errors({{"dns", "ci..corp"}}).size(), 1u);
  EXPECT_EQ(errors({{"dns", "-ci.corp"}}).size(), 1u);
  EXPECT_EQ(errors({{"dns", "ci.*.corp"}}).size(), 1u);
  EXPECT_EQ(errors({{"dns", "ci.corp."}}).size(), 1u);
  EXPECT_EQ(errors({{"email", "ci-bot"}}).size(), 1u);
  EXPECT_EQ(errors({{"email", "@corp.example"}}).size(), 1u);
  EXPECT_EQ(errors({{"email", "ci@*.corp.example"}}).size(), 1u);
}

TEST_F(AuthzRule, ReportsEveryBadValueOfARule) {
  EXPECT_EQ(errors({{"ip", "x"}, {"dns", "a..b"}, {"spki", "00"}}).size(), 3u);
}

TEST_F(AuthzRule, ReportsNothingForAGoodRule) {
  config::Diagnostics diag;
  EXPECT_NE(compile_rule(source({{"uri", "spiffe://corp/**"}, {"ip", "::1"}}), diag), std::nullopt);
  EXPECT_THAT(diag.messages(), IsEmpty());
}

}  // namespace
}  // namespace wif::authz
