#include "src/token/slot_sink.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "src/log/log.h"
#include "src/metrics/metrics.h"
#include "tests/support/test_support.h"

namespace wif::token {
namespace {

class FixedClock final : public Clock {
 public:
  int64_t now_ms() const override { return 1'000'000; }
};

// Requests waiting for a value rely on one notification per report.
TEST(SlotSink, TellsTheStoreListenerAfterEveryReport) {
  TokenStore store({"wif"});
  metrics::Metrics metrics({"wif"}, metrics::BuildInfo{"test", "openssl", "libuv"});
  FixedClock clock;
  SlotSink sink(store, 0, clock, metrics);
  std::vector<std::string> seen;
  store.set_change_listener([&] {
    const auto token = store.current(0);
    seen.push_back(token ? std::string(token->value.reveal()) + "@" +
                               std::to_string(store.next_attempt_ms(0))
                         : "none@" + std::to_string(store.next_attempt_ms(0)));
  });

  sink.failed("not yet", 1'005'000);
  auto token = std::make_shared<Token>();
  token->value = Secret("tok");
  render_bodies(*token);
  sink.publish(std::move(token));
  sink.withdraw("gone");

  // Each notification comes after the report is in the store.
  EXPECT_EQ(seen, (std::vector<std::string>{"none@1005000", "tok@0", "none@0"}));
}

// The token_updated line of a token without an expiry must not carry a
// number an operator could read as "expired a second ago".
TEST(SlotSink, LogsWhenATokenExpiresOrThatItDoesNot) {
  TokenStore store({"wif"});
  metrics::Metrics metrics({"wif"}, metrics::BuildInfo{"test", "openssl", "libuv"});
  FixedClock clock;
  SlotSink sink(store, 0, clock, metrics);
  wif::testing::TempDir dir;
  const std::string log_path = dir.file("log");
  const int log_fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  ASSERT_GE(log_fd, 0);
  log::configure(log::Level::kInfo, log::Format::kText);
  log::set_fd(log_fd);
  auto expiring = std::make_shared<Token>();
  expiring->value = Secret("first");
  expiring->expires_at_ms = 1'000'000 + 3'600'000;
  render_bodies(*expiring);
  sink.publish(std::move(expiring));
  auto lasting = std::make_shared<Token>();
  lasting->value = Secret("second");
  render_bodies(*lasting);
  sink.publish(std::move(lasting));
  log::set_fd(2);
  ::close(log_fd);
  const std::string text = wif::testing::read_file(log_path);

  const size_t second_line = text.find('\n') + 1;
  ASSERT_NE(second_line, 0u) << text;
  const std::string first = text.substr(0, second_line);
  const std::string second = text.substr(second_line);
  EXPECT_NE(first.find("event=token_updated"), std::string::npos) << first;
  EXPECT_NE(first.find(" expires_in_s=3600"), std::string::npos) << first;
  EXPECT_NE(second.find("event=token_updated"), std::string::npos) << second;
  EXPECT_NE(second.find(" expires=never"), std::string::npos) << second;
  EXPECT_EQ(second.find("expires_in_s"), std::string::npos) << second;
  EXPECT_EQ(text.find("first"), std::string::npos);  // never the values
  EXPECT_EQ(text.find("second"), std::string::npos);
}

}  // namespace
}  // namespace wif::token
