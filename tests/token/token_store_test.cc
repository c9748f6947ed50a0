#include "src/token/token_store.h"

#include <gtest/gtest.h>

#include <thread>

#include "src/token/secret.h"
#include "src/token/token.h"

namespace wif::token {
namespace {

std::shared_ptr<Token> make_token(std::string value, std::optional<int64_t> expires_at_ms) {
  auto t = std::make_shared<Token>();
  t->value = Secret(std::move(value));
  t->expires_at_ms = expires_at_ms;
  render_bodies(*t);
  return t;
}

TEST(TokenStore, StartsPendingWithNoValue) {
  TokenStore store({"wif", "build"});
  EXPECT_EQ(store.size(), 2u);
  EXPECT_EQ(store.find("build"), 1u);
  EXPECT_EQ(store.find("nope"), 2u);
  EXPECT_EQ(store.current(0), nullptr);
  EXPECT_EQ(store.state(0), SlotState::kPending);
}

TEST(TokenStore, PublishReplacesTheValueAndNumbersVersions) {
  TokenStore store({"wif"});
  store.publish(0, make_token("a", std::nullopt));
  store.publish(0, make_token("b", std::nullopt));
  EXPECT_EQ(store.current(0)->value.reveal(), "b");
  EXPECT_EQ(store.current(0)->version, 2u);
  EXPECT_EQ(store.state(0), SlotState::kReady);
}

TEST(TokenStore, AFailureKeepsTheCachedValue) {
  TokenStore store({"wif"});
  store.publish(0, make_token("a", std::nullopt));
  store.set_state(0, SlotState::kFailing);
  EXPECT_EQ(store.current(0)->value.reveal(), "a");
}

TEST(TokenStore, WithdrawRemovesTheValue) {
  TokenStore store({"wif"});
  store.publish(0, make_token("a", std::nullopt));
  store.withdraw(0, SlotState::kFailing);
  EXPECT_EQ(store.current(0), nullptr);
  EXPECT_EQ(store.state(0), SlotState::kFailing);
}

TEST(TokenStore, ATokenIsNeverServableAtOrAfterExpiryMinusMargin) {
  Token t;
  t.expires_at_ms = 100'000;
  EXPECT_TRUE(TokenStore::servable(t, 69'999, 30'000));
  EXPECT_FALSE(TokenStore::servable(t, 70'000, 30'000));
  t.serve_until_ms = 50'000;
  EXPECT_FALSE(TokenStore::servable(t, 50'000, 0));
  Token forever;
  EXPECT_TRUE(TokenStore::servable(forever, 1'000'000'000'000, 30'000));
}

TEST(TokenStore, ReadersSeeWholeSnapshotsWhileAWriterPublishes) {
  TokenStore store({"wif"});
  store.publish(0, make_token("v0", std::nullopt));
  std::atomic<bool> stop{false};
  std::atomic<int> torn{0};
  std::thread reader([&] {
    while (!stop.load()) {
      auto t = store.current(0);
      // Each snapshot's body must match its own value.
      const std::string expected = "{\"access_token\":\"" + std::string(t->value.reveal()) + "\"}";
      if (t->body_minimal != expected) {
        torn.fetch_add(1);
      }
    }
  });
  for (int i = 1; i < 20000; ++i) {
    store.publish(0, make_token("v" + std::to_string(i), std::nullopt));
  }
  stop.store(true);
  reader.join();
  EXPECT_EQ(torn.load(), 0);
}

TEST(TokenBodies, RenderWithAndWithoutExpiry) {
  auto with = make_token("abc", 5000);
  EXPECT_EQ(with->body_prefix, R"({"access_token":"abc","token_type":"Bearer","expires_in":)");
  auto without = make_token("abc", std::nullopt);
  EXPECT_EQ(without->body_prefix, R"({"access_token":"abc","token_type":"Bearer"})");
  EXPECT_EQ(without->body_minimal, R"({"access_token":"abc"})");
}

TEST(TokenBodies, EscapeWhatJsonRequires) {
  auto t = make_token("a\"b\\c\x01", std::nullopt);
  EXPECT_EQ(t->body_minimal, R"({"access_token":"a\"b\\c\u0001"})");
}

TEST(Secret, FingerprintIsShortAndDoesNotContainTheValue) {
  Secret s("super-secret-token-value");
  const std::string fp = s.fingerprint();
  EXPECT_EQ(fp.size(), 8u);
  EXPECT_EQ(fp.find("secret"), std::string::npos);
  EXPECT_EQ(fp, Secret("super-secret-token-value").fingerprint());
  EXPECT_NE(fp, Secret("another").fingerprint());
}

TEST(Secret, MovingLeavesTheSourceEmpty) {
  Secret a("value");
  Secret b(std::move(a));
  EXPECT_EQ(b.reveal(), "value");
  EXPECT_TRUE(a.empty());  // NOLINT(bugprone-use-after-move): checking the wipe
}

}  // namespace
}  // namespace wif::token
