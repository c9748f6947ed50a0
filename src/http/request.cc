#include "src/http/request.h"

namespace wif::http {

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
      break;
  }
  // Every other method llhttp knows (PROPFIND, PURGE, ...): one metric label
  // value, so a client cannot grow the label set.
  return "OTHER";
}

}  // namespace wif::http
