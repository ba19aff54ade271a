// Internal event encoding: encode and decode throughput for a 10-column row
// change event (the shape issue #4's serializer bar names), one core.
#include <string>

#include "bench/sample_row.h"
#include "benchmark/benchmark.h"
#include "core/event_codec.h"

namespace phony {
namespace {

void BM_EncodeEvent(benchmark::State& state) {
  const Event e = TenColumnInsert(42);
  std::string buf;
  for (auto _ : state) {
    buf.clear();
    EncodeEvent(e, &buf);
    benchmark::DoNotOptimize(buf.data());
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(buf.size()));
}
BENCHMARK(BM_EncodeEvent);

void BM_DecodeEvent(benchmark::State& state) {
  std::string buf;
  EncodeEvent(TenColumnInsert(42), &buf);
  for (auto _ : state) {
    auto e = DecodeEvent(buf);
    benchmark::DoNotOptimize(e);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(buf.size()));
}
BENCHMARK(BM_DecodeEvent);

}  // namespace
}  // namespace phony

BENCHMARK_MAIN();
