#include "sources/exec/exec_source.h"

#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include "sources/register_all.h"
#include "src/log/log.h"
#include "tests/sources/source_harness.h"
#include "tests/support/test_support.h"

namespace wif::sources {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using testing::FakeClock;
using testing::group_alive;
using ::testing::HasSubstr;
using testing::hook_path;
using testing::LoopTest;
using ::testing::Not;
using testing::RecordingSink;

// 2023-11-14T22:13:20Z.
constexpr int64_t kNow = 1'700'000'000'000;
constexpr const char* kNowPlusHour = "2023-11-14T23:13:20Z";

std::vector<std::string> lines_of(const fs::path& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  std::string line;
  while (std::getline(in, line)) {
    lines.push_back(line);
  }
  return lines;
}

// The environment section of what describe-run.sh wrote.
std::vector<std::string> environment_of(const fs::path& path) {
  std::vector<std::string> lines = lines_of(path);
  auto it = std::find(lines.begin(), lines.end(), "environment:");
  return it == lines.end() ? std::vector<std::string>{}
                           : std::vector<std::string>(it + 1, lines.end());
}

void set_mtime(const fs::path& path, int64_t ms) {
  const timespec times[2] = {{ms / 1000, (ms % 1000) * 1'000'000},
                             {ms / 1000, (ms % 1000) * 1'000'000}};
  ASSERT_EQ(::utimensat(AT_FDCWD, path.c_str(), times, 0), 0);
}

// A `source:` block as the config loader hands it over, each field on its
// own line of tokend.yaml.
class SpecBuilder {
 public:
  SpecBuilder() {
    spec_.type = "exec";
    spec_.mark = config::Mark{"/etc/wif/tokend.yaml", 5, 13};
  }
  SpecBuilder& set(const std::string& name, std::string value) {
    config::SourceSpec::Field field;
    field.mark = config::Mark{"/etc/wif/tokend.yaml", next_line_++, 7};
    field.values.push_back(std::move(value));
    spec_.fields[name] = std::move(field);
    return *this;
  }
  SpecBuilder& set_list(const std::string& name, std::vector<std::string> values) {
    config::SourceSpec::Field field;
    field.mark = config::Mark{"/etc/wif/tokend.yaml", next_line_++, 7};
    field.is_list = true;
    field.values = std::move(values);
    spec_.fields[name] = std::move(field);
    return *this;
  }
  const config::SourceSpec& spec() const { return spec_; }

 private:
  config::SourceSpec spec_;
  int next_line_ = 6;
};

config::Environment fake_environment() {
  return [](std::string_view name) -> std::optional<std::string> {
    if (name == "HOME") {
      return std::string("/home/wif");
    }
    return std::nullopt;
  };
}

class ExecSourceTest : public LoopTest {
 protected:
  ExecSourceOptions options_for(std::string_view hook, std::vector<std::string> args) const {
    ExecSourceOptions options;
    options.token_name = "build";
    options.argv = {hook_path(hook)};
    options.argv.insert(options.argv.end(), args.begin(), args.end());
    options.working_dir = dir_.path().string();
    options.env = {"PATH=/usr/bin:/bin", "WIF_TOKEND_TOKEN_NAME=build"};
    return options;
  }

  // Options as the factory builds them from a config block.
  ExecSourceOptions options_from(const SpecBuilder& builder) {
    token::SourceContext context;
    context.token_name = "build";
    context.base_dir = dir_.path().string();
    context.allow_exec = true;
    config::Diagnostics diag;
    std::optional<ExecSourceOptions> options =
        read_exec_source_options(builder.spec(), context, diag, fake_environment());
    EXPECT_TRUE(options) << (diag.ok() ? std::string() : diag.messages().front());
    return options.value_or(ExecSourceOptions{});
  }

  void start(ExecSourceOptions options, const token::Clock& clock = token::system_clock()) {
    source_ = std::make_unique<ExecSource>(std::move(options), clock);
    ASSERT_EQ(source_->start(&loop_, sink_), 0);
  }

  // Every attempt ends in exactly one publish() or failed().
  size_t reports() const {
    return sink_.count(RecordingSink::Kind::kPublish) + sink_.count(RecordingSink::Kind::kFailed);
  }
  bool run_until_reports(size_t n, uint64_t deadline_ms = kDeadlineMs) {
    return run_until([&] { return reports() >= n; }, deadline_ms);
  }

  // The first report of a source started with `options`; stops it after.
  RecordingSink::Event first_report(ExecSourceOptions options, const token::Clock& clock) {
    start(std::move(options), clock);
    EXPECT_TRUE(run_until_reports(1));
    stop_source();
    return sink_.events.empty() ? RecordingSink::Event{RecordingSink::Kind::kWithdraw}
                                : sink_.events.front();
  }

  void stop_source() override {
    if (source_) {
      stop(*source_);
      source_.reset();
    }
  }

  testing::TempDir dir_;
  std::unique_ptr<ExecSource> source_;
};

TEST_F(ExecSourceTest, PublishesTheTokenOfEveryPayloadFormat) {
  FakeClock clock(kNow);
  struct Case {
    std::string hook;
    std::vector<std::string> args;
    std::string value;
    std::optional<int64_t> expires_at_ms;
  };
  const Case cases[] = {
      {"text.sh", {"plain-token"}, "plain-token", std::nullopt},
      {"google-executable.sh",
       {"google.id.token", "1700003600"},
       "google.id.token",
       kNow + 3'600'000},
      {"exec-credential.sh", {"k8s-token", kNowPlusHour}, "k8s-token", kNow + 3'600'000},
      {"oauth2.sh", {"ya29.oauth", "3600"}, "ya29.oauth", kNow + 3'600'000},
      {"iam-access-token.sh", {"ya29.iam", kNowPlusHour}, "ya29.iam", kNow + 3'600'000},
      {"json-field.sh", {"field-token", "3600"}, "field-token", kNow + 3'600'000},
  };
  for (const Case& c : cases) {
    sink_.events.clear();
    ExecSourceOptions options = options_for(c.hook, c.args);
    if (c.hook == "json-field.sh") {
      options.payload.json_field = "result.secret";
      options.payload.json_expiry_field = "result.ttl_seconds";
    }
    const RecordingSink::Event e = first_report(std::move(options), clock);
    ASSERT_EQ(e.kind, RecordingSink::Kind::kPublish) << c.hook << ": " << e.reason;
    EXPECT_EQ(e.value, c.value) << c.hook;
    EXPECT_EQ(e.expires_at_ms, c.expires_at_ms) << c.hook;
    EXPECT_EQ(e.origin, "exec run 1") << c.hook;
  }
}

TEST_F(ExecSourceTest, CountsExpiresInFromWhenTheCommandStarted) {
  FakeClock clock(kNow);
  const fs::path go = dir_.path() / "go";
  start(options_for("oauth2-when.sh", {go.string(), "ya29.counted", "3600"}), clock);
  ASSERT_TRUE(run_until([&] { return source_->running(); }));
  clock.advance(10'000);  // the run takes ten seconds by this clock
  testing::write_file(go, "");

  ASSERT_TRUE(run_until_published("ya29.counted"));
  const RecordingSink::Event& e = *sink_.last(RecordingSink::Kind::kPublish);
  EXPECT_EQ(e.expires_at_ms, kNow + 3'600'000);
  EXPECT_EQ(e.serve_until_ms, kNow + 3'600'000 - 30'000);
  EXPECT_EQ(e.obtained_at_ms, kNow + 10'000);
}

TEST_F(ExecSourceTest, SchedulesTheRefreshAheadOfExpiryWithJitter) {
  FakeClock clock(kNow);
  start(options_for("oauth2.sh", {"ya29.long", "3600"}), clock);
  ASSERT_TRUE(run_until_published("ya29.long"));
  // expiry − refresh_ahead (5 min), up to 10 % of that earlier.
  EXPECT_EQ(source_->next_reason(), RunReason::kRefresh);
  EXPECT_LE(source_->next_attempt_at_ms(), kNow + 3'600'000 - 300'000);
  EXPECT_GE(source_->next_attempt_at_ms(), kNow + 3'600'000 - 330'000);
  EXPECT_EQ(source_->runs(), 1u);
}

TEST_F(ExecSourceTest, RefreshesAShortLivedTokenAtHalfItsLifetime) {
  FakeClock clock(kNow);
  start(options_for("oauth2.sh", {"ya29.short", "120"}), clock);
  ASSERT_TRUE(run_until_published("ya29.short"));
  EXPECT_LE(source_->next_attempt_at_ms(), kNow + 60'000);
  EXPECT_GE(source_->next_attempt_at_ms(), kNow + 54'000);
}

TEST_F(ExecSourceTest, RunsAgainEveryReexecIntervalWhenTheTokenHasNoExpiry) {
  FakeClock clock(kNow);
  start(options_for("text.sh", {"no-expiry"}), clock);
  ASSERT_TRUE(run_until_published("no-expiry"));
  EXPECT_EQ(sink_.last(RecordingSink::Kind::kPublish)->expires_at_ms, std::nullopt);
  EXPECT_EQ(source_->next_reason(), RunReason::kRefresh);
  EXPECT_EQ(source_->next_attempt_at_ms(), kNow + 5 * 60'000);
}

TEST_F(ExecSourceTest, RefreshesATokenBeforeItExpires) {
  // A five-second token, served until one second before its end: the
  // refresh comes after at most half its lifetime, 1.5 s before that.
  const fs::path runs = dir_.path() / "runs";
  ExecSourceOptions options = options_for("count-runs.sh", {runs.string(), "short", "5"});
  options.payload.min_remaining_ms = 1'000;
  start(std::move(options));

  ASSERT_TRUE(run_until_published("short-2"));
  EXPECT_THAT(sink_.published(), ElementsAre("short-1", "short-2"));
  const RecordingSink::Event& first = sink_.events[0];
  const RecordingSink::Event& second = sink_.events[1];
  ASSERT_TRUE(first.serve_until_ms);
  EXPECT_LT(second.obtained_at_ms, *first.serve_until_ms);
  std::vector<std::string> reasons;
  for (const std::string& line : lines_of(runs)) {
    reasons.push_back(line.substr(line.find(' ') + 1));
  }
  EXPECT_THAT(reasons, ElementsAre("start-up", "refresh"));
}

TEST_F(ExecSourceTest, AnExpiredTokenFailsAndBacksOffWithoutABusyLoop) {
  FakeClock clock(kNow);
  const fs::path runs = dir_.path() / "runs";
  start(options_for("expired.sh", {runs.string(), "ya29.expired"}), clock);

  ASSERT_TRUE(run_until_reports(1));
  const RecordingSink::Event first = sink_.events.back();
  ASSERT_EQ(first.kind, RecordingSink::Kind::kFailed);
  EXPECT_THAT(first.reason, HasSubstr("token expired "));
  EXPECT_THAT(first.reason, HasSubstr("ago (expiry from payload)"));
  // No token: 1 s ± 25 %, then 2 s ± 25 %, each after one run only.
  EXPECT_GE(first.next_attempt_ms - kNow, 750);
  EXPECT_LE(first.next_attempt_ms - kNow, 1'250);
  EXPECT_EQ(source_->next_reason(), RunReason::kRetry);
  EXPECT_EQ(source_->runs(), 1u);

  ASSERT_TRUE(run_until_reports(2));
  const RecordingSink::Event& second = sink_.events.back();
  ASSERT_EQ(second.kind, RecordingSink::Kind::kFailed);
  EXPECT_GE(second.next_attempt_ms - kNow, 1'500);
  EXPECT_LE(second.next_attempt_ms - kNow, 2'500);
  EXPECT_EQ(source_->runs(), 2u);
  EXPECT_EQ(lines_of(runs).size(), 2u);
  EXPECT_EQ(sink_.count(RecordingSink::Kind::kPublish), 0u);
}

TEST_F(ExecSourceTest, KeepsTheCachedTokenWhenARefreshFails) {
  const fs::path runs = dir_.path() / "runs";
  ExecSourceOptions options =
      options_for("fail-then-succeed.sh", {runs.string(), "2", "kept", "2"});
  options.payload.min_remaining_ms = 0;
  start(std::move(options));
  ASSERT_TRUE(run_until_published("kept-1"));

  ASSERT_TRUE(run_until_event(RecordingSink::Kind::kFailed));
  EXPECT_EQ(sink_.last(RecordingSink::Kind::kFailed)->reason, "the command exited with status 1");
  EXPECT_EQ(sink_.count(RecordingSink::Kind::kWithdraw), 0u);
  EXPECT_THAT(sink_.published(), ElementsAre("kept-1"));
  // The cached token ends within seconds: the retry is urgent.
  EXPECT_EQ(source_->next_reason(), RunReason::kRetry);
  EXPECT_THAT(lines_of(runs), ElementsAre("start-up", "refresh"));
}

TEST_F(ExecSourceTest, RetriesAFailedStartAndTellsTheCommandWhy) {
  const fs::path runs = dir_.path() / "runs";
  start(options_for("fail-then-succeed.sh", {runs.string(), "1", "second", "3600"}));
  ASSERT_TRUE(run_until_published("second-2"));
  EXPECT_EQ(sink_.events.front().kind, RecordingSink::Kind::kFailed);
  EXPECT_THAT(lines_of(runs), ElementsAre("start-up", "retry"));
}

TEST_F(ExecSourceTest, FailsARunThatPassesItsTimeLimit) {
  ExecSourceOptions options = options_for("slow.sh", {"30", "too-late"});
  options.timeout_ms = 200;
  start(std::move(options));
  ASSERT_TRUE(run_until([&] { return source_->running(); }));
  const int pid = source_->running_pid();

  ASSERT_TRUE(run_until_event(RecordingSink::Kind::kFailed));
  EXPECT_EQ(sink_.last(RecordingSink::Kind::kFailed)->reason,
            "the command ran past its time limit of 200ms and was stopped");
  EXPECT_TRUE(run_until([&] { return !group_alive(pid); }));
  EXPECT_EQ(sink_.count(RecordingSink::Kind::kPublish), 0u);
}

TEST_F(ExecSourceTest, NeverServesTheOutputOfAFailedCommand) {
  const RecordingSink::Event e =
      first_report(options_for("fail.sh", {"never-served", "3"}), token::system_clock());
  EXPECT_EQ(e.kind, RecordingSink::Kind::kFailed);
  EXPECT_EQ(e.reason, "the command exited with status 3");
}

TEST_F(ExecSourceTest, FailsACommandKilledByASignal) {
  const RecordingSink::Event e =
      first_report(options_for("kill-self.sh", {"never-served"}), token::system_clock());
  EXPECT_EQ(e.reason, "the command was killed by signal 9");
}

TEST_F(ExecSourceTest, FailsACommandThatWritesTooMuch) {
  const RecordingSink::Event e =
      first_report(options_for("flood.sh", {"t", "70000", "1"}), token::system_clock());
  EXPECT_EQ(e.reason, "the command wrote more than 64KiB to standard output");
}

TEST_F(ExecSourceTest, ReportsACommandThatCannotBeStarted) {
  ExecSourceOptions options = options_for("text.sh", {});
  options.argv.front() = (dir_.path() / "gone").string();
  const RecordingSink::Event e = first_report(std::move(options), token::system_clock());
  EXPECT_EQ(e.reason, "the command could not be started: ENOENT (no such file or directory)");
}

TEST_F(ExecSourceTest, NeverLogsStandardOutputAndLogsStandardErrorAtDebug) {
  const fs::path log_path = dir_.path() / "log";
  const int log_fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  ASSERT_GE(log_fd, 0);
  log::configure(log::Level::kDebug, log::Format::kText);
  log::set_fd(log_fd);

  start(options_for("fail.sh", {"ya29.secret-in-failure", "3"}));
  ASSERT_TRUE(run_until_event(RecordingSink::Kind::kFailed));
  stop_source();
  start(options_for("text.sh", {"ya29.secret-in-success"}));
  ASSERT_TRUE(run_until_published("ya29.secret-in-success"));
  stop_source();

  log::set_fd(2);
  log::configure(log::Level::kInfo, log::Format::kText);
  ::close(log_fd);
  const std::string logged = testing::read_file(log_path);
  EXPECT_THAT(logged, HasSubstr("event=exec_run_finished"));
  EXPECT_THAT(logged, HasSubstr("event=exec_stderr"));
  EXPECT_THAT(logged, HasSubstr("fail.sh: giving up with status 3"));
  EXPECT_THAT(logged, Not(HasSubstr("secret-in")));
}

TEST_F(ExecSourceTest, StopKillsTheRunUnderWayAndReportsNothingMore) {
  const fs::path pids = dir_.path() / "pids";
  start(options_for("sleep-past-limit.sh", {pids.string()}));
  ASSERT_TRUE(run_until([&] { return fs::exists(pids); }));
  const int pid = source_->running_pid();
  ASSERT_GT(pid, 0);

  stop_source();
  EXPECT_TRUE(run_until([&] { return !group_alive(pid); }));
  EXPECT_TRUE(sink_.events.empty());
}

TEST_F(ExecSourceTest, StopBeforeStartCallsDoneAtOnce) {
  ExecSource source(options_for("text.sh", {"x"}), token::system_clock());
  bool stopped = false;
  source.stop([&] { stopped = true; });
  EXPECT_TRUE(stopped);
}

// --- the command's environment ---------------------------------------------------

TEST_F(ExecSourceTest, GivesTheCommandACleanEnvironmentAndPassesOnlyNamedVariables) {
  const fs::path out = dir_.path() / "run.txt";
  SpecBuilder spec;
  spec.set_list("command", {hook_path("describe-run.sh"), out.string(), "0", "t"})
      .set_list("pass_env", {"HOME", "UNSET_IN_THE_DAEMON"})
      .set("timeout", "5s");
  start(options_from(spec));
  ASSERT_TRUE(run_until_published("t"));
  EXPECT_THAT(
      environment_of(out),
      ElementsAre("PATH=" + std::string(kHookPath), "WIF_TOKEND_TOKEN_NAME=build",
                  "WIF_TOKEND_TIMEOUT_MS=5000", "HOME=/home/wif", "WIF_TOKEND_REASON=start-up"));
  EXPECT_THAT(lines_of(out), ::testing::Contains("cwd " + dir_.path().string()));
}

TEST_F(ExecSourceTest, SetsWhatGoogleExecutablesExpectWithCompatGoogle) {
  const fs::path out = dir_.path() / "run.txt";
  const fs::path cache = dir_.path() / "cache.json";
  SpecBuilder spec;
  spec.set_list("command", {hook_path("describe-run.sh"), out.string(), "0", "t"})
      .set("compat", "google")
      .set("audience", "//iam.googleapis.com/projects/1/locations/global/workloadIdentityPools/p")
      .set("subject_token_type", "urn:ietf:params:oauth:token-type:id_token")
      .set("impersonated_email", "mint@p.iam.gserviceaccount.com")
      .set("output_file", "cache.json");
  start(options_from(spec));
  ASSERT_TRUE(run_until_published("t"));
  EXPECT_THAT(
      environment_of(out),
      ElementsAre("PATH=" + std::string(kHookPath), "WIF_TOKEND_TOKEN_NAME=build",
                  "WIF_TOKEND_TIMEOUT_MS=30000",
                  "GOOGLE_EXTERNAL_ACCOUNT_AUDIENCE=//iam.googleapis.com/projects/1/locations/"
                  "global/workloadIdentityPools/p",
                  "GOOGLE_EXTERNAL_ACCOUNT_TOKEN_TYPE=urn:ietf:params:oauth:token-type:id_token",
                  "GOOGLE_EXTERNAL_ACCOUNT_INTERACTIVE=0",
                  "GOOGLE_EXTERNAL_ACCOUNT_IMPERSONATED_EMAIL=mint@p.iam.gserviceaccount.com",
                  "GOOGLE_EXTERNAL_ACCOUNT_OUTPUT_FILE=" + cache.string(),
                  "WIF_TOKEND_REASON=start-up"));
}

TEST_F(ExecSourceTest, SetsKubernetesExecInfoWithCompatKubernetes) {
  const fs::path out = dir_.path() / "run.txt";
  SpecBuilder spec;
  spec.set_list("command", {hook_path("describe-run.sh"), out.string(), "0", "t"})
      .set("compat", "kubernetes");
  start(options_from(spec));
  ASSERT_TRUE(run_until_published("t"));
  EXPECT_THAT(environment_of(out),
              ::testing::Contains(R"(KUBERNETES_EXEC_INFO={"apiVersion":"client.authentication.)"
                                  R"(k8s.io/v1","kind":"ExecCredential","spec":{"interactive":)"
                                  R"(false}})"));
}

// --- output_file ---------------------------------------------------------------

TEST_F(ExecSourceTest, ServesAFreshCachedResponseInsteadOfRunningTheCommand) {
  FakeClock clock(kNow);
  const fs::path cache = dir_.path() / "cache.json";
  testing::write_file(cache, R"({"version":1,"success":true,"token_type":"urn:ietf:params:oauth:)"
                             R"(token-type:id_token","id_token":"cached.id.token",)"
                             R"("expiration_time":1700003600})");
  SpecBuilder spec;
  spec.set_list("command", {hook_path("google-executable.sh"), "run.id.token", "1700007200"})
      .set("output_file", cache.string());
  start(options_from(spec), clock);

  ASSERT_TRUE(run_until_published("cached.id.token"));
  EXPECT_EQ(sink_.last(RecordingSink::Kind::kPublish)->origin, "exec output_file");
  EXPECT_EQ(source_->runs(), 0u);
  EXPECT_EQ(source_->next_reason(), RunReason::kRefresh);
  EXPECT_GE(source_->next_attempt_at_ms(), kNow + 3'600'000 - 330'000);
}

TEST_F(ExecSourceTest, RunsTheCommandWhenTheCachedResponseIsDueForRefresh) {
  FakeClock clock(kNow);
  const fs::path cache = dir_.path() / "cache.json";
  // Written an hour ago, with 200 s left: inside the refresh-ahead window.
  testing::write_file(cache, R"({"version":1,"success":true,"token_type":"urn:ietf:params:oauth:)"
                             R"(token-type:id_token","id_token":"stale.id.token",)"
                             R"("expiration_time":1700000200})");
  set_mtime(cache, kNow - 3'600'000);
  SpecBuilder spec;
  spec.set_list("command", {hook_path("google-executable.sh"), "new.id.token", "1700007200"})
      .set("output_file", cache.string());
  start(options_from(spec), clock);

  ASSERT_TRUE(run_until_published("new.id.token"));
  EXPECT_EQ(source_->runs(), 1u);
  EXPECT_THAT(sink_.published(), ElementsAre("new.id.token"));
  // The command cached its new response where it was told to.
  EXPECT_THAT(testing::read_file(cache), HasSubstr("\"id_token\":\"new.id.token\""));
}

// --- configuration ---------------------------------------------------------------

class ExecSourceConfigTest : public ::testing::Test {
 protected:
  ExecSourceConfigTest() {
    context_.token_name = "build";
    context_.base_dir = "/etc/wif";
    context_.allow_exec = true;
  }

  std::optional<ExecSourceOptions> read(const SpecBuilder& spec) {
    return read_exec_source_options(spec.spec(), context_, diag_, fake_environment());
  }

  token::SourceContext context_;
  config::Diagnostics diag_;
};

TEST_F(ExecSourceConfigTest, RefusesExecSourcesUnlessAllowed) {
  context_.allow_exec = false;
  SpecBuilder spec;
  spec.set_list("command", {hook_path("text.sh")});
  EXPECT_EQ(read(spec), std::nullopt);
  EXPECT_THAT(diag_.messages(),
              ElementsAre("/etc/wif/tokend.yaml:5:13: tokens.build.source.type: got \"exec\", "
                          "which runs commands and is refused unless allowed (expected "
                          "wif-tokend to be started with --allow-exec or "
                          "WIF_TOKEND_ALLOW_EXEC=1)"));
}

TEST_F(ExecSourceConfigTest, AppliesTheDocumentedDefaults) {
  SpecBuilder spec;
  spec.set_list("command", {hook_path("text.sh"), "x"});
  std::optional<ExecSourceOptions> options = read(spec);
  ASSERT_TRUE(options) << diag_.messages().front();
  EXPECT_THAT(options->argv, ElementsAre(hook_path("text.sh"), "x"));
  EXPECT_EQ(options->working_dir, "/etc/wif");
  EXPECT_EQ(options->timeout_ms, 30'000);
  EXPECT_EQ(options->reexec_interval_ms, 300'000);
  EXPECT_EQ(options->refresh_ahead_ms, 300'000);
  EXPECT_EQ(options->output_file, "");
  EXPECT_EQ(options->payload.format, PayloadFormat::kAuto);
  EXPECT_EQ(options->payload.min_remaining_ms, 30'000);
  EXPECT_THAT(options->env,
              ElementsAre("PATH=" + std::string(kHookPath), "WIF_TOKEND_TOKEN_NAME=build",
                          "WIF_TOKEND_TIMEOUT_MS=30000"));
}

TEST_F(ExecSourceConfigTest, ReadsEveryField) {
  SpecBuilder spec;
  spec.set_list("command", {hook_path("text.sh")})
      .set("timeout", "10s")
      .set("reexec_interval", "1m")
      .set("refresh_ahead", "2m")
      .set("output_file", "cache/response.json")
      .set("format", "google_executable")
      .set("min_remaining", "1m")
      .set("max_ttl", "1h")
      .set("compat", "kubernetes")
      .set("api_version", "client.authentication.k8s.io/v1beta1")
      .set("pass_env", "HOME");
  std::optional<ExecSourceOptions> options = read(spec);
  ASSERT_TRUE(options) << diag_.messages().front();
  EXPECT_EQ(options->timeout_ms, 10'000);
  EXPECT_EQ(options->reexec_interval_ms, 60'000);
  EXPECT_EQ(options->refresh_ahead_ms, 120'000);
  EXPECT_EQ(options->output_file, "/etc/wif/cache/response.json");
  EXPECT_EQ(options->payload.format, PayloadFormat::kGoogleExecutable);
  EXPECT_EQ(options->payload.min_remaining_ms, 60'000);
  EXPECT_EQ(options->payload.max_ttl_ms, 3'600'000);
  EXPECT_THAT(options->env,
              ElementsAre("PATH=" + std::string(kHookPath), "WIF_TOKEND_TOKEN_NAME=build",
                          "WIF_TOKEND_TIMEOUT_MS=10000",
                          R"(KUBERNETES_EXEC_INFO={"apiVersion":"client.authentication.k8s.io/)"
                          R"(v1beta1","kind":"ExecCredential","spec":{"interactive":false}})",
                          "GOOGLE_EXTERNAL_ACCOUNT_OUTPUT_FILE=/etc/wif/cache/response.json",
                          "HOME=/home/wif"));
}

TEST_F(ExecSourceConfigTest, SplitsACommandStringOnWhitespaceWithoutQuoting) {
  SpecBuilder spec;
  spec.set("command", "  " + hook_path("text.sh") + " 'a b'\t\"c\"  ");
  std::optional<ExecSourceOptions> options = read(spec);
  ASSERT_TRUE(options) << diag_.messages().front();
  EXPECT_THAT(options->argv, ElementsAre(hook_path("text.sh"), "'a", "b'", "\"c\""));
}

TEST_F(ExecSourceConfigTest, LooksUpABareProgramNameInTheFixedPath) {
  SpecBuilder spec;
  spec.set_list("command", {"sh", "-c", "echo token"});
  std::optional<ExecSourceOptions> options = read(spec);
  ASSERT_TRUE(options) << diag_.messages().front();
  EXPECT_EQ(options->argv.front(), "/usr/bin/sh");
}

TEST_F(ExecSourceConfigTest, ResolvesARelativeProgramAgainstTheConfigFolder) {
  context_.base_dir = fs::path(hook_path("text.sh")).parent_path().parent_path().string();
  SpecBuilder spec;
  spec.set("command", "hooks/../hooks/text.sh token");
  std::optional<ExecSourceOptions> options = read(spec);
  ASSERT_TRUE(options) << diag_.messages().front();
  EXPECT_THAT(options->argv, ElementsAre(hook_path("text.sh"), "token"));
}

TEST_F(ExecSourceConfigTest, RefusesAFileThatIsNotExecutable) {
  testing::TempDir dir;
  testing::write_file(dir.path() / "mint", "#!/bin/sh\n");
  SpecBuilder spec;
  spec.set_list("command", {(dir.path() / "mint").string()});
  EXPECT_EQ(read(spec), std::nullopt);
  EXPECT_THAT(diag_.messages(),
              ElementsAre("/etc/wif/tokend.yaml:6:7: tokens.build.source.command: got \"" +
                          (dir.path() / "mint").string() + "\" (expected an executable file; " +
                          (dir.path() / "mint").string() + ": EACCES (permission denied))"));
}

TEST_F(ExecSourceConfigTest, ReportsEveryProblemInOnePass) {
  SpecBuilder spec;
  spec.set_list("command", {"/nonexistent/mint"})  // line 6
      .set("timeout", "5m")                        // line 7
      .set("audience", "//iam")                    // line 8
      .set_list("pass_env", {"PATH", "1X"})        // line 9
      .set("shell", "/bin/sh");                    // line 10
  EXPECT_EQ(read(spec), std::nullopt);
  EXPECT_THAT(
      diag_.messages(),
      ElementsAre(
          "/etc/wif/tokend.yaml:6:7: tokens.build.source.command: got \"/nonexistent/mint\" "
          "(expected an executable file; /nonexistent/mint: ENOENT (no such file or directory))",
          "/etc/wif/tokend.yaml:7:7: tokens.build.source.timeout: got \"5m\" (expected at most "
          "2m)",
          "/etc/wif/tokend.yaml:8:7: tokens.build.source.audience: set without compat: google "
          "(expected compat: google, or no audience)",
          "/etc/wif/tokend.yaml:9:7: tokens.build.source.pass_env: got \"PATH\" (expected a name "
          "wif-tokend does not set itself: not PATH, WIF_TOKEND_*, GOOGLE_EXTERNAL_ACCOUNT_* or "
          "KUBERNETES_EXEC_INFO)",
          "/etc/wif/tokend.yaml:9:7: tokens.build.source.pass_env: got \"1X\" (expected an "
          "environment variable name: letters, digits and _, not starting with a digit)",
          "/etc/wif/tokend.yaml:10:7: tokens.build.source.shell: unknown field (expected one of: "
          "type, command, timeout, reexec_interval, refresh_ahead, output_file, format, "
          "json_field, json_expiry_field, ttl, max_ttl, min_remaining, compat, audience, "
          "subject_token_type, impersonated_email, api_version, pass_env)"));
}

TEST_F(ExecSourceConfigTest, RequiresAnAudienceWithCompatGoogle) {
  SpecBuilder spec;
  spec.set_list("command", {hook_path("text.sh")}).set("compat", "google");
  EXPECT_EQ(read(spec), std::nullopt);
  EXPECT_THAT(diag_.messages(),
              ElementsAre("/etc/wif/tokend.yaml:5:13: tokens.build.source.audience: missing "
                          "(expected the workload identity pool provider audience, such as "
                          "//iam.googleapis.com/...)"));
}

TEST_F(ExecSourceConfigTest, RefusesAnEmptyCommand) {
  SpecBuilder spec;
  spec.set("command", "  ");
  EXPECT_EQ(read(spec), std::nullopt);
  EXPECT_THAT(diag_.messages(),
              ElementsAre("/etc/wif/tokend.yaml:6:7: tokens.build.source.command: got \"  \" "
                          "(expected a command such as [/usr/local/bin/mint, --aud, x] or "
                          "\"/usr/local/bin/mint --aud x\")"));
}

TEST_F(ExecSourceConfigTest, TheRegistryBuildsAnExecSourceByTypeName) {
  SpecBuilder spec;
  spec.set_list("command", {hook_path("text.sh"), "x"});
  token::SourceRegistry registry;
  register_all(registry);
  std::unique_ptr<token::TokenSource> source = registry.create(spec.spec(), context_, diag_);
  ASSERT_NE(source, nullptr) << diag_.messages().front();
  EXPECT_EQ(source->describe(), "exec " + hook_path("text.sh"));
}

}  // namespace
}  // namespace wif::sources
