// Internal event encoding: encode and decode throughput for a 10-column row
// change event (the shape issue #4's serializer bar names), one core.
#include <string>

#include "benchmark/benchmark.h"
#include "core/event_codec.h"

namespace phony {
namespace {

ChangeEvent TenColumnInsert(int64_t i) {
  std::string uuid(16, '\x5a');
  ChangeEvent c;
  c.op = ChangeOp::kInsert;
  c.table = TableId{"shop", "public", "customers"};
  c.schema_version = 1;
  c.key_columns = {0};
  c.after = Row{Value::Int64(i),
                Value::Text("customer" + std::to_string(i) + "@mail.example"),
                Value::Text("First"),
                Value::Text("Last"),
                Value::Text("+1 212 555 0199"),
                Value::Date(7000),
                Value::Decimal("1234.56"),
                Value::TimestampTz(1700000000000000 + i),
                Value::Uuid(uuid),
                Value::Bool(true)};
  c.commit_ts_us = 1700000000000000;
  c.position = EventPosition::Postgres(Lsn(0x1000000 + static_cast<uint64_t>(i)), 1);
  return c;
}

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
