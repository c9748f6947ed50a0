// SlotSink: connects one token source to its slot in the TokenStore and logs
// what happens to it. Control loop only.
#pragma once

#include <string>

#include "src/metrics/metrics.h"
#include "src/token/clock.h"
#include "src/token/token_source.h"
#include "src/token/token_store.h"

namespace wif::token {

class SlotSink final : public SourceSink {
 public:
  // `metrics` counts every outcome; it and the store outlive the sink.
  SlotSink(TokenStore& store, size_t index, const Clock& clock, metrics::Metrics& metrics);

  void publish(std::shared_ptr<Token> token) override;
  void failed(std::string_view reason, int64_t next_attempt_ms) override;
  void withdraw(std::string_view reason) override;

 private:
  TokenStore& store_;
  const size_t index_;
  const Clock& clock_;
  metrics::Metrics& metrics_;
  std::string last_failure_;  // repeated failures are logged once
};

}  // namespace wif::token
