#include "src/token/token.h"

#include <openssl/crypto.h>

namespace wif::token {
namespace {

// RFC 8259 section 7. Token values are RFC 6750 characters in practice, but a
// source may hand anything, and the body must stay valid JSON.
void append_json_string(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.push_back('"');
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(c);
    } else if (u < 0x20) {
      out.append("\\u00");
      out.push_back(kHex[u >> 4]);
      out.push_back(kHex[u & 0xf]);
    } else {
      out.push_back(c);
    }
  }
  out.push_back('"');
}

}  // namespace

Token::~Token() {
  for (std::string* body : {&body_prefix, &body_minimal}) {
    body->resize(body->capacity());  // the whole block, as Secret::wipe does
    OPENSSL_cleanse(body->data(), body->size());
  }
}

void render_bodies(Token& token) {
  token.body_minimal.clear();
  token.body_minimal.append(R"({"access_token":)");
  append_json_string(token.body_minimal, token.value.reveal());
  token.body_minimal.push_back('}');

  token.body_prefix.clear();
  token.body_prefix.append(R"({"access_token":)");
  append_json_string(token.body_prefix, token.value.reveal());
  token.body_prefix.append(R"(,"token_type":"Bearer")");
  if (token.expires_at_ms) {
    token.body_prefix.append(R"(,"expires_in":)");
  } else {
    token.body_prefix.push_back('}');
  }
}

}  // namespace wif::token
