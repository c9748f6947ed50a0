// TlsReloader with real files in a per-test folder, real inotify and a real
// loop: what gets applied, what waits, what is refused, and how often.
#include "src/net/tls_reloader.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>

#include "tests/support/test_support.h"
#include "tests/support/uv_loop_runner.h"

namespace wif::net {
namespace {

namespace fs = std::filesystem;
using ::testing::IsEmpty;
using wif::testing::pki;
using wif::testing::read_file;
using wif::testing::write_file;

class NetTlsReloader : public ::testing::Test {
 protected:
  NetTlsReloader() {
    for (const char* name : {"server.crt", "server.key", "ca-chain.crt"}) {
      fs::copy_file(pki(name), dir_.path() / name);
    }
    options_.context.cert_file = file("server.crt");
    options_.context.key_file = file("server.key");
    options_.context.client_ca_file = file("ca-chain.crt");
    options_.delay_ms = 20;
    options_.pair_grace_ms = 2'000;
  }

  ~NetTlsReloader() override {
    if (reloader_ != nullptr) {
      reloader_->close();
    }
  }

  void start() {
    reloader_ = TlsReloader::open(
        runner_.loop(), options_,
        [this](std::shared_ptr<const tls::ServerContext> context) {
          applied_.push_back(std::move(context));
        },
        [this](ReloadTrigger, ReloadResult result) { results_.push_back(result); });
  }

  // Replaces `name` in the folder with the PKI's `source`, atomically, with
  // the source's mode: a key stays readable by its owner only, as
  // ServerContext::build() insists.
  void replace(const std::string& name, const std::string& source) {
    write_file(file(name + ".tmp"), read_file(pki(source)));
    fs::permissions(file(name + ".tmp"), fs::status(pki(source)).permissions());
    fs::rename(file(name + ".tmp"), file(name));
  }

  bool run_until_result(ReloadResult result, size_t count = 1,
                        uint64_t deadline_ms = wif::testing::LoopRunner::kDeadlineMs) {
    return runner_.run_until(
        [&] {
          return std::count(results_.begin(), results_.end(), result) >= static_cast<long>(count);
        },
        deadline_ms);
  }

  uint64_t count(ReloadTrigger trigger, ReloadResult result) const {
    return reloader_->counts().get(trigger, result);
  }

  std::string file(const std::string& name) const { return dir_.file(name); }

  wif::testing::TempDir dir_;
  wif::testing::LoopRunner runner_;
  ReloaderOptions options_;
  TlsReloader* reloader_ = nullptr;
  std::vector<std::shared_ptr<const tls::ServerContext>> applied_;
  std::vector<ReloadResult> results_;
};

TEST_F(NetTlsReloader, AppliesACertificateAndKeyReplacedTogether) {
  start();
  replace("server.key", "ec-server.key");
  replace("server.crt", "ec-server.crt");

  ASSERT_TRUE(run_until_result(ReloadResult::kApplied));
  ASSERT_EQ(applied_.size(), 1u);
  EXPECT_EQ(applied_[0]->server_certificate().subject, "O=Internal,CN=localhost");
  EXPECT_EQ(count(ReloadTrigger::kFileChange, ReloadResult::kApplied), 1u);
  EXPECT_EQ(count(ReloadTrigger::kFileChange, ReloadResult::kRejected), 0u);
}

TEST_F(NetTlsReloader, WaitsForTheCertificateWhenTheKeyComesFirst) {
  start();
  replace("server.key", "ec-server.key");
  ASSERT_TRUE(run_until_result(ReloadResult::kWaiting));
  EXPECT_THAT(applied_, IsEmpty());

  replace("server.crt", "ec-server.crt");
  ASSERT_TRUE(run_until_result(ReloadResult::kApplied));
  EXPECT_EQ(count(ReloadTrigger::kFileChange, ReloadResult::kRejected), 0u);
}

TEST_F(NetTlsReloader, WaitsForTheKeyWhenTheCertificateComesFirst) {
  start();
  replace("server.crt", "ec-server.crt");
  ASSERT_TRUE(run_until_result(ReloadResult::kWaiting));

  replace("server.key", "ec-server.key");
  ASSERT_TRUE(run_until_result(ReloadResult::kApplied));
  EXPECT_EQ(count(ReloadTrigger::kFileChange, ReloadResult::kRejected), 0u);
}

TEST_F(NetTlsReloader, RefusesAPairThatStillDoesNotMatchAfterTheGrace) {
  options_.pair_grace_ms = 100;
  start();
  replace("server.key", "ec-server.key");

  ASSERT_TRUE(run_until_result(ReloadResult::kRejected));
  EXPECT_THAT(applied_, IsEmpty());
  EXPECT_GE(count(ReloadTrigger::kFileChange, ReloadResult::kWaiting), 1u);
  EXPECT_EQ(count(ReloadTrigger::kFileChange, ReloadResult::kRejected), 1u);
}

TEST_F(NetTlsReloader, RefusesABrokenFileOnceAndKeepsRefusingNothingElse) {
  options_.poll_interval_ms = 30;  // the periodic check comes round quickly
  start();
  write_file(file("ca-chain.crt.tmp"), "not a certificate\n");
  fs::rename(file("ca-chain.crt.tmp"), file("ca-chain.crt"));

  ASSERT_TRUE(run_until_result(ReloadResult::kRejected));
  // The same broken set seen again by the periodic check is not refused
  // (and logged) again.
  ASSERT_TRUE(run_until_result(ReloadResult::kUnchanged, 2));
  EXPECT_EQ(count(ReloadTrigger::kFileChange, ReloadResult::kRejected), 1u);
  EXPECT_THAT(applied_, IsEmpty());

  replace("ca-chain.crt", "root-ca.crt");  // a good set again
  ASSERT_TRUE(run_until_result(ReloadResult::kApplied));
  EXPECT_EQ(applied_[0]->anchors().size(), 1u);
}

TEST_F(NetTlsReloader, TakesTheSetServingNowBackAsUnchanged) {
  start();
  replace("server.key", "ec-server.key");
  ASSERT_TRUE(run_until_result(ReloadResult::kWaiting));
  replace("server.key", "server.key");  // the rotation was undone

  ASSERT_TRUE(run_until_result(ReloadResult::kUnchanged));
  EXPECT_THAT(applied_, IsEmpty());
  EXPECT_EQ(count(ReloadTrigger::kFileChange, ReloadResult::kRejected), 0u);
}

// (A neighbour in the same folder wakes nothing at all: see
// WatchDirectoryWatcher.IsNotWokenByANeighbourInTheSameFolder.)
TEST_F(NetTlsReloader, AppliesNothingForAWatchedFileRewrittenAsItWas) {
  start();
  write_file(file("server.crt"), read_file(file("server.crt")));

  ASSERT_TRUE(run_until_result(ReloadResult::kUnchanged));
  EXPECT_THAT(applied_, IsEmpty());
}

TEST_F(NetTlsReloader, AppliesNewAnchors) {
  start();
  replace("ca-chain.crt", "other-ca.crt");

  ASSERT_TRUE(run_until_result(ReloadResult::kApplied));
  ASSERT_EQ(applied_[0]->anchors().size(), 1u);
  EXPECT_EQ(applied_[0]->anchors()[0].subject, "O=Elsewhere,CN=Other Root CA");
}

TEST_F(NetTlsReloader, AppliesAReplacedCrl) {
  fs::copy_file(pki("intermediate-expired.crl"), dir_.path() / "intermediate.crl");
  options_.context.crl_files = {file("intermediate.crl")};
  start();
  replace("intermediate.crl", "intermediate.crl");

  ASSERT_TRUE(run_until_result(ReloadResult::kApplied));
  ASSERT_EQ(applied_[0]->crls().size(), 1u);
  EXPECT_GT(applied_[0]->crls()[0].next_update_unix, 1580515200);  // not the 2020 one
}

TEST_F(NetTlsReloader, ReloadsOnRequestEvenWhenNothingChanged) {
  start();
  reloader_->reload_now();

  ASSERT_EQ(applied_.size(), 1u);
  EXPECT_EQ(count(ReloadTrigger::kSignal, ReloadResult::kApplied), 1u);
}

TEST_F(NetTlsReloader, RefusesAMismatchedPairAtOnceOnRequest) {
  start();
  replace("server.key", "ec-server.key");
  reloader_->reload_now();

  EXPECT_THAT(applied_, IsEmpty());
  EXPECT_EQ(count(ReloadTrigger::kSignal, ReloadResult::kRejected), 1u);
}

TEST_F(NetTlsReloader, WatchesNothingWhenReloadOnChangeIsOff) {
  options_.watch = false;
  start();

  EXPECT_THAT(reloader_->watched_directories(), IsEmpty());
  replace("server.key", "ec-server.key");
  replace("server.crt", "ec-server.crt");
  reloader_->reload_now();
  EXPECT_EQ(applied_.size(), 1u);
}

TEST(NetReloadNames, AreTheMetricLabelValues) {
  EXPECT_EQ(reload_trigger_name(ReloadTrigger::kSignal), "signal");
  EXPECT_EQ(reload_trigger_name(ReloadTrigger::kFileChange), "file_change");
  EXPECT_EQ(reload_result_name(ReloadResult::kApplied), "applied");
  EXPECT_EQ(reload_result_name(ReloadResult::kUnchanged), "unchanged");
  EXPECT_EQ(reload_result_name(ReloadResult::kWaiting), "waiting");
  EXPECT_EQ(reload_result_name(ReloadResult::kRejected), "rejected");
}

}  // namespace
}  // namespace wif::net
