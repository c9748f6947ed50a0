#include "tests/sources/source_harness.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace wif::testing {
namespace {
constexpr uint64_t kRecheckMs = 10;

// The state letter and process group from /proc/PID/stat; nullopt when there
// is no such process.
std::optional<char> process_state(const std::string& stat_path, int* pgid) {
  std::ifstream in(stat_path);
  std::string stat;
  if (!std::getline(in, stat)) {
    return std::nullopt;
  }
  // proc(5): "pid (comm) state ppid pgrp ...", where comm may hold anything.
  const size_t close = stat.rfind(')');
  if (close == std::string::npos || close + 2 > stat.size()) {
    return std::nullopt;
  }
  std::istringstream fields(stat.substr(close + 2));
  char state = '?';
  int ppid = 0;
  int group = 0;
  fields >> state >> ppid >> group;
  *pgid = group;
  return state;
}

bool is_live(std::optional<char> state) { return state && *state != 'Z' && *state != 'X'; }

}  // namespace

std::string hook_path(std::string_view name) {
  const char* root = std::getenv("WIF_SOURCE_ROOT");
  if (root == nullptr) {
    throw std::runtime_error("WIF_SOURCE_ROOT is not set: run the tests through `meson test`");
  }
  return (std::filesystem::path(root) / "tests/data/hooks" / name).string();
}

bool process_alive(int pid) {
  int pgid = 0;
  return is_live(process_state("/proc/" + std::to_string(pid) + "/stat", &pgid));
}

bool group_alive(int pgid) {
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    const std::string name = entry.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) {
      continue;
    }
    int group = 0;
    if (is_live(process_state(entry.path().string() + "/stat", &group)) && group == pgid) {
      return true;
    }
  }
  return false;
}

void RecordingSink::publish(std::shared_ptr<token::Token> token) {
  Event e{Kind::kPublish, std::string(token->value.reveal())};
  e.expires_at_ms = token->expires_at_ms;
  e.serve_until_ms = token->serve_until_ms;
  e.obtained_at_ms = token->obtained_at_ms;
  e.origin = token->origin;
  e.body_prefix = token->body_prefix;
  events.push_back(std::move(e));
}

void RecordingSink::failed(std::string_view reason, int64_t next_attempt_ms) {
  Event e{Kind::kFailed};
  e.reason = reason;
  e.next_attempt_ms = next_attempt_ms;
  events.push_back(std::move(e));
}

void RecordingSink::withdraw(std::string_view reason) {
  Event e{Kind::kWithdraw};
  e.reason = reason;
  events.push_back(std::move(e));
}

std::vector<std::string> RecordingSink::published() const {
  std::vector<std::string> values;
  for (const Event& e : events) {
    if (e.kind == Kind::kPublish) {
      values.push_back(e.value);
    }
  }
  return values;
}

const RecordingSink::Event* RecordingSink::last(Kind kind) const {
  for (auto it = events.rbegin(); it != events.rend(); ++it) {
    if (it->kind == kind) {
      return &*it;
    }
  }
  return nullptr;
}

size_t RecordingSink::count(Kind kind) const {
  size_t n = 0;
  for (const Event& e : events) {
    n += e.kind == kind ? 1 : 0;
  }
  return n;
}

bool RecordingSink::last_published_is(std::string_view value) const {
  const Event* e = last(Kind::kPublish);
  return e != nullptr && e->value == value;
}

void LoopTest::SetUp() {
  ASSERT_EQ(uv_loop_init(&loop_), 0);
  ASSERT_EQ(uv_timer_init(&loop_, &deadline_), 0);
  ASSERT_EQ(uv_timer_init(&loop_, &recheck_), 0);
  ASSERT_EQ(uv_prepare_init(&loop_, &check_condition_), 0);
  check_condition_.data = this;
}

void LoopTest::TearDown() {
  stop_source();
  uv_close(reinterpret_cast<uv_handle_t*>(&deadline_), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&recheck_), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&check_condition_), nullptr);
  EXPECT_EQ(uv_run(&loop_, UV_RUN_DEFAULT), 0);
  EXPECT_EQ(uv_loop_close(&loop_), 0);
}

bool LoopTest::run_until(const std::function<bool()>& condition, uint64_t deadline_ms) {
  if (condition()) {
    return true;
  }
  uv_timer_start(
      &deadline_, [](uv_timer_t* t) { uv_stop(t->loop); }, deadline_ms, 0);
  uv_timer_start(
      &recheck_, [](uv_timer_t*) {}, kRecheckMs, kRecheckMs);
  condition_ = &condition;
  uv_prepare_start(&check_condition_, [](uv_prepare_t* p) {
    if ((*static_cast<LoopTest*>(p->data)->condition_)()) {
      uv_stop(p->loop);
    }
  });
  uv_run(&loop_, UV_RUN_DEFAULT);
  uv_prepare_stop(&check_condition_);
  uv_timer_stop(&deadline_);
  uv_timer_stop(&recheck_);
  condition_ = nullptr;
  return condition();
}

bool LoopTest::run_until_published(std::string_view value, uint64_t deadline_ms) {
  return run_until([&] { return sink_.last_published_is(value); }, deadline_ms);
}

bool LoopTest::run_until_event(RecordingSink::Kind kind, uint64_t deadline_ms) {
  const size_t target = sink_.count(kind) + 1;
  return run_until([&] { return sink_.count(kind) >= target; }, deadline_ms);
}

void LoopTest::stop(token::TokenSource& source) {
  bool stopped = false;
  source.stop([&] { stopped = true; });
  EXPECT_TRUE(run_until([&] { return stopped; }));
}

}  // namespace wif::testing
