// RequestParser on the requests the daemon sees most: curl's GET, the same
// request pipelined, and a request that arrives in two reads.
#include <benchmark/benchmark.h>

#include <string>
#include <string_view>

#include "src/http/parser.h"

namespace wif::http {
namespace {

// What `curl https://host:7001/get_wif_token` sends (curl 7.88).
constexpr std::string_view kCurlGet =
    "GET /get_wif_token HTTP/1.1\r\n"
    "Host: localhost:7001\r\n"
    "User-Agent: curl/7.88.1\r\n"
    "Accept: */*\r\n"
    "\r\n";

// Parses every request in bytes; aborts the benchmark on anything else, so a
// regression that breaks parsing cannot pass as a speed-up.
void parse_all(benchmark::State& state, RequestParser& parser, std::string_view bytes) {
  size_t offset = 0;
  while (offset < bytes.size()) {
    size_t consumed = 0;
    const auto result = parser.feed(bytes.data() + offset, bytes.size() - offset, &consumed);
    offset += consumed;
    if (result != RequestParser::Result::kRequest) {
      state.SkipWithError("the parser did not yield a complete request");
      return;
    }
    benchmark::DoNotOptimize(parser.request().target.data());
  }
}

void BM_ParseCurlGet(benchmark::State& state) {
  RequestParser parser{ParserLimits{}};
  for (auto _ : state) {
    parse_all(state, parser, kCurlGet);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * kCurlGet.size()));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ParseCurlGet);

// Sixteen requests in one read, as a pipelining client sends them.
void BM_ParsePipelinedGets(benchmark::State& state) {
  std::string bytes;
  for (int i = 0; i < 16; ++i) {
    bytes.append(kCurlGet);
  }
  RequestParser parser{ParserLimits{}};
  for (auto _ : state) {
    parse_all(state, parser, bytes);
  }
  state.SetItemsProcessed(state.iterations() * 16);
}
BENCHMARK(BM_ParsePipelinedGets);

// The header block split across two reads, in the middle of a field.
void BM_ParseSplitGet(benchmark::State& state) {
  const std::string_view first = kCurlGet.substr(0, 40);
  const std::string_view second = kCurlGet.substr(40);
  RequestParser parser{ParserLimits{}};
  for (auto _ : state) {
    size_t consumed = 0;
    if (parser.feed(first.data(), first.size(), &consumed) != RequestParser::Result::kNeedMore ||
        parser.feed(second.data(), second.size(), &consumed) != RequestParser::Result::kRequest) {
      state.SkipWithError("the split request was not parsed");
      return;
    }
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ParseSplitGet);

}  // namespace
}  // namespace wif::http

BENCHMARK_MAIN();
