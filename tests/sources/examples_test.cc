// Every token source in the example configs (config/) is accepted by its
// plugin, so the fields the examples document are the fields the sources
// read. tests/config/examples_test.cc checks the rest of each file.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>

#include "sources/register_all.h"
#include "src/config/config.h"
#include "tests/sources/source_harness.h"
#include "tests/support/test_support.h"

namespace wif::sources {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;

class ExampleSources : public ::testing::Test {
 protected:
  ExampleSources() {
    for (const char* name : {"server.crt", "server.key", "ca-chain.crt"}) {
      fs::copy_file(testing::pki(name), home_.path() / name);
    }
    // The programs exec.yaml names, as real executables.
    fs::create_directory(home_.path() / "bin");
    for (const char* name : {"wif-mint", "oidc-token", "k8s-credential"}) {
      fs::copy_file(testing::hook_path("text.sh"), home_.path() / "bin" / name);
    }
  }

  // Loads config/NAME with WIF_HOME set to the test folder and builds every
  // token's source; returns their descriptions, or the problems.
  std::vector<std::string> build_sources(std::string_view name, bool allow_exec) {
    const char* root = std::getenv("WIF_SOURCE_ROOT");
    EXPECT_NE(root, nullptr);
    const std::string home = home_.path().string();
    const config::Config config =
        config::load((fs::path(root) / "config" / name).string(), "/nonexistent",
                     [home](std::string_view variable) -> std::optional<std::string> {
                       if (variable == "WIF_HOME") {
                         return home;
                       }
                       return std::nullopt;
                     });
    token::SourceRegistry registry;
    register_all(registry);
    config::Diagnostics diag;
    std::vector<std::string> described;
    for (const config::TokenConfig& t : config.tokens) {
      token::SourceContext context;
      context.token_name = t.name;
      context.base_dir = config.base_dir;
      context.allow_exec = allow_exec;
      if (auto source = registry.create(t.source, context, diag)) {
        described.push_back(t.name + ": " + source->describe());
      }
    }
    return diag.ok() ? described : diag.messages();
  }

  testing::TempDir home_;
};

TEST_F(ExampleSources, TheFullExampleBuildsItsFileSource) {
  EXPECT_THAT(build_sources("wif-tokend.yaml", false),
              ElementsAre("wif: file " + home_.file("wif_token.txt")));
}

TEST_F(ExampleSources, TheMinimalExampleBuildsItsFileSource) {
  EXPECT_THAT(build_sources("minimal.yaml", false),
              ElementsAre("wif: file " + home_.file("wif_token.txt")));
}

TEST_F(ExampleSources, TheExecExampleBuildsItsSourcesOnceExecIsAllowed) {
  EXPECT_THAT(build_sources("exec.yaml", true),
              ElementsAre("wif: exec " + home_.file("bin/wif-mint"),
                          "gcp: exec " + home_.file("bin/oidc-token"),
                          "k8s: exec " + home_.file("bin/k8s-credential")));
  const std::vector<std::string> refused = build_sources("exec.yaml", false);
  ASSERT_EQ(refused.size(), 3u);
  EXPECT_THAT(refused[0], ::testing::HasSubstr("tokens.wif.source.type: got \"exec\", which runs "
                                               "commands and is refused unless allowed"));
}

}  // namespace
}  // namespace wif::sources
