#include "src/http/response.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>

namespace wif::http {
namespace {

constexpr std::string_view kBody = R"({"status":"OK"})";

std::string render(const ResponseHead& head, std::string_view body,
                   std::string_view body_tail = {}) {
  std::string out;
  render_response(out, head, body, body_tail);
  return out;
}

TEST(RenderResponse, Renders200WithTheBody) {
  EXPECT_EQ(render(ResponseHead{}, kBody),
            "HTTP/1.1 200 OK\r\n"
            "Content-Type: application/json\r\n"
            "Content-Length: 15\r\n"
            "Cache-Control: no-store\r\n"
            "Pragma: no-cache\r\n"
            "Connection: keep-alive\r\n"
            "\r\n"
            R"({"status":"OK"})");
}

TEST(RenderResponse, RendersHeadWithTheBodysLengthButNoBody) {
  EXPECT_EQ(render(ResponseHead{.head_only = true}, kBody),
            "HTTP/1.1 200 OK\r\n"
            "Content-Type: application/json\r\n"
            "Content-Length: 15\r\n"
            "Cache-Control: no-store\r\n"
            "Pragma: no-cache\r\n"
            "Connection: keep-alive\r\n"
            "\r\n");
}

TEST(RenderResponse, Renders405WithAllow) {
  const ResponseHead head{.status = 405, .allow = "GET, HEAD"};
  EXPECT_EQ(render(head, R"({"error":"method_not_allowed"})"),
            "HTTP/1.1 405 Method Not Allowed\r\n"
            "Content-Type: application/json\r\n"
            "Content-Length: 30\r\n"
            "Cache-Control: no-store\r\n"
            "Pragma: no-cache\r\n"
            "Allow: GET, HEAD\r\n"
            "Connection: keep-alive\r\n"
            "\r\n"
            R"({"error":"method_not_allowed"})");
}

TEST(RenderResponse, Renders503WithRetryAfter) {
  const ResponseHead head{.status = 503, .retry_after_seconds = 30};
  EXPECT_EQ(render(head, R"({"error":"temporarily_unavailable"})"),
            "HTTP/1.1 503 Service Unavailable\r\n"
            "Content-Type: application/json\r\n"
            "Content-Length: 35\r\n"
            "Cache-Control: no-store\r\n"
            "Pragma: no-cache\r\n"
            "Retry-After: 30\r\n"
            "Connection: keep-alive\r\n"
            "\r\n"
            R"({"error":"temporarily_unavailable"})");
}

TEST(RenderResponse, RendersRetryAfterZero) {
  const std::string out = render(ResponseHead{.status = 503, .retry_after_seconds = 0}, "{}");
  EXPECT_NE(out.find("\r\nRetry-After: 0\r\n"), std::string::npos);
}

TEST(RenderResponse, RendersCloseForHttp11WithoutKeepAlive) {
  EXPECT_EQ(render(ResponseHead{.status = 400, .keep_alive = false}, "{}"),
            "HTTP/1.1 400 Bad Request\r\n"
            "Content-Type: application/json\r\n"
            "Content-Length: 2\r\n"
            "Cache-Control: no-store\r\n"
            "Pragma: no-cache\r\n"
            "Connection: close\r\n"
            "\r\n"
            "{}");
}

TEST(RenderResponse, RendersHttp10KeepAliveExplicitly) {
  EXPECT_EQ(render(ResponseHead{.http10 = true}, kBody),
            "HTTP/1.0 200 OK\r\n"
            "Content-Type: application/json\r\n"
            "Content-Length: 15\r\n"
            "Cache-Control: no-store\r\n"
            "Pragma: no-cache\r\n"
            "Connection: keep-alive\r\n"
            "\r\n"
            R"({"status":"OK"})");
}

TEST(RenderResponse, RendersHttp10Close) {
  EXPECT_EQ(render(ResponseHead{.keep_alive = false, .http10 = true}, kBody),
            "HTTP/1.0 200 OK\r\n"
            "Content-Type: application/json\r\n"
            "Content-Length: 15\r\n"
            "Cache-Control: no-store\r\n"
            "Pragma: no-cache\r\n"
            "Connection: close\r\n"
            "\r\n"
            R"({"status":"OK"})");
}

TEST(RenderResponse, ConcatenatesBodyAndTailAndCountsBoth) {
  const std::string out = render(ResponseHead{}, R"({"access_token":"t",)", R"("expires_in":60})");

  EXPECT_NE(out.find("\r\nContent-Length: 36\r\n"), std::string::npos);
  EXPECT_TRUE(
      out.ends_with("\r\n\r\n"
                    R"({"access_token":"t","expires_in":60})"));
}

TEST(RenderResponse, UsesTheGivenContentType) {
  const std::string out =
      render(ResponseHead{.content_type = "text/plain; version=0.0.4; charset=utf-8"}, "a 1\n");
  EXPECT_NE(out.find("\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\n"),
            std::string::npos);
}

TEST(RenderResponse, AppendsToWhatTheBufferHolds) {
  std::string out = "earlier";
  render_response(out, ResponseHead{}, kBody);

  EXPECT_TRUE(out.starts_with("earlierHTTP/1.1 200 OK\r\n"));
}

TEST(RenderResponse, DoesNotReallocateABufferWithEnoughCapacity) {
  std::string out;
  out.reserve(4096);
  const char* before = out.data();

  render_response(out, ResponseHead{.status = 503, .allow = "GET, HEAD", .retry_after_seconds = 5},
                  kBody, kBody);
  EXPECT_EQ(out.data(), before);
}

TEST(RenderResponse, LeavesTheReasonEmptyForAnUnknownStatus) {
  // RFC 9112 section 4: status-line = HTTP-version SP status-code SP [reason].
  EXPECT_TRUE(render(ResponseHead{.status = 599}, "{}").starts_with("HTTP/1.1 599 \r\n"));
}

TEST(ReasonPhrase, NamesEveryStatusTheDaemonSends) {
  EXPECT_EQ(reason_phrase(200), "OK");
  EXPECT_EQ(reason_phrase(400), "Bad Request");
  EXPECT_EQ(reason_phrase(403), "Forbidden");
  EXPECT_EQ(reason_phrase(404), "Not Found");
  EXPECT_EQ(reason_phrase(405), "Method Not Allowed");
  EXPECT_EQ(reason_phrase(408), "Request Timeout");
  EXPECT_EQ(reason_phrase(413), "Content Too Large");
  EXPECT_EQ(reason_phrase(431), "Request Header Fields Too Large");
  EXPECT_EQ(reason_phrase(500), "Internal Server Error");
  EXPECT_EQ(reason_phrase(501), "Not Implemented");
  EXPECT_EQ(reason_phrase(503), "Service Unavailable");
  EXPECT_EQ(reason_phrase(505), "HTTP Version Not Supported");
}

std::string escaped(std::string_view s) {
  std::string out;
  append_json_escaped(out, s);
  return out;
}

TEST(AppendJsonEscaped, CopiesPlainTextUnchanged) {
  EXPECT_EQ(escaped("eyJhbGciOi.Jq-_~/+="), "eyJhbGciOi.Jq-_~/+=");
  EXPECT_EQ(escaped(""), "");
}

TEST(AppendJsonEscaped, EscapesQuoteAndBackslash) { EXPECT_EQ(escaped(R"(a"b\c)"), R"(a\"b\\c)"); }

TEST(AppendJsonEscaped, EscapesEveryControlCharacterAsU00XX) {
  using std::string_view_literals::operator""sv;
  EXPECT_EQ(escaped("\0\x01\b\t\n\f\r\x1f"sv),
            R"(\u0000\u0001\u0008\u0009\u000a\u000c\u000d\u001f)");
}

TEST(AppendJsonEscaped, CopiesDeleteAndUtf8Unchanged) {
  // RFC 8259 section 7 requires escapes below U+0020 only.
  EXPECT_EQ(escaped("\x7f caf\xc3\xa9"), "\x7f caf\xc3\xa9");
}

TEST(AppendJsonEscaped, AppendsToWhatTheBufferHolds) {
  std::string out = R"({"error":")";
  append_json_escaped(out, "a\nb");
  EXPECT_EQ(out, R"({"error":"a\u000ab)");
}

}  // namespace
}  // namespace wif::http
