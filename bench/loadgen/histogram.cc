#include "bench/loadgen/histogram.h"

#include <algorithm>
#include <bit>
#include <cmath>

namespace wif::loadgen {

// Values below 2^kSubBits have a bucket each. Above, a value with highest
// bit e falls in row (e - kSubBits + 1), column (its next kSubBits bits).
size_t Histogram::index_of(uint64_t ns) {
  constexpr uint64_t kSub = uint64_t{1} << kSubBits;
  constexpr uint64_t kCap = (uint64_t{1} << (kMaxExponent + 1)) - 1;
  ns = std::min(ns, kCap);
  if (ns < kSub) {
    return static_cast<size_t>(ns);
  }
  const unsigned e = static_cast<unsigned>(std::bit_width(ns)) - 1;
  const uint64_t mantissa = ns >> (e - kSubBits);  // in [kSub, 2 kSub)
  return static_cast<size_t>(((e - kSubBits + 1) << kSubBits) + (mantissa - kSub));
}

uint64_t Histogram::middle_of(size_t index) {
  constexpr uint64_t kSub = uint64_t{1} << kSubBits;
  if (index < kSub) {
    return index;
  }
  const unsigned row = static_cast<unsigned>(index >> kSubBits);  // e - kSubBits + 1
  const unsigned shift = row - 1;
  const uint64_t mantissa = kSub + (index & (kSub - 1));
  const uint64_t low = mantissa << shift;
  return low + ((uint64_t{1} << shift) >> 1);
}

void Histogram::record(uint64_t ns) {
  ++buckets_[index_of(ns)];
  ++count_;
  sum_ += ns;
  max_ = std::max(max_, ns);
}

void Histogram::merge(const Histogram& other) {
  for (size_t i = 0; i < kBuckets; ++i) {
    buckets_[i] += other.buckets_[i];
  }
  count_ += other.count_;
  sum_ += other.sum_;
  max_ = std::max(max_, other.max_);
}

uint64_t Histogram::percentile(double q) const {
  if (count_ == 0) {
    return 0;
  }
  // The rank of the value asked for, 1-based: p99 of 1000 values is the
  // 990th smallest.
  const auto rank =
      std::max<uint64_t>(1, static_cast<uint64_t>(std::ceil(q * static_cast<double>(count_))));
  uint64_t seen = 0;
  for (size_t i = 0; i < kBuckets; ++i) {
    seen += buckets_[i];
    if (seen >= rank) {
      return std::min(middle_of(i), max_);
    }
  }
  return max_;
}

}  // namespace wif::loadgen
