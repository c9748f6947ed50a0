#include "src/http/response.h"

#include <array>
#include <cassert>
#include <charconv>
#include <cstddef>

namespace wif::http {
namespace {

template <typename Int>
void append_number(std::string& out, Int value) {
  std::array<char, 24> digits;
  const auto [end, ec] = std::to_chars(digits.data(), digits.data() + digits.size(), value);
  assert(ec == std::errc());
  out.append(digits.data(), end);
}

}  // namespace

std::string_view reason_phrase(int status) {
  // Phrases from RFC 9110 section 15 (413 is "Content Too Large" there) and
  // RFC 6585 section 5 (431).
  switch (status) {
    case 200:
      return "OK";
    case 204:
      return "No Content";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 411:
      return "Length Required";
    case 413:
      return "Content Too Large";
    case 414:
      return "URI Too Long";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    case 505:
      return "HTTP Version Not Supported";
    default:
      // RFC 9112 section 4: the reason phrase may be empty.
      return "";
  }
}

void render_response(std::string& out, const ResponseHead& head, std::string_view body,
                     std::string_view body_tail) {
  // Our own code picks the status; RFC 9110 section 15 makes it 3 digits.
  assert(head.status >= 100 && head.status <= 999);

  out.append(head.http10 ? "HTTP/1.0 " : "HTTP/1.1 ");
  append_number(out, head.status);
  out.push_back(' ');
  out.append(reason_phrase(head.status));
  out.append("\r\nContent-Type: ");
  out.append(head.content_type);
  // RFC 9110 section 9.3.2: HEAD gets the Content-Length GET would have.
  out.append("\r\nContent-Length: ");
  append_number(out, body.size() + body_tail.size());
  out.append("\r\nCache-Control: no-store\r\nPragma: no-cache\r\n");
  if (!head.allow.empty()) {
    out.append("Allow: ");
    out.append(head.allow);
    out.append("\r\n");
  }
  if (head.retry_after_seconds >= 0) {
    out.append("Retry-After: ");
    append_number(out, head.retry_after_seconds);
    out.append("\r\n");
  }
  // Always explicit: an HTTP/1.0 client keeps the connection only when told
  // keep-alive (RFC 9112 section 9.3), and close tells either version we end
  // it (section 9.6). Saying keep-alive to 1.1 costs a few bytes, no more.
  out.append(head.keep_alive ? "Connection: keep-alive\r\n\r\n" : "Connection: close\r\n\r\n");

  if (!head.head_only) {
    out.append(body);
    out.append(body_tail);
  }
}

void append_json_escaped(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  // Copy runs of characters that need no escape in one append.
  size_t run_start = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\') {
      continue;
    }
    out.append(s.data() + run_start, i - run_start);
    run_start = i + 1;
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(static_cast<char>(c));
    } else {
      // RFC 8259 section 7: control characters U+0000..U+001F as \u00XX.
      const char escape[] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 0xf]};
      out.append(escape, sizeof(escape));
    }
  }
  out.append(s.data() + run_start, s.size() - run_start);
}

}  // namespace wif::http
