#include "src/config/yaml_reader.h"

#include <algorithm>
#include <map>

#include "src/config/expand.h"

namespace wif::config {
namespace {

constexpr size_t kMaxQuoted = 100;

constexpr std::string_view kTrue[] = {"true", "True", "TRUE"};
constexpr std::string_view kFalse[] = {"false", "False", "FALSE"};

// What a value is, for "got ...": the text of a scalar as written, or its kind.
std::string describe(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Scalar:
      return quote(node.Scalar());
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Map:
      return "a map";
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      break;
  }
  return "no value";
}

bool contains(std::span<const std::string_view> words, std::string_view word) {
  return std::find(words.begin(), words.end(), word) != words.end();
}

std::string child(const std::string& parent, const std::string& key) {
  return parent.empty() ? key : parent + "." + key;
}

}  // namespace

std::string quote(std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "\"";
  for (size_t i = 0; i < text.size(); ++i) {
    if (i == kMaxQuoted) {
      out += "...";
      break;
    }
    const auto c = static_cast<unsigned char>(text[i]);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c < 0x20 || c == 0x7f) {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 0xf];
    } else {
      out += static_cast<char>(c);
    }
  }
  out += '"';
  return out;
}

std::string join(std::span<const std::string_view> words) {
  std::string out;
  for (std::string_view word : words) {
    if (!out.empty()) {
      out += ", ";
    }
    out += word;
  }
  return out;
}

YamlReader::YamlReader(std::string file, const Environment& env, Diagnostics& diag)
    : file_(std::move(file)), env_(env), diag_(diag) {}

Value YamlReader::root(const YAML::Node& node) const {
  return Value{node, "", mark_of(node, Mark{file_, 1, 1})};
}

Mark YamlReader::mark_of(const YAML::Node& node, const Mark& fallback) const {
  // yaml-cpp puts the mark of an empty value (`key:` and nothing else) where
  // the next token starts, often on a later line; the key is where it is.
  if (node.IsNull() || node.Mark().is_null()) {
    return fallback;
  }
  // yaml-cpp marks are 0-based.
  return Mark{file_, node.Mark().line + 1, node.Mark().column + 1};
}

bool YamlReader::each_entry(const Value& map, std::span<const std::string_view> allowed,
                            const std::function<void(const Entry&)>& visit) {
  if (map.node.IsNull()) {
    return true;
  }
  if (!map.node.IsMap()) {
    error(map, "got " + describe(map.node) + " (expected a map)");
    return false;
  }

  std::map<std::string, Mark> seen;
  for (const auto& pair : map.node) {
    const Mark key_mark = mark_of(pair.first, map.mark);
    if (!pair.first.IsScalar()) {
      error(key_mark, map.field, "got " + describe(pair.first) + " as a key (expected a name)");
      continue;
    }
    const std::string& key = pair.first.Scalar();
    const std::string field = child(map.field, key);
    const auto [first, inserted] = seen.emplace(key, key_mark);
    if (!inserted) {
      error(key_mark, field,
            "given twice (expected each key once; the first is at line " +
                std::to_string(first->second.line) + ", column " +
                std::to_string(first->second.column) + ")");
      continue;
    }
    if (!allowed.empty() && !contains(allowed, key)) {
      error(key_mark, field, "unknown key (expected one of: " + join(allowed) + ")");
      continue;
    }
    visit(Entry{key, key_mark, Value{pair.second, field, mark_of(pair.second, key_mark)}});
  }
  return true;
}

std::optional<std::vector<Value>> YamlReader::items(const Value& list, std::string_view expected) {
  std::vector<Value> out;
  if (list.node.IsNull()) {
    return out;
  }
  if (!list.node.IsSequence()) {
    error(list, "got " + describe(list.node) + " (expected " + std::string(expected) + ")");
    return std::nullopt;
  }
  for (size_t i = 0; i < list.node.size(); ++i) {
    const YAML::Node item = list.node[i];
    out.push_back(
        Value{item, list.field + "[" + std::to_string(i) + "]", mark_of(item, list.mark)});
  }
  return out;
}

std::optional<Scalar> YamlReader::scalar(const Value& value, std::string_view expected) {
  if (!value.node.IsScalar()) {
    error(value, "got " + describe(value.node) + " (expected " + std::string(expected) + ")");
    return std::nullopt;
  }

  const std::string& written = value.node.Scalar();
  Expansion expansion = expand_variables(written, env_);
  if (expansion.malformed) {
    error(value, "got " + quote(written) +
                     " (expected ${NAME} or ${NAME:-default} with NAME made of letters, digits "
                     "and _, or $$ for a literal $)");
    return std::nullopt;
  }
  for (const std::string& name : expansion.unset) {
    error(value, "got " + quote(written) + ", but " + name +
                     " is not set in the environment (expected it set, or a default as in ${" +
                     name + ":-default})");
  }
  if (!expansion.unset.empty()) {
    return std::nullopt;
  }
  return Scalar{std::move(expansion.value), written};
}

std::optional<uint64_t> YamlReader::integer(const Value& value, uint64_t min, uint64_t max) {
  const std::string expected =
      "an integer from " + std::to_string(min) + " to " + std::to_string(max);
  const std::optional<Scalar> s = scalar(value, expected);
  if (!s) {
    return std::nullopt;
  }

  // Digits only: no sign, no base prefix, no exponent. Anything past max
  // (overflow included) is out of range.
  bool valid = !s->text.empty();
  uint64_t number = 0;
  for (char c : s->text) {
    if (c < '0' || c > '9') {
      valid = false;
      break;
    }
    const auto digit = static_cast<uint64_t>(c - '0');
    if (digit > max || number > (max - digit) / 10) {
      valid = false;
      break;
    }
    number = number * 10 + digit;
  }
  if (!valid || number < min) {
    reject(value, *s, expected);
    return std::nullopt;
  }
  return number;
}

std::optional<uint64_t> YamlReader::duration_ms(const Value& value, bool positive) {
  const std::string_view expected =
      positive ? "a duration above zero: a whole number followed by ms, s, m or h, such as 10s"
               : "a duration: a whole number followed by ms, s, m or h, such as 10s";
  const std::optional<Scalar> s = scalar(value, expected);
  if (!s) {
    return std::nullopt;
  }
  const std::optional<uint64_t> ms = parse_duration_ms(s->text);
  if (!ms || (positive && *ms == 0)) {
    reject(value, *s, expected);
    return std::nullopt;
  }
  return ms;
}

std::optional<bool> YamlReader::boolean(const Value& value) {
  constexpr std::string_view kExpected = "true or false";
  const std::optional<Scalar> s = scalar(value, kExpected);
  if (!s) {
    return std::nullopt;
  }
  if (contains(kTrue, s->text)) {
    return true;
  }
  if (contains(kFalse, s->text)) {
    return false;
  }
  reject(value, *s, kExpected);
  return std::nullopt;
}

std::optional<std::string> YamlReader::choice(const Value& value,
                                              std::span<const std::string_view> options) {
  const std::string expected = "one of: " + join(options);
  std::optional<Scalar> s = scalar(value, expected);
  if (!s) {
    return std::nullopt;
  }
  if (!contains(options, s->text)) {
    reject(value, *s, expected);
    return std::nullopt;
  }
  return std::move(s->text);
}

void YamlReader::reject(const Value& value, const Scalar& s, std::string_view expected) {
  std::string message = "got " + quote(s.text);
  if (s.text != s.written) {
    message += ", from " + quote(s.written);
  }
  message += " (expected " + std::string(expected) + ")";
  error(value, message);
}

void YamlReader::error(const Value& value, std::string_view message) {
  diag_.error(value.mark, value.field, message);
}

void YamlReader::error(const Mark& mark, std::string_view field, std::string_view message) {
  diag_.error(mark, field, message);
}

}  // namespace wif::config
