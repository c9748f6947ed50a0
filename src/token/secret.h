// Secret: a string that must never reach a log, an error message or an answer
// other than the one asking for it.
//
// There is no operator<< and no implicit conversion: the bytes are reachable
// only through reveal(), which makes every use visible in review. The memory
// is wiped when the value is replaced or destroyed.
#pragma once

#include <string>
#include <string_view>

namespace wif::token {

class Secret {
 public:
  Secret() = default;
  explicit Secret(std::string value) : value_(std::move(value)) {}
  ~Secret() { wipe(); }
  Secret(const Secret& other) = default;
  Secret& operator=(const Secret& other) {
    if (this != &other) {
      wipe();
      value_ = other.value_;
    }
    return *this;
  }
  Secret(Secret&& other) noexcept : value_(std::move(other.value_)) { other.wipe(); }
  Secret& operator=(Secret&& other) noexcept {
    if (this != &other) {
      wipe();
      value_ = std::move(other.value_);
      other.wipe();
    }
    return *this;
  }

  std::string_view reveal() const { return value_; }
  size_t size() const { return value_.size(); }
  bool empty() const { return value_.empty(); }
  // A short, non-reversible tag for logs: the first 8 hex digits of SHA-256.
  std::string fingerprint() const;

 private:
  void wipe();
  std::string value_;
};

}  // namespace wif::token
