#include "src/http/parser.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "src/http/request.h"

namespace wif::http {
namespace {

using Result = RequestParser::Result;

constexpr std::string_view kGet = "GET /get_wif_token HTTP/1.1\r\nHost: wif\r\n\r\n";

struct Fed {
  Result result;
  size_t consumed;
};

Fed feed(RequestParser& parser, std::string_view bytes) {
  size_t consumed = 99999;
  const Result result = parser.feed(bytes.data(), bytes.size(), &consumed);
  return Fed{result, consumed};
}

// Feeds bytes one at a time until the parser returns something other than
// kNeedMore; returns that and the index of the byte that produced it.
struct Trickled {
  Result result;
  size_t last_byte;
};

Trickled feed_byte_by_byte(RequestParser& parser, std::string_view bytes) {
  for (size_t i = 0; i < bytes.size(); ++i) {
    const Fed fed = feed(parser, bytes.substr(i, 1));
    if (fed.result != Result::kNeedMore) {
      return Trickled{fed.result, i};
    }
    EXPECT_EQ(fed.consumed, 1u) << "byte " << i;
  }
  return Trickled{Result::kNeedMore, bytes.size()};
}

// A GET whose request line and header block are exactly `size` bytes, made
// up to size with one padding header.
std::string get_of_size(size_t size) {
  std::string request = "GET / HTTP/1.1\r\nX-Pad: ";
  const std::string_view end = "\r\n\r\n";
  request.append(size - request.size() - end.size(), 'p');
  request.append(end);
  return request;
}

void expect_error(std::string_view bytes, int status, const ParserLimits& limits = {}) {
  RequestParser parser(limits);
  EXPECT_EQ(feed(parser, bytes).result, Result::kError);
  EXPECT_EQ(parser.error_status(), status);
  EXPECT_FALSE(parser.error_reason().empty());

  // The same bytes arriving one by one end the same way.
  RequestParser trickle(limits);
  EXPECT_EQ(feed_byte_by_byte(trickle, bytes).result, Result::kError);
  EXPECT_EQ(trickle.error_status(), status);
}

TEST(RequestParser, ParsesASimpleGet) {
  RequestParser parser(ParserLimits{});
  const Fed fed = feed(parser, kGet);

  ASSERT_EQ(fed.result, Result::kRequest);
  EXPECT_EQ(fed.consumed, kGet.size());
  const Request& request = parser.request();
  EXPECT_EQ(request.method, Method::kGet);
  EXPECT_EQ(request.target, "/get_wif_token");
  EXPECT_EQ(request.version_major, 1u);
  EXPECT_EQ(request.version_minor, 1u);
  EXPECT_TRUE(request.keep_alive);
  EXPECT_EQ(request.header_bytes, kGet.size());
  EXPECT_FALSE(parser.in_message());
}

TEST(RequestParser, ParsesAHeadRequest) {
  RequestParser parser(ParserLimits{});
  ASSERT_EQ(feed(parser, "HEAD /healthz HTTP/1.1\r\nHost: wif\r\n\r\n").result, Result::kRequest);

  EXPECT_EQ(parser.request().method, Method::kHead);
  EXPECT_EQ(parser.request().target, "/healthz");
}

TEST(RequestParser, KeepsTheTargetExactlyAsSent) {
  RequestParser parser(ParserLimits{});
  ASSERT_EQ(feed(parser, "GET /%67et_wif_token/./?a=%20&b HTTP/1.1\r\n\r\n").result,
            Result::kRequest);

  EXPECT_EQ(parser.request().target, "/%67et_wif_token/./?a=%20&b");
}

TEST(RequestParser, ParsesARequestSplitAtEveryByte) {
  for (size_t split = 0; split < kGet.size(); ++split) {
    SCOPED_TRACE(split);
    RequestParser parser(ParserLimits{});

    const Fed first = feed(parser, kGet.substr(0, split));
    ASSERT_EQ(first.result, Result::kNeedMore);
    EXPECT_EQ(first.consumed, split);
    const Fed second = feed(parser, kGet.substr(split));
    ASSERT_EQ(second.result, Result::kRequest);
    EXPECT_EQ(second.consumed, kGet.size() - split);

    EXPECT_EQ(parser.request().method, Method::kGet);
    EXPECT_EQ(parser.request().target, "/get_wif_token");
    EXPECT_EQ(parser.request().header_bytes, kGet.size());
  }
}

TEST(RequestParser, ParsesARequestFedOneByteAtATime) {
  RequestParser parser(ParserLimits{});
  const Trickled trickled = feed_byte_by_byte(parser, kGet);

  ASSERT_EQ(trickled.result, Result::kRequest);
  EXPECT_EQ(trickled.last_byte, kGet.size() - 1);
  EXPECT_EQ(parser.request().target, "/get_wif_token");
  EXPECT_EQ(parser.request().header_bytes, kGet.size());
}

TEST(RequestParser, ReportsInMessageOnlyWhileARequestIsIncomplete) {
  RequestParser parser(ParserLimits{});
  EXPECT_FALSE(parser.in_message());

  ASSERT_EQ(feed(parser, kGet.substr(0, 5)).result, Result::kNeedMore);
  EXPECT_TRUE(parser.in_message());

  ASSERT_EQ(feed(parser, kGet.substr(5)).result, Result::kRequest);
  EXPECT_FALSE(parser.in_message());
}

TEST(RequestParser, AnswersTwoPipelinedRequestsInOrder) {
  const std::string first = "GET /healthz HTTP/1.1\r\n\r\n";
  const std::string second = "HEAD /readyz HTTP/1.1\r\nHost: wif\r\n\r\n";
  const std::string bytes = first + second;
  RequestParser parser(ParserLimits{});

  const Fed fed1 = feed(parser, bytes);
  ASSERT_EQ(fed1.result, Result::kRequest);
  EXPECT_EQ(fed1.consumed, first.size());
  EXPECT_EQ(parser.request().target, "/healthz");
  EXPECT_EQ(parser.request().header_bytes, first.size());

  const Fed fed2 = feed(parser, std::string_view(bytes).substr(fed1.consumed));
  ASSERT_EQ(fed2.result, Result::kRequest);
  EXPECT_EQ(fed2.consumed, second.size());
  EXPECT_EQ(parser.request().method, Method::kHead);
  EXPECT_EQ(parser.request().target, "/readyz");
  EXPECT_EQ(parser.request().header_bytes, second.size());

  const Fed fed3 = feed(parser, {});
  EXPECT_EQ(fed3.result, Result::kNeedMore);
  EXPECT_EQ(fed3.consumed, 0u);
}

TEST(RequestParser, AnswersThreePipelinedRequestsInOrder) {
  const std::string requests[] = {
      "GET / HTTP/1.1\r\n\r\n",
      "GET /get_wif_token?x=1 HTTP/1.1\r\nHost: wif\r\nAccept: */*\r\n\r\n",
      "GET /metrics HTTP/1.1\r\nConnection: close\r\n\r\n",
  };
  const std::string bytes = requests[0] + requests[1] + requests[2];
  RequestParser parser(ParserLimits{});

  size_t offset = 0;
  for (const std::string& expected : requests) {
    const Fed fed = feed(parser, std::string_view(bytes).substr(offset));
    ASSERT_EQ(fed.result, Result::kRequest);
    EXPECT_EQ(fed.consumed, expected.size());
    EXPECT_EQ(parser.request().target, expected.substr(4, expected.find(' ', 4) - 4));
    offset += fed.consumed;
  }
  EXPECT_EQ(offset, bytes.size());
  EXPECT_FALSE(parser.request().keep_alive);
}

TEST(RequestParser, KeepsAnHttp11ConnectionByDefault) {
  RequestParser parser(ParserLimits{});
  ASSERT_EQ(feed(parser, "GET / HTTP/1.1\r\n\r\n").result, Result::kRequest);

  EXPECT_TRUE(parser.request().keep_alive);
}

TEST(RequestParser, ClosesAnHttp11ConnectionOnConnectionClose) {
  RequestParser parser(ParserLimits{});
  ASSERT_EQ(feed(parser, "GET / HTTP/1.1\r\nConnection: close\r\n\r\n").result, Result::kRequest);

  EXPECT_FALSE(parser.request().keep_alive);
}

TEST(RequestParser, ClosesAnHttp10ConnectionWithoutKeepAlive) {
  RequestParser parser(ParserLimits{});
  ASSERT_EQ(feed(parser, "GET / HTTP/1.0\r\n\r\n").result, Result::kRequest);

  EXPECT_EQ(parser.request().version_major, 1u);
  EXPECT_EQ(parser.request().version_minor, 0u);
  EXPECT_FALSE(parser.request().keep_alive);
}

TEST(RequestParser, KeepsAnHttp10ConnectionWhenAskedForKeepAlive) {
  RequestParser parser(ParserLimits{});
  ASSERT_EQ(feed(parser, "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n").result,
            Result::kRequest);

  EXPECT_EQ(parser.request().version_minor, 0u);
  EXPECT_TRUE(parser.request().keep_alive);
}

TEST(RequestParser, ClosesTheConnectionAfterAnUpgradeRequest) {
  // We never switch protocols, and llhttp parses nothing after an upgrade.
  RequestParser parser(ParserLimits{});
  ASSERT_EQ(feed(parser, "GET / HTTP/1.1\r\nConnection: upgrade\r\nUpgrade: h2c\r\n\r\n").result,
            Result::kRequest);

  EXPECT_FALSE(parser.request().keep_alive);
}

TEST(RequestParser, ClosesTheConnectionAfterConnect) {
  RequestParser parser(ParserLimits{});
  ASSERT_EQ(feed(parser, "CONNECT wif:7001 HTTP/1.1\r\n\r\n").result, Result::kRequest);

  EXPECT_EQ(parser.request().method, Method::kConnect);
  EXPECT_EQ(parser.request().target, "wif:7001");
  EXPECT_FALSE(parser.request().keep_alive);
}

TEST(RequestParser, MapsLlhttpMethodsToMethodAndTheRestToOther) {
  const struct {
    std::string_view name;
    Method method;
  } cases[] = {
      {"GET", Method::kGet},         {"HEAD", Method::kHead},      {"POST", Method::kPost},
      {"PUT", Method::kPut},         {"DELETE", Method::kDelete},  {"PATCH", Method::kPatch},
      {"OPTIONS", Method::kOptions}, {"TRACE", Method::kTrace},    {"PROPFIND", Method::kOther},
      {"PURGE", Method::kOther},     {"M-SEARCH", Method::kOther}, {"SOURCE", Method::kOther},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    RequestParser parser(ParserLimits{});
    const std::string request = std::string(c.name) + " /get_wif_token HTTP/1.1\r\n\r\n";

    ASSERT_EQ(feed(parser, request).result, Result::kRequest);
    EXPECT_EQ(parser.request().method, c.method);
  }
}

TEST(RequestParser, RefusesAMethodLlhttpDoesNotKnowWith400) {
  expect_error("BREW /pot HTTP/1.1\r\n\r\n", 400);
}

TEST(RequestParser, SkipsAnEmptyLineBeforeTheRequestLineAndCountsIt) {
  // RFC 9112 section 2.2; the empty line counts towards max_header_bytes.
  RequestParser parser(ParserLimits{});
  const std::string bytes = "\r\nGET / HTTP/1.1\r\n\r\n";

  const Fed fed = feed(parser, bytes);
  ASSERT_EQ(fed.result, Result::kRequest);
  EXPECT_EQ(fed.consumed, bytes.size());
  EXPECT_EQ(parser.request().header_bytes, bytes.size());
}

TEST(RequestParser, AcceptsAHeaderBlockExactlyAtTheLimit) {
  const ParserLimits limits{.max_header_bytes = 100};
  const std::string request = get_of_size(100);
  RequestParser parser(limits);

  const Fed fed = feed(parser, request);
  ASSERT_EQ(fed.result, Result::kRequest);
  EXPECT_EQ(fed.consumed, 100u);
  EXPECT_EQ(parser.request().header_bytes, 100u);
}

TEST(RequestParser, RefusesAHeaderBlockOneByteOverTheLimitWith431) {
  expect_error(get_of_size(101), 431, ParserLimits{.max_header_bytes = 100});
}

TEST(RequestParser, AcceptsAHeaderBlockAtTheLimitArrivingOneByteAtATime) {
  RequestParser parser(ParserLimits{.max_header_bytes = 100});
  const Trickled trickled = feed_byte_by_byte(parser, get_of_size(100));

  EXPECT_EQ(trickled.result, Result::kRequest);
  EXPECT_EQ(trickled.last_byte, 99u);
}

TEST(RequestParser, RefusesAHeaderBlockOverTheLimitAtTheFirstByteOver) {
  RequestParser parser(ParserLimits{.max_header_bytes = 100});
  const Trickled trickled = feed_byte_by_byte(parser, get_of_size(101));

  EXPECT_EQ(trickled.result, Result::kError);
  EXPECT_EQ(trickled.last_byte, 100u);
  EXPECT_EQ(parser.error_status(), 431);
}

TEST(RequestParser, RefusesAnOverlongRequestLineWith431) {
  const std::string request = "GET /" + std::string(200, 'a') + " HTTP/1.1\r\n\r\n";
  expect_error(request, 431, ParserLimits{.max_header_bytes = 100});
}

TEST(RequestParser, RefusesFiveThousandSmallHeadersWith431) {
  std::string request = "GET / HTTP/1.1\r\n";
  for (int i = 0; i < 5000; ++i) {
    request.append("X-a: b\r\n");
  }
  request.append("\r\n");
  RequestParser parser(ParserLimits{});

  const Fed fed = feed(parser, request);
  EXPECT_EQ(fed.result, Result::kError);
  EXPECT_EQ(parser.error_status(), 431);
}

TEST(RequestParser, AppliesTheHeaderLimitToEachPipelinedRequestSeparately) {
  const std::string one = get_of_size(100);
  const std::string bytes = one + one;
  RequestParser parser(ParserLimits{.max_header_bytes = 100});

  const Fed first = feed(parser, bytes);
  ASSERT_EQ(first.result, Result::kRequest);
  const Fed second = feed(parser, std::string_view(bytes).substr(first.consumed));
  ASSERT_EQ(second.result, Result::kRequest);
  EXPECT_EQ(second.consumed, 100u);
}

TEST(RequestParser, RefusesABodyOnGetWith413) {
  expect_error("GET / HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello", 413);
}

TEST(RequestParser, AcceptsAContentLengthOfZero) {
  RequestParser parser(ParserLimits{});
  EXPECT_EQ(feed(parser, "GET / HTTP/1.1\r\nContent-Length: 0\r\n\r\n").result, Result::kRequest);
}

TEST(RequestParser, ConsumesABodyWithinMaxBodyBytes) {
  const std::string first = "POST /x HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello";
  const std::string bytes = first + "GET /y HTTP/1.1\r\n\r\n";
  RequestParser parser(ParserLimits{.max_body_bytes = 5});

  const Fed fed = feed(parser, bytes);
  ASSERT_EQ(fed.result, Result::kRequest);
  EXPECT_EQ(fed.consumed, first.size());
  EXPECT_EQ(parser.request().method, Method::kPost);
  EXPECT_EQ(parser.request().header_bytes, first.size() - 5);

  ASSERT_EQ(feed(parser, std::string_view(bytes).substr(fed.consumed)).result, Result::kRequest);
  EXPECT_EQ(parser.request().target, "/y");
}

TEST(RequestParser, RefusesChunkedBodyDataWith413) {
  expect_error("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", 413);
}

TEST(RequestParser, AcceptsAnEmptyChunkedBody) {
  RequestParser parser(ParserLimits{});
  const std::string bytes = "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n";

  const Fed fed = feed(parser, bytes);
  ASSERT_EQ(fed.result, Result::kRequest);
  EXPECT_EQ(fed.consumed, bytes.size());
}

TEST(RequestParser, RefusesChunkedBodyDataOverMaxBodyBytesWith413) {
  expect_error(
      "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n3\r\ndef\r\n0\r\n\r\n", 413,
      ParserLimits{.max_body_bytes = 5});
}

TEST(RequestParser, RefusesEndlessChunkedTrailersWith413) {
  // Chunk framing and trailers share one more max_header_bytes.
  std::string request = "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n";
  for (int i = 0; i < 100; ++i) {
    request.append("X-a: b\r\n");
  }
  request.append("\r\n");
  expect_error(request, 413, ParserLimits{.max_header_bytes = 200});
}

TEST(RequestParser, RefusesContentLengthWithTransferEncodingWith400) {
  expect_error(
      "POST / HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400,
      ParserLimits{.max_body_bytes = 100});
}

TEST(RequestParser, RefusesTwoContentLengthsWith400) {
  expect_error("GET / HTTP/1.1\r\nContent-Length: 0\r\nContent-Length: 0\r\n\r\n", 400);
}

TEST(RequestParser, RefusesATransferCodingOtherThanChunkedWith400) {
  // RFC 9112 section 6.3, item 4.
  expect_error("POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", 400);
}

TEST(RequestParser, RefusesObsoleteLineFoldingWith400) {
  expect_error("GET / HTTP/1.1\r\nX-A: a\r\n b\r\n\r\n", 400);
  expect_error("GET / HTTP/1.1\r\nX-A: a\r\n\tb\r\nX-B: c\r\n\r\n", 400);
  expect_error("GET / HTTP/1.1\r\nX-A:\r\n  \r\n\r\n", 400);
}

TEST(RequestParser, RefusesObsoleteLineFoldingWith400EvenBeforeALimitIsHit) {
  expect_error("GET / HTTP/1.1\r\nX-A: a\r\n b\r\nContent-Length: 5\r\n\r\nhello", 400);
}

TEST(RequestParser, RefusesWhitespaceBeforeTheFirstHeaderWith400) {
  expect_error("GET / HTTP/1.1\r\n X-A: a\r\n\r\n", 400);
}

TEST(RequestParser, RefusesWhitespaceBetweenAFieldNameAndItsColonWith400) {
  expect_error("GET / HTTP/1.1\r\nX-A : a\r\n\r\n", 400);
  expect_error("GET / HTTP/1.1\r\nContent-Length : 0\r\n\r\n", 400);
}

TEST(RequestParser, RefusesBareLineFeedsWith400) {
  expect_error("GET / HTTP/1.1\nHost: wif\n\n", 400);
  expect_error("GET / HTTP/1.1\r\nHost: wif\n\r\n", 400);
  expect_error("GET / HTTP/1.1\r\nHost: wif\r\n\n", 400);
}

TEST(RequestParser, RefusesANulByteInAHeaderWith400) {
  using std::string_literals::operator""s;
  expect_error("GET / HTTP/1.1\r\nX-A: a\0b\r\n\r\n"s, 400);
  expect_error("GET / HTTP/1.1\r\nX-\0A: ab\r\n\r\n"s, 400);
  expect_error("GET /\0 HTTP/1.1\r\n\r\n"s, 400);
}

TEST(RequestParser, RefusesGarbageWith400) {
  // The start of a TLS ClientHello, as a client mistaking the metrics port
  // for the TLS one would send.
  using std::string_view_literals::operator""sv;
  expect_error("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03"sv, 400);
  expect_error("hello\r\n\r\n", 400);
}

TEST(RequestParser, RefusesAnHttp2RequestLineWith505) {
  // llhttp accepts the version 2.0 (for the h2 preface), so the refusal is
  // ours, in on_version_complete, before any header is read.
  expect_error("GET / HTTP/2.0\r\nHost: wif\r\n\r\n", 505);
}

TEST(RequestParser, RefusesTheHttp2ConnectionPrefaceWith505) {
  expect_error("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 505);
}

TEST(RequestParser, RefusesOtherMajorVersionsWith505) {
  // llhttp refuses 3.0 as an invalid version; 0.9 it accepts.
  expect_error("GET / HTTP/3.0\r\n\r\n", 505);
  expect_error("GET / HTTP/0.9\r\n\r\n", 505);
}

TEST(RequestParser, RefusesAMalformedVersionWith400) {
  // llhttp knows 1.0 and 1.1 only; RFC 9112 would allow 1.2 as 1.1.
  expect_error("GET / HTTP/1.2\r\n\r\n", 400);
  expect_error("GET / HTTP/x.1\r\n\r\n", 400);
  expect_error("GET / HTTP/1.1 \r\n\r\n", 400);
}

TEST(RequestParser, StaysFailedAfterAnError) {
  RequestParser parser(ParserLimits{});
  ASSERT_EQ(feed(parser, "garbage\r\n\r\n").result, Result::kError);
  const std::string_view reason = parser.error_reason();

  const Fed again = feed(parser, kGet);
  EXPECT_EQ(again.result, Result::kError);
  EXPECT_EQ(again.consumed, 0u);
  EXPECT_EQ(parser.error_status(), 400);
  EXPECT_EQ(parser.error_reason(), reason);
}

TEST(RequestParser, StartsEachRequestFromAClearedRequest) {
  const std::string bytes =
      "GET /get_wif_token?x=1 HTTP/1.0\r\nConnection: keep-alive\r\n\r\nHEAD / HTTP/1.1\r\n\r\n";
  RequestParser parser(ParserLimits{});
  const Fed first = feed(parser, bytes);
  ASSERT_EQ(first.result, Result::kRequest);

  ASSERT_EQ(feed(parser, std::string_view(bytes).substr(first.consumed)).result, Result::kRequest);
  EXPECT_EQ(parser.request().method, Method::kHead);
  EXPECT_EQ(parser.request().target, "/");
  EXPECT_EQ(parser.request().version_minor, 1u);
}

TEST(MethodName, NamesEachMethod) {
  EXPECT_EQ(method_name(Method::kGet), "GET");
  EXPECT_EQ(method_name(Method::kHead), "HEAD");
  EXPECT_EQ(method_name(Method::kPost), "POST");
  EXPECT_EQ(method_name(Method::kPut), "PUT");
  EXPECT_EQ(method_name(Method::kDelete), "DELETE");
  EXPECT_EQ(method_name(Method::kPatch), "PATCH");
  EXPECT_EQ(method_name(Method::kOptions), "OPTIONS");
  EXPECT_EQ(method_name(Method::kTrace), "TRACE");
  EXPECT_EQ(method_name(Method::kConnect), "CONNECT");
  EXPECT_EQ(method_name(Method::kOther), "OTHER");
}

}  // namespace
}  // namespace wif::http
