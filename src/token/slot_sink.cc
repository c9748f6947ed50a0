#include "src/token/slot_sink.h"

#include "src/log/log.h"

namespace wif::token {

SlotSink::SlotSink(TokenStore& store, size_t index, const Clock& clock, metrics::Metrics& metrics)
    : store_(store), index_(index), clock_(clock), metrics_(metrics) {}

void SlotSink::publish(std::shared_ptr<Token> token) {
  // Never the value: its length and a short fingerprint identify it. A
  // token without an expiry says so in words: a number there (such as -1)
  // would read as one that expired a moment ago.
  const log::Field expiry =
      token->expires_at_ms
          ? log::Field("expires_in_s", (*token->expires_at_ms - clock_.now_ms()) / 1000)
          : log::Field("expires", "never");
  log::info("token", "token_updated",
            {{"token", store_.name(index_)},
             {"origin", token->origin},
             {"length", static_cast<uint64_t>(token->value.size())},
             {"fingerprint", token->value.fingerprint()},
             expiry});
  store_.publish(index_, std::move(token));
  metrics_.count_refresh(index_, metrics::RefreshResult::kOk);
  store_.set_next_attempt(index_, 0);
  last_failure_.clear();
  store_.notify_changed();
}

void SlotSink::failed(std::string_view reason, int64_t next_attempt_ms) {
  const bool have_value = store_.current(index_) != nullptr;
  store_.set_state(index_, have_value ? SlotState::kReady : SlotState::kFailing);
  store_.set_next_attempt(index_, next_attempt_ms);
  metrics_.count_refresh(index_, metrics::RefreshResult::kFailed);
  if (reason != last_failure_) {
    last_failure_ = std::string(reason);
    log::warn("token", "token_refresh_failed",
              {{"token", store_.name(index_)},
               {"reason", log::untrusted(reason)},
               {"serving_cached", have_value}});
  }
  store_.notify_changed();
}

void SlotSink::withdraw(std::string_view reason) {
  store_.withdraw(index_, SlotState::kFailing);
  metrics_.count_refresh(index_, metrics::RefreshResult::kWithdrawn);
  log::warn("token", "token_withdrawn",
            {{"token", store_.name(index_)}, {"reason", log::untrusted(reason)}});
  store_.notify_changed();
}

}  // namespace wif::token
