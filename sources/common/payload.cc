#include "sources/common/payload.h"

#include <array>
#include <charconv>
#include <chrono>
#include <cmath>
#include <nlohmann/json.hpp>
#include <utility>

namespace wif::sources {
namespace {

using nlohmann::json;

// Year 9999: anything later is not a real expiry and would overflow the
// millisecond arithmetic below long before int64 does.
constexpr double kMaxEpochSeconds = 253'402'300'799.0;
// json_expiry_field numbers below this count seconds from the base time; up
// to kEpochMsThreshold they are epoch seconds, above it epoch milliseconds.
constexpr double kEpochSecondsThreshold = 1e9;
constexpr double kEpochMsThreshold = 1e12;

// The format names, in the order of PayloadFormat.
constexpr std::array<std::pair<PayloadFormat, std::string_view>, 7> kFormatNames{{
    {PayloadFormat::kAuto, "auto"},
    {PayloadFormat::kText, "text"},
    {PayloadFormat::kGoogleExecutable, "google_executable"},
    {PayloadFormat::kExecCredential, "exec_credential"},
    {PayloadFormat::kOAuth2, "oauth2"},
    {PayloadFormat::kIamAccessToken, "iam_access_token"},
    {PayloadFormat::kJsonField, "json"},
}};

// What one format extractor found, before the expiry rules are applied.
struct Extracted {
  token::Secret value;
  TokenKind kind = TokenKind::kUnknown;
  PayloadFormat format = PayloadFormat::kAuto;
  std::optional<int64_t> expires_at_ms;
};

// Either an extracted token or a reason.
struct Extraction {
  std::optional<Extracted> extracted;
  std::string error;
};

Extraction fail(std::string reason) { return Extraction{std::nullopt, std::move(reason)}; }

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) {
    s.remove_prefix(1);
  }
  while (!s.empty() && is_space(s.back())) {
    s.remove_suffix(1);
  }
  return s;
}

bool contains_ignoring_case(std::string_view haystack, std::string_view needle) {
  if (needle.size() > haystack.size()) {
    return false;
  }
  auto lower = [](char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; };
  for (size_t i = 0; i + needle.size() <= haystack.size(); ++i) {
    size_t j = 0;
    while (j < needle.size() && lower(haystack[i + j]) == lower(needle[j])) {
      ++j;
    }
    if (j == needle.size()) {
      return true;
    }
  }
  return false;
}

// "12s" for whole seconds, "1500ms" otherwise: durations in reasons.
std::string format_duration(int64_t ms) {
  if (ms % 1000 == 0) {
    return std::to_string(ms / 1000) + "s";
  }
  return std::to_string(ms) + "ms";
}

std::optional<int64_t> seconds_to_ms(double seconds) {
  if (!std::isfinite(seconds) || std::fabs(seconds) > kMaxEpochSeconds) {
    return std::nullopt;
  }
  return static_cast<int64_t>(std::llround(seconds * 1000.0));
}

// A JSON number, or a string holding only a decimal number ("3599", "3599.5").
std::optional<double> json_number(const json& value) {
  if (value.is_number()) {
    return value.get<double>();
  }
  if (!value.is_string()) {
    return std::nullopt;
  }
  const std::string& text = value.get_ref<const std::string&>();
  double parsed = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, parsed);
  if (text.empty() || ec != std::errc() || ptr != end) {
    return std::nullopt;
  }
  return parsed;
}

// Follows a dotted path ("status.token") through nested objects.
const json* lookup(const json& root, std::string_view dotted) {
  const json* node = &root;
  while (true) {
    const size_t dot = dotted.find('.');
    const std::string_view key = dotted.substr(0, dot);
    if (!node->is_object()) {
      return nullptr;
    }
    auto it = node->find(key);
    if (it == node->end()) {
      return nullptr;
    }
    node = &*it;
    if (dot == std::string_view::npos) {
      return node;
    }
    dotted.remove_prefix(dot + 1);
  }
}

bool has(const json& object, std::string_view key) { return object.find(key) != object.end(); }

// Reads the token string at `field`; a JSON blob is never served, and the
// value must be something an HTTP client can send as a bearer token.
Extraction take_token(const json& root, std::string_view field, TokenKind kind,
                      PayloadFormat format) {
  const json* value = lookup(root, field);
  const std::string name(field);
  if (value == nullptr || value->is_null()) {
    return fail("field " + name + " is missing");
  }
  if (value->is_object() || value->is_array()) {
    return fail("field " + name + " holds JSON, not a token");
  }
  if (!value->is_string()) {
    return fail("field " + name + " is not a string");
  }
  const std::string& text = value->get_ref<const std::string&>();
  if (text.empty()) {
    return fail("field " + name + " is empty");
  }
  if (auto bad = find_invalid_token_byte(text)) {
    return fail("field " + name + " is not an RFC 6750 token (byte " + std::to_string(*bad) +
                " is not allowed)");
  }
  Extracted out;
  out.value = token::Secret(text);
  out.kind = kind;
  out.format = format;
  return Extraction{std::move(out), {}};
}

// The expiry helpers below return an error reason when the field is present
// but unusable: a malformed explicit expiry rejects the payload rather than
// being silently ignored.

std::string epoch_seconds_field(const json& root, std::string_view field,
                                std::optional<int64_t>& out) {
  const json* value = lookup(root, field);
  if (value == nullptr || value->is_null()) {
    return {};
  }
  std::optional<double> seconds = json_number(*value);
  std::optional<int64_t> ms = seconds ? seconds_to_ms(*seconds) : std::nullopt;
  if (!ms || *ms < 0) {
    return "field " + std::string(field) + " is not a time in seconds since the epoch";
  }
  out = *ms;
  return {};
}

std::string relative_seconds_field(const json& root, std::string_view field, int64_t base_ms,
                                   std::optional<int64_t>& out) {
  const json* value = lookup(root, field);
  if (value == nullptr || value->is_null()) {
    return {};
  }
  std::optional<double> seconds = json_number(*value);
  std::optional<int64_t> ms = seconds ? seconds_to_ms(*seconds) : std::nullopt;
  if (!ms || *ms < 0) {
    return "field " + std::string(field) + " is not a number of seconds";
  }
  out = base_ms + *ms;
  return {};
}

std::string rfc3339_field(const json& root, std::string_view field, std::optional<int64_t>& out) {
  const json* value = lookup(root, field);
  if (value == nullptr || value->is_null()) {
    return {};
  }
  std::optional<int64_t> ms;
  if (value->is_string()) {
    ms = parse_rfc3339_ms(value->get_ref<const std::string&>());
  }
  if (!ms) {
    return "field " + std::string(field) + " is not an RFC 3339 timestamp";
  }
  out = *ms;
  return {};
}

// json_expiry_field: relative seconds, epoch seconds, epoch ms or RFC 3339
// (see PayloadOptions::json_expiry_field).
std::string any_expiry_field(const json& root, std::string_view field, int64_t base_ms,
                             std::optional<int64_t>& out) {
  const json* value = lookup(root, field);
  if (value == nullptr || value->is_null()) {
    return {};
  }
  if (std::optional<double> number = json_number(*value)) {
    std::optional<int64_t> ms;
    if (*number >= 0 && *number < kEpochSecondsThreshold) {
      ms = seconds_to_ms(*number);
      if (ms) {
        ms = base_ms + *ms;
      }
    } else if (*number >= 0 && *number < kEpochMsThreshold) {
      ms = seconds_to_ms(*number);
    } else if (*number >= 0) {
      ms = seconds_to_ms(*number / 1000.0);
    }
    if (!ms) {
      return "field " + std::string(field) + " is not a usable expiry";
    }
    out = *ms;
    return {};
  }
  return rfc3339_field(root, field, out);
}

// Outputs that must never be served, whatever the configured format: they
// hold credentials of another kind, or a wrapper that a client cannot use.
std::optional<std::string> rejected_json_kind(const json& root) {
  auto aws_keys = [](const json& object) {
    return object.is_object() &&
           (has(object, "AccessKeyId") || has(object, "SecretAccessKey") ||
            has(object, "aws_access_key_id") || has(object, "aws_secret_access_key"));
  };
  const auto credentials = root.find("Credentials");
  if (aws_keys(root) || (credentials != root.end() && aws_keys(*credentials))) {
    return "payload is an AWS key pair, not a bearer token";
  }
  // Vault Agent file sink with wrap_ttl writes the wrapping token's info
  // (token, accessor, ttl, creation_time, creation_path, wrapped_accessor).
  if (has(root, "wrap_info") || has(root, "wrapped_accessor") ||
      (has(root, "creation_path") && has(root, "token"))) {
    return "payload is Vault response-wrapped sink output: the wrapping token is single-use "
           "and not the token itself (drop wrap_ttl from the sink)";
  }
  // Vault Agent file sink with dh_type writes an encrypted envelope
  // (curve25519_public_key, nonce, encrypted_payload).
  if (has(root, "encrypted_payload") || has(root, "curve25519_public_key")) {
    return "payload is Vault encrypted sink output (dh_type): it cannot be served as a token";
  }
  return std::nullopt;
}

Extraction extract_google_executable(const json& root) {
  // https://google.aip.dev/auth/4117 (executable-sourced credentials).
  const auto version = root.find("version");
  if (version == root.end() || !version->is_number_integer() || version->get<int64_t>() != 1) {
    return fail("Google executable response has an unsupported version (expected 1)");
  }
  const auto success = root.find("success");
  if (success == root.end() || !success->is_boolean()) {
    return fail("Google executable response has no boolean success field");
  }
  if (!success->get<bool>()) {
    // code and message are the executable's words: not repeated in logs.
    return fail("Google executable response reports failure (success: false)");
  }

  std::string_view field;
  TokenKind kind = TokenKind::kUnknown;
  const auto type = root.find("token_type");
  if (type == root.end()) {
    // Without a type, take whichever token is present.
    if (has(root, "id_token")) {
      field = "id_token";
      kind = TokenKind::kIdToken;
    } else {
      field = "saml_response";
      kind = TokenKind::kSaml;
    }
  } else {
    const std::string_view type_name =
        type->is_string() ? std::string_view(type->get_ref<const std::string&>()) : "";
    if (type_name == "urn:ietf:params:oauth:token-type:jwt" ||
        type_name == "urn:ietf:params:oauth:token-type:id_token") {
      field = "id_token";
      kind = TokenKind::kIdToken;
    } else if (type_name == "urn:ietf:params:oauth:token-type:saml2") {
      field = "saml_response";
      kind = TokenKind::kSaml;
    } else if (type_name == "urn:ietf:params:oauth:token-type:access_token") {
      field = "access_token";
      kind = TokenKind::kAccessToken;
    } else {
      return fail(
          "Google executable response has an unknown token_type (expected "
          "urn:ietf:params:oauth:token-type:jwt, id_token, saml2 or access_token)");
    }
  }

  Extraction out = take_token(root, field, kind, PayloadFormat::kGoogleExecutable);
  if (out.extracted) {
    std::string error = epoch_seconds_field(root, "expiration_time", out.extracted->expires_at_ms);
    if (!error.empty()) {
      return fail(std::move(error));
    }
  }
  return out;
}

Extraction extract_exec_credential(const json& root) {
  // https://kubernetes.io/docs/reference/config-api/client-authentication.v1/
  const auto kind = root.find("kind");
  if (kind == root.end() || !kind->is_string() ||
      kind->get_ref<const std::string&>() != "ExecCredential") {
    return fail("payload is not an ExecCredential (expected kind: ExecCredential)");
  }
  const auto status = root.find("status");
  if (status == root.end() || !status->is_object()) {
    return fail("ExecCredential has no status object");
  }
  if (!has(*status, "token") && has(*status, "clientCertificateData")) {
    return fail("ExecCredential carries a client certificate, not a token");
  }
  Extraction out =
      take_token(root, "status.token", TokenKind::kUnknown, PayloadFormat::kExecCredential);
  if (out.extracted) {
    std::string error =
        rfc3339_field(root, "status.expirationTimestamp", out.extracted->expires_at_ms);
    if (!error.empty()) {
      return fail(std::move(error));
    }
  }
  return out;
}

Extraction extract_oauth2(const json& root, int64_t base_ms) {
  // RFC 6749 section 5.1; the GCE metadata server and STS (RFC 8693 section
  // 2.2.1) answer the same shape. Some servers send expires_in as a string.
  Extraction out =
      take_token(root, "access_token", TokenKind::kAccessToken, PayloadFormat::kOAuth2);
  if (out.extracted) {
    std::string error =
        relative_seconds_field(root, "expires_in", base_ms, out.extracted->expires_at_ms);
    if (!error.empty()) {
      return fail(std::move(error));
    }
  }
  return out;
}

Extraction extract_iam(const json& root) {
  // projects.serviceAccounts.generateAccessToken response.
  Extraction out =
      take_token(root, "accessToken", TokenKind::kAccessToken, PayloadFormat::kIamAccessToken);
  if (out.extracted) {
    if (!has(root, "expireTime")) {
      return fail("field expireTime is missing");
    }
    std::string error = rfc3339_field(root, "expireTime", out.extracted->expires_at_ms);
    if (!error.empty()) {
      return fail(std::move(error));
    }
  }
  return out;
}

Extraction extract_json_field(const json& root, const PayloadOptions& options, int64_t base_ms) {
  Extraction out =
      take_token(root, options.json_field, TokenKind::kUnknown, PayloadFormat::kJsonField);
  if (out.extracted && !options.json_expiry_field.empty()) {
    std::string error =
        any_expiry_field(root, options.json_expiry_field, base_ms, out.extracted->expires_at_ms);
    if (!error.empty()) {
      return fail(std::move(error));
    }
  }
  return out;
}

Extraction detect_json(const json& root, int64_t base_ms) {
  if (has(root, "version") && has(root, "success")) {
    return extract_google_executable(root);
  }
  if (has(root, "kind") && has(root, "apiVersion")) {
    return extract_exec_credential(root);
  }
  if (const auto it = root.find("access_token"); it != root.end() && it->is_string()) {
    return extract_oauth2(root, base_ms);
  }
  if (has(root, "accessToken") && has(root, "expireTime")) {
    return extract_iam(root);
  }
  if (const auto it = root.find("error"); it != root.end() && it->is_string()) {
    // The error code and description are the writer's words: not repeated.
    return fail("payload is an OAuth 2 error response, not a token");
  }
  return fail(
      "unrecognised JSON object (expected access_token, accessToken with expireTime, an "
      "ExecCredential, a Google executable response, or a configured json_field)");
}

Extraction extract_json(std::string_view content, const PayloadOptions& options, int64_t base_ms) {
  // The non-throwing parse: a discarded value means malformed input. The
  // parser's own message is not used because it quotes the input.
  // TODO: nlohmann::json keeps its own copies of every string, token bytes
  // included, and frees them without wiping, unlike token::Secret. A SAX
  // handler that keeps only the wanted fields, in Secrets, would fix it.
  const json root = json::parse(content.begin(), content.end(), nullptr,
                                /*allow_exceptions=*/false);
  if (root.is_discarded()) {
    return fail("payload is not valid JSON");
  }
  if (!root.is_object()) {
    return fail("payload is JSON but not an object");
  }
  if (auto rejected = rejected_json_kind(root)) {
    return fail(std::move(*rejected));
  }
  if (!options.json_field.empty()) {
    return extract_json_field(root, options, base_ms);
  }
  switch (options.format) {
    case PayloadFormat::kGoogleExecutable:
      return extract_google_executable(root);
    case PayloadFormat::kExecCredential:
      return extract_exec_credential(root);
    case PayloadFormat::kOAuth2:
      return extract_oauth2(root, base_ms);
    case PayloadFormat::kIamAccessToken:
      return extract_iam(root);
    case PayloadFormat::kJsonField:
      return fail("format json needs json_field");
    case PayloadFormat::kAuto:
    case PayloadFormat::kText:
      break;
  }
  return detect_json(root, base_ms);
}

Extraction extract_text(std::string_view text) {
  // A key file or environment snippet holds several lines; name it precisely.
  if (contains_ignoring_case(text, "aws_access_key_id") ||
      contains_ignoring_case(text, "aws_secret_access_key")) {
    return fail("payload is an AWS key pair, not a bearer token");
  }
  if (text.find_first_of("\r\n") != std::string_view::npos) {
    return fail("text payload has more than one line (expected one token)");
  }
  if (auto bad = find_invalid_token_byte(text)) {
    return fail("text payload is not an RFC 6750 token (byte " + std::to_string(*bad) +
                " is not allowed)");
  }
  Extracted out;
  out.value = token::Secret(std::string(text));
  out.format = PayloadFormat::kText;
  return Extraction{std::move(out), {}};
}

// base64url without padding (RFC 7515 section 2); nullopt on a bad byte.
std::optional<std::string> decode_base64url(std::string_view in) {
  while (!in.empty() && in.back() == '=') {
    in.remove_suffix(1);
  }
  std::string out;
  out.reserve(in.size() * 3 / 4);
  uint32_t bits = 0;
  int bit_count = 0;
  for (char c : in) {
    uint32_t v = 0;
    if (c >= 'A' && c <= 'Z') {
      v = static_cast<uint32_t>(c - 'A');
    } else if (c >= 'a' && c <= 'z') {
      v = static_cast<uint32_t>(c - 'a' + 26);
    } else if (c >= '0' && c <= '9') {
      v = static_cast<uint32_t>(c - '0' + 52);
    } else if (c == '-') {
      v = 62;
    } else if (c == '_') {
      v = 63;
    } else {
      return std::nullopt;
    }
    bits = (bits << 6) | v;
    bit_count += 6;
    if (bit_count >= 8) {
      bit_count -= 8;
      out.push_back(static_cast<char>((bits >> bit_count) & 0xff));
    }
  }
  if (bit_count >= 6) {
    return std::nullopt;  // one leftover character cannot encode a byte
  }
  return out;
}

// A NumericDate claim (RFC 7519 section 2) in ms, or nullopt.
std::optional<int64_t> numeric_date_ms(const json& claims, std::string_view name) {
  const auto it = claims.find(name);
  if (it == claims.end() || !it->is_number()) {
    return std::nullopt;
  }
  std::optional<int64_t> ms = seconds_to_ms(it->get<double>());
  if (!ms || *ms < 0) {
    return std::nullopt;
  }
  return ms;
}

// Reads two digits at `pos` into `out`; false when they are not digits.
bool read_digits(std::string_view text, size_t pos, size_t count, int& out) {
  if (pos + count > text.size()) {
    return false;
  }
  out = 0;
  for (size_t i = pos; i < pos + count; ++i) {
    if (text[i] < '0' || text[i] > '9') {
      return false;
    }
    out = out * 10 + (text[i] - '0');
  }
  return true;
}

}  // namespace

std::string_view format_name(PayloadFormat format) {
  for (const auto& [value, name] : kFormatNames) {
    if (value == format) {
      return name;
    }
  }
  return "unknown";
}

std::optional<PayloadFormat> parse_format_name(std::string_view name) {
  for (const auto& [value, spelling] : kFormatNames) {
    if (spelling == name) {
      return value;
    }
  }
  return std::nullopt;
}

std::string_view format_names() {
  return "auto, text, google_executable, exec_credential, oauth2, iam_access_token, json";
}

std::string_view expiry_source_name(ExpirySource source) {
  switch (source) {
    case ExpirySource::kNone:
      return "none";
    case ExpirySource::kPayload:
      return "payload";
    case ExpirySource::kJwt:
      return "jwt exp";
    case ExpirySource::kTtl:
      return "ttl";
    case ExpirySource::kMaxTtl:
      return "max_ttl";
  }
  return "unknown";
}

std::optional<size_t> find_invalid_token_byte(std::string_view value) {
  size_t i = 0;
  for (; i < value.size(); ++i) {
    const char c = value[i];
    const bool allowed = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                         (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' || c == '~' ||
                         c == '+' || c == '/';
    if (!allowed) {
      break;
    }
  }
  if (i == 0) {
    return 0;  // at least one token character comes before any '='
  }
  for (; i < value.size(); ++i) {
    if (value[i] != '=') {
      return i;
    }
  }
  return std::nullopt;
}

std::optional<JwtTimes> read_jwt_times(std::string_view token) {
  const size_t first = token.find('.');
  if (first == std::string_view::npos) {
    return std::nullopt;
  }
  const size_t second = token.find('.', first + 1);
  if (second == std::string_view::npos || token.find('.', second + 1) != std::string_view::npos) {
    return std::nullopt;
  }
  std::optional<std::string> header = decode_base64url(token.substr(0, first));
  std::optional<std::string> payload =
      decode_base64url(token.substr(first + 1, second - first - 1));
  if (!header || !payload) {
    return std::nullopt;
  }
  const json header_json = json::parse(*header, nullptr, /*allow_exceptions=*/false);
  const json claims = json::parse(*payload, nullptr, /*allow_exceptions=*/false);
  if (!header_json.is_object() || !claims.is_object()) {
    return std::nullopt;
  }
  JwtTimes times;
  times.expires_at_ms = numeric_date_ms(claims, "exp");
  times.not_before_ms = numeric_date_ms(claims, "nbf");
  return times;
}

std::optional<int64_t> parse_rfc3339_ms(std::string_view text) {
  // full-date "T" partial-time time-offset, with the lower-case and space
  // separators that RFC 3339 section 5.6 allows.
  int year = 0;
  int month = 0;
  int day = 0;
  int hour = 0;
  int minute = 0;
  int second = 0;
  if (!read_digits(text, 0, 4, year) || text.size() < 19 || text[4] != '-' ||
      !read_digits(text, 5, 2, month) || text[7] != '-' || !read_digits(text, 8, 2, day) ||
      (text[10] != 'T' && text[10] != 't' && text[10] != ' ') || !read_digits(text, 11, 2, hour) ||
      text[13] != ':' || !read_digits(text, 14, 2, minute) || text[16] != ':' ||
      !read_digits(text, 17, 2, second)) {
    return std::nullopt;
  }
  if (hour > 23 || minute > 59 || second > 60) {
    return std::nullopt;
  }
  size_t pos = 19;
  int millis = 0;
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    const size_t digits_start = pos;
    int scale = 100;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      millis += (text[pos] - '0') * scale;
      scale /= 10;
      ++pos;
    }
    if (pos == digits_start) {
      return std::nullopt;
    }
  }
  if (pos >= text.size()) {
    return std::nullopt;
  }
  int offset_minutes = 0;
  if (text[pos] == 'Z' || text[pos] == 'z') {
    ++pos;
  } else if (text[pos] == '+' || text[pos] == '-') {
    int offset_hour = 0;
    int offset_minute = 0;
    if (!read_digits(text, pos + 1, 2, offset_hour) || pos + 3 >= text.size() ||
        text[pos + 3] != ':' || !read_digits(text, pos + 4, 2, offset_minute) || offset_hour > 23 ||
        offset_minute > 59) {
      return std::nullopt;
    }
    offset_minutes = (offset_hour * 60 + offset_minute) * (text[pos] == '-' ? -1 : 1);
    pos += 6;
  } else {
    return std::nullopt;
  }
  if (pos != text.size()) {
    return std::nullopt;
  }

  const std::chrono::year_month_day date{std::chrono::year{year},
                                         std::chrono::month{static_cast<unsigned>(month)},
                                         std::chrono::day{static_cast<unsigned>(day)}};
  if (!date.ok()) {
    return std::nullopt;
  }
  const int64_t days = std::chrono::sys_days{date}.time_since_epoch().count();
  const int64_t seconds = days * 86'400 + hour * 3'600 + minute * 60 + second -
                          static_cast<int64_t>(offset_minutes) * 60;
  return seconds * 1000 + millis;
}

PayloadResult parse_payload(std::string_view content, const PayloadOptions& options,
                            const PayloadTimes& times) {
  // A UTF-8 byte order mark, as some editors write, is not part of the token.
  constexpr std::string_view kBom = "\xEF\xBB\xBF";
  if (content.substr(0, kBom.size()) == kBom) {
    content.remove_prefix(kBom.size());
  }
  const std::string_view trimmed = trim(content);
  if (trimmed.empty()) {
    return PayloadResult{std::nullopt, "payload is empty"};
  }

  // Pick the extractor. Detection looks at the first byte (SOURCES.md: plain
  // text "does not start with {"); a configured JSON format or json_field
  // insists on JSON.
  bool as_json = true;
  if (options.format == PayloadFormat::kText) {
    as_json = false;
  } else if (options.format == PayloadFormat::kAuto && options.json_field.empty()) {
    as_json = trimmed.front() == '{';
  }
  Extraction extraction =
      as_json ? extract_json(trimmed, options, times.base_ms) : extract_text(trimmed);
  if (!extraction.extracted) {
    return PayloadResult{std::nullopt, std::move(extraction.error)};
  }
  Extracted& found = *extraction.extracted;

  // SOURCES.md "Expiry": explicit, then the earlier JWT exp, else ttl; max_ttl
  // caps whatever came out.
  ParsedToken parsed;
  parsed.kind = found.kind;
  parsed.format = found.format;
  parsed.expires_at_ms = found.expires_at_ms;
  parsed.expiry_source = found.expires_at_ms ? ExpirySource::kPayload : ExpirySource::kNone;
  if (std::optional<JwtTimes> jwt = read_jwt_times(found.value.reveal())) {
    if (jwt->expires_at_ms &&
        (!parsed.expires_at_ms || *jwt->expires_at_ms < *parsed.expires_at_ms)) {
      parsed.expires_at_ms = jwt->expires_at_ms;
      parsed.expiry_source = ExpirySource::kJwt;
    }
    parsed.not_before_ms = jwt->not_before_ms;
  }
  if (!parsed.expires_at_ms && options.ttl_ms) {
    parsed.expires_at_ms = times.base_ms + *options.ttl_ms;
    parsed.expiry_source = ExpirySource::kTtl;
  }
  if (options.max_ttl_ms) {
    const int64_t cap = times.base_ms + *options.max_ttl_ms;
    if (!parsed.expires_at_ms || cap < *parsed.expires_at_ms) {
      parsed.expires_at_ms = cap;
      parsed.expiry_source = ExpirySource::kMaxTtl;
    }
  }

  // Usable now? An expired token, or one about to expire, is a failed read.
  if (parsed.not_before_ms && *parsed.not_before_ms > times.now_ms) {
    return PayloadResult{std::nullopt, "token is not valid yet (JWT nbf is " +
                                           format_duration(*parsed.not_before_ms - times.now_ms) +
                                           " ahead)"};
  }
  if (parsed.expires_at_ms) {
    const int64_t left_ms = *parsed.expires_at_ms - times.now_ms;
    const std::string from =
        " (expiry from " + std::string(expiry_source_name(parsed.expiry_source)) + ")";
    if (left_ms <= 0) {
      return PayloadResult{std::nullopt,
                           "token expired " + format_duration(-left_ms) + " ago" + from};
    }
    if (left_ms <= options.min_remaining_ms) {
      return PayloadResult{std::nullopt, "token has " + format_duration(left_ms) +
                                             " left, not more than min_remaining " +
                                             format_duration(options.min_remaining_ms) + from};
    }
    parsed.serve_until_ms = *parsed.expires_at_ms - options.min_remaining_ms;
  }

  parsed.value = std::move(found.value);
  return PayloadResult{std::move(parsed), {}};
}

}  // namespace wif::sources
