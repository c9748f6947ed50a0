// What counting costs the data path: one request recorded in a worker's
// DataPathCounters (a counter and a latency histogram) against the same
// record through prometheus-cpp's own Counter and Histogram, which the
// daemon keeps off the data path.
//
// Each benchmark also reports allocations per operation, counted by the
// global operator new below, to show that recording a request allocates
// nothing.
#include <benchmark/benchmark.h>
#include <prometheus/counter.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <atomic>
#include <cstdlib>
#include <new>

#include "src/metrics/metrics.h"

namespace {

std::atomic<uint64_t> g_allocations{0};

void report_allocations(benchmark::State& state, uint64_t before) {
  state.counters["allocs_per_op"] = benchmark::Counter(
      static_cast<double>(g_allocations.load() - before), benchmark::Counter::kAvgIterations);
}

void BM_DataPathRequest(benchmark::State& state) {
  wif::metrics::Metrics metrics({"wif"}, {"bench", "", ""});
  wif::metrics::DataPathCounters& counters = metrics.add_worker(wif::metrics::Listener::kMtls);
  const uint64_t before = g_allocations.load();
  uint64_t ns = 40'000;
  for (auto _ : state) {
    counters.request(wif::metrics::Route::kToken, wif::metrics::Method::kGet, 200, ns);
    counters.token_request(0, wif::metrics::TokenResult::kServed);
    ns += 7;
  }
  report_allocations(state, before);
}
BENCHMARK(BM_DataPathRequest);

void BM_PrometheusCppRequest(benchmark::State& state) {
  prometheus::Registry registry;
  auto& counter = prometheus::BuildCounter().Name("r_total").Register(registry).Add({});
  auto& histogram = prometheus::BuildHistogram()
                        .Name("d_seconds")
                        .Register(registry)
                        .Add({}, prometheus::Histogram::BucketBoundaries{
                                     0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                     0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10});
  const uint64_t before = g_allocations.load();
  double seconds = 0.00004;
  for (auto _ : state) {
    counter.Increment();
    histogram.Observe(seconds);
    seconds += 1e-9;
  }
  report_allocations(state, before);
}
BENCHMARK(BM_PrometheusCppRequest);

// Two workers counting at once: each on its own cache lines, so the second
// thread costs the first nothing.
void BM_DataPathRequestTwoWorkers(benchmark::State& state) {
  static wif::metrics::Metrics* metrics = nullptr;
  static wif::metrics::DataPathCounters* counters[2] = {};
  if (state.thread_index() == 0) {
    metrics = new wif::metrics::Metrics({"wif"}, {"bench", "", ""});
    counters[0] = &metrics->add_worker(wif::metrics::Listener::kMtls);
    counters[1] = &metrics->add_worker(wif::metrics::Listener::kMtls);
  }
  // The benchmark library starts every thread's loop together, after setup.
  for (auto _ : state) {
    counters[state.thread_index()]->request(wif::metrics::Route::kToken, wif::metrics::Method::kGet,
                                            200, 40'000);
  }
  if (state.thread_index() == 0) {
    delete metrics;
  }
}
BENCHMARK(BM_DataPathRequestTwoWorkers)->Threads(2);

}  // namespace

// The replaced operators pair malloc with free; GCC cannot see that the
// sized delete receives only pointers from this operator new.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
void* operator new(std::size_t size) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(size == 0 ? 1 : size)) {
    return p;
  }
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
#pragma GCC diagnostic pop

BENCHMARK_MAIN();
