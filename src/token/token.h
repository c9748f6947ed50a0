// Token: one immutable snapshot of a token as sources publish it and workers
// serve it.
//
// A source builds a Token on the control loop and publishes it into the
// TokenStore; workers then read it concurrently without locks, so nothing in
// here changes after construction. The response bodies are rendered once per
// token version, so serving costs no formatting beyond the expires_in number.
// The value and both bodies are wiped when the last holder lets go.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "src/token/secret.h"

namespace wif::token {

struct Token {
  Token() = default;
  // The rendered bodies hold the value too, so they are wiped like it.
  ~Token();
  Token(const Token&) = default;
  Token& operator=(const Token&) = default;
  Token(Token&&) = default;
  Token& operator=(Token&&) = default;

  Secret value;
  // Milliseconds since the epoch; nullopt when no expiry could be learned (then
  // expires_in is never invented in answers).
  std::optional<int64_t> expires_at_ms;
  // The source's min_remaining applied: served until then, never after.
  std::optional<int64_t> serve_until_ms;
  int64_t obtained_at_ms = 0;
  uint64_t version = 0;  // set by the store: increases with every publish
  std::string origin;    // what produced it, for logs: "file sha256:ab12..", "exec run 7"

  // `{"access_token":"…","token_type":"Bearer","expires_in":` without the
  // number and closing brace when the expiry is known, else the whole body.
  std::string body_prefix;
  // `{"access_token":"…"}` for `response: minimal`.
  std::string body_minimal;
};

// Renders body_prefix and body_minimal from value and expires_at_ms.
void render_bodies(Token& token);

}  // namespace wif::token
