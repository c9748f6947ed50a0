// SpecReader: reads the fields of one `source:` block (config::SourceSpec)
// for a source factory, reporting each problem into config::Diagnostics with
// the field's mark, its dotted path (tokens.NAME.source.FIELD), the value and
// what was expected. Every getter returns a usable value (the default when
// the field is absent or wrong), so a factory reads all fields in one pass
// and then asks ok().
//
// Used at config load on the main thread; holds references to its arguments.
#pragma once

#include <array>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sources/common/payload.h"
#include "src/config/config.h"

namespace wif::sources {

class SpecReader {
 public:
  SpecReader(const config::SourceSpec& spec, std::string_view token_name,
             config::Diagnostics& diag);

  // "tokens.NAME.source.FIELD".
  std::string field_path(std::string_view field) const;
  bool has(std::string_view field) const;
  // The field's mark, or the block's when the field is absent.
  const config::Mark& mark(std::string_view field) const;

  // A scalar. Absent: nullopt, or an error ("missing (expected WHAT)") when
  // required.
  std::optional<std::string> string(std::string_view field, std::string_view expected,
                                    bool required = false);
  // A list of values, or one scalar taken as a list of one. Absent: nullopt,
  // or an error when required. `is_list` (when given) tells which it was.
  std::optional<std::vector<std::string>> strings(std::string_view field, std::string_view expected,
                                                  bool required = false, bool* is_list = nullptr);
  // A duration such as "30s" (config::parse_duration_ms) within [min, max].
  int64_t duration_ms(std::string_view field, int64_t default_ms, int64_t min_ms, int64_t max_ms);
  // Like duration_ms, but nullopt when absent (for settings that are off by
  // default).
  std::optional<int64_t> optional_duration_ms(std::string_view field, int64_t min_ms,
                                              int64_t max_ms);
  // A size: bytes, or a number with KiB or MiB, within [min, max].
  uint64_t size_bytes(std::string_view field, uint64_t default_bytes, uint64_t min_bytes,
                      uint64_t max_bytes);
  // One of `choices`; the default when absent.
  std::string choice(std::string_view field, std::initializer_list<std::string_view> choices,
                     std::string_view default_choice);

  // Reports a problem with `field` in the usual form.
  void error(std::string_view field, std::string_view message);
  // Reports every field of the block not in `known`, listing the known ones.
  // Call once, after reading.
  void reject_unknown(const std::vector<std::string_view>& known);
  // The field's text as written ("" when absent or a list), for messages.
  std::string raw(std::string_view field) const;

  bool ok() const { return !failed_; }

 private:
  // The scalar text of `field`, reporting a list given where one value is
  // expected; nullopt when absent or a list.
  std::optional<std::string> scalar(std::string_view field, std::string_view expected);

  const config::SourceSpec& spec_;
  std::string token_name_;
  config::Diagnostics& diag_;
  bool failed_ = false;
};

// The payload fields every source shares.
inline constexpr std::array<std::string_view, 6> kPayloadFields = {
    "format", "json_field", "json_expiry_field", "ttl", "max_ttl", "min_remaining"};

// Reads format, json_field, json_expiry_field, ttl, max_ttl and min_remaining
// (default 30s), and checks that they fit together.
PayloadOptions read_payload_options(SpecReader& reader);

// `value` in double quotes, for messages that show what was written.
std::string in_quotes(std::string_view value);

// "500ms", "30s", "5m", "2h": the shortest spelling parse_duration_ms reads back.
std::string format_duration_ms(int64_t ms);

}  // namespace wif::sources
