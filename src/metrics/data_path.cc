#include "src/metrics/data_path.h"

namespace wif::metrics {

std::string_view listener_name(Listener listener) {
  switch (listener) {
    case Listener::kMtls:
      return "mtls";
    case Listener::kMetrics:
      return "metrics";
  }
  return "mtls";
}

std::string_view route_name(Route route) {
  switch (route) {
    case Route::kRoot:
      return "root";
    case Route::kToken:
      return "token";
    case Route::kHealthz:
      return "healthz";
    case Route::kReadyz:
      return "readyz";
    case Route::kMetrics:
      return "metrics";
    case Route::kNotFound:
      return "not_found";
    case Route::kInvalid:
      return "invalid";
  }
  return "invalid";
}

std::string_view method_name(Method method) {
  switch (method) {
    case Method::kGet:
      return "GET";
    case Method::kHead:
      return "HEAD";
    case Method::kPost:
      return "POST";
    case Method::kPut:
      return "PUT";
    case Method::kDelete:
      return "DELETE";
    case Method::kPatch:
      return "PATCH";
    case Method::kOptions:
      return "OPTIONS";
    case Method::kTrace:
      return "TRACE";
    case Method::kConnect:
      return "CONNECT";
    case Method::kOther:
      return "other";
  }
  return "other";
}

size_t status_index(int status) {
  for (size_t i = 0; i < kStatusCodes.size(); ++i) {
    if (kStatusCodes[i] == status) {
      return i;
    }
  }
  return kStatusCodes.size();
}

std::string_view status_label(size_t index) {
  static constexpr std::array<std::string_view, kStatusCount> kLabels = {
      "200", "400", "403", "404", "405", "408", "413", "431", "501", "503", "505", "other"};
  return index < kLabels.size() ? kLabels[index] : "other";
}

std::string_view handshake_reason(Handshake outcome) {
  switch (outcome) {
    case Handshake::kOk:
      return "none";
    case Handshake::kNoCertificate:
      return "no_certificate";
    case Handshake::kUnknownCa:
      return "unknown_ca";
    case Handshake::kExpired:
      return "expired";
    case Handshake::kNotYetValid:
      return "not_yet_valid";
    case Handshake::kRevoked:
      return "revoked";
    case Handshake::kBadUsage:
      return "bad_usage";
    case Handshake::kRevocationUnknown:
      return "revocation_unknown";
    case Handshake::kServerCertificateRefused:
      return "server_certificate_refused";
    case Handshake::kProtocol:
      return "protocol";
    case Handshake::kTimeout:
      return "timeout";
  }
  return "protocol";
}

std::string_view timeout_phase(Timeout timeout) {
  switch (timeout) {
    case Timeout::kHandshake:
      return "handshake";
    case Timeout::kHeader:
      return "header";
    case Timeout::kIdle:
      return "idle";
    case Timeout::kWrite:
      return "write";
  }
  return "idle";
}

std::string_view token_result_name(TokenResult result) {
  switch (result) {
    case TokenResult::kServed:
      return "served";
    case TokenResult::kUnavailable:
      return "unavailable";
    case TokenResult::kForbidden:
      return "forbidden";
  }
  return "served";
}

}  // namespace wif::metrics
