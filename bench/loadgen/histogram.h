// Histogram: latencies in nanoseconds, in log-linear buckets (64 per power
// of two, so a percentile is within 1.6 % of the recorded value), up to 2^40
// ns (about 18 minutes). Fixed size, no allocation while recording.
//
// One per load thread; merged on the main thread after the threads end.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace wif::loadgen {

class Histogram {
 public:
  void record(uint64_t ns);
  void merge(const Histogram& other);

  uint64_t count() const { return count_; }
  uint64_t max() const { return max_; }
  double mean() const { return count_ == 0 ? 0 : static_cast<double>(sum_) / count_; }
  // The value below which a fraction q (0..1) of the recorded values fall;
  // 0 when empty.
  uint64_t percentile(double q) const;

 private:
  static constexpr unsigned kSubBits = 6;
  static constexpr unsigned kMaxExponent = 40;
  static constexpr size_t kBuckets = (kMaxExponent - kSubBits + 2) << kSubBits;

  static size_t index_of(uint64_t ns);
  static uint64_t middle_of(size_t index);

  std::array<uint64_t, kBuckets> buckets_{};
  uint64_t count_ = 0;
  uint64_t sum_ = 0;
  uint64_t max_ = 0;
};

}  // namespace wif::loadgen
