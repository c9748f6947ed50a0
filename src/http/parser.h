// RequestParser: an llhttp parser for one connection, yielding one complete
// request at a time so that pipelined requests are answered in order.
//
// Owned by a connection, used only on its loop thread. After feed() returns
// kRequest the parser is paused at the end of that message; the caller
// answers it and calls feed() again with the bytes that were not consumed.
#pragma once

#include <cstddef>
#include <memory>
#include <string_view>

#include "src/http/request.h"

namespace wif::http {

struct ParserLimits {
  size_t max_header_bytes = 16384;  // request line plus header block
  size_t max_body_bytes = 0;        // requests carry no body; larger is 413
};

class RequestParser {
 public:
  enum class Result {
    kNeedMore,  // every byte consumed, no complete request yet
    kRequest,   // request() holds a complete request; *consumed says how far
    kError,     // malformed or over a limit: answer error_status() and close
  };

  explicit RequestParser(const ParserLimits& limits);
  ~RequestParser();
  RequestParser(const RequestParser&) = delete;
  RequestParser& operator=(const RequestParser&) = delete;

  // Parses data[0, len). *consumed is set to the number of bytes used; after
  // kRequest the rest belongs to the next request.
  Result feed(const char* data, size_t len, size_t* consumed);

  const Request& request() const { return request_; }

  // True while a request has started but is not complete (for the header
  // timeout: a silent peer in the middle of a request).
  bool in_message() const { return in_message_; }

  // After kError: the status to answer (400, 413, 431, 501 or 505) and
  // llhttp's reason, for debug logs only.
  int error_status() const { return error_status_; }
  std::string_view error_reason() const { return error_reason_; }

 private:
  struct Callbacks;
  friend struct Callbacks;

  struct Impl;
  std::unique_ptr<Impl> impl_;
  ParserLimits limits_;
  Request request_;
  bool in_message_ = false;
  bool paused_ = false;
  int error_status_ = 0;
  std::string_view error_reason_;
};

}  // namespace wif::http
