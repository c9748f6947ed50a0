// DirectoryWatcher against real inotify in a per-test folder: the ways a
// file is replaced in practice, each noticed without watching the file.
#include "src/watch/directory_watcher.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>

#include "tests/support/test_support.h"
#include "tests/support/uv_loop_runner.h"

namespace wif::watch {
namespace {

namespace fs = std::filesystem;
using ::testing::Contains;
using ::testing::Not;
using wif::testing::write_file;

class WatchDirectoryWatcher : public ::testing::Test {
 protected:
  ~WatchDirectoryWatcher() override {
    if (watcher_ != nullptr) {
      watcher_->close();
    }
  }

  void start(std::vector<std::string> paths) {
    std::string error;
    watcher_ = DirectoryWatcher::open(
        runner_.loop(), std::move(paths), [this] { ++changes_; }, error);
    ASSERT_NE(watcher_, nullptr) << error;
  }

  // Waits for one more change than seen so far.
  bool next_change() {
    const int target = changes_ + 1;
    return runner_.run_until([&] { return changes_ >= target; });
  }

  std::string file(const std::string& name) const { return dir_.file(name); }

  wif::testing::TempDir dir_;
  wif::testing::LoopRunner runner_;
  DirectoryWatcher* watcher_ = nullptr;
  int changes_ = 0;
};

TEST_F(WatchDirectoryWatcher, NoticesAFileReplacedByAnAtomicRename) {
  write_file(file("server.crt"), "one");
  start({file("server.crt")});

  write_file(file("server.crt.tmp"), "two");
  fs::rename(file("server.crt.tmp"), file("server.crt"));
  EXPECT_TRUE(next_change());
}

TEST_F(WatchDirectoryWatcher, NoticesAWriteInPlace) {
  write_file(file("server.key"), "one");
  start({file("server.key")});

  write_file(file("server.key"), "two");
  EXPECT_TRUE(next_change());
}

TEST_F(WatchDirectoryWatcher, NoticesTheKubernetesDataSwapAndFollowsIt) {
  // A projected volume: tls.crt -> ..data/tls.crt, ..data -> ..2026_1.
  fs::create_directory(file("..2026_1"));
  write_file(file("..2026_1/tls.crt"), "one");
  fs::create_directory_symlink("..2026_1", file("..data"));
  fs::create_symlink("..data/tls.crt", file("tls.crt"));
  start({file("tls.crt")});
  EXPECT_THAT(watcher_->watched_directories(), Contains(file("..2026_1")));

  // The kubelet writes a new folder, points ..data_tmp at it, renames it
  // over ..data and removes the old folder.
  fs::create_directory(file("..2026_2"));
  write_file(file("..2026_2/tls.crt"), "two");
  fs::create_directory_symlink("..2026_2", file("..data_tmp"));
  fs::rename(file("..data_tmp"), file("..data"));
  fs::remove_all(file("..2026_1"));
  ASSERT_TRUE(next_change());
  ASSERT_TRUE(runner_.run_until([&] {
    const std::vector<std::string> dirs = watcher_->watched_directories();
    return std::find(dirs.begin(), dirs.end(), file("..2026_1")) == dirs.end();
  }));
  EXPECT_THAT(watcher_->watched_directories(), Contains(file("..2026_2")));

  // And the next swap is noticed through the new folder as well.
  const int before = changes_;
  write_file(file("..2026_2/tls.crt"), "three");
  ASSERT_TRUE(next_change());
  EXPECT_GT(changes_, before);
}

TEST_F(WatchDirectoryWatcher, WatchesTheFolderOfASymlinkTargetElsewhere) {
  fs::create_directory(file("secrets"));
  fs::create_directory(file("etc"));
  write_file(file("secrets/server.key"), "one");
  fs::create_symlink(file("secrets/server.key"), file("etc/server.key"));
  start({file("etc/server.key")});

  EXPECT_THAT(watcher_->watched_directories(), Contains(file("secrets")));
  write_file(file("secrets/server.key"), "two");
  EXPECT_TRUE(next_change());
}

TEST_F(WatchDirectoryWatcher, WatchesAMissingFolderThroughItsParentUntilItComesBack) {
  start({file("certs/ca.crt")});
  EXPECT_THAT(watcher_->watched_directories(), Contains(dir_.path().string()));

  fs::create_directory(file("certs"));
  ASSERT_TRUE(next_change());
  EXPECT_THAT(watcher_->watched_directories(), Contains(file("certs")));
  EXPECT_THAT(watcher_->watched_directories(), Not(Contains(dir_.path().string())));
  write_file(file("certs/ca.crt"), "anchor");
  EXPECT_TRUE(next_change());
}

TEST_F(WatchDirectoryWatcher, IsNotWokenByAFolderItDoesNotWatch) {
  fs::create_directory(file("watched"));
  fs::create_directory(file("elsewhere"));
  start({file("watched/a.crl")});

  write_file(file("elsewhere/noise"), "x");
  write_file(file("watched/a.crl"), "y");
  ASSERT_TRUE(next_change());
  // Both writes happened before the loop ran; only the watched one counts,
  // and one read drains it.
  EXPECT_EQ(changes_, 1);
}

TEST_F(WatchDirectoryWatcher, IsNotWokenByANeighbourInTheSameFolder) {
  write_file(file("server.crt"), "one");
  start({file("server.crt")});
  // A second watcher, on the neighbour, tells when the loop has seen the
  // neighbour's events: both descriptors are ready in the same iteration.
  std::string error;
  int neighbour_changes = 0;
  DirectoryWatcher* neighbour = DirectoryWatcher::open(
      runner_.loop(), {file("wif-tokend.log")}, [&] { ++neighbour_changes; }, error);
  ASSERT_NE(neighbour, nullptr) << error;

  write_file(file("wif-tokend.log"), "a log line");
  ASSERT_TRUE(runner_.run_until([&] { return neighbour_changes > 0; }));
  EXPECT_EQ(changes_, 0);
  neighbour->close();

  write_file(file("server.crt"), "two");
  EXPECT_TRUE(next_change());
}

TEST_F(WatchDirectoryWatcher, StopsCallingOnceClosed) {
  write_file(file("server.crt"), "one");
  start({file("server.crt")});
  watcher_->close();
  watcher_ = nullptr;

  write_file(file("server.crt"), "two");
  // Draining the loop runs the close callback; no change may be reported.
  EXPECT_TRUE(runner_.run_until([] { return true; }));
  EXPECT_EQ(changes_, 0);
}

}  // namespace
}  // namespace wif::watch
