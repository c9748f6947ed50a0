// Every example in config/ loads, with WIF_HOME pointing at a folder that
// holds the files the examples name.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>

#include "src/config/config.h"
#include "tests/support/test_support.h"

namespace wif::config {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using wif::testing::pki;
using wif::testing::TempDir;

class ExampleConfig : public ::testing::Test {
 protected:
  ExampleConfig() {
    for (const char* name : {"server.crt", "server.key", "ca-chain.crt"}) {
      std::filesystem::copy_file(pki(name), home_.path() / name);
    }
  }

  static std::string example(std::string_view name) {
    const char* root = std::getenv("WIF_SOURCE_ROOT");
    if (root == nullptr) {
      throw std::runtime_error("WIF_SOURCE_ROOT is not set: run the tests through `meson test`");
    }
    return (std::filesystem::path(root) / "config" / name).string();
  }

  Config load_example(std::string_view name) const {
    const std::string home = home_.path().string();
    return load(example(name), "/nonexistent-working-dir",
                [home](std::string_view variable) -> std::optional<std::string> {
                  if (variable == "WIF_HOME") {
                    return home;
                  }
                  return std::nullopt;
                });
  }

  TempDir home_;
};

TEST_F(ExampleConfig, FullExampleLoadsWithEveryDefault) {
  const Config config = load_example("wif-tokend.yaml");

  EXPECT_EQ(config.listen, "0.0.0.0:7001");
  EXPECT_EQ(config.workers, 0u);
  EXPECT_EQ(config.shutdown_timeout_ms, 10'000u);
  EXPECT_EQ(config.tls.cert, home_.file("server.crt"));
  EXPECT_EQ(config.tls.key, home_.file("server.key"));
  EXPECT_EQ(config.tls.client_ca, home_.file("ca-chain.crt"));
  EXPECT_EQ(config.tls.key_passphrase_file, "");
  EXPECT_EQ(config.tls.client_intermediates, "");
  EXPECT_THAT(config.tls.crl, IsEmpty());
  EXPECT_FALSE(config.tls.crl_check_chain);
  EXPECT_FALSE(config.tls.min_version_13);
  EXPECT_EQ(config.tls.verify_depth, 4);
  EXPECT_TRUE(config.tls.session_tickets);
  EXPECT_FALSE(config.tls.partial_chain);
  EXPECT_FALSE(config.tls.require_client_auth_eku);
  EXPECT_THAT(config.tls.tls12_ciphers, IsEmpty());
  EXPECT_THAT(config.tls.tls13_ciphersuites, IsEmpty());
  EXPECT_THAT(config.tls.groups, IsEmpty());
  EXPECT_EQ(config.tls.session_lifetime_ms, 600'000u);
  EXPECT_TRUE(config.tls.reload_on_change);
  EXPECT_EQ(config.tls.reload_delay_ms, 1'000u);
  EXPECT_EQ(config.http.handshake_timeout_ms, 10'000u);
  EXPECT_EQ(config.http.header_timeout_ms, 10'000u);
  EXPECT_EQ(config.http.idle_timeout_ms, 60'000u);
  EXPECT_EQ(config.http.max_header_bytes, 16'384u);
  EXPECT_EQ(config.http.max_connections, 10'000u);
  EXPECT_EQ(config.metrics.listen, "127.0.0.1:9464");
  EXPECT_EQ(config.log.level, "info");
  EXPECT_EQ(config.log.format, "text");
  ASSERT_EQ(config.tokens.size(), 1u);
  EXPECT_EQ(config.tokens[0].name, "wif");
  EXPECT_EQ(config.tokens[0].source.type, "file");
  EXPECT_THAT(config.tokens[0].source.fields.at("path").values,
              ElementsAre(home_.file("wif_token.txt")));
  EXPECT_THAT(config.tokens[0].allow, IsEmpty());
  EXPECT_FALSE(config.tokens[0].minimal_response);
  EXPECT_EQ(config.tokens[0].request_wait_ms, 5'000u);
}

TEST_F(ExampleConfig, MinimalExampleLoads) {
  const Config config = load_example("minimal.yaml");

  EXPECT_EQ(config.listen, "0.0.0.0:7001");
  EXPECT_EQ(config.tls.cert, home_.file("server.crt"));
  EXPECT_EQ(config.tls.key, home_.file("server.key"));
  EXPECT_EQ(config.tls.client_ca, home_.file("ca-chain.crt"));
  ASSERT_EQ(config.tokens.size(), 1u);
  EXPECT_EQ(config.tokens[0].name, "wif");
  EXPECT_THAT(config.tokens[0].source.fields.at("path").values,
              ElementsAre(home_.file("wif_token.txt")));
}

}  // namespace
}  // namespace wif::config
