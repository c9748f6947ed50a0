// YamlReader: reads typed values out of a yaml-cpp tree for the config
// loader, reporting each problem into Diagnostics with its mark and dotted
// field path instead of throwing, so one pass finds every problem.
//
// Every reader function returns nullopt after reporting; the caller skips
// that field and goes on. String values get ${NAME} expansion (see expand.h)
// before they are interpreted. Used only while loading, on one thread.
#pragma once

#include <yaml-cpp/yaml.h>

#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "src/config/config.h"

namespace wif::config {

// A YAML value and where it sits.
struct Value {
  YAML::Node node;
  std::string field;  // dotted path such as "tls.crl[0]"; "" for the top level
  Mark mark;          // the value's own, or its key's when the value is an empty null
};

// One entry of a map.
struct Entry {
  std::string key;
  Mark key_mark;
  Value value;
};

// A scalar after ${} expansion, with its text as written for messages.
struct Scalar {
  std::string text;
  std::string written;
};

// "a, b, c", for "(expected one of: ...)".
std::string join(std::span<const std::string_view> words);

class YamlReader {
 public:
  YamlReader(std::string file, const Environment& env, Diagnostics& diag);

  Value root(const YAML::Node& node) const;

  // Calls `visit` for each entry of a map in file order. Keys that are not
  // scalars, keys given twice and, when `allowed` is not empty, keys outside
  // it are reported where the walk meets them, and skipped. A null value (a
  // key with nothing after it) counts as an empty map. Returns false, having
  // reported it, when the value is not a map.
  bool each_entry(const Value& map, std::span<const std::string_view> allowed,
                  const std::function<void(const Entry&)>& visit);

  // The items of a list, each with field "PATH[i]". A null value counts as an
  // empty list. nullopt (reported, naming `expected`) when not a list.
  std::optional<std::vector<Value>> items(const Value& list, std::string_view expected);

  // The text of a scalar, expanded. Reports a null, a map, a list or a failed
  // expansion, naming `expected`.
  std::optional<Scalar> scalar(const Value& value, std::string_view expected);

  // A decimal integer from min to max.
  std::optional<uint64_t> integer(const Value& value, uint64_t min, uint64_t max);
  // A duration (see parse_duration_ms), above zero when `positive`.
  std::optional<uint64_t> duration_ms(const Value& value, bool positive);
  // true or false (YAML 1.2 core schema spellings).
  std::optional<bool> boolean(const Value& value);
  // One of `options`, spelled exactly.
  std::optional<std::string> choice(const Value& value, std::span<const std::string_view> options);

  // Reports `got "TEXT" (expected EXPECTED)`, adding the text as written
  // when ${} expansion changed it.
  void reject(const Value& value, const Scalar& scalar, std::string_view expected);
  void error(const Value& value, std::string_view message);
  void error(const Mark& mark, std::string_view field, std::string_view message);

 private:
  Mark mark_of(const YAML::Node& node, const Mark& fallback) const;

  std::string file_;
  const Environment& env_;
  Diagnostics& diag_;
};

}  // namespace wif::config
