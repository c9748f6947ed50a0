#include <filesystem>
#include <optional>

#include "src/config/sections.h"

namespace wif::config {
namespace {

constexpr std::string_view kTokenKeys[] = {"source", "allow", "response", "request_wait"};
// SOURCES.md "Freshness": a request may wait briefly for a refresh in flight.
constexpr uint64_t kMaxRequestWaitMs = 30'000;
constexpr std::string_view kResponses[] = {"full", "minimal"};
constexpr size_t kMaxTokenName = 64;
constexpr const char* kDefaultWifHome = "/opt/wif-token-api";

struct RuleField {
  std::string_view key;
  std::optional<std::string> AllowRule::*member;
};
constexpr RuleField kRuleFields[] = {
    {"cn", &AllowRule::cn},   {"o", &AllowRule::o},           {"ou", &AllowRule::ou},
    {"dns", &AllowRule::dns}, {"uri", &AllowRule::uri},       {"email", &AllowRule::email},
    {"ip", &AllowRule::ip},   {"sha256", &AllowRule::sha256}, {"spki", &AllowRule::spki}};
constexpr std::string_view kRuleKeys[] = {"cn",    "o",  "ou",     "dns", "uri",
                                          "email", "ip", "sha256", "spki"};

// Token names appear in URLs (/v1/tokens/NAME) and metric labels, so they
// keep to characters that need no escaping in either.
bool is_token_name(std::string_view name) {
  if (name.empty() || name.size() > kMaxTokenName) {
    return false;
  }
  for (char c : name) {
    const bool allowed = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
    if (!allowed) {
      return false;
    }
  }
  return true;
}

// Any key but `type` is the plugin's: a value or a list of values, kept as
// written after ${} expansion.
void read_source_field(YamlReader& reader, const Entry& entry, SourceSpec& spec) {
  SourceSpec::Field field;
  field.mark = entry.value.mark;
  if (entry.value.node.IsSequence()) {
    field.is_list = true;
    const std::optional<std::vector<Value>> items = reader.items(entry.value, "a list");
    for (const Value& item : items.value_or(std::vector<Value>{})) {
      if (const std::optional<Scalar> s = reader.scalar(item, "a value")) {
        field.values.push_back(s->text);
      }
    }
  } else if (const std::optional<Scalar> s =
                 reader.scalar(entry.value, "a value or a list of values")) {
    field.values.push_back(s->text);
  }
  spec.fields.emplace(entry.key, std::move(field));
}

void read_source(YamlReader& reader, const Value& value, SourceSpec& spec) {
  spec.mark = value.mark;
  bool has_type = false;
  const bool is_map = reader.each_entry(value, {}, [&](const Entry& entry) {
    if (entry.key != "type") {
      read_source_field(reader, entry, spec);
      return;
    }
    has_type = true;
    constexpr std::string_view kExpected = "a source type such as file or exec";
    if (const std::optional<Scalar> type = reader.scalar(entry.value, kExpected)) {
      if (type->text.empty()) {
        reader.reject(entry.value, *type, kExpected);
      } else {
        spec.type = type->text;
      }
    }
  });
  if (is_map && !has_type) {
    reader.error(value, "has no type (expected a type such as file or exec)");
  }
}

void read_rule(YamlReader& reader, const Value& value, std::vector<AllowRule>& rules) {
  // An empty rule would match every client, which an empty allow list
  // already says; it is more likely a rule whose fields were lost.
  if (value.node.IsNull() || (value.node.IsMap() && value.node.size() == 0)) {
    reader.error(value, "got an empty rule (expected at least one of: " + join(kRuleKeys) + ")");
    return;
  }
  AllowRule rule;
  rule.mark = value.mark;
  rule.field = value.field;
  const bool is_map = reader.each_entry(value, kRuleKeys, [&](const Entry& entry) {
    constexpr std::string_view kExpected = "a value to match";
    const std::optional<Scalar> s = reader.scalar(entry.value, kExpected);
    if (!s) {
      return;
    }
    if (s->text.empty()) {
      reader.reject(entry.value, *s, kExpected);
      return;
    }
    // The form of each value (an address, a fingerprint, a URI pattern) is
    // checked by src/authz/ when it compiles the rule, at this mark.
    rule.marks[entry.key] = entry.value.mark;
    for (const RuleField& field : kRuleFields) {
      if (field.key == entry.key) {
        rule.*field.member = s->text;
      }
    }
  });
  if (is_map) {
    rules.push_back(std::move(rule));
  }
}

void read_request_wait(YamlReader& reader, const Value& value, TokenConfig& token) {
  constexpr std::string_view kExpected = "a duration from 0s (never wait) to 30s, such as 5s";
  const std::optional<Scalar> s = reader.scalar(value, kExpected);
  if (!s) {
    return;
  }
  const std::optional<uint64_t> ms = parse_duration_ms(s->text);
  if (!ms || *ms > kMaxRequestWaitMs) {
    reader.reject(value, *s, kExpected);
    return;
  }
  token.request_wait_ms = *ms;
}

void read_token(YamlReader& reader, const Entry& entry, std::vector<TokenConfig>& tokens) {
  if (!is_token_name(entry.key)) {
    reader.error(entry.key_mark, "tokens",
                 "got " + quote(entry.key) +
                     " as a token name (expected 1 to 64 characters from a-z, 0-9, _ and -)");
  }
  TokenConfig token;
  token.name = entry.key;
  token.mark = entry.key_mark;
  bool has_source = false;
  const bool is_map = reader.each_entry(entry.value, kTokenKeys, [&](const Entry& field) {
    if (field.key == "source") {
      has_source = true;
      read_source(reader, field.value, token.source);
    } else if (field.key == "allow") {
      read_allow(reader, field.value, token.allow);
    } else if (field.key == "request_wait") {
      read_request_wait(reader, field.value, token);
    } else if (field.key == "response") {
      if (const std::optional<std::string> response = reader.choice(field.value, kResponses)) {
        token.minimal_response = *response == "minimal";
      }
    }
  });
  if (!is_map) {
    return;
  }
  if (!has_source) {
    reader.error(entry.key_mark, entry.value.field,
                 "has no source (expected one such as source: {type: file, path: ...})");
  }
  tokens.push_back(std::move(token));
}

}  // namespace

void read_allow(YamlReader& reader, const Value& value, std::vector<AllowRule>& rules) {
  // `allow:` with nothing after it (every rule commented out, say) would
  // open the token to any verified client without anyone having written so.
  if (value.node.IsNull()) {
    reader.error(value, "is empty (expected a list of rules, or [] for any verified client)");
    return;
  }
  const std::optional<std::vector<Value>> items =
      reader.items(value, "a list of rules such as [{cn: ci-runner}]");
  if (!items) {
    return;
  }
  for (const Value& item : *items) {
    read_rule(reader, item, rules);
  }
}

void read_tokens(YamlReader& reader, const Value& section, std::vector<TokenConfig>& tokens) {
  tokens.clear();
  if (section.node.IsNull() || (section.node.IsMap() && section.node.size() == 0)) {
    reader.error(section,
                 "got no tokens (expected at least one; leave tokens out to serve the default "
                 "wif token)");
    return;
  }
  reader.each_entry(section, {}, [&](const Entry& entry) { read_token(reader, entry, tokens); });
}

std::vector<TokenConfig> default_tokens(const Environment& env) {
  const std::optional<std::string> home = env("WIF_HOME");
  const std::filesystem::path dir = (home && !home->empty()) ? *home : kDefaultWifHome;

  TokenConfig token;
  token.name = "wif";
  token.source.type = "file";
  token.source.fields.emplace("path",
                              SourceSpec::Field{Mark{}, false, {(dir / "wif_token.txt").string()}});
  std::vector<TokenConfig> tokens;
  tokens.push_back(std::move(token));
  return tokens;
}

}  // namespace wif::config
