// Payload parsing shared by every token source: turns the bytes a file holds
// or a hook prints into one token value and its expiry, or a reason why not.
//
// The formats are the ones existing tools already emit (SOURCES.md, "One
// record, one parser"). Everything here is a pure function of its inputs (the
// bytes, the options and two times), so any thread may call it and tests need
// no clock. No function throws on bad input, and no error reason ever holds
// token bytes or payload text: reasons name fields, formats, positions and
// durations only, because they end up in logs.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "src/token/secret.h"

namespace wif::sources {

enum class PayloadFormat {
  kAuto,              // detected from the content (the default)
  kText,              // one line of RFC 6750 token characters
  kGoogleExecutable,  // Google executable-sourced credential response
  kExecCredential,    // Kubernetes client.authentication.k8s.io ExecCredential
  kOAuth2,            // OAuth 2 token response, GCE metadata server, STS
  kIamAccessToken,    // IAM Credentials generateAccessToken response
  kJsonField,         // any JSON object, with json_field configured
};

// Config spelling of a format ("auto", "text", "google_executable", ...).
std::string_view format_name(PayloadFormat format);
std::optional<PayloadFormat> parse_format_name(std::string_view name);
// Every config spelling, comma separated, for "expected one of" messages.
std::string_view format_names();

enum class TokenKind { kUnknown, kAccessToken, kIdToken, kSaml };

// Where the expiry that was used came from.
enum class ExpirySource {
  kNone,     // no expiry known: valid while unchanged
  kPayload,  // an explicit field in the payload
  kJwt,      // the token's own JWT `exp` (earlier than any explicit one)
  kTtl,      // the configured ttl
  kMaxTtl,   // the configured max_ttl cap
};
std::string_view expiry_source_name(ExpirySource source);

struct PayloadOptions {
  PayloadFormat format = PayloadFormat::kAuto;
  // A dotted path ("data.token") into a JSON object. Set: the token is read
  // from there, even when the object also looks like a known format, because
  // an explicit choice beats detection.
  std::string json_field;
  // Dotted path of the expiry next to json_field. A number or numeric string
  // below 1e9 counts seconds from the base time (like expires_in); up to 1e12
  // it is epoch seconds; above, epoch milliseconds. A string that is not a
  // number must be an RFC 3339 timestamp.
  std::string json_expiry_field;
  // Used when neither the payload nor a JWT `exp` gives an expiry; counts
  // from the base time.
  std::optional<int64_t> ttl_ms;
  // Caps any expiry (or gives one when there is none) at base time + max_ttl.
  std::optional<int64_t> max_ttl_ms;
  // A token with less than this left when it arrives counts as failed, and
  // is served until expiry − min_remaining.
  int64_t min_remaining_ms = 30'000;
};

struct PayloadTimes {
  // What relative expiries (expires_in, ttl, max_ttl) count from: the hook's
  // start, or the file's modification time capped at now.
  int64_t base_ms = 0;
  int64_t now_ms = 0;
};

struct ParsedToken {
  token::Secret value;
  TokenKind kind = TokenKind::kUnknown;
  PayloadFormat format = PayloadFormat::kAuto;  // the one detected or configured
  std::optional<int64_t> expires_at_ms;         // ms since the epoch
  ExpirySource expiry_source = ExpirySource::kNone;
  std::optional<int64_t> not_before_ms;  // JWT `nbf`, when present
  // expiry − min_remaining: the last moment the token may be served.
  std::optional<int64_t> serve_until_ms;
};

// The outcome of one parse: a token, or a reason that names no token bytes.
struct PayloadResult {
  std::optional<ParsedToken> token;
  std::string error;

  bool ok() const { return token.has_value(); }
};

// Parses `content` (a file's bytes or a hook's standard output) and applies
// the expiry rules of SOURCES.md "Expiry": an explicit expiry, the earlier
// JWT `exp`, else ttl, then the max_ttl cap. Fails when the token is empty,
// malformed, a rejected kind (AWS key pair, Vault wrapped or encrypted sink
// output, unrecognised JSON, multi-line text), already expired, has less than
// min_remaining left, or carries a JWT `nbf` still in the future.
PayloadResult parse_payload(std::string_view content, const PayloadOptions& options,
                            const PayloadTimes& times);

// What a JWT says about its own lifetime, read without checking the signature
// (the relying party does that; here it is only a hint for refreshing).
struct JwtTimes {
  std::optional<int64_t> expires_at_ms;  // `exp`
  std::optional<int64_t> not_before_ms;  // `nbf`
};
// nullopt when `token` is not a JWS in compact form (RFC 7515 section 7.1)
// with a JSON object as its payload.
std::optional<JwtTimes> read_jwt_times(std::string_view token);

// RFC 3339 section 5.6 date-time ("2026-05-01T12:00:00.5Z", "...+02:00") to
// ms since the epoch; nullopt when malformed.
std::optional<int64_t> parse_rfc3339_ms(std::string_view text);

// RFC 6750 section 2.1 b64token: 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" /
// "+" / "/" ) *"=". Returns the 0-based offset of the first byte that breaks
// the rule, or nullopt when `value` is a valid token.
std::optional<size_t> find_invalid_token_byte(std::string_view value);

}  // namespace wif::sources
