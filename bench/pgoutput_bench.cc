// pgoutput decoding on one core: a recorded-shape stream of transactions of
// 1000 inserts into a 10-column table (ints, text, numeric, timestamptz,
// bool, uuid), decoded alone and assembled into events with parsed values.
// Issue #3's bar: ≥ 1.5 M row events/s through the decoder.
#include <string>
#include <vector>

#include "benchmark/benchmark.h"
#include "core/byte_reader.h"
#include "src/capture/postgres/pg_values.h"
#include "src/capture/postgres/pgoutput_assembler.h"
#include "src/capture/postgres/pgoutput_decoder.h"

namespace phony::pg {
namespace {

void Str(std::string* b, std::string_view s) {
  b->append(s);
  b->push_back('\0');
}
void Col(std::string* b, std::string_view text) {
  b->push_back('t');
  PutU32BE(b, static_cast<uint32_t>(text.size()));
  b->append(text);
}

std::vector<std::string> MakeStream(int transactions, int rows_per_tx) {
  std::vector<std::string> msgs;
  const std::pair<const char*, uint32_t> cols[] = {
      {"id", kInt8Oid},        {"email", kTextOid},       {"first_name", kTextOid},
      {"last_name", kTextOid}, {"balance", kNumericOid},  {"created_at", kTimestampTzOid},
      {"active", kBoolOid},    {"ref", kUuidOid},         {"age", kInt4Oid},
      {"city", kVarcharOid}};
  uint64_t lsn = 0x1000000;
  for (int t = 0; t < transactions; ++t) {
    std::string b = "B";
    PutU64BE(&b, lsn);
    PutU64BE(&b, 754833600000000ull);
    PutU32BE(&b, static_cast<uint32_t>(1000 + t));
    msgs.push_back(b);
    std::string r = "R";
    PutU32BE(&r, 16385);
    Str(&r, "public");
    Str(&r, "customers");
    r.push_back('d');
    PutU16BE(&r, 10);
    for (const auto& [name, oid] : cols) {
      r.push_back(std::string_view(name) == "id" ? 1 : 0);
      Str(&r, name);
      PutU32BE(&r, oid);
      PutU32BE(&r, 0xFFFFFFFF);
    }
    msgs.push_back(r);
    for (int i = 0; i < rows_per_tx; ++i) {
      const int id = t * rows_per_tx + i;
      std::string m = "I";
      PutU32BE(&m, 16385);
      m.push_back('N');
      PutU16BE(&m, 10);
      Col(&m, std::to_string(id));
      Col(&m, "customer" + std::to_string(id) + "@mail.example");
      Col(&m, "Firstname");
      Col(&m, "Lastname");
      Col(&m, "1234.56");
      Col(&m, "2024-02-29 13:45:06.123456+00");
      Col(&m, "t");
      Col(&m, "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11");
      Col(&m, "42");
      Col(&m, "Istanbul");
      msgs.push_back(m);
      lsn += 200;
    }
    std::string c = "C";
    c.push_back(0);
    PutU64BE(&c, lsn);
    PutU64BE(&c, lsn + 48);
    PutU64BE(&c, 754833600000000ull);
    msgs.push_back(c);
    lsn += 100;
  }
  return msgs;
}

const std::vector<std::string>& Stream() {
  static const auto* s = new std::vector<std::string>(MakeStream(100, 1000));
  return *s;
}

void BM_DecodeOnly(benchmark::State& state) {
  const auto& msgs = Stream();
  int64_t rows = 0;
  for (auto _ : state) {
    for (const auto& m : msgs) {
      auto d = DecodePgoutputMessage(m, DecodeContext{.protocol_version = 1});
      benchmark::DoNotOptimize(d);
      rows += m[0] == 'I';
    }
  }
  state.counters["row_events/s"] = benchmark::Counter(static_cast<double>(rows), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_DecodeOnly)->Unit(benchmark::kMillisecond);

void BM_AssembleWithValues(benchmark::State& state) {
  const auto& msgs = Stream();
  int64_t rows = 0;
  for (auto _ : state) {
    PgoutputAssembler assembler({.database = "shop", .protocol_version = 1});
    std::vector<Event> events;
    events.reserve(1100);
    for (const auto& m : msgs) {
      auto r = assembler.Feed(m, &events);
      benchmark::DoNotOptimize(r);
      if (m[0] == 'C') {
        rows += static_cast<int64_t>(events.size()) - 3;  // begin, schema, commit
        events.clear();
      }
    }
  }
  state.counters["row_events/s"] = benchmark::Counter(static_cast<double>(rows), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_AssembleWithValues)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace phony::pg

BENCHMARK_MAIN();
