// Request: the parts of one HTTP/1.x request that wif-tokend acts on.
//
// Filled by RequestParser's callbacks, read by the handler on the same loop
// thread, and reused for the next request on the connection (clear() keeps
// the string capacity, so steady keep-alive traffic does not allocate).
#pragma once

#include <string>
#include <string_view>

namespace wif::http {

enum class Method { kGet, kHead, kPost, kPut, kDelete, kPatch, kOptions, kTrace, kConnect, kOther };

std::string_view method_name(Method method);

struct Request {
  Method method = Method::kOther;
  std::string target;  // the request-target exactly as sent (path and query)
  unsigned version_major = 1;
  unsigned version_minor = 1;
  bool keep_alive = true;  // llhttp_should_keep_alive() at message end
  size_t header_bytes = 0;

  void clear() {
    method = Method::kOther;
    target.clear();
    version_major = 1;
    version_minor = 1;
    keep_alive = true;
    header_bytes = 0;
  }
};

}  // namespace wif::http
