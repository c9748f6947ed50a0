#include "src/http/router.h"

#include <gtest/gtest.h>

#include <string_view>

namespace wif::http {
namespace {

// The routes the daemon configures with two tokens, "wif" and "build".
Router make_router() {
  Router router;
  router.add("/", RouteKind::kRoot);
  router.add("/get_wif_token", RouteKind::kToken, 0);
  router.add("/v1/tokens/wif", RouteKind::kToken, 0);
  router.add("/v1/tokens/build", RouteKind::kToken, 1);
  router.add("/healthz", RouteKind::kHealthz);
  router.add("/readyz", RouteKind::kReadyz);
  router.add("/metrics", RouteKind::kMetrics);
  return router;
}

TEST(Router, MatchesEachConfiguredPath) {
  const Router router = make_router();

  EXPECT_EQ(router.match(Method::kGet, "/").kind, RouteKind::kRoot);
  EXPECT_EQ(router.match(Method::kGet, "/healthz").kind, RouteKind::kHealthz);
  EXPECT_EQ(router.match(Method::kGet, "/readyz").kind, RouteKind::kReadyz);
  EXPECT_EQ(router.match(Method::kGet, "/metrics").kind, RouteKind::kMetrics);

  const RouteMatch token = router.match(Method::kGet, "/get_wif_token");
  EXPECT_EQ(token.kind, RouteKind::kToken);
  EXPECT_EQ(token.token_index, 0u);
  EXPECT_TRUE(token.method_allowed);
  EXPECT_EQ(token.label, "token");
}

TEST(Router, CarriesTheTokenIndex) {
  const Router router = make_router();

  EXPECT_EQ(router.match(Method::kGet, "/v1/tokens/wif").token_index, 0u);
  const RouteMatch build = router.match(Method::kGet, "/v1/tokens/build");
  EXPECT_EQ(build.kind, RouteKind::kToken);
  EXPECT_EQ(build.token_index, 1u);
}

TEST(Router, IgnoresTheQueryString) {
  const Router router = make_router();

  EXPECT_EQ(router.match(Method::kGet, "/get_wif_token?x=1").kind, RouteKind::kToken);
  EXPECT_EQ(router.match(Method::kGet, "/get_wif_token?").kind, RouteKind::kToken);
  EXPECT_EQ(router.match(Method::kGet, "/?a=/get_wif_token").kind, RouteKind::kRoot);
}

TEST(Router, AnswersNotFoundForEveryOtherSpelling) {
  const Router router = make_router();
  const std::string_view targets[] = {
      "//get_wif_token",  "/get_wif_token/",
      "/./get_wif_token", "/%67et_wif_token",
      "/GET_WIF_TOKEN",   "/get_wif_tokens",
      "/get_wif_toke",    "/v1/tokens/",
      "/v1/tokens/other", "",
      "get_wif_token",    "/get_wif_token#x",
      "/get_wif_token;x", "/healthz/../get_wif_token",
  };
  for (std::string_view target : targets) {
    SCOPED_TRACE(target);
    const RouteMatch match = router.match(Method::kGet, target);
    EXPECT_EQ(match.kind, RouteKind::kNotFound);
    EXPECT_EQ(match.label, "not_found");
  }
}

TEST(Router, AnswersNotFoundForAbsoluteFormAndAsterisk) {
  const Router router = make_router();

  EXPECT_EQ(router.match(Method::kGet, "http://wif/get_wif_token").kind, RouteKind::kNotFound);
  EXPECT_EQ(router.match(Method::kGet, "https://wif:7001/").kind, RouteKind::kNotFound);
  EXPECT_EQ(router.match(Method::kOptions, "*").kind, RouteKind::kNotFound);
}

TEST(Router, AllowsGetAndHeadOnly) {
  const Router router = make_router();

  EXPECT_TRUE(router.match(Method::kGet, "/get_wif_token").method_allowed);
  EXPECT_TRUE(router.match(Method::kHead, "/get_wif_token").method_allowed);
  for (Method method : {Method::kPost, Method::kPut, Method::kDelete, Method::kPatch,
                        Method::kOptions, Method::kTrace, Method::kConnect, Method::kOther}) {
    SCOPED_TRACE(method_name(method));
    const RouteMatch match = router.match(method, "/get_wif_token");
    EXPECT_EQ(match.kind, RouteKind::kToken);
    EXPECT_FALSE(match.method_allowed);
  }
}

TEST(Router, MatchesNothingWhenEmpty) {
  const Router router;
  EXPECT_EQ(router.match(Method::kGet, "/").kind, RouteKind::kNotFound);
}

TEST(Router, OffersGetAndHeadInAllow) { EXPECT_EQ(Router::kAllow, "GET, HEAD"); }

TEST(RouteLabel, GivesASmallFixedLabelPerKind) {
  EXPECT_EQ(route_label(RouteKind::kRoot), "root");
  EXPECT_EQ(route_label(RouteKind::kToken), "token");
  EXPECT_EQ(route_label(RouteKind::kHealthz), "healthz");
  EXPECT_EQ(route_label(RouteKind::kReadyz), "readyz");
  EXPECT_EQ(route_label(RouteKind::kMetrics), "metrics");
  EXPECT_EQ(route_label(RouteKind::kNotFound), "not_found");
}

TEST(RouteLabel, MatchesTheLabelOfAMatch) {
  const Router router = make_router();
  EXPECT_EQ(router.match(Method::kGet, "/").label, "root");
  EXPECT_EQ(router.match(Method::kHead, "/readyz").label, "readyz");
}

}  // namespace
}  // namespace wif::http
