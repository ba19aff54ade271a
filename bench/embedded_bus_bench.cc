// Embedded bus: events per second from a producer thread to a consumer that
// acks every batch, at several batch sizes, with the default bounds.
#include <atomic>
#include <thread>

#include "benchmark/benchmark.h"
#include "core/embedded_bus.h"

namespace phony {
namespace {

void BM_EmbeddedBusThroughput(benchmark::State& state) {
  const int batch_events = static_cast<int>(state.range(0));
  constexpr int kBatches = 2000;
  for (auto _ : state) {
    EmbeddedBus bus({.name = "bench"});
    std::atomic<uint64_t> acked{0};
    auto producer = bus.CreateProducer([&](uint64_t) { acked.fetch_add(1); });
    auto consumer = bus.CreateConsumer();
    std::thread t([&] {
      for (int b = 0; b < kBatches; ++b) {
        EventBatch batch;
        batch.id = static_cast<uint64_t>(b);
        batch.events.reserve(static_cast<size_t>(batch_events));
        for (int i = 0; i < batch_events; ++i) {
          ChangeEvent c;
          c.after = Row{Value::Int64(i), Value::Text("value")};
          batch.events.emplace_back(std::move(c));
        }
        (void)producer->Publish(std::move(batch), absl::InfiniteDuration());
      }
      producer->Close();
    });
    while (true) {
      auto d = consumer->Poll(absl::Seconds(10));
      if (!d.ok() || !d->has_value()) break;
      (void)consumer->Ack((*d)->offset);
    }
    t.join();
    benchmark::DoNotOptimize(acked.load());
  }
  state.SetItemsProcessed(state.iterations() * kBatches * batch_events);
}
BENCHMARK(BM_EmbeddedBusThroughput)->Arg(1)->Arg(100)->Arg(1000)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace phony

BENCHMARK_MAIN();
