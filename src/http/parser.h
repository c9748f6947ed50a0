// RequestParser: an llhttp parser for one connection, yielding one complete
// request at a time so that pipelined requests are answered in order.
//
// Owned by a connection, used only on its loop thread. After feed() returns
// kRequest the parser is paused at the end of that message; the caller
// answers it and calls feed() again with the bytes that were not consumed.
//
// Parsing is strict: no llhttp lenient flag is set, and the header section is
// also checked for what llhttp's loose mode lets through (obsolete line
// folding, bare LF, whitespace before a colon; RFC 9112 sections 2.2 and 5).
// Only parser.cc sees llhttp types.
#pragma once

#include <cstddef>
#include <memory>
#include <string_view>

#include "src/http/request.h"

namespace wif::http {

// Limits are counted as bytes arrive, so a peer never gets llhttp to look at
// more than the limit allows.
struct ParserLimits {
  // Request line plus header block, counted from the end of the previous
  // request (so empty lines before a request line count too); larger is 431.
  size_t max_header_bytes = 16384;
  // Body data (Content-Length or the sum of chunk sizes); larger is 413.
  // 0: requests carry no body. Chunk framing and trailer fields share a
  // further max_header_bytes, so a chunked request is bounded as well.
  size_t max_body_bytes = 0;
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

  // After kError: the status to answer (400, 413, 431 or 505; 500 if a
  // callback threw) and a static reason string (llhttp's, or the limit that
  // was crossed), for debug logs only. The parser stays failed.
  int error_status() const { return error_status_; }
  std::string_view error_reason() const { return error_reason_; }

 private:
  struct Callbacks;
  friend struct Callbacks;

  // Called by the llhttp trampolines in parser.cc; each returns 0, HPE_PAUSED
  // or an error for llhttp.
  int on_message_begin();
  int on_url(const char* at, size_t len);
  int on_version(const char* at, size_t len);
  int on_version_complete();
  int on_headers_complete();
  int on_chunk_header();
  int on_message_complete();

  Result fail(int status, const char* reason);

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
