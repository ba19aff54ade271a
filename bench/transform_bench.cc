// The transformer's keyed primitives, one core (issue #5's bar: keyed
// mapping >= 3 M values/s for TOKENIZE and template email): the PRF alone,
// TOKENIZE of integer ids and 16-digit strings, MASK, HASH and a card fake;
// the mapping store (lookups that hit, and miss + record + flush); and a
// word from the `model` generator's n-gram model (shipped lists).
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "benchmark/benchmark.h"
#include "src/transform/check_digits.h"
#include "src/transform/keyed.h"
#include "src/transform/locale_data.h"
#include "src/transform/mapping_store.h"
#include "src/transform/name_model.h"
#include "src/transform/rules.h"
#include "src/transform/transformer.h"

namespace phony::transform {
namespace {

const Key128 kKey = *DeriveKey("0123456789abcdef0123456789abcdef", "bench:v1");

void BM_SipHash128Email(benchmark::State& state) {
  const std::string email = "customer123456@mail.example";
  for (auto _ : state) benchmark::DoNotOptimize(SipHash128(kKey, email));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_SipHash128Email);

void BM_TokenizeInt64(benchmark::State& state) {
  const DigitTokenizer t(kKey);
  int64_t id = 1234567;
  for (auto _ : state) benchmark::DoNotOptimize(t.TokenizeInt64(++id));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_TokenizeInt64);

void BM_TokenizeDigits16(benchmark::State& state) {
  const DigitTokenizer t(kKey);
  std::string digits = "4556737586899855";
  for (auto _ : state) benchmark::DoNotOptimize(t.Encrypt(digits));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_TokenizeDigits16);

void BM_MaskPhone(benchmark::State& state) {
  const MaskPattern m = *MaskPattern::Parse("+90 5## ### ##{last2}");
  for (auto _ : state) benchmark::DoNotOptimize(m.Apply("+90 532 123 45 67", kKey));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_MaskPhone);

void BM_HashHex16(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(KeyedHash(kKey, "customer123456@mail.example", HashFormat::kHex, 16));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_HashHex16);

void BM_FakeCard(benchmark::State& state) {
  const DigitTokenizer t(kKey);
  for (auto _ : state) benchmark::DoNotOptimize(FakeCardNumber(t, "4556-7375-8689-9855"));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_FakeCard);

// A mapping store in a fresh state directory, removed afterwards.
class BenchMappingStore {
 public:
  explicit BenchMappingStore(const std::string& name, MappingStore::Options options) {
    dir_ = (std::filesystem::temp_directory_path() /
            ("phony_bench_" + name + "_" + std::to_string(getpid())))
               .string();
    std::filesystem::remove_all(dir_);
    state_ = *StateStore::Open(dir_, {.job_name = "bench", .stage = "transform"});
    store_ = *MappingStore::Open(state_.get(), *DeriveKey("0123456789abcdef0123456789abcdef",
                                                          "mapping-index:v1"),
                                 options);
  }
  ~BenchMappingStore() {
    store_.reset();
    state_.reset();
    std::filesystem::remove_all(dir_);
  }
  MappingStore& operator*() { return *store_; }
  MappingStore* operator->() { return store_.get(); }

 private:
  std::string dir_;
  std::unique_ptr<StateStore> state_;
  std::unique_ptr<MappingStore> store_;
};

std::string BenchOriginal(int64_t i) { return "customer" + std::to_string(i) + "@mail.example"; }
std::string BenchFake(int64_t i) { return "user" + std::to_string(i) + "@example.test"; }

// Lookups of 100 000 recorded, flushed keys. Arg: the cache's entries (the
// default, which holds them all, or 0: every lookup reads RocksDB).
void BM_MappingStoreHit(benchmark::State& state) {
  constexpr int kKeys = 100000;
  BenchMappingStore store("mapping_hit", {.cache_entries = static_cast<size_t>(state.range(0))});
  std::vector<std::string> originals;
  for (int i = 0; i < kKeys; ++i) {
    originals.push_back(BenchOriginal(i));
    if (!store->Record("customer_email:v1", originals.back(), BenchFake(i), true).ok()) {
      state.SkipWithError("record failed");
      return;
    }
  }
  if (!store->Flush(false).ok()) state.SkipWithError("flush failed");
  size_t i = 0;
  for (auto _ : state) {
    auto found = store->Lookup("customer_email:v1", originals[i]);
    if (!found.ok() || !found->has_value()) {
      state.SkipWithError("lookup missed");
      break;
    }
    benchmark::DoNotOptimize(found);
    if (++i == originals.size()) i = 0;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_MappingStoreHit)->Arg(1 << 20)->Arg(0);

// A new value each time: Lookup (miss), Record, and a Flush every
// `flush_every` (the transform stage's background flusher writes 50 000 at
// once). Args: unique domain (ledger entry), sync on Flush, flush_every.
void BM_MappingStoreMissInsert(benchmark::State& state) {
  const bool unique = state.range(0) != 0;
  const bool sync = state.range(1) != 0;
  const int64_t flush_every = state.range(2);
  BenchMappingStore store("mapping_miss", MappingStore::Options());
  int64_t i = 0;
  for (auto _ : state) {
    const std::string original = BenchOriginal(i);
    auto found = store->Lookup("customer_email:v1", original);
    if (!found.ok() || found->has_value() ||
        !store->Record("customer_email:v1", original, BenchFake(i), unique).ok()) {
      state.SkipWithError("lookup or record failed");
      break;
    }
    if (++i % flush_every == 0 && !store->Flush(sync).ok()) {
      state.SkipWithError("flush failed");
      break;
    }
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_MappingStoreMissInsert)
    ->ArgNames({"unique", "sync", "flush_every"})
    ->Args({0, 0, 1000})
    ->Args({1, 0, 1000})
    ->Args({1, 1, 1000})
    ->Args({0, 0, 50000})
    ->Args({1, 0, 50000})
    ->MinTime(3);

// What the transform stage does per value of a unique domain: the ledger
// check-and-enter only (RecordInLedger), a Flush every `flush_every`.
void BM_MappingStoreLedgerInsert(benchmark::State& state) {
  BenchMappingStore store("mapping_ledger", MappingStore::Options());
  const int64_t flush_every = state.range(0);
  int64_t i = 0;
  for (auto _ : state) {
    if (!store->RecordInLedger("customer_email:v1", BenchOriginal(i), BenchFake(i)).ok()) {
      state.SkipWithError("record failed");
      break;
    }
    if (++i % flush_every == 0 && !store->Flush(false).ok()) {
      state.SkipWithError("flush failed");
      break;
    }
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_MappingStoreLedgerInsert)->ArgName("flush_every")->Arg(1000)->Arg(10000)->Arg(50000)->MinTime(3);

// One generated word per iteration from a shipped list (the `model`
// generator's core; its bar: >= 10 M values/s for tr_TR first names at
// order 3). Arg: the model's order. Counters: the list's size, and the
// fractions of 10k outputs that copy a training word and that are distinct.
void BM_NameModelGenerate(benchmark::State& state, const char* list) {
  const std::vector<std::string_view>& words = *LocaleList(list);
  const NameModel m = *NameModel::Train(words, {.order = static_cast<int>(state.range(0))});
  const std::set<std::string_view> known(words.begin(), words.end());
  std::set<std::string> distinct;
  std::string out;
  size_t copies = 0;
  for (uint64_t seed = 0; seed < 10000; ++seed) {
    out.clear();
    m.Generate(seed * 0x9E3779B97F4A7C15ULL, &out);
    copies += known.contains(out);
    distinct.insert(out);
  }
  uint64_t seed = 0;
  for (auto _ : state) {
    out.clear();
    m.Generate(++seed, &out);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["words"] = static_cast<double>(words.size());
  state.counters["copies"] = static_cast<double>(copies) / 10000;
  state.counters["distinct"] = static_cast<double>(distinct.size()) / 10000;
}
BENCHMARK_CAPTURE(BM_NameModelGenerate, tr_first_names, "tr_TR/first_names")->Arg(2)->Arg(3)->Arg(4);
BENCHMARK_CAPTURE(BM_NameModelGenerate, tr_streets, "tr_TR/streets")->Arg(3);
BENCHMARK_CAPTURE(BM_NameModelGenerate, de_first_names, "de_DE/first_names")->Arg(3);


}  // namespace
}  // namespace phony::transform

// Keyed mapping per value through the Transformer (PRF + generation, no
// store): one text column under `rule`, distinct originals.
static void TransformColumn(benchmark::State& state, const std::string& rule, phony::ValueKind kind) {
  auto config = phony::LoadJobConfigText(
      R"({"name": "b", "source": {"type": "postgresql", "database": "d", "user": "u"},
          "target": {"type": "postgresql", "database": "s", "user": "u"},
          "anonymization": {"secret_ref": "env://X", "locale": "en_US"},
          "tables": {"t": {"columns": {"c": )" + rule + "}}}}");
  if (!config.ok()) {
    state.SkipWithError(std::string(config.status().message()).c_str());
    return;
  }
  auto t = phony::transform::Transformer::Create(*config, "0123456789abcdef0123456789abcdef", {});
  if (!t.ok()) {
    state.SkipWithError(std::string(t.status().message()).c_str());
    return;
  }
  phony::TableSchema schema;
  schema.id = phony::TableId{"d", "public", "t"};
  schema.version = 1;
  phony::ColumnDef c;
  c.name = "c";
  c.kind = kind;
  c.type_name = kind == phony::ValueKind::kInt64 ? "bigint" : "text";
  schema.columns.push_back(c);
  if (!(*t)->LearnSchema(schema).ok()) {
    state.SkipWithError("schema");
    return;
  }
  // Distinct originals made before the clock starts (the copy into the
  // row stays in: a decoded event owns its values too).
  std::vector<std::string> inputs;
  for (int k = 0; k < 65536; ++k) inputs.push_back("person" + std::to_string(1000000 + k) + "@corp.example");
  int64_t i = 1000000;
  phony::Row row(1);
  for (auto _ : state) {
    ++i;
    row[0] = kind == phony::ValueKind::kInt64 ? phony::Value::Int64(i) : phony::Value::Text(inputs[i & 65535]);
    auto s = (*t)->TransformRow(schema.id, &row);
    benchmark::DoNotOptimize(s);
    benchmark::DoNotOptimize(row);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK_CAPTURE(TransformColumn, template_uuid_email,
                  std::string(R"({"transform": "ANONYMIZE", "generator": "template", "pattern": "{{uuid}}@example.com"})"),
                  phony::ValueKind::kText);
BENCHMARK_CAPTURE(TransformColumn, template_name_email,
                  std::string(R"({"transform": "ANONYMIZE", "generator": "template", "pattern": "{{first_name|ascii|lower}}.{{last_name|ascii|lower}}{{digits:3}}@example.com"})"),
                  phony::ValueKind::kText);
BENCHMARK_CAPTURE(TransformColumn, email_unique,
                  std::string(R"({"transform": "ANONYMIZE", "generator": "email", "unique": true})"),
                  phony::ValueKind::kText);
BENCHMARK_CAPTURE(TransformColumn, tokenize_int64, std::string(R"({"transform": "TOKENIZE"})"),
                  phony::ValueKind::kInt64);
BENCHMARK_CAPTURE(TransformColumn, model_first_name,
                  std::string(R"({"transform": "ANONYMIZE", "generator": "model", "source": "en_US/first_names"})"),
                  phony::ValueKind::kText);

BENCHMARK_MAIN();
