// Serializer throughput, one core, for a 10-column row change (issue #4's
// bar: >= 1 M envelopes/s in the internal and the public forms): the
// internal encoding, Debezium envelopes in the payload form (precise and
// string decimals) and in the schema-embedded form (EnvelopeRenderer: prepared once
// per table version, as PublicTopicWriter does), and record keys.
#include <string>

#include "bench/sample_row.h"
#include "benchmark/benchmark.h"
#include "core/envelope.h"
#include "core/event_codec.h"

namespace phony {
namespace {

TableSchema Customers() {
  TableSchema s;
  s.id = TableId{"shop", "public", "customers"};
  s.version = 1;
  auto col = [](const char* name, const char* type, ValueKind kind, int32_t typmod = -1, uint16_t key = 0) {
    ColumnDef c;
    c.name = name;
    c.type_name = type;
    c.kind = kind;
    c.type_modifier = typmod;
    c.key_ordinal = key;
    return c;
  };
  s.columns = {col("id", "bigint", ValueKind::kInt64, -1, 1), col("email", "text", ValueKind::kText),
               col("first_name", "text", ValueKind::kText), col("last_name", "text", ValueKind::kText),
               col("phone", "text", ValueKind::kText), col("born", "date", ValueKind::kDate),
               col("balance", "numeric(10,2)", ValueKind::kDecimal, (10 << 16 | 2) + 4),
               col("updated_at", "timestamp with time zone", ValueKind::kTimestampTz),
               col("token", "uuid", ValueKind::kUuid), col("active", "boolean", ValueKind::kBool)};
  return s;
}

const EnvelopeSource kSource{.connector = "postgresql", .name = "shop", .tx_id = 747};
const EnvelopeTransaction kTx{.id = "747:16777258", .total_order = 1, .data_collection_order = 1};

void BM_InternalEncode(benchmark::State& state) {
  const Event e = TenColumnInsert(42);
  std::string buf;
  for (auto _ : state) {
    buf.clear();
    EncodeEvent(e, &buf);
    benchmark::DoNotOptimize(buf.data());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_InternalEncode);

void RenderBench(benchmark::State& state, EnvelopeOptions options) {
  const TableSchema schema = Customers();
  const ChangeEvent e = TenColumnInsert(42);
  const EnvelopeRenderer renderer(schema, kSource, options);
  size_t bytes = 0;
  for (auto _ : state) {
    std::string out = renderer.Render(e, 747, false, 1700000000123, &kTx);
    bytes = out.size();
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["bytes_per_envelope"] = static_cast<double>(bytes);
}

void BM_PublicPayloadPrecise(benchmark::State& state) {
  RenderBench(state, {.decimal_handling = DecimalHandling::kPrecise, .topic_prefix = "shop"});
}
BENCHMARK(BM_PublicPayloadPrecise);

void BM_PublicPayloadString(benchmark::State& state) {
  RenderBench(state, {.decimal_handling = DecimalHandling::kString, .topic_prefix = "shop"});
}
BENCHMARK(BM_PublicPayloadString);

void BM_PublicWithSchema(benchmark::State& state) {
  RenderBench(state, {.decimal_handling = DecimalHandling::kPrecise, .include_schema = true, .topic_prefix = "shop"});
}
BENCHMARK(BM_PublicWithSchema);

void BM_PublicKey(benchmark::State& state) {
  const TableSchema schema = Customers();
  const ChangeEvent e = TenColumnInsert(42);
  const EnvelopeRenderer renderer(schema, kSource, {.topic_prefix = "shop"});
  for (auto _ : state) {
    std::string out = renderer.Key(*e.after);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_PublicKey);

}  // namespace
}  // namespace phony

BENCHMARK_MAIN();
