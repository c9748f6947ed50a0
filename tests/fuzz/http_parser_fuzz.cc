// libFuzzer harness for http::RequestParser (issue #7).
//
// The input picks the limits, then is parsed twice: once in one piece and
// once in arbitrary splits, each time the way net::Connection drives the
// parser (unconsumed bytes are kept and fed again with the next piece, and
// each complete request is taken before the rest is fed). Both runs must
// see the same requests and end the same way: how the bytes arrive must
// never change what they mean. Sanitizers catch the rest.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "src/http/parser.h"
#include "tests/fuzz/fuzz_input.h"

namespace {

using wif::fuzz::check;
using wif::fuzz::FuzzInput;
using wif::http::ParserLimits;
using wif::http::Request;
using wif::http::RequestParser;
using Result = RequestParser::Result;

struct Seen {
  wif::http::Method method;
  std::string target;
  unsigned major;
  unsigned minor;
  bool keep_alive;
  size_t header_bytes;

  bool operator==(const Seen&) const = default;
};

struct Outcome {
  std::vector<Seen> requests;
  int error_status = 0;  // 0: no error, the input ended inside or between requests

  bool operator==(const Outcome&) const = default;
};

// Feeds pending[] until the parser wants more or fails, as the connection
// does, recording each request.
void drain(RequestParser& parser, std::string& pending, const ParserLimits& limits, Outcome& out) {
  size_t offset = 0;
  while (out.error_status == 0 && offset < pending.size()) {
    size_t consumed = 0;
    const Result result = parser.feed(pending.data() + offset, pending.size() - offset, &consumed);
    check(consumed <= pending.size() - offset);
    offset += consumed;
    if (result == Result::kNeedMore) {
      check(offset == pending.size());
      break;
    }
    if (result == Result::kError) {
      const int status = parser.error_status();
      check(status == 400 || status == 413 || status == 431 || status == 505);
      check(!parser.error_reason().empty());
      // The parser stays failed and takes nothing more.
      size_t again = 1;
      check(parser.feed("x", 1, &again) == Result::kError && again == 0);
      out.error_status = status;
      break;
    }
    const Request& r = parser.request();
    check(!parser.in_message());
    check(r.version_major == 1);
    check(r.header_bytes <= limits.max_header_bytes);
    check(r.target.size() <= limits.max_header_bytes);
    out.requests.push_back(
        {r.method, r.target, r.version_major, r.version_minor, r.keep_alive, r.header_bytes});
  }
  pending.erase(0, offset);
}

Outcome parse_whole(std::string_view bytes, const ParserLimits& limits) {
  RequestParser parser(limits);
  Outcome out;
  std::string pending(bytes);
  drain(parser, pending, limits, out);
  return out;
}

Outcome parse_split(std::string_view bytes, FuzzInput& splits, const ParserLimits& limits) {
  RequestParser parser(limits);
  Outcome out;
  std::string pending;
  size_t offset = 0;
  while (offset < bytes.size() && out.error_status == 0) {
    const size_t n = std::min(splits.length(4096), bytes.size() - offset);
    pending.append(bytes.substr(offset, n));
    offset += n;
    drain(parser, pending, limits, out);
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzInput in(data, size);
  ParserLimits limits;
  limits.max_header_bytes = 64 + size_t{in.byte()} * 64;  // small, so limits are reached
  const uint8_t body = in.byte();
  limits.max_body_bytes = body < 128 ? 0 : size_t{body} * 8;
  const size_t split_bytes = in.byte();
  std::string_view split_choices = in.take(split_bytes);
  const std::string_view message = in.rest();

  FuzzInput splits(reinterpret_cast<const uint8_t*>(split_choices.data()), split_choices.size());
  check(parse_whole(message, limits) == parse_split(message, splits, limits));
  return 0;
}
