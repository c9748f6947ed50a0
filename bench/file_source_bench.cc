// How soon a change of the token file is visible to workers (issue #3 asks
// for at most 10 ms at the median): the time from the moment a rename, a
// finished in-place write or a Kubernetes `..data` swap returns to the
// moment TokenStore::current() hands out the new token, through a real
// inotify watch on a real libuv loop.
//
//   ./build/bench/file_source_bench
//
// Each benchmark makes kChanges changes in a temporary folder and reports
// the median, 90th percentile and largest delay as counters (median_us,
// p90_us, max_us); the time column is their mean.
#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <unistd.h>
#include <uv.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "sources/file/file_source.h"
#include "src/token/token_store.h"

namespace wif::sources {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr int kChanges = 200;
// A change not seen within this long is an error, not a slow sample.
constexpr uint64_t kGiveUpMs = 2'000;

// What SlotSink does for a good value, without its logging and metrics, so
// that only the source's own path is measured.
class StoreSink final : public token::SourceSink {
 public:
  explicit StoreSink(token::TokenStore& store) : store_(store) {}
  void publish(std::shared_ptr<token::Token> token) override {
    store_.publish(0, std::move(token));
  }
  // A failed read would mean the bench saw a half-written file: counted, and
  // reported next to the delays.
  void failed(std::string_view, int64_t) override { ++failures; }
  void withdraw(std::string_view) override {}

  int failures = 0;

 private:
  token::TokenStore& store_;
};

void write_file(const fs::path& path, const std::string& content) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0 ||
      ::write(fd, content.data(), content.size()) != static_cast<ssize_t>(content.size()) ||
      ::close(fd) != 0) {
    std::abort();  // the bench's own folder: nothing sensible to do
  }
}

// One file source on its own loop, watching a file in a fresh folder.
class Bench {
 public:
  explicit Bench(const std::string& relative_path) {
    std::string dir = (fs::temp_directory_path() / "wif-bench-XXXXXX").string();
    if (::mkdtemp(dir.data()) == nullptr) {
      std::abort();
    }
    dir_ = dir;
    path_ = dir_ / relative_path;
    uv_loop_init(&loop_);
    uv_timer_init(&loop_, &give_up_);
    uv_check_init(&loop_, &after_poll_);
    uv_prepare_init(&loop_, &before_poll_);
    for (uv_handle_t* h : handles()) {
      h->data = this;
    }
  }

  ~Bench() {
    bool stopped = false;
    if (source_) {
      source_->stop([&] { stopped = true; });
      while (!stopped) {
        uv_run(&loop_, UV_RUN_ONCE);
      }
    }
    for (uv_handle_t* h : handles()) {
      uv_close(h, nullptr);
    }
    uv_run(&loop_, UV_RUN_DEFAULT);
    uv_loop_close(&loop_);
    std::error_code ignored;
    fs::remove_all(dir_, ignored);
  }

  const fs::path& dir() const { return dir_; }
  const fs::path& path() const { return path_; }

  void start() {
    FileSourceOptions options;
    options.path = path_.string();
    options.poll_interval_ms = 3'600'000;  // every reload comes from inotify
    source_ = std::make_unique<FileSource>(options, token::system_clock());
    source_->start(&loop_, sink_);
  }

  // Runs the loop until the store holds a newer version than `seen`;
  // false when it does not come within kGiveUpMs. The version is checked
  // right after each poll (a publish from an inotify event) and before each
  // (a publish from a timer), so the loop stops as soon as it changes.
  bool wait_for_version_after(uint64_t seen) {
    seen_ = seen;
    gave_up_ = false;
    uv_timer_start(
        &give_up_,
        [](uv_timer_t* t) {
          static_cast<Bench*>(t->data)->gave_up_ = true;
          uv_stop(t->loop);
        },
        kGiveUpMs, 0);
    const auto stop_when_newer = [](auto* handle) {
      auto* self = static_cast<Bench*>(handle->data);
      if (self->version() > self->seen_) {
        uv_stop(handle->loop);
      }
    };
    uv_check_start(&after_poll_, stop_when_newer);
    uv_prepare_start(&before_poll_, stop_when_newer);
    if (version() <= seen) {
      uv_run(&loop_, UV_RUN_DEFAULT);
    }
    uv_check_stop(&after_poll_);
    uv_prepare_stop(&before_poll_);
    uv_timer_stop(&give_up_);
    return !gave_up_ && version() > seen;
  }

  int failures() const { return sink_.failures; }

  uint64_t version() const {
    const auto token = store_.current(0);
    return token ? token->version : 0;
  }

 private:
  fs::path dir_;
  fs::path path_;
  uv_loop_t loop_{};
  std::array<uv_handle_t*, 3> handles() {
    return {reinterpret_cast<uv_handle_t*>(&give_up_), reinterpret_cast<uv_handle_t*>(&after_poll_),
            reinterpret_cast<uv_handle_t*>(&before_poll_)};
  }

  uv_timer_t give_up_{};
  uv_check_t after_poll_{};
  uv_prepare_t before_poll_{};
  uint64_t seen_ = 0;
  bool gave_up_ = false;
  token::TokenStore store_{{"wif"}};
  StoreSink sink_{store_};
  std::unique_ptr<FileSource> source_;
};

void report(benchmark::State& state, std::vector<double> delays_us, int failures) {
  std::sort(delays_us.begin(), delays_us.end());
  state.counters["failed_reads"] = failures;
  state.counters["median_us"] = delays_us[delays_us.size() / 2];
  state.counters["p90_us"] = delays_us[delays_us.size() * 9 / 10];
  state.counters["max_us"] = delays_us.back();
}

// Runs kChanges changes made by `change(n)` and times each until visible.
template <typename Change>
void measure(benchmark::State& state, Bench& bench, Change change) {
  bench.start();
  if (!bench.wait_for_version_after(0)) {
    state.SkipWithError("the first token never became visible");
    return;
  }
  std::vector<double> delays_us;
  int n = 0;
  for (auto _ : state) {
    const uint64_t seen = bench.version();
    change(++n);
    const Clock::time_point changed = Clock::now();
    if (!bench.wait_for_version_after(seen)) {
      state.SkipWithError("a change never became visible");
      return;
    }
    const double seconds = std::chrono::duration<double>(Clock::now() - changed).count();
    state.SetIterationTime(seconds);
    delays_us.push_back(seconds * 1e6);
  }
  report(state, std::move(delays_us), bench.failures());
}

std::string token_number(int n) { return "ya29.bench-token-" + std::to_string(n) + "\n"; }

// A writer that writes a temporary file and renames it over the token file.
void BM_VisibleAfterRename(benchmark::State& state) {
  Bench bench("wif_token.txt");
  write_file(bench.path(), token_number(0));
  measure(state, bench, [&](int n) {
    const fs::path temp = bench.dir() / ".wif_token.txt.tmp";
    write_file(temp, token_number(n));
    fs::rename(temp, bench.path());
  });
}

// A writer that truncates the file and writes it in place; the clock starts
// when close() returns (IN_CLOSE_WRITE).
void BM_VisibleAfterFinishedWrite(benchmark::State& state) {
  Bench bench("wif_token.txt");
  write_file(bench.path(), token_number(0));
  measure(state, bench, [&](int n) { write_file(bench.path(), token_number(n)); });
}

// Kubelet's atomic writer: a new generation folder, a new `..data` symlink
// renamed over the old one.
void BM_VisibleAfterKubernetesDataSwap(benchmark::State& state) {
  Bench bench("wif_token.txt");
  const auto generation = [&](int n) {
    const std::string name = "..gen_" + std::to_string(n);
    fs::create_directory(bench.dir() / name);
    write_file(bench.dir() / name / "wif_token.txt", token_number(n));
    return name;
  };
  fs::create_directory_symlink(generation(0), bench.dir() / "..data");
  fs::create_symlink("..data/wif_token.txt", bench.path());
  measure(state, bench, [&](int n) {
    const std::string name = generation(n);
    fs::create_directory_symlink(name, bench.dir() / "..data_tmp");
    fs::rename(bench.dir() / "..data_tmp", bench.dir() / "..data");
  });
}

BENCHMARK(BM_VisibleAfterRename)
    ->UseManualTime()
    ->Iterations(kChanges)
    ->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_VisibleAfterFinishedWrite)
    ->UseManualTime()
    ->Iterations(kChanges)
    ->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_VisibleAfterKubernetesDataSwap)
    ->UseManualTime()
    ->Iterations(kChanges)
    ->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace wif::sources

BENCHMARK_MAIN();
