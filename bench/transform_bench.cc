// The transformer's keyed primitives, one core (issue #5's bar: keyed
// mapping >= 3 M values/s for TOKENIZE and template email): the PRF alone,
// TOKENIZE of integer ids and 16-digit strings, MASK, HASH and a card fake.
#include <string>

#include "benchmark/benchmark.h"
#include "src/transform/check_digits.h"
#include "src/transform/keyed.h"
#include "src/transform/rules.h"

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

}  // namespace
}  // namespace phony::transform

BENCHMARK_MAIN();
