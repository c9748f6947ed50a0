#include "src/tls/openssl_helpers.h"

#include <openssl/crypto.h>

#include <openssl/err.h>

#include <algorithm>
#include <ctime>

namespace wif::tls {

bool DrainedErrors::has(int library, int reason) const {
  return std::any_of(codes.begin(), codes.end(), [&](unsigned long code) {
    return ERR_GET_LIB(code) == library && ERR_GET_REASON(code) == reason;
  });
}

DrainedErrors drain_error_queue() {
  DrainedErrors errors;
  const char* data = nullptr;
  int flags = 0;
  for (unsigned long code = ERR_get_error_all(nullptr, nullptr, nullptr, &data, &flags); code != 0;
       code = ERR_get_error_all(nullptr, nullptr, nullptr, &data, &flags)) {
    errors.codes.push_back(code);
    if (!errors.text.empty()) {
      errors.text += "; ";
    }
    const char* reason = ERR_reason_error_string(code);
    if (reason != nullptr) {
      errors.text += reason;
    } else {
      char buf[256];
      ERR_error_string_n(code, buf, sizeof(buf));
      errors.text += buf;
    }
    if ((flags & ERR_TXT_STRING) != 0 && data != nullptr && *data != '\0') {
      errors.text += " (";
      errors.text += data;
      errors.text += ")";
    }
  }
  return errors;
}

std::string rfc2253(const X509_NAME* name) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || X509_NAME_print_ex(bio.get(), name, 0, XN_FLAG_RFC2253) < 0) {
    ERR_clear_error();
    return {};
  }
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(len));
}

int64_t unix_seconds(const ASN1_TIME* time) {
  std::tm tm{};
  if (time == nullptr || ASN1_TIME_to_tm(time, &tm) != 1) {
    ERR_clear_error();
    return 0;
  }
  return static_cast<int64_t>(timegm(&tm));
}

std::string lowercase_hex(const unsigned char* bytes, size_t len) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(len * 2);
  for (size_t i = 0; i < len; ++i) {
    hex += kDigits[bytes[i] >> 4];
    hex += kDigits[bytes[i] & 0x0f];
  }
  return hex;
}

std::string openssl_version() { return OpenSSL_version(OPENSSL_VERSION_STRING); }

}  // namespace wif::tls
