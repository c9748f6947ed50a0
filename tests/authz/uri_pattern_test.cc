#include "src/authz/uri_pattern.h"

#include <gtest/gtest.h>

namespace wif::authz {
namespace {

UriPattern pattern(std::string_view text) {
  std::string error;
  std::optional<UriPattern> parsed = UriPattern::parse(text, error);
  if (!parsed) {
    throw std::runtime_error("pattern " + std::string(text) + " refused: " + error);
  }
  return *parsed;
}

std::string refusal(std::string_view text) {
  std::string error;
  return UriPattern::parse(text, error) ? "accepted" : error;
}

TEST(AuthzUriPattern, MatchesAUriWithoutWildcardsExactly) {
  const UriPattern p = pattern("spiffe://corp/ns/ci/sa/runner");
  EXPECT_TRUE(p.matches("spiffe://corp/ns/ci/sa/runner"));
  EXPECT_FALSE(p.matches("spiffe://corp/ns/ci/sa/runner/"));
  EXPECT_FALSE(p.matches("spiffe://corp/ns/ci/sa/Runner"));
  EXPECT_FALSE(p.matches("spiffe://corp/ns/ci/sa"));
}

TEST(AuthzUriPattern, AUriThatCouldMeanAnotherPathMatchesNothing) {
  const UriPattern rest = pattern("spiffe://corp/ns/ci/**");
  EXPECT_TRUE(rest.matches("spiffe://corp/ns/ci/sa/runner"));
  EXPECT_FALSE(rest.matches("spiffe://corp/ns/ci/../../prod/sa/admin"));
  EXPECT_FALSE(rest.matches("spiffe://corp/ns/ci/./sa"));
  EXPECT_FALSE(rest.matches("spiffe://corp/ns/ci/sa%2F..%2Fadmin"));
  EXPECT_FALSE(rest.matches("spiffe://corp/ns/ci/sa?x=1"));
  EXPECT_FALSE(rest.matches("spiffe://corp/ns/ci/sa#frag"));
  EXPECT_FALSE(pattern("spiffe://corp/ns/*/sa").matches("spiffe://corp/ns/../sa"));
  EXPECT_TRUE(pattern("spiffe://corp/ns/ci/sa..x").matches("spiffe://corp/ns/ci/sa..x"));
}

TEST(AuthzUriPattern, IgnoresCaseInTheSchemeAndAuthorityOnly) {
  const UriPattern p = pattern("SPIFFE://Corp/ns/CI");
  EXPECT_TRUE(p.matches("spiffe://corp/ns/CI"));
  EXPECT_TRUE(p.matches("Spiffe://CORP/ns/CI"));
  EXPECT_FALSE(p.matches("spiffe://corp/ns/ci"));
}

TEST(AuthzUriPattern, StarMatchesExactlyOneNonEmptySegment) {
  const UriPattern p = pattern("spiffe://corp/ns/*/sa/runner");
  EXPECT_TRUE(p.matches("spiffe://corp/ns/ci/sa/runner"));
  EXPECT_TRUE(p.matches("spiffe://corp/ns/prod/sa/runner"));
  EXPECT_FALSE(p.matches("spiffe://corp/ns//sa/runner"));
  EXPECT_FALSE(p.matches("spiffe://corp/ns/a/b/sa/runner"));
}

TEST(AuthzUriPattern, TrailingStarDoesNotMatchDeeperPaths) {
  const UriPattern p = pattern("spiffe://corp/ns/ci/*");
  EXPECT_TRUE(p.matches("spiffe://corp/ns/ci/runner"));
  EXPECT_FALSE(p.matches("spiffe://corp/ns/ci/sa/runner"));
  EXPECT_FALSE(p.matches("spiffe://corp/ns/ci/"));
  EXPECT_FALSE(p.matches("spiffe://corp/ns/ci"));
}

TEST(AuthzUriPattern, DoubleStarMatchesTheRestButNotNothing) {
  const UriPattern p = pattern("spiffe://corp/ns/ci/**");
  EXPECT_TRUE(p.matches("spiffe://corp/ns/ci/runner"));
  EXPECT_TRUE(p.matches("spiffe://corp/ns/ci/sa/runner"));
  EXPECT_FALSE(p.matches("spiffe://corp/ns/ci"));
  EXPECT_FALSE(p.matches("spiffe://corp/ns/ci/"));
  EXPECT_FALSE(p.matches("spiffe://corp/ns/cid/runner"));
}

TEST(AuthzUriPattern, DoesNotTreatAPrefixAsAMatch) {
  const UriPattern p = pattern("spiffe://corp/ns/ci");
  EXPECT_FALSE(p.matches("spiffe://corp/ns/ci-evil"));
  EXPECT_FALSE(p.matches("spiffe://corp/ns/c"));
  EXPECT_FALSE(p.matches("spiffe://corp.evil/ns/ci"));
}

TEST(AuthzUriPattern, MatchesAUriWithoutAuthorityIgnoringCaseInItsSchemeOnly) {
  const UriPattern p = pattern("urn:example:team/ci/*");
  EXPECT_TRUE(p.matches("urn:example:team/ci/runner"));
  EXPECT_TRUE(p.matches("URN:example:team/ci/runner"));
  EXPECT_FALSE(p.matches("urn:EXAMPLE:team/ci/runner"));
}

TEST(AuthzUriPattern, RefusesAWildcardInTheFirstSegmentOfAUriWithoutAuthority) {
  EXPECT_EQ(refusal("urn:uuid:*"),
            "* or ** only as a whole path segment, such as spiffe://corp/ns/*/sa/runner");
}

TEST(AuthzUriPattern, RefusesAPatternWithoutAScheme) {
  EXPECT_NE(refusal("corp/ns/ci"), "accepted");
  EXPECT_NE(refusal("://corp/ns/ci"), "accepted");
  EXPECT_NE(refusal("1spiffe://corp"), "accepted");
}

TEST(AuthzUriPattern, RefusesAStarInsideASegment) {
  EXPECT_EQ(refusal("spiffe://corp/ns/ci-*"),
            "* or ** only as a whole path segment, such as spiffe://corp/ns/*/sa/runner");
}

TEST(AuthzUriPattern, RefusesADoubleStarBeforeTheLastSegment) {
  EXPECT_EQ(refusal("spiffe://corp/**/runner"), "** only as the last segment");
}

TEST(AuthzUriPattern, RefusesWildcardsInTheAuthority) {
  EXPECT_EQ(refusal("spiffe://*/ns/ci"),
            "wildcards only in the path, not in the scheme or the authority");
}

TEST(AuthzUriPattern, RefusesSpacesAndControlCharacters) {
  EXPECT_EQ(refusal("spiffe://corp/ns ci"), "a URI without spaces or control characters");
  EXPECT_EQ(refusal(std::string_view("spiffe://corp/\0x", 16)),
            "a URI without spaces or control characters");
}

}  // namespace
}  // namespace wif::authz
