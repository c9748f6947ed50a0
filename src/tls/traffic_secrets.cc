#include "src/tls/traffic_secrets.h"

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include <string_view>

namespace wif::tls {
namespace {

// The ex_data slot holding each SSL's TrafficSecrets (borrowed, never freed
// by OpenSSL). Made once per process.
int secrets_index() {
  static const int index = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return index;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  if (c >= 'a' && c <= 'f') {
    return c - 'a' + 10;
  }
  if (c >= 'A' && c <= 'F') {
    return c - 'A' + 10;
  }
  return -1;
}

// Decodes `hex` into out; the byte count, or 0 if it is not whole bytes of
// hex that fit.
size_t decode_hex(std::string_view hex, unsigned char* out, size_t cap) {
  if (hex.empty() || hex.size() % 2 != 0 || hex.size() / 2 > cap) {
    return 0;
  }
  for (size_t i = 0; i < hex.size() / 2; ++i) {
    const int high = hex_value(hex[2 * i]);
    const int low = hex_value(hex[2 * i + 1]);
    if (high < 0 || low < 0) {
      OPENSSL_cleanse(out, cap);
      return 0;
    }
    out[i] = static_cast<unsigned char>(high << 4 | low);
  }
  return hex.size() / 2;
}

// SSL_CTX_keylog_cb_func. The line is "LABEL CLIENT_RANDOM SECRET".
void on_key_log_line(const SSL* ssl, const char* line) {
  auto* secrets = static_cast<TrafficSecrets*>(SSL_get_ex_data(ssl, secrets_index()));
  if (secrets == nullptr || line == nullptr) {
    return;
  }
  const std::string_view text(line);
  const size_t first_space = text.find(' ');
  const size_t second_space = text.find(' ', first_space + 1);
  if (first_space == std::string_view::npos || second_space == std::string_view::npos) {
    return;
  }
  const std::string_view label = text.substr(0, first_space);
  const std::string_view secret = text.substr(second_space + 1);
  if (label == "CLIENT_TRAFFIC_SECRET_0") {
    secrets->client_len = decode_hex(secret, secrets->client.data(), secrets->client.size());
  } else if (label == "SERVER_TRAFFIC_SECRET_0") {
    secrets->server_len = decode_hex(secret, secrets->server.data(), secrets->server.size());
  }
}

}  // namespace

void TrafficSecrets::wipe() {
  OPENSSL_cleanse(client.data(), client.size());
  OPENSSL_cleanse(server.data(), server.size());
  client_len = 0;
  server_len = 0;
}

void catch_traffic_secrets(SSL_CTX* ctx) { SSL_CTX_set_keylog_callback(ctx, on_key_log_line); }

bool attach_traffic_secrets(SSL* ssl, TrafficSecrets* secrets) {
  const int index = secrets_index();
  if (index < 0 || SSL_set_ex_data(ssl, index, secrets) != 1) {
    ERR_clear_error();
    return false;
  }
  return true;
}

}  // namespace wif::tls
