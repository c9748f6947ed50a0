#include "src/metrics/metrics.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <thread>

namespace wif::metrics {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

class MetricsTest : public ::testing::Test {
 protected:
  std::string render() const {
    std::string out;
    metrics_.render(out);
    return out;
  }

  Metrics metrics_{{"wif", "build"}, BuildInfo{"1.2.3", "3.0.0", "1.44.2"}};
};

TEST_F(MetricsTest, SumsTheRequestsOfEveryWorker) {
  DataPathCounters& a = metrics_.add_worker(Listener::kMtls);
  DataPathCounters& b = metrics_.add_worker(Listener::kMtls);
  a.request(Route::kToken, Method::kGet, 200, 1'000);
  b.request(Route::kToken, Method::kGet, 200, 1'000);
  b.request(Route::kToken, Method::kGet, 200, 1'000);

  EXPECT_THAT(render(), HasSubstr("wif_tokend_requests_total{listener=\"mtls\",route=\"token\","
                                  "method=\"GET\",code=\"200\"} 3\n"));
}

TEST_F(MetricsTest, ListsOnlyRequestSeriesThatCountedSomething) {
  DataPathCounters& w = metrics_.add_worker(Listener::kMtls);
  w.request(Route::kRoot, Method::kHead, 200, 1'000);

  const std::string text = render();
  EXPECT_THAT(text, HasSubstr("route=\"root\",method=\"HEAD\",code=\"200\"} 1"));
  EXPECT_THAT(text, Not(HasSubstr("method=\"GET\"")));
}

TEST_F(MetricsTest, CountsAStatusOutsideTheKnownSetAsOther) {
  DataPathCounters& w = metrics_.add_worker(Listener::kMtls);
  w.request(Route::kInvalid, Method::kOther, 418, 1'000);

  EXPECT_THAT(render(), HasSubstr("route=\"invalid\",method=\"other\",code=\"other\"} 1"));
}

TEST_F(MetricsTest, SeparatesTheListeners) {
  metrics_.add_worker(Listener::kMtls).request(Route::kHealthz, Method::kGet, 200, 1'000);
  metrics_.add_worker(Listener::kMetrics).request(Route::kHealthz, Method::kGet, 200, 1'000);

  const std::string text = render();
  EXPECT_THAT(text,
              HasSubstr("{listener=\"mtls\",route=\"healthz\",method=\"GET\",code=\"200\"} 1"));
  EXPECT_THAT(text,
              HasSubstr("{listener=\"metrics\",route=\"healthz\",method=\"GET\",code=\"200\"} 1"));
}

TEST_F(MetricsTest, RendersLatencyAsACumulativeHistogramInSeconds) {
  DataPathCounters& w = metrics_.add_worker(Listener::kMtls);
  w.request(Route::kToken, Method::kGet, 200, 50'000);          // 50 µs: first bucket
  w.request(Route::kToken, Method::kGet, 200, 300'000);         // 300 µs: the 0.5 ms bucket
  w.request(Route::kToken, Method::kGet, 200, 20'000'000'000);  // 20 s: only +Inf

  const std::string text = render();
  const std::string series =
      "wif_tokend_request_duration_seconds_bucket{listener=\"mtls\",route=\"token\",";
  EXPECT_THAT(text, HasSubstr(series + "le=\"0.0001\"} 1\n"));
  EXPECT_THAT(text, HasSubstr(series + "le=\"0.00025\"} 1\n"));
  EXPECT_THAT(text, HasSubstr(series + "le=\"0.0005\"} 2\n"));
  EXPECT_THAT(text, HasSubstr(series + "le=\"10\"} 2\n"));
  EXPECT_THAT(text, HasSubstr(series + "le=\"+Inf\"} 3\n"));
  EXPECT_THAT(text, HasSubstr("wif_tokend_request_duration_seconds_count{listener=\"mtls\","
                              "route=\"token\"} 3\n"));
  EXPECT_THAT(text, HasSubstr("wif_tokend_request_duration_seconds_sum{listener=\"mtls\","
                              "route=\"token\"} 20.00035\n"));
}

TEST_F(MetricsTest, ListsEveryHandshakeReasonFromTheStart) {
  metrics_.add_worker(Listener::kMtls).handshake(Handshake::kRevoked);

  const std::string text = render();
  EXPECT_THAT(text, HasSubstr("wif_tokend_tls_handshakes_total{result=\"ok\",reason=\"none\"} 0"));
  EXPECT_THAT(text, HasSubstr("{result=\"failed\",reason=\"revoked\"} 1"));
  EXPECT_THAT(text, HasSubstr("{result=\"failed\",reason=\"timeout\"} 0"));
  EXPECT_THAT(text, HasSubstr("{result=\"failed\",reason=\"no_certificate\"} 0"));
  EXPECT_THAT(text, HasSubstr("{result=\"failed\",reason=\"revocation_unknown\"} 0"));
  EXPECT_THAT(text, HasSubstr("{result=\"failed\",reason=\"server_certificate_refused\"} 0"));
}

TEST_F(MetricsTest, ActiveConnectionsAreOpenedMinusClosed) {
  DataPathCounters& w = metrics_.add_worker(Listener::kMtls);
  w.connections_opened.inc(5);
  w.connections_closed.inc(2);
  w.connections_refused.inc();

  const std::string text = render();
  EXPECT_THAT(text, HasSubstr("wif_tokend_connections_active{listener=\"mtls\"} 3\n"));
  EXPECT_THAT(text, HasSubstr("wif_tokend_connections_total{listener=\"mtls\"} 5\n"));
  EXPECT_THAT(text, HasSubstr("wif_tokend_connections_refused_total{listener=\"mtls\"} 1\n"));
}

TEST_F(MetricsTest, CountsTokenOutcomesAndDenialsByTokenName) {
  DataPathCounters& w = metrics_.add_worker(Listener::kMtls);
  w.token_request(1, TokenResult::kForbidden);
  w.token_request(0, TokenResult::kServed);

  const std::string text = render();
  EXPECT_THAT(text,
              HasSubstr("wif_tokend_token_requests_total{token=\"build\",result=\"forbidden\"} 1"));
  EXPECT_THAT(text,
              HasSubstr("wif_tokend_token_requests_total{token=\"wif\",result=\"served\"} 1"));
  EXPECT_THAT(text, HasSubstr("wif_tokend_access_denied_total{token=\"build\"} 1"));
  EXPECT_THAT(text, HasSubstr("wif_tokend_access_denied_total{token=\"wif\"} 0"));
}

TEST_F(MetricsTest, CountsRefreshesAndReloadsWithEverySeriesPresent) {
  metrics_.count_refresh(0, RefreshResult::kFailed);
  metrics_.count_refresh(0, RefreshResult::kFailed);
  metrics_.count_reload(ReloadKind::kTls, true);

  const std::string text = render();
  EXPECT_THAT(text,
              HasSubstr("wif_tokend_token_refreshes_total{result=\"failed\",token=\"wif\"} 2"));
  EXPECT_THAT(text, HasSubstr("wif_tokend_token_refreshes_total{result=\"ok\",token=\"build\"} 0"));
  EXPECT_THAT(text, HasSubstr("wif_tokend_reloads_total{kind=\"tls\",result=\"applied\"} 1"));
  EXPECT_THAT(text, HasSubstr("wif_tokend_reloads_total{kind=\"tls\",result=\"rejected\"} 0"));
}

TEST_F(MetricsTest, NamesTheBuild) {
  EXPECT_THAT(render(), HasSubstr("wif_tokend_build_info{libuv=\"1.44.2\",openssl=\"3.0.0\","
                                  "version=\"1.2.3\"} 1"));
}

TEST_F(MetricsTest, ReportsTheProvidersStateAtScrapeTime) {
  int scrapes = 0;
  metrics_.set_state_provider([&scrapes](State& out) {
    ++scrapes;
    out.now_seconds = 1'000;
    out.tokens.push_back({"wif", true, 1'600.0, 990.0});
    out.tokens.push_back({"build", false, std::nullopt, std::nullopt});
    out.certificates.push_back({"server", "CN=localhost", 2'000});
    out.crls.push_back({"CN=Demo CA", 1'500});
  });

  const std::string text = render();
  EXPECT_EQ(scrapes, 1);
  EXPECT_THAT(text, HasSubstr("wif_tokend_token_available{token=\"wif\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("wif_tokend_token_available{token=\"build\"} 0\n"));
  EXPECT_THAT(text, HasSubstr("wif_tokend_token_expiry_timestamp_seconds{token=\"wif\"} 1600\n"));
  EXPECT_THAT(text, Not(HasSubstr("wif_tokend_token_expiry_timestamp_seconds{token=\"build\"}")));
  EXPECT_THAT(text, HasSubstr("wif_tokend_token_age_seconds{token=\"wif\"} 10\n"));
  EXPECT_THAT(text, HasSubstr("wif_tokend_certificate_expiry_timestamp_seconds{role=\"server\","
                              "subject=\"CN=localhost\"} 2000\n"));
  EXPECT_THAT(
      text, HasSubstr("wif_tokend_crl_next_update_timestamp_seconds{issuer=\"CN=Demo CA\"} 1500"));
}

TEST_F(MetricsTest, ReportsTheProcessFromProc) {
  const std::string text = render();
  EXPECT_THAT(text, HasSubstr("process_cpu_seconds_total "));
  EXPECT_THAT(text, HasSubstr("process_resident_memory_bytes "));
  EXPECT_THAT(text, HasSubstr("process_open_fds "));
  EXPECT_THAT(text, Not(HasSubstr("process_resident_memory_bytes 0\n")));
}

// Workers write while a scrape reads; run under ThreadSanitizer this shows
// the single-writer cells need no lock.
TEST_F(MetricsTest, ScrapesWhileWorkersCount) {
  DataPathCounters& a = metrics_.add_worker(Listener::kMtls);
  DataPathCounters& b = metrics_.add_worker(Listener::kMtls);
  constexpr int kPerWorker = 20'000;
  std::thread ta([&a] {
    for (int i = 0; i < kPerWorker; ++i) {
      a.request(Route::kToken, Method::kGet, 200, 1'000);
    }
  });
  std::thread tb([&b] {
    for (int i = 0; i < kPerWorker; ++i) {
      b.request(Route::kToken, Method::kGet, 200, 1'000);
    }
  });
  for (int i = 0; i < 5; ++i) {
    EXPECT_THAT(render(), HasSubstr("wif_tokend_requests_total"));
  }
  ta.join();
  tb.join();

  EXPECT_THAT(render(), HasSubstr("method=\"GET\",code=\"200\"} 40000\n"));
}

}  // namespace
}  // namespace wif::metrics
