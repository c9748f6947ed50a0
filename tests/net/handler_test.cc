#include "src/net/handler.h"

#include <gtest/gtest.h>

#include "src/token/secret.h"
#include "src/token/token.h"

namespace wif::net {
namespace {

class FakeClock final : public token::Clock {
 public:
  int64_t now_ms() const override { return now; }
  int64_t now = 1'000'000;
};

class HandlerTest : public ::testing::Test {
 protected:
  HandlerTest() : store_({"wif", "build"}) {
    state_.tokens = {{"wif", false, 0}, {"build", true, 0}};
    state_.router = token_listener_routes(state_.tokens);
    state_.store = &store_;
    state_.clock = &clock_;
  }

  void publish(size_t index, std::string value, std::optional<int64_t> expires_at_ms) {
    auto t = std::make_shared<token::Token>();
    t->value = token::Secret(std::move(value));
    t->expires_at_ms = expires_at_ms;
    token::render_bodies(*t);
    store_.publish(index, std::move(t));
  }

  std::string get(std::string target, http::Method method = http::Method::kGet,
                  int64_t may_wait_ms = 0) {
    http::Request r;
    r.method = method;
    r.target = std::move(target);
    std::string out;
    last_ = handle_request(state_, r, nullptr, out, may_wait_ms);
    return out;
  }

  // A request from a client whose certificate verified as `peer`.
  std::string get_as(const tls::PeerIdentity& peer, std::string target,
                     http::Method method = http::Method::kGet) {
    http::Request r;
    r.method = method;
    r.target = std::move(target);
    std::string out;
    last_ = handle_request(state_, r, &peer, out);
    return out;
  }

  // The build token allowed to CN=ci-runner only.
  void restrict_build_to_ci_runner() {
    config::AllowRule rule;
    rule.field = "tokens.build.allow[0]";
    rule.cn = "ci-runner";
    config::Diagnostics diag;
    state_.tokens[1].policy = *authz::AccessPolicy::compile({rule}, diag);
  }

  static tls::PeerIdentity peer_named(std::string cn) {
    tls::PeerIdentity peer;
    peer.common_names = {std::move(cn)};
    return peer;
  }

  static std::string body_of(const std::string& response) {
    return response.substr(response.find("\r\n\r\n") + 4);
  }

  FakeClock clock_;
  token::TokenStore store_;
  ServeState state_;
  Answer last_;
};

TEST_F(HandlerTest, ServesTheWifTokenOnTheOriginalPath) {
  publish(0, "tok", std::nullopt);
  const std::string r = get("/get_wif_token");
  EXPECT_EQ(last_.status, 200);
  EXPECT_EQ(body_of(r), R"({"access_token":"tok","token_type":"Bearer"})");
  EXPECT_NE(r.find("Cache-Control: no-store\r\n"), std::string::npos);
}

TEST_F(HandlerTest, ExpiresInCountsTheWholeSecondsLeft) {
  publish(0, "tok", clock_.now + 90'500);
  EXPECT_EQ(body_of(get("/v1/tokens/wif")),
            R"({"access_token":"tok","token_type":"Bearer","expires_in":90})");
  clock_.now += 30'000;
  EXPECT_EQ(body_of(get("/v1/tokens/wif")),
            R"({"access_token":"tok","token_type":"Bearer","expires_in":60})");
}

TEST_F(HandlerTest, MinimalResponseCarriesOnlyTheToken) {
  publish(1, "b", clock_.now + 100'000);
  EXPECT_EQ(body_of(get("/v1/tokens/build")), R"({"access_token":"b"})");
}

TEST_F(HandlerTest, NoValueAnswers503WithRetryAfterAndNamesOnlyTheToken) {
  store_.set_next_attempt(0, clock_.now + 4'200);
  const std::string r = get("/get_wif_token");
  EXPECT_EQ(last_.status, 503);
  EXPECT_NE(r.find("Retry-After: 5\r\n"), std::string::npos);
  EXPECT_EQ(
      body_of(r),
      R"({"error":"temporarily_unavailable","error_description":"token wif has no valid value yet"})");
}

TEST_F(HandlerTest, AnExpiredTokenIsNeverServed) {
  publish(0, "old", clock_.now - 1);
  const std::string r = get("/get_wif_token");
  EXPECT_EQ(last_.status, 503);
  EXPECT_EQ(r.find("old"), std::string::npos);
}

TEST_F(HandlerTest, ReadyzNamesTheTokensWithoutValue) {
  publish(0, "tok", std::nullopt);
  EXPECT_EQ(body_of(get("/readyz")),
            R"({"status":"not_ready","tokens":{"wif":"ready","build":"pending"},)"
            R"("tokens_not_ready":["build"]})");
  EXPECT_EQ(last_.status, 503);
  publish(1, "b", std::nullopt);
  EXPECT_EQ(body_of(get("/readyz")),
            R"({"status":"ready","tokens":{"wif":"ready","build":"ready"}})");
  EXPECT_EQ(last_.status, 200);
}

TEST_F(HandlerTest, ReadyzTellsAFailingTokenFromAnExpiredOne) {
  store_.set_state(0, token::SlotState::kFailing);
  publish(1, "b", clock_.now - 1);
  EXPECT_EQ(body_of(get("/readyz")),
            R"({"status":"not_ready","tokens":{"wif":"failing","build":"expired"},)"
            R"("tokens_not_ready":["wif","build"]})");
}

TEST_F(HandlerTest, UnknownPathIs404AndPostIs405WithAllow) {
  get("/get_wif_token/");
  EXPECT_EQ(last_.status, 404);
  const std::string r = get("/get_wif_token", http::Method::kPost);
  EXPECT_EQ(last_.status, 405);
  EXPECT_NE(r.find("Allow: GET, HEAD\r\n"), std::string::npos);
}

TEST_F(HandlerTest, MetricsAreNotServedOnTheTokenListener) {
  get("/metrics");
  EXPECT_EQ(last_.status, 404);
}

// metrics.allow: /metrics on the mTLS listener, for the peers it names only.
TEST_F(HandlerTest, MetricsOnTheTokenListenerAreForThePeersMetricsAllowNames) {
  config::AllowRule rule;
  rule.field = "metrics.allow[0]";
  rule.cn = "prometheus";
  config::Diagnostics diag;
  state_.metrics_access = authz::AccessPolicy::compile({rule}, diag);
  state_.router = token_listener_routes(state_.tokens, true);
  state_.render_metrics = [](std::string& out) { out += "wif_tokend_up 1\n"; };

  const std::string allowed = get_as(peer_named("prometheus"), "/metrics");
  EXPECT_EQ(last_.status, 200);
  EXPECT_EQ(body_of(allowed), "wif_tokend_up 1\n");

  const std::string refused = get_as(peer_named("app-team-client"), "/metrics");
  EXPECT_EQ(last_.status, 403);
  EXPECT_EQ(body_of(refused), R"({"error":"forbidden"})");
  EXPECT_EQ(last_.denied, nullptr);  // no token was asked for
  EXPECT_EQ(last_.route, http::RouteKind::kMetrics);

  get("/metrics");  // no peer at all
  EXPECT_EQ(last_.status, 403);
}

TEST_F(HandlerTest, HoldsARequestWithoutValueWhileTheFirstAttemptIsUnderWay) {
  state_.tokens[0].request_wait_ms = 5'000;
  const std::string r = get("/get_wif_token", http::Method::kGet, kWaitAsConfigured);
  EXPECT_EQ(r, "");
  EXPECT_EQ(last_.wait_ms, 5'000);
  EXPECT_EQ(last_.route, http::RouteKind::kToken);
}

TEST_F(HandlerTest, HoldsAHeldRequestOnlyForTheTimeItHasLeft) {
  state_.tokens[0].request_wait_ms = 5'000;
  store_.set_next_attempt(0, clock_.now + 1'000);
  EXPECT_EQ(get("/get_wif_token", http::Method::kGet, 1'500), "");
  EXPECT_EQ(last_.wait_ms, 1'500);
  // The next attempt comes after the time left: answer now.
  get("/get_wif_token", http::Method::kGet, 500);
  EXPECT_EQ(last_.status, 503);
  EXPECT_EQ(last_.wait_ms, 0);
}

TEST_F(HandlerTest, AnswersAtOnceWhenTheNextAttemptComesAfterTheWait) {
  state_.tokens[0].request_wait_ms = 5'000;
  store_.set_next_attempt(0, clock_.now + 20'000);
  const std::string r = get("/get_wif_token", http::Method::kGet, kWaitAsConfigured);
  EXPECT_EQ(last_.status, 503);
  EXPECT_NE(r.find("Retry-After: 20\r\n"), std::string::npos);
}

TEST_F(HandlerTest, AFinalAnswerOrARequestWaitOfZeroNeverHolds) {
  get("/get_wif_token", http::Method::kGet, kWaitAsConfigured);  // request_wait 0
  EXPECT_EQ(last_.status, 503);
  state_.tokens[0].request_wait_ms = 5'000;
  get("/get_wif_token", http::Method::kGet, 0);
  EXPECT_EQ(last_.status, 503);
  EXPECT_EQ(last_.wait_ms, 0);
}

TEST_F(HandlerTest, ARequestThatFindsAValidTokenNeverWaits) {
  state_.tokens[0].request_wait_ms = 5'000;
  publish(0, "tok", clock_.now + 60'000);
  get("/get_wif_token", http::Method::kGet, kWaitAsConfigured);
  EXPECT_EQ(last_.status, 200);
  EXPECT_EQ(last_.wait_ms, 0);
}

TEST_F(HandlerTest, HoldsARequestWhoseTokenExpiredWhileItsRefreshIsUnderWay) {
  state_.tokens[0].request_wait_ms = 5'000;
  publish(0, "old", clock_.now - 1);
  const std::string r = get("/get_wif_token", http::Method::kGet, kWaitAsConfigured);
  EXPECT_EQ(last_.wait_ms, 5'000);
  EXPECT_EQ(r.find("old"), std::string::npos);
}

TEST_F(HandlerTest, ServesARestrictedTokenToAPeerARuleAllows) {
  restrict_build_to_ci_runner();
  publish(1, "b", std::nullopt);
  const tls::PeerIdentity runner = peer_named("ci-runner");

  EXPECT_EQ(body_of(get_as(runner, "/v1/tokens/build")), R"({"access_token":"b"})");
  EXPECT_EQ(last_.status, 200);
  EXPECT_EQ(last_.denied, nullptr);
}

TEST_F(HandlerTest, RefusesARestrictedTokenToAnUnlistedPeerWithoutSayingWhy) {
  restrict_build_to_ci_runner();
  publish(1, "secret-build-token", std::nullopt);
  const tls::PeerIdentity other = peer_named("app-team-client");

  const std::string r = get_as(other, "/v1/tokens/build");
  EXPECT_EQ(last_.status, 403);
  EXPECT_EQ(body_of(r), R"({"error":"forbidden"})");
  EXPECT_EQ(r.find("secret-build-token"), std::string::npos);
  EXPECT_EQ(r.find("ci-runner"), std::string::npos);
  ASSERT_NE(last_.denied, nullptr);
  EXPECT_EQ(last_.denied->name, "build");
  EXPECT_EQ(last_.route, http::RouteKind::kToken);
  EXPECT_EQ(last_.token_index, 1u);
}

TEST_F(HandlerTest, RefusesARestrictedTokenBeforeLookingForItsValue) {
  restrict_build_to_ci_runner();
  const tls::PeerIdentity other = peer_named("app-team-client");

  get_as(other, "/v1/tokens/build");
  EXPECT_EQ(last_.status, 403);  // not 503: an unlisted client learns nothing of the token
}

TEST_F(HandlerTest, RefusesHeadOfARestrictedTokenToo) {
  restrict_build_to_ci_runner();
  publish(1, "b", std::nullopt);
  const tls::PeerIdentity other = peer_named("app-team-client");

  get_as(other, "/v1/tokens/build", http::Method::kHead);
  EXPECT_EQ(last_.status, 403);
}

TEST_F(HandlerTest, RootAndHealthPathsNeedNoRule) {
  restrict_build_to_ci_runner();
  publish(0, "tok", std::nullopt);
  publish(1, "b", std::nullopt);
  const tls::PeerIdentity other = peer_named("app-team-client");

  for (const char* path : {"/", "/healthz", "/readyz", "/get_wif_token"}) {
    get_as(other, path);
    EXPECT_EQ(last_.status, 200) << path;
  }
}

TEST_F(HandlerTest, WithoutAPeerOnlyATokenWithoutRulesIsServed) {
  restrict_build_to_ci_runner();
  publish(0, "tok", std::nullopt);
  publish(1, "b", std::nullopt);

  get("/get_wif_token");
  EXPECT_EQ(last_.status, 200);
  get("/v1/tokens/build");
  EXPECT_EQ(last_.status, 403);
}

}  // namespace
}  // namespace wif::net
