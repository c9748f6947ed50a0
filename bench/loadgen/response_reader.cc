#include "bench/loadgen/response_reader.h"

#include <charconv>

namespace wif::loadgen {
namespace {

constexpr size_t kMaxHeaderBytes = 16 * 1024;

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) {
    return false;
  }
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i];
    char y = b[i];
    if (x >= 'A' && x <= 'Z') {
      x = static_cast<char>(x - 'A' + 'a');
    }
    if (y >= 'A' && y <= 'Z') {
      y = static_cast<char>(y - 'A' + 'a');
    }
    if (x != y) {
      return false;
    }
  }
  return true;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) {
    s.remove_suffix(1);
  }
  return s;
}

}  // namespace

ResponseReader::Result ResponseReader::feed(const char* data, size_t len) {
  if (error_ != nullptr) {
    return Result::kError;
  }
  buffer_.append(data, len);
  if (consumed_ != 0) {
    return Result::kResponse;  // the caller has not taken the last one yet
  }
  return parse();
}

ResponseReader::Result ResponseReader::next() {
  if (error_ != nullptr) {
    return Result::kError;
  }
  buffer_.erase(0, consumed_);
  consumed_ = 0;
  response_ = Response{};
  return parse();
}

ResponseReader::Result ResponseReader::fail(const char* reason) {
  error_ = reason;
  return Result::kError;
}

ResponseReader::Result ResponseReader::parse() {
  const std::string_view all = buffer_;
  const size_t head_end = all.find("\r\n\r\n");
  if (head_end == std::string_view::npos) {
    return all.size() > kMaxHeaderBytes ? fail("header block too large") : Result::kNeedMore;
  }
  const std::string_view head = all.substr(0, head_end);

  // Status line: HTTP/1.x SP 3DIGIT SP reason (RFC 9112 section 4).
  const size_t line_end = head.find("\r\n");
  const std::string_view status_line = head.substr(0, line_end);
  if (status_line.size() < 12 || !status_line.starts_with("HTTP/1.") || status_line[8] != ' ') {
    return fail("malformed status line");
  }
  const bool http11 = status_line[7] == '1';
  int status = 0;
  const char* code_end = status_line.data() + 12;
  const auto [end, ec] = std::from_chars(status_line.data() + 9, code_end, status);
  if (ec != std::errc() || end != code_end || status < 100) {
    return fail("malformed status code");
  }

  bool have_length = false;
  size_t length = 0;
  bool keep_alive = http11;
  std::string_view rest = line_end == std::string_view::npos ? "" : head.substr(line_end + 2);
  while (!rest.empty()) {
    const size_t eol = rest.find("\r\n");
    const std::string_view line = rest.substr(0, eol);
    rest = eol == std::string_view::npos ? "" : rest.substr(eol + 2);
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos) {
      return fail("header line without a colon");
    }
    const std::string_view name = line.substr(0, colon);
    const std::string_view value = trim(line.substr(colon + 1));
    if (iequals(name, "content-length")) {
      const char* value_end = value.data() + value.size();
      const auto parsed = std::from_chars(value.data(), value_end, length);
      if (parsed.ec != std::errc() || parsed.ptr != value_end || have_length) {
        return fail("bad Content-Length");
      }
      have_length = true;
    } else if (iequals(name, "transfer-encoding")) {
      return fail("Transfer-Encoding is not supported");
    } else if (iequals(name, "connection")) {
      if (iequals(value, "close")) {
        keep_alive = false;
      } else if (iequals(value, "keep-alive")) {
        keep_alive = true;
      }
    }
  }
  if (!have_length) {
    return fail("no Content-Length");
  }
  const size_t body_start = head_end + 4;
  if (all.size() - body_start < length) {
    return Result::kNeedMore;
  }
  response_.status = status;
  response_.keep_alive = keep_alive;
  response_.body = all.substr(body_start, length);
  consumed_ = body_start + length;
  return Result::kResponse;
}

bool token_body_ok(std::string_view body, std::string_view expected_token) {
  constexpr std::string_view kPrefix = R"({"access_token":")";
  if (!body.starts_with(kPrefix)) {
    return false;
  }
  body.remove_prefix(kPrefix.size());
  const size_t quote = body.find('"');
  if (quote == 0 || quote == std::string_view::npos) {
    return false;
  }
  if (!expected_token.empty() && body.substr(0, quote) != expected_token) {
    return false;
  }
  if (body.ends_with('\n')) {
    body.remove_suffix(1);
  }
  return body.ends_with('}');
}

}  // namespace wif::loadgen
