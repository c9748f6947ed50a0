#include "sources/file/file_source.h"

#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <functional>
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
using ::testing::HasSubstr;
using testing::LoopTest;
using testing::RecordingSink;

// Long enough that the periodic re-read never fires inside a test that does
// not ask for it: every reload a test sees comes from an inotify event.
constexpr int64_t kNoPollMs = 3'600'000;

void write_atomically(const fs::path& path, std::string_view content) {
  const fs::path temp = path.parent_path() / (".tmp-" + path.filename().string());
  testing::write_file(temp, content);
  fs::rename(temp, path);
}

void write_in_place(const fs::path& path, std::string_view content) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC);
  ASSERT_GE(fd, 0) << path;
  ASSERT_EQ(::write(fd, content.data(), content.size()), static_cast<ssize_t>(content.size()));
  ASSERT_EQ(::close(fd), 0);
}

void set_mtime(const fs::path& path, int64_t ms) {
  const timespec times[2] = {{ms / 1000, (ms % 1000) * 1'000'000},
                             {ms / 1000, (ms % 1000) * 1'000'000}};
  ASSERT_EQ(::utimensat(AT_FDCWD, path.c_str(), times, 0), 0);
}

// A per-test folder and the source under test, on the fixture's real loop.
class FileSourceTest : public LoopTest {
 protected:
  FileSourceOptions options_for(const fs::path& path) const {
    FileSourceOptions options;
    options.path = path.string();
    options.poll_interval_ms = kNoPollMs;
    return options;
  }

  void start(FileSourceOptions options, const token::Clock& clock = token::system_clock()) {
    source_ = std::make_unique<FileSource>(std::move(options), clock);
    ASSERT_EQ(source_->start(&loop_, sink_), 0);
  }

  // Runs until the source has made `more` read attempts beyond now: a change
  // has been looked at, whatever came of it.
  bool run_until_more_attempts(uint64_t more = 1) {
    const uint64_t target = source_->attempts() + more;
    return run_until([&] { return source_->attempts() >= target; });
  }

  void stop_source() override {
    if (source_) {
      stop(*source_);
      source_.reset();
    }
  }

  testing::TempDir dir_;
  std::unique_ptr<FileSource> source_;
};

TEST_F(FileSourceTest, PublishesTheTokenOfAnExistingFile) {
  const fs::path path = dir_.path() / "wif_token.txt";
  testing::write_file(path, "first-token\n");
  FakeClock clock(1'700'000'000'000);
  start(options_for(path), clock);

  ASSERT_TRUE(run_until_published("first-token"));
  const RecordingSink::Event& e = *sink_.last(RecordingSink::Kind::kPublish);
  EXPECT_EQ(e.expires_at_ms, std::nullopt);
  EXPECT_EQ(e.serve_until_ms, std::nullopt);
  EXPECT_EQ(e.obtained_at_ms, 1'700'000'000'000);
  EXPECT_THAT(e.origin, ::testing::MatchesRegex("file sha256:[0-9a-f]{12}"));
  EXPECT_EQ(e.body_prefix, R"({"access_token":"first-token","token_type":"Bearer"})");
  EXPECT_EQ(source_->describe(), "file " + path.string());
}

TEST_F(FileSourceTest, ReloadsWhenTheFileIsWrittenInPlaceAndClosed) {
  const fs::path path = dir_.path() / "wif_token.txt";
  testing::write_file(path, "old-token");
  start(options_for(path));
  ASSERT_TRUE(run_until_published("old-token"));

  write_in_place(path, "new-token");
  ASSERT_TRUE(run_until_published("new-token"));
  EXPECT_THAT(sink_.published(), ElementsAre("old-token", "new-token"));
}

TEST_F(FileSourceTest, NeverPublishesAnEmptyOrHalfWrittenFile) {
  const fs::path path = dir_.path() / "wif_token.txt";
  testing::write_file(path, "old-token");
  FileSourceOptions options = options_for(path);
  options.settle_ms = 10'000;  // only the close may end this write
  start(options);
  ASSERT_TRUE(run_until_published("old-token"));

  // Truncate, then write in pieces, letting the source see each step.
  const int fd = ::open(path.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  for (std::string_view piece : {"new-", "tok", "en"}) {
    for (int i = 0; i < 20; ++i) {
      uv_run(&loop_, UV_RUN_NOWAIT);
    }
    ASSERT_EQ(::write(fd, piece.data(), piece.size()), static_cast<ssize_t>(piece.size()));
  }
  for (int i = 0; i < 20; ++i) {
    uv_run(&loop_, UV_RUN_NOWAIT);
  }
  ASSERT_EQ(::close(fd), 0);

  ASSERT_TRUE(run_until_published("new-token"));
  EXPECT_THAT(sink_.published(), ElementsAre("old-token", "new-token"));
  EXPECT_EQ(sink_.count(RecordingSink::Kind::kFailed), 0u);
}

TEST_F(FileSourceTest, ReadsAnInPlaceWriteOnceTheWriterHasBeenQuiet) {
  const fs::path path = dir_.path() / "wif_token.txt";
  testing::write_file(path, "old-token");
  start(options_for(path));  // settle: 50 ms
  ASSERT_TRUE(run_until_published("old-token"));

  // The writer keeps the file open: no IN_CLOSE_WRITE ever comes.
  const int fd = ::open(path.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::write(fd, "quiet-token", 11), 11);
  const bool published = run_until_published("quiet-token");
  ASSERT_EQ(::close(fd), 0);

  EXPECT_TRUE(published);
  EXPECT_THAT(sink_.published(), ElementsAre("old-token", "quiet-token"));
}

TEST_F(FileSourceTest, ReloadsWhenTheFileIsReplacedAtomically) {
  const fs::path path = dir_.path() / "wif_token.txt";
  testing::write_file(path, "old-token");
  start(options_for(path));
  ASSERT_TRUE(run_until_published("old-token"));

  write_atomically(path, "renamed-token");
  ASSERT_TRUE(run_until_published("renamed-token"));
  EXPECT_THAT(sink_.published(), ElementsAre("old-token", "renamed-token"));
}

// The layout kubelet's atomic writer gives a projected volume:
//   ..2026_x0/wif_token.txt   the real file
//   ..data -> ..2026_x0       swapped by renaming a new symlink over it
//   wif_token.txt -> ..data/wif_token.txt
class ProjectedVolume {
 public:
  explicit ProjectedVolume(fs::path dir) : dir_(std::move(dir)) {}

  fs::path token_path() const { return dir_ / "wif_token.txt"; }

  void create(std::string_view content) {
    fs::create_directory(dir_ / generation_dir());
    testing::write_file(dir_ / generation_dir() / "wif_token.txt", content);
    fs::create_directory_symlink(generation_dir(), dir_ / "..data");
    fs::create_symlink("..data/wif_token.txt", token_path());
  }

  void swap(std::string_view content) {
    const std::string old_dir = generation_dir();
    ++generation_;
    fs::create_directory(dir_ / generation_dir());
    testing::write_file(dir_ / generation_dir() / "wif_token.txt", content);
    fs::create_directory_symlink(generation_dir(), dir_ / "..data_tmp");
    fs::rename(dir_ / "..data_tmp", dir_ / "..data");
    fs::remove_all(dir_ / old_dir);
  }

 private:
  std::string generation_dir() const { return "..2026_x" + std::to_string(generation_); }

  fs::path dir_;
  int generation_ = 0;
};

TEST_F(FileSourceTest, FollowsTheKubernetesDataSymlinkSwapOnEveryRotation) {
  ProjectedVolume volume(dir_.path());
  volume.create("token-0");
  start(options_for(volume.token_path()));
  ASSERT_TRUE(run_until_published("token-0"));

  for (int rotation = 1; rotation <= 3; ++rotation) {
    const std::string token = "token-" + std::to_string(rotation);
    volume.swap(token);
    ASSERT_TRUE(run_until_published(token)) << "rotation " << rotation;
    // The volume folder and the current target folder, never the old ones.
    EXPECT_EQ(source_->watch_count(), 2u) << "rotation " << rotation;
  }
  EXPECT_THAT(sink_.published(), ElementsAre("token-0", "token-1", "token-2", "token-3"));
}

TEST_F(FileSourceTest, KeepsTheCachedTokenWhenTheFileIsDeletedThenRecreated) {
  const fs::path path = dir_.path() / "wif_token.txt";
  testing::write_file(path, "kept-token");
  start(options_for(path));  // on_missing: keep
  ASSERT_TRUE(run_until_published("kept-token"));

  fs::remove(path);
  ASSERT_TRUE(run_until_event(RecordingSink::Kind::kFailed));
  // A plain-text token has no expiry: it is kept until the file is back.
  EXPECT_EQ(sink_.last(RecordingSink::Kind::kFailed)->reason,
            "token file is missing; keeping the cached token, which has no known expiry, until "
            "the file is back (on_missing: drop stops serving it)");
  EXPECT_EQ(sink_.count(RecordingSink::Kind::kWithdraw), 0u);

  write_atomically(path, "recreated-token");
  ASSERT_TRUE(run_until_published("recreated-token"));
  EXPECT_EQ(sink_.count(RecordingSink::Kind::kWithdraw), 0u);
}

TEST_F(FileSourceTest, SaysATokenWithAnExpiryIsKeptUntilItExpiresWhenTheFileIsDeleted) {
  const fs::path path = dir_.path() / "wif_token.txt";
  testing::write_file(path, "expiring-token");
  FileSourceOptions options = options_for(path);
  options.payload.ttl_ms = 3'600'000;
  start(options);
  ASSERT_TRUE(run_until_published("expiring-token"));

  fs::remove(path);
  ASSERT_TRUE(run_until_event(RecordingSink::Kind::kFailed));
  EXPECT_EQ(sink_.last(RecordingSink::Kind::kFailed)->reason,
            "token file is missing; keeping the cached token until it expires");
  EXPECT_EQ(sink_.count(RecordingSink::Kind::kWithdraw), 0u);
}

TEST_F(FileSourceTest, RepublishesTheSameTokenWhenTheFileComesBackAfterAFailure) {
  const fs::path path = dir_.path() / "wif_token.txt";
  testing::write_file(path, "same-token");
  start(options_for(path));
  ASSERT_TRUE(run_until_published("same-token"));

  fs::remove(path);
  ASSERT_TRUE(run_until_event(RecordingSink::Kind::kFailed));
  write_atomically(path, "same-token");
  ASSERT_TRUE(run_until_event(RecordingSink::Kind::kPublish));
  EXPECT_THAT(sink_.published(), ElementsAre("same-token", "same-token"));
}

TEST_F(FileSourceTest, WithdrawsTheTokenWhenTheFileIsDeletedWithOnMissingDrop) {
  const fs::path path = dir_.path() / "wif_token.txt";
  testing::write_file(path, "dropped-token");
  FileSourceOptions options = options_for(path);
  options.drop_on_missing = true;
  start(options);
  ASSERT_TRUE(run_until_published("dropped-token"));

  fs::remove(path);
  ASSERT_TRUE(run_until_event(RecordingSink::Kind::kWithdraw));
  EXPECT_EQ(sink_.last(RecordingSink::Kind::kWithdraw)->reason,
            "token file is missing (on_missing: drop)");
  EXPECT_EQ(sink_.events.back().kind, RecordingSink::Kind::kFailed);
  EXPECT_EQ(sink_.events.back().reason, "token file is missing");

  write_atomically(path, "new-token");
  ASSERT_TRUE(run_until_published("new-token"));
}

TEST_F(FileSourceTest, KeepsServingAndWatchesAgainWhenTheDirectoryIsRemovedAndRecreated) {
  const fs::path sub = dir_.path() / "secrets";
  const fs::path path = sub / "wif_token.txt";
  fs::create_directory(sub);
  testing::write_file(path, "before-token");
  start(options_for(path));
  ASSERT_TRUE(run_until_published("before-token"));

  fs::remove_all(sub);
  ASSERT_TRUE(run_until([&] {
    return !source_->warnings().empty() && sink_.count(RecordingSink::Kind::kFailed) > 0;
  }));
  EXPECT_EQ(source_->warnings().front().event, "file_watch_lost");
  EXPECT_THAT(source_->warnings().front().detail, HasSubstr(sub.string()));
  EXPECT_EQ(sink_.count(RecordingSink::Kind::kWithdraw), 0u);

  // The folder comes back first (seen through the parent's watch), then the
  // file: the second event can only come from the re-armed watch.
  fs::create_directory(sub);
  ASSERT_TRUE(run_until_more_attempts());
  write_atomically(path, "after-token");
  ASSERT_TRUE(run_until_published("after-token"));
  EXPECT_EQ(source_->watch_count(), 1u);
}

TEST_F(FileSourceTest, IsNotReadyUntilAMissingFileAppears) {
  const fs::path path = dir_.path() / "wif_token.txt";
  start(options_for(path));
  ASSERT_TRUE(run_until_event(RecordingSink::Kind::kFailed));
  EXPECT_EQ(sink_.events.front().reason, "token file is missing");
  EXPECT_EQ(sink_.count(RecordingSink::Kind::kPublish), 0u);

  write_atomically(path, "late-token");
  ASSERT_TRUE(run_until_published("late-token"));
}

TEST_F(FileSourceTest, PicksUpTheFileWhenItsDirectoryIsCreatedLater) {
  const fs::path path = dir_.path() / "a" / "b" / "wif_token.txt";
  start(options_for(path));
  ASSERT_TRUE(run_until_event(RecordingSink::Kind::kFailed));

  fs::create_directories(path.parent_path());
  ASSERT_TRUE(run_until_more_attempts());
  write_atomically(path, "nested-token");
  ASSERT_TRUE(run_until_published("nested-token"));
}

TEST_F(FileSourceTest, RefusesAFileOverMaxSize) {
  const fs::path path = dir_.path() / "wif_token.txt";
  testing::write_file(path, std::string(2'048, 'a'));
  FileSourceOptions options = options_for(path);
  options.max_size_bytes = 1'024;
  start(options);

  ASSERT_TRUE(run_until_event(RecordingSink::Kind::kFailed));
  EXPECT_EQ(sink_.last(RecordingSink::Kind::kFailed)->reason,
            "the token file is over max_size (1024 bytes)");
  EXPECT_EQ(sink_.count(RecordingSink::Kind::kPublish), 0u);

  write_atomically(path, std::string(1'024, 'b'));
  ASSERT_TRUE(run_until_published(std::string(1'024, 'b')));
}

TEST_F(FileSourceTest, WarnsOnceAboutAFileOthersCanWrite) {
  const fs::path path = dir_.path() / "wif_token.txt";
  testing::write_file(path, "shared-token");
  ASSERT_EQ(::chmod(path.c_str(), 0666), 0);
  std::vector<std::string> seen;
  source_ = std::make_unique<FileSource>(options_for(path), token::system_clock());
  source_->set_warning_handler(
      [&](std::string_view event, std::string_view) { seen.emplace_back(event); });
  ASSERT_EQ(source_->start(&loop_, sink_), 0);
  ASSERT_TRUE(run_until_published("shared-token"));

  write_in_place(path, "shared-token-2");
  ASSERT_TRUE(run_until_published("shared-token-2"));
  EXPECT_THAT(seen, ElementsAre("token_file_writable"));
  ASSERT_EQ(source_->warnings().size(), 1u);
  EXPECT_EQ(source_->warnings().front().detail,
            "token file " + path.string() +
                " is writable by group or others (mode 0666): whoever can write it can hand out "
                "tokens");
}

TEST_F(FileSourceTest, TheFactorysSourceLogsItsWarnings) {
  const fs::path path = dir_.path() / "wif_token.txt";
  testing::write_file(path, "logged-token");
  ASSERT_EQ(::chmod(path.c_str(), 0666), 0);
  config::SourceSpec spec;
  spec.type = "file";
  spec.fields["path"] = config::SourceSpec::Field{config::Mark{}, false, {path.string()}};
  token::SourceContext context;
  context.token_name = "wif";
  config::Diagnostics diag;
  std::unique_ptr<token::TokenSource> source = make_file_source(spec, context, diag);
  ASSERT_NE(source, nullptr);

  const fs::path log_path = dir_.path() / "log";
  const int log_fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  ASSERT_GE(log_fd, 0);
  log::set_fd(log_fd);
  ASSERT_EQ(source->start(&loop_, sink_), 0);
  const bool published = run_until_published("logged-token");
  stop(*source);
  log::set_fd(2);
  ::close(log_fd);

  EXPECT_TRUE(published);
  const std::string logged = testing::read_file(log_path);
  EXPECT_THAT(logged, HasSubstr("level=warn component=file event=token_file_writable token=wif"));
  EXPECT_THAT(logged, ::testing::Not(HasSubstr("logged-token")));
}

TEST_F(FileSourceTest, DoesNotPublishAgainWhenTheContentIsUnchanged) {
  const fs::path path = dir_.path() / "wif_token.txt";
  testing::write_file(path, "stable-token");
  start(options_for(path));
  ASSERT_TRUE(run_until_published("stable-token"));

  write_atomically(path, "stable-token");
  ASSERT_TRUE(run_until_more_attempts());
  write_in_place(path, "stable-token");
  ASSERT_TRUE(run_until_more_attempts());
  EXPECT_THAT(sink_.published(), ElementsAre("stable-token"));
}

TEST_F(FileSourceTest, RejectsABadPayloadAndKeepsTheCachedToken) {
  const fs::path path = dir_.path() / "wif_token.txt";
  testing::write_file(path, "good-token");
  start(options_for(path));
  ASSERT_TRUE(run_until_published("good-token"));

  write_atomically(path, "two\nlines\n");
  ASSERT_TRUE(run_until_event(RecordingSink::Kind::kFailed));
  const RecordingSink::Event& failure = *sink_.last(RecordingSink::Kind::kFailed);
  EXPECT_EQ(failure.reason, "text payload has more than one line (expected one token)");
  EXPECT_EQ(sink_.count(RecordingSink::Kind::kWithdraw), 0u);
  EXPECT_THAT(sink_.published(), ElementsAre("good-token"));
}

TEST_F(FileSourceTest, SchedulesRetriesWithBackoffWhileFailing) {
  const fs::path path = dir_.path() / "wif_token.txt";
  FakeClock clock(1'700'000'000'000);
  start(options_for(path), clock);
  ASSERT_TRUE(run_until_event(RecordingSink::Kind::kFailed));
  // No token yet: the first retry comes after 1 s ± 25 %.
  const int64_t wait_ms = sink_.events.back().next_attempt_ms - clock.now_ms();
  EXPECT_GE(wait_ms, 750);
  EXPECT_LE(wait_ms, 1'250);
}

TEST_F(FileSourceTest, CountsExpiresInFromTheFileModificationTime) {
  constexpr int64_t kNow = 1'700'000'000'000;
  const fs::path path = dir_.path() / "token.json";
  testing::write_file(path, R"({"access_token":"ya29.file","expires_in":3600})");
  set_mtime(path, kNow - 100'000);
  FakeClock clock(kNow);
  start(options_for(path), clock);

  ASSERT_TRUE(run_until_published("ya29.file"));
  const RecordingSink::Event& e = *sink_.last(RecordingSink::Kind::kPublish);
  EXPECT_EQ(e.expires_at_ms, kNow - 100'000 + 3'600'000);
  EXPECT_EQ(e.serve_until_ms, kNow - 100'000 + 3'600'000 - 30'000);
  EXPECT_EQ(e.body_prefix, R"({"access_token":"ya29.file","token_type":"Bearer","expires_in":)");
}

TEST_F(FileSourceTest, NeverCountsFromAModificationTimeInTheFuture) {
  constexpr int64_t kNow = 1'700'000'000'000;
  const fs::path path = dir_.path() / "token.json";
  testing::write_file(path, R"({"access_token":"ya29.future","expires_in":3600})");
  set_mtime(path, kNow + 1'000'000);
  FakeClock clock(kNow);
  start(options_for(path), clock);

  ASSERT_TRUE(run_until_published("ya29.future"));
  EXPECT_EQ(sink_.last(RecordingSink::Kind::kPublish)->expires_at_ms, kNow + 3'600'000);
}

TEST_F(FileSourceTest, AnOldFileWhoseTokenHasExpiredCountsAsFailed) {
  constexpr int64_t kNow = 1'700'000'000'000;
  const fs::path path = dir_.path() / "token.json";
  testing::write_file(path, R"({"access_token":"ya29.stale","expires_in":3600})");
  set_mtime(path, kNow - 7'200'000);
  FakeClock clock(kNow);
  start(options_for(path), clock);

  ASSERT_TRUE(run_until_event(RecordingSink::Kind::kFailed));
  EXPECT_EQ(sink_.last(RecordingSink::Kind::kFailed)->reason,
            "token expired 3600s ago (expiry from payload)");
  EXPECT_EQ(sink_.count(RecordingSink::Kind::kPublish), 0u);
}

TEST_F(FileSourceTest, ReportsAFailureWhenAnUnchangedTokenReachesTheEndOfItsServing) {
  // Written so that, by the fake clock, 200 ms of serving are left.
  constexpr int64_t kNow = 1'700'000'000'000;
  const fs::path path = dir_.path() / "wif_token.txt";
  testing::write_file(path, "short-lived");
  set_mtime(path, kNow - 3'600'000 + 30'000 + 200);
  FileSourceOptions options = options_for(path);
  options.payload.ttl_ms = 3'600'000;
  FakeClock clock(kNow);
  start(options, clock);
  ASSERT_TRUE(run_until_published("short-lived"));
  EXPECT_EQ(sink_.last(RecordingSink::Kind::kPublish)->serve_until_ms, kNow + 200);

  // The source looks again when serving ends (200 ms of loop time); by then
  // the clock says the token is past its serve-until time.
  clock.advance(300);
  ASSERT_TRUE(run_until_event(RecordingSink::Kind::kFailed));
  EXPECT_EQ(sink_.last(RecordingSink::Kind::kFailed)->reason,
            "token has 29900ms left, not more than min_remaining 30s (expiry from ttl)");
  EXPECT_THAT(sink_.published(), ElementsAre("short-lived"));
}

TEST_F(FileSourceTest, ThePeriodicReReadCatchesAChangeNoEventReported) {
  // A hard link in another folder: writing through it changes our file
  // without any event in the watched folder.
  const fs::path path = dir_.path() / "watched" / "wif_token.txt";
  const fs::path elsewhere = dir_.path() / "elsewhere" / "link.txt";
  fs::create_directories(path.parent_path());
  fs::create_directories(elsewhere.parent_path());
  testing::write_file(path, "linked-old");
  fs::create_hard_link(path, elsewhere);
  FileSourceOptions options = options_for(path);
  options.poll_interval_ms = 100;
  start(options);
  ASSERT_TRUE(run_until_published("linked-old"));

  write_in_place(elsewhere, "linked-new");
  ASSERT_TRUE(run_until_published("linked-new"));
}

TEST_F(FileSourceTest, ServesEveryPayloadFormat) {
  const fs::path path = dir_.path() / "token";
  testing::write_file(path, "plain-text-token\n");
  start(options_for(path));
  ASSERT_TRUE(run_until_published("plain-text-token"));

  const std::pair<std::string, std::string> payloads[] = {
      {R"({"version":1,"success":true,"token_type":"urn:ietf:params:oauth:token-type:jwt",
           "id_token":"google.id.token"})",
       "google.id.token"},
      {R"({"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential",
           "status":{"token":"k8s-exec-token"}})",
       "k8s-exec-token"},
      {R"({"access_token":"oauth-token","token_type":"Bearer","expires_in":3600})", "oauth-token"},
      {R"({"accessToken":"iam-token","expireTime":"2999-01-01T00:00:00Z"})", "iam-token"},
  };
  for (const auto& [content, value] : payloads) {
    write_atomically(path, content);
    ASSERT_TRUE(run_until_published(value)) << content;
  }
}

TEST_F(FileSourceTest, ReadsAConfiguredJsonField) {
  const fs::path path = dir_.path() / "sink.json";
  testing::write_file(path, R"({"data":{"token":"nested-token"}})");
  FileSourceOptions options = options_for(path);
  options.payload.json_field = "data.token";
  start(options);
  ASSERT_TRUE(run_until_published("nested-token"));
}

TEST_F(FileSourceTest, StopBeforeStartCallsDoneAtOnce) {
  FileSource source(options_for(dir_.path() / "x"), token::system_clock());
  bool stopped = false;
  source.stop([&] { stopped = true; });
  EXPECT_TRUE(stopped);
}

TEST_F(FileSourceTest, StopsWithoutReportingAnythingMore) {
  const fs::path path = dir_.path() / "wif_token.txt";
  testing::write_file(path, "a-token");
  start(options_for(path));
  ASSERT_TRUE(run_until_published("a-token"));
  stop_source();
  const size_t events = sink_.events.size();

  write_atomically(path, "after-stop");
  uv_run(&loop_, UV_RUN_NOWAIT);
  EXPECT_EQ(sink_.events.size(), events);
}

// --- configuration --------------------------------------------------------------

class FileSourceConfigTest : public ::testing::Test {
 protected:
  FileSourceConfigTest() {
    spec_.type = "file";
    spec_.mark = config::Mark{"/etc/wif/tokend.yaml", 5, 13};
    context_.token_name = "wif";
    context_.base_dir = "/etc/wif";
  }

  void set(const std::string& name, std::string value) {
    config::SourceSpec::Field field;
    field.mark = config::Mark{"/etc/wif/tokend.yaml", next_line_++, 7};
    field.values.push_back(std::move(value));
    spec_.fields[name] = std::move(field);
  }

  config::SourceSpec spec_;
  token::SourceContext context_;
  config::Diagnostics diag_;
  int next_line_ = 6;
};

TEST_F(FileSourceConfigTest, ResolvesARelativePathAgainstTheConfigFolder) {
  set("path", "tokens/../wif_token.txt");
  std::optional<FileSourceOptions> options = read_file_source_options(spec_, context_, diag_);
  ASSERT_TRUE(options) << diag_.messages().front();
  EXPECT_EQ(options->path, "/etc/wif/wif_token.txt");
}

TEST_F(FileSourceConfigTest, AppliesTheDocumentedDefaults) {
  set("path", "/run/wif/token");
  std::optional<FileSourceOptions> options = read_file_source_options(spec_, context_, diag_);
  ASSERT_TRUE(options);
  EXPECT_EQ(options->path, "/run/wif/token");
  EXPECT_EQ(options->payload.format, PayloadFormat::kAuto);
  EXPECT_EQ(options->payload.min_remaining_ms, 30'000);
  EXPECT_FALSE(options->drop_on_missing);
  EXPECT_EQ(options->poll_interval_ms, 30'000);
  EXPECT_EQ(options->settle_ms, 50);
  EXPECT_EQ(options->max_size_bytes, 1024u * 1024u);
}

TEST_F(FileSourceConfigTest, ReadsEveryField) {
  set("path", "/run/wif/token");
  set("format", "oauth2");
  set("ttl", "10m");
  set("max_ttl", "1h");
  set("min_remaining", "1m");
  set("on_missing", "drop");
  set("poll_interval", "5s");
  set("settle", "200ms");
  set("max_size", "64KiB");
  std::optional<FileSourceOptions> options = read_file_source_options(spec_, context_, diag_);
  ASSERT_TRUE(options) << diag_.messages().front();
  EXPECT_EQ(options->payload.format, PayloadFormat::kOAuth2);
  EXPECT_EQ(options->payload.ttl_ms, 600'000);
  EXPECT_EQ(options->payload.max_ttl_ms, 3'600'000);
  EXPECT_EQ(options->payload.min_remaining_ms, 60'000);
  EXPECT_TRUE(options->drop_on_missing);
  EXPECT_EQ(options->poll_interval_ms, 5'000);
  EXPECT_EQ(options->settle_ms, 200);
  EXPECT_EQ(options->max_size_bytes, 64u * 1024u);
}

TEST_F(FileSourceConfigTest, ReportsEveryProblemInOnePass) {
  set("on_missing", "forget");  // line 6
  set("poll_interval", "0s");   // line 7
  set("refresh_ahead", "5m");   // line 8
  EXPECT_EQ(make_file_source(spec_, context_, diag_), nullptr);
  EXPECT_THAT(
      diag_.messages(),
      ElementsAre("/etc/wif/tokend.yaml:5:13: tokens.wif.source.path: missing (expected the path "
                  "of the token file)",
                  "/etc/wif/tokend.yaml:6:7: tokens.wif.source.on_missing: got \"forget\" "
                  "(expected keep or drop)",
                  "/etc/wif/tokend.yaml:7:7: tokens.wif.source.poll_interval: got \"0s\" "
                  "(expected at least 1s)",
                  "/etc/wif/tokend.yaml:8:7: tokens.wif.source.refresh_ahead: unknown field "
                  "(expected one of: type, path, format, json_field, json_expiry_field, ttl, "
                  "max_ttl, min_remaining, on_missing, poll_interval, settle, max_size)"));
}

TEST_F(FileSourceConfigTest, RefusesAPathNamingAFolder) {
  set("path", "/run/wif/");
  EXPECT_EQ(make_file_source(spec_, context_, diag_), nullptr);
  EXPECT_THAT(diag_.messages(),
              ElementsAre("/etc/wif/tokend.yaml:6:7: tokens.wif.source.path: got \"/run/wif/\" "
                          "(expected a file, not a directory)"));
}

TEST_F(FileSourceConfigTest, TheRegistryBuildsAFileSourceByTypeName) {
  set("path", "wif_token.txt");
  token::SourceRegistry registry;
  register_all(registry);
  std::unique_ptr<token::TokenSource> source = registry.create(spec_, context_, diag_);
  ASSERT_NE(source, nullptr);
  EXPECT_EQ(source->describe(), "file /etc/wif/wif_token.txt");
  EXPECT_TRUE(diag_.ok());
}

}  // namespace
}  // namespace wif::sources
