#include "sources/exec/hook_run.h"

#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include "tests/sources/source_harness.h"
#include "tests/support/test_support.h"

namespace wif::sources {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using testing::group_alive;
using ::testing::HasSubstr;
using testing::LoopTest;
using testing::process_alive;

HookCommand command_for(std::string_view name, std::vector<std::string> args) {
  HookCommand command;
  command.file = testing::hook_path(name);
  command.argv.push_back(command.file);
  command.argv.insert(command.argv.end(), args.begin(), args.end());
  command.env = {"PATH=/usr/bin:/bin"};
  command.timeout_ms = 10'000;
  return command;
}

// Two PIDs a hook wrote into `path` ("PID HELPER_PID"), or one.
std::vector<int> read_pids(const fs::path& path) {
  std::ifstream in(path);
  std::vector<int> pids;
  int pid = 0;
  while (in >> pid) {
    pids.push_back(pid);
  }
  return pids;
}

class HookRunTest : public LoopTest {
 protected:
  // Spawns `command` and runs the loop until the run is over.
  std::optional<HookOutcome> run(const HookCommand& command) {
    std::optional<HookOutcome> outcome;
    int error = 0;
    HookRun* run = HookRun::spawn(
        &loop_, command, [&](HookOutcome o) { outcome = std::move(o); }, &error);
    EXPECT_NE(run, nullptr) << uv_err_name(error);
    if (run == nullptr) {
      return std::nullopt;
    }
    EXPECT_TRUE(run_until([&] { return outcome.has_value(); }, 20'000));
    return outcome;
  }

  bool run_until_file(const fs::path& path) {
    return run_until([&] { return fs::exists(path); });
  }

  testing::TempDir dir_;
};

TEST_F(HookRunTest, PassesArgumentsAsTheyAreWithoutAShell) {
  const std::string arg = "a b; echo $HOME `id` \"q\"";
  std::optional<HookOutcome> outcome = run(command_for("text.sh", {arg}));
  ASSERT_TRUE(outcome);
  EXPECT_EQ(outcome->exit_status, 0);
  EXPECT_EQ(outcome->term_signal, 0);
  EXPECT_EQ(outcome->stdout_bytes.reveal(), arg + "\n");
  EXPECT_FALSE(outcome->timed_out);
}

TEST_F(HookRunTest, StartsTheCommandAloneInItsOwnGroupWithDevNullAndUmask077) {
  // A descriptor the test holds open without close-on-exec: the command
  // must not get it all the same.
  const int canary = ::fcntl(::open("/dev/null", O_RDONLY), F_DUPFD, 57);
  ASSERT_GE(canary, 57);
  ASSERT_EQ(::fcntl(canary, F_GETFD) & FD_CLOEXEC, 0);
  const fs::path out = dir_.path() / "run.txt";
  HookCommand command = command_for("describe-run.sh", {out.string(), std::to_string(canary), "t"});
  command.cwd = dir_.path().string();
  command.env = {"PATH=/usr/bin:/bin", "WIF_TOKEND_REASON=start-up"};

  std::optional<HookOutcome> outcome = run(command);
  ::close(canary);
  ASSERT_TRUE(outcome);
  ASSERT_EQ(outcome->exit_status, 0) << outcome->stderr_bytes;
  const std::string pid = std::to_string(outcome->pid);
  EXPECT_EQ(testing::read_file(out),
            "umask 0077\n"
            "cwd " +
                dir_.path().string() +
                "\n"
                "stdin /dev/null\n"
                "pid " +
                pid +
                "\n"
                "pgid " +
                pid +
                "\n"
                "sid " +
                pid +
                "\n"
                "fd_inherited no\n"
                "environment:\n"
                "PATH=/usr/bin:/bin\n"
                "WIF_TOKEND_REASON=start-up\n");
}

TEST_F(HookRunTest, ReportsTheExitStatusAndKeepsStandardError) {
  std::optional<HookOutcome> outcome = run(command_for("fail.sh", {"never-served", "3"}));
  ASSERT_TRUE(outcome);
  EXPECT_EQ(outcome->exit_status, 3);
  EXPECT_EQ(outcome->stderr_bytes, "fail.sh: giving up with status 3\n");
  EXPECT_FALSE(outcome->stderr_truncated);
}

TEST_F(HookRunTest, ReportsTheSignalThatKilledTheCommand) {
  std::optional<HookOutcome> outcome = run(command_for("kill-self.sh", {"t"}));
  ASSERT_TRUE(outcome);
  EXPECT_EQ(outcome->term_signal, SIGKILL);
}

TEST_F(HookRunTest, KillsTheWholeGroupWhenTheTimeLimitPasses) {
  const fs::path pids_file = dir_.path() / "pids";
  HookCommand command = command_for("sleep-past-limit.sh", {pids_file.string(), "late-token"});
  command.timeout_ms = 300;
  command.kill_grace_ms = 300;

  std::optional<HookOutcome> outcome = run(command);
  ASSERT_TRUE(outcome);
  EXPECT_TRUE(outcome->timed_out);
  // SIGTERM is ignored by both processes: only the SIGKILL ended them.
  EXPECT_EQ(outcome->term_signal, SIGKILL);
  EXPECT_TRUE(outcome->stdout_bytes.empty());
  const std::vector<int> pids = read_pids(pids_file);
  ASSERT_EQ(pids.size(), 2u);
  EXPECT_EQ(pids[0], outcome->pid);
  EXPECT_TRUE(run_until([&] { return !group_alive(outcome->pid) && !process_alive(pids[1]); }));
}

TEST_F(HookRunTest, KillsWhatTheCommandLeftInItsGroupWhenItExits) {
  const fs::path pid_file = dir_.path() / "helper";
  std::optional<HookOutcome> outcome =
      run(command_for("leave-helper.sh", {"stay", pid_file.string(), "t"}));
  ASSERT_TRUE(outcome);
  EXPECT_EQ(outcome->exit_status, 0);
  EXPECT_EQ(outcome->stdout_bytes.reveal(), "t\n");
  const std::vector<int> pids = read_pids(pid_file);
  ASSERT_EQ(pids.size(), 1u);
  // SIGKILL went out when the command exited; death follows shortly.
  EXPECT_TRUE(run_until([&] { return !process_alive(pids[0]) && !group_alive(outcome->pid); }));
}

TEST_F(HookRunTest, StopsWaitingForADescendantThatLeftTheGroupWithTheOutputOpen) {
  const fs::path pid_file = dir_.path() / "helper";
  HookCommand command = command_for("leave-helper.sh", {"escape", pid_file.string(), "t"});
  command.drain_after_exit_ms = 200;
  std::optional<HookOutcome> outcome = run(command);
  const std::vector<int> pids = read_pids(pid_file);
  // The helper escaped the group on purpose: the test started it, so the
  // test ends it, by its PID.
  for (int pid : pids) {
    ::kill(pid, SIGKILL);
  }
  ASSERT_TRUE(outcome);
  EXPECT_EQ(outcome->exit_status, 0);
  EXPECT_TRUE(outcome->output_left_open);
  EXPECT_TRUE(outcome->stdout_bytes.empty());
}

TEST_F(HookRunTest, StopsTheCommandWhenStandardOutputPassesItsCap) {
  HookCommand command = command_for("flood.sh", {"t", "5000", "1"});
  command.max_stdout_bytes = 1024;
  command.kill_grace_ms = 300;
  std::optional<HookOutcome> outcome = run(command);
  ASSERT_TRUE(outcome);
  EXPECT_TRUE(outcome->stdout_over_cap);
  EXPECT_TRUE(outcome->stdout_bytes.empty());
  EXPECT_TRUE(run_until([&] { return !group_alive(outcome->pid); }));
}

TEST_F(HookRunTest, KeepsOnlyTheFirstBytesOfStandardErrorAndReadsTheRest) {
  HookCommand command = command_for("flood.sh", {"t", "100000", "2"});
  command.max_stderr_bytes = 512;
  std::optional<HookOutcome> outcome = run(command);
  ASSERT_TRUE(outcome);
  EXPECT_EQ(outcome->exit_status, 0);
  EXPECT_EQ(outcome->stdout_bytes.reveal(), "t\n");
  EXPECT_EQ(outcome->stderr_bytes, std::string(512, 'e'));
  EXPECT_TRUE(outcome->stderr_truncated);
}

TEST_F(HookRunTest, ReportsAProgramThatCannotBeStartedWithoutCallingDone) {
  HookCommand command = command_for("text.sh", {});
  command.file = (dir_.path() / "missing").string();
  command.argv.front() = command.file;
  bool called = false;
  int error = 0;
  EXPECT_EQ(HookRun::spawn(
                &loop_, command, [&](HookOutcome) { called = true; }, &error),
            nullptr);
  EXPECT_EQ(error, UV_ENOENT);
  uv_run(&loop_, UV_RUN_NOWAIT);
  EXPECT_FALSE(called);
}

TEST_F(HookRunTest, CancelKillsTheGroupAndStillCallsDone) {
  const fs::path pids_file = dir_.path() / "pids";
  std::optional<HookOutcome> outcome;
  int error = 0;
  HookRun* run = HookRun::spawn(
      &loop_, command_for("sleep-past-limit.sh", {pids_file.string()}),
      [&](HookOutcome o) { outcome = std::move(o); }, &error);
  ASSERT_NE(run, nullptr);
  ASSERT_TRUE(run_until_file(pids_file));

  run->cancel();
  ASSERT_TRUE(run_until([&] { return outcome.has_value(); }));
  EXPECT_TRUE(outcome->cancelled);
  const std::vector<int> pids = read_pids(pids_file);
  ASSERT_EQ(pids.size(), 2u);
  EXPECT_TRUE(run_until([&] { return !group_alive(outcome->pid) && !process_alive(pids[1]); }));
}

}  // namespace
}  // namespace wif::sources
