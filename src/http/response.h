// Rendering of complete HTTP/1.1 responses into a caller-owned buffer.
//
// Every answer wif-tokend gives is small, JSON and rendered in one piece, so
// the writer is a few appends into a string whose capacity the connection
// keeps between requests. Pure functions; safe on any thread.
#pragma once

#include <string>
#include <string_view>

namespace wif::http {

struct ResponseHead {
  int status = 200;
  bool keep_alive = true;
  bool head_only = false;  // HEAD: headers with Content-Length, no body
  std::string_view content_type = "application/json";
  std::string_view allow;        // non-empty: an Allow header (405)
  int retry_after_seconds = -1;  // >= 0: a Retry-After header (503)
  bool http10 = false;           // answer as HTTP/1.0
};

std::string_view reason_phrase(int status);

// Appends status line, headers (Content-Type, Content-Length,
// Cache-Control: no-store, Pragma: no-cache, Allow and Retry-After when set,
// Connection: keep-alive or close) and body to out. Content-Length is the
// body's size also for HEAD, which gets no body.
// The body parts are concatenated, so a pre-rendered prefix and a per-request
// tail need no temporary string.
void render_response(std::string& out, const ResponseHead& head, std::string_view body,
                     std::string_view body_tail = {});

// Appends s to out as the inside of a JSON string literal (RFC 8259 section
// 7): quote and backslash escaped, control characters as \u00XX, other bytes
// copied as they are (s must be UTF-8 for the result to be valid JSON).
void append_json_escaped(std::string& out, std::string_view s);

}  // namespace wif::http
