#include "tests/sources/source_harness.h"

namespace wif::testing {

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
  ASSERT_EQ(uv_prepare_init(&loop_, &check_condition_), 0);
  check_condition_.data = this;
}

void LoopTest::TearDown() {
  stop_source();
  uv_close(reinterpret_cast<uv_handle_t*>(&deadline_), nullptr);
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
  condition_ = &condition;
  uv_prepare_start(&check_condition_, [](uv_prepare_t* p) {
    if ((*static_cast<LoopTest*>(p->data)->condition_)()) {
      uv_stop(p->loop);
    }
  });
  uv_run(&loop_, UV_RUN_DEFAULT);
  uv_prepare_stop(&check_condition_);
  uv_timer_stop(&deadline_);
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
