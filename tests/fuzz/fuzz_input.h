// FuzzInput: takes the bytes libFuzzer hands a harness apart into the
// choices a harness makes (how to split, what to do next) and the data it
// feeds. Once the bytes run out every choice is 0 and every chunk empty, so
// a harness always ends. Header-only; used by one harness at a time.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace wif::fuzz {

class FuzzInput {
 public:
  FuzzInput(const uint8_t* data, size_t size) : data_(data), size_(size) {}

  bool empty() const { return offset_ == size_; }

  uint8_t byte() {
    if (empty()) {
      return 0;
    }
    return data_[offset_++];
  }

  // A length from 1 to max (max >= 1), spread so small ones are common.
  size_t length(size_t max) {
    const size_t raw = byte();
    const size_t n = raw < 200 ? 1 + raw % 16 : 1 + (size_t{raw} << 8 | byte()) % max;
    return std::min(n, max);
  }

  // The next n bytes, or fewer at the end.
  std::string_view take(size_t n) {
    n = std::min(n, size_ - offset_);
    std::string_view out(reinterpret_cast<const char*>(data_ + offset_), n);
    offset_ += n;
    return out;
  }

  std::string_view rest() { return take(size_ - offset_); }

 private:
  const uint8_t* data_;
  size_t size_;
  size_t offset_ = 0;
};

// A finding: libFuzzer reports the crash and saves the input.
[[noreturn]] inline void fail_invariant() { __builtin_trap(); }

inline void check(bool holds) {
  if (!holds) {
    fail_invariant();
  }
}

}  // namespace wif::fuzz
