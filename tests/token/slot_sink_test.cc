#include "src/token/slot_sink.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "src/metrics/metrics.h"

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

}  // namespace
}  // namespace wif::token
