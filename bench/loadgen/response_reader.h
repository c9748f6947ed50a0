// ResponseReader: reads HTTP/1.x responses from decrypted bytes, one at a
// time, for the load generator.
//
// Only what the four servers under test send is understood: a status line,
// header fields, and a body framed by Content-Length. Anything else (chunked
// framing, a missing length, a header block over 16 KiB) is an error, so a
// server that answers differently is counted as failing rather than
// misread. Owned by one connection, on its loop thread.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace wif::loadgen {

struct Response {
  int status = 0;
  bool keep_alive = false;  // the server keeps the connection open after it
  std::string_view body;    // valid until the next feed()
};

class ResponseReader {
 public:
  enum class Result { kNeedMore, kResponse, kError };

  // Appends data. kResponse: response() holds a complete answer; call next()
  // before reading the following one.
  Result feed(const char* data, size_t len);
  const Response& response() const { return response_; }
  // Drops the answer just read; returns kResponse if another complete one is
  // already buffered (pipelining), else kNeedMore, or kError.
  Result next();

  bool in_response() const { return !buffer_.empty(); }
  const char* error() const { return error_; }

 private:
  Result parse();
  Result fail(const char* reason);

  std::string buffer_;
  size_t consumed_ = 0;  // bytes of buffer_ that belong to response_
  Response response_;
  const char* error_ = nullptr;
};

// True when body is the JSON object every server under test answers with:
// {"access_token":"TOKEN", ...} (when expected_token is empty, any
// non-empty token), optionally followed by a newline.
bool token_body_ok(std::string_view body, std::string_view expected_token);

}  // namespace wif::loadgen
