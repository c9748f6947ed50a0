#include "src/log/log.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <string>

namespace wif::log {
namespace {

TEST(RateLimit, LetsThroughAtMostTheLimitInOneSecond) {
  RateLimit limit(3);
  uint64_t suppressed = 99;
  int allowed = 0;
  for (int i = 0; i < 10; ++i) {
    allowed += limit.allow_at(100, &suppressed) ? 1 : 0;
  }
  EXPECT_EQ(allowed, 3);
  EXPECT_EQ(suppressed, 0u);
}

TEST(RateLimit, ReportsHowManyWereHeldBackOnTheNextLineLetThrough) {
  RateLimit limit(1);
  uint64_t suppressed = 0;
  ASSERT_TRUE(limit.allow_at(7, &suppressed));
  EXPECT_FALSE(limit.allow_at(7, &suppressed));
  EXPECT_FALSE(limit.allow_at(7, &suppressed));

  ASSERT_TRUE(limit.allow_at(8, &suppressed));
  EXPECT_EQ(suppressed, 2u);
  EXPECT_FALSE(limit.allow_at(8, &suppressed));
}

TEST(Untrusted, ReplacesControlBytesAndCapsTheLength) {
  EXPECT_EQ(untrusted("a\nb\x7f"
                      "c",
                      10),
            "a?b?c");
  EXPECT_EQ(untrusted("abcdef", 3), "abc...");
}

// One line per event, fixed keys first, values that could break the
// key=value shape quoted.
TEST(Emit, WritesOneTextLineWithFixedKeysFirst) {
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  configure(Level::kInfo, Format::kText);
  set_fd(fds[1]);
  info("net", "listening", {{"addr", "127.0.0.1:7001"}, {"note", "two words"}});
  debug("net", "hidden");
  set_fd(2);
  close(fds[1]);
  char buf[512];
  const ssize_t n = read(fds[0], buf, sizeof buf);
  close(fds[0]);
  ASSERT_GT(n, 0);
  const std::string line(buf, static_cast<size_t>(n));
  EXPECT_EQ(line.substr(0, 5), "time=");
  EXPECT_NE(line.find(" level=info component=net event=listening addr=127.0.0.1:7001 "
                      "note=\"two words\"\n"),
            std::string::npos)
      << line;
  EXPECT_EQ(line.find("hidden"), std::string::npos);
}

}  // namespace
}  // namespace wif::log
