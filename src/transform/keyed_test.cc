#include "src/transform/keyed.h"

#include <random>
#include <set>
#include <string>
#include <unordered_set>

#include "core/testing/status_matchers.h"
#include "gtest/gtest.h"

namespace phony::transform {
namespace {

using ::phony::testing::StatusIs;

// The reference key 00 01 .. 0f, and messages 00 01 .. (i-1).
Key128 ReferenceKey() { return Key128{0x0706050403020100ULL, 0x0f0e0d0c0b0a0908ULL}; }
std::string Message(size_t len) {
  std::string m;
  for (size_t i = 0; i < len; ++i) m.push_back(static_cast<char>(i));
  return m;
}

// Vectors from the SipHash reference implementation (vectors.h).
TEST(KeyedTest, SipHashMatchesTheReferenceVectors) {
  EXPECT_EQ(SipHash64(ReferenceKey(), Message(0)), 0x726fdb47dd0e0e31ULL);
  EXPECT_EQ(SipHash64(ReferenceKey(), Message(7)), 0xab0200f58b01d137ULL);
  EXPECT_EQ(SipHash64(ReferenceKey(), Message(8)), 0x93f5f5799a932462ULL);
  EXPECT_EQ(SipHash64(ReferenceKey(), Message(15)), 0xa129ca6149be45e5ULL);
  EXPECT_EQ(SipHash64(ReferenceKey(), Message(63)), 0x958a324ceb064572ULL);
  const std::pair<size_t, std::array<uint8_t, 16>> wide[] = {
      {0, {0xa3, 0x81, 0x7f, 0x04, 0xba, 0x25, 0xa8, 0xe6, 0x6d, 0xf6, 0x72, 0x14, 0xc7, 0x55, 0x02, 0x93}},
      {1, {0xda, 0x87, 0xc1, 0xd8, 0x6b, 0x99, 0xaf, 0x44, 0x34, 0x76, 0x59, 0x11, 0x9b, 0x22, 0xfc, 0x45}},
      {7, {0xa1, 0xf1, 0xeb, 0xbe, 0xd8, 0xdb, 0xc1, 0x53, 0xc0, 0xb8, 0x4a, 0xa6, 0x1f, 0xf0, 0x82, 0x39}},
      {8, {0x3b, 0x62, 0xa9, 0xba, 0x62, 0x58, 0xf5, 0x61, 0x0f, 0x83, 0xe2, 0x64, 0xf3, 0x14, 0x97, 0xb4}},
      {15, {0x54, 0x93, 0xe9, 0x99, 0x33, 0xb0, 0xa8, 0x11, 0x7e, 0x08, 0xec, 0x0f, 0x97, 0xcf, 0xc3, 0xd9}},
      {63, {0x51, 0x50, 0xd1, 0x77, 0x2f, 0x50, 0x83, 0x4a, 0x50, 0x3e, 0x06, 0x9a, 0x97, 0x3f, 0xbd, 0x7c}},
  };
  for (const auto& [len, want] : wide) EXPECT_EQ(SipHash128(ReferenceKey(), Message(len)), want) << "length " << len;
}

TEST(KeyedTest, DerivedKeysDependOnSecretAndPurposeOnly) {
  ASSERT_OK_AND_ASSIGN(Key128 a, DeriveKey("0123456789abcdef0123456789abcdef", "domain:email:v1"));
  ASSERT_OK_AND_ASSIGN(Key128 again, DeriveKey("0123456789abcdef0123456789abcdef", "domain:email:v1"));
  ASSERT_OK_AND_ASSIGN(Key128 other_purpose, DeriveKey("0123456789abcdef0123456789abcdef", "domain:email:v2"));
  ASSERT_OK_AND_ASSIGN(Key128 other_secret, DeriveKey("0123456789abcdef0123456789abcdeF", "domain:email:v1"));
  EXPECT_EQ(a, again);
  EXPECT_FALSE(a == other_purpose);
  EXPECT_FALSE(a == other_secret);
  EXPECT_THAT(DeriveKey("", "x").status(), StatusIs(absl::StatusCode::kInvalidArgument));
}

DigitTokenizer Tokenizer(const char* purpose = "tokenize:test:v1") {
  return DigitTokenizer(*DeriveKey("0123456789abcdef0123456789abcdef", purpose));
}

// Every length up to 4 digits, exhaustively: a permutation, inverted by Decrypt.
TEST(KeyedTest, DigitTokenizerIsABijectionOnEachLength) {
  const DigitTokenizer t = Tokenizer();
  for (size_t n = 1; n <= 4; ++n) {
    size_t count = 1;
    for (size_t i = 0; i < n; ++i) count *= 10;
    std::set<std::string> outputs;
    size_t fixed_points = 0;
    for (size_t x = 0; x < count; ++x) {
      std::string in = std::to_string(x);
      in.insert(0, n - in.size(), '0');
      ASSERT_OK_AND_ASSIGN(std::string out, t.Encrypt(in));
      ASSERT_EQ(out.size(), n);
      ASSERT_EQ(out.find_first_not_of("0123456789"), std::string::npos);
      ASSERT_OK_AND_ASSIGN(std::string back, t.Decrypt(out));
      ASSERT_EQ(back, in);
      fixed_points += out == in;
      outputs.insert(out);
    }
    EXPECT_EQ(outputs.size(), count) << "length " << n;
    EXPECT_LT(fixed_points, count / 5 + 2) << "length " << n << " looks like the identity";
  }
}

TEST(KeyedTest, DigitTokenizerLongStringsKeysAndErrors) {
  const DigitTokenizer t = Tokenizer(), other = Tokenizer("tokenize:other:v1");
  const std::string card = "4111111111111111";
  ASSERT_OK_AND_ASSIGN(std::string a, t.Encrypt(card));
  ASSERT_OK_AND_ASSIGN(std::string b, other.Encrypt(card));
  EXPECT_EQ(a.size(), card.size());
  EXPECT_NE(a, card);
  EXPECT_NE(a, b) << "another key, another permutation";
  EXPECT_EQ(*Tokenizer().Encrypt(card), a) << "deterministic across instances";
  const std::string longest(DigitTokenizer::kMaxDigits, '7');
  ASSERT_OK_AND_ASSIGN(std::string l, t.Encrypt(longest));
  EXPECT_EQ(*t.Decrypt(l), longest);
  EXPECT_THAT(t.Encrypt(std::string(DigitTokenizer::kMaxDigits + 1, '1')).status(),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(t.Encrypt("12a4").status(), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(t.Encrypt("").status(), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(KeyedTest, IntegerIdsKeepSignAndDigitCountAndNeverCollide) {
  const DigitTokenizer t = Tokenizer();
  // Exhaustive over every 1-, 2- and 3-digit id, both signs.
  std::set<int64_t> seen;
  for (int64_t v = -999; v <= 999; ++v) {
    const int64_t out = t.TokenizeInt64(v);
    EXPECT_EQ(out < 0, v < 0) << v;
    EXPECT_EQ(std::to_string(out < 0 ? -out : out).size(), std::to_string(v < 0 ? -v : v).size()) << v;
    seen.insert(out);
  }
  EXPECT_EQ(seen.size(), 1999u);
  // The edges of int64 stay inside it.
  for (int64_t v : {INT64_MAX, INT64_MAX - 1, INT64_MIN, INT64_MIN + 1, int64_t{1000000000000000000}}) {
    const int64_t out = t.TokenizeInt64(v);
    EXPECT_EQ(out < 0, v < 0);
    EXPECT_EQ(std::to_string(out).size(), std::to_string(v).size()) << v;
  }
  // A million distinct ids into a unique domain: no collision.
  std::unordered_set<int64_t> outputs;
  outputs.reserve(1 << 21);
  std::mt19937_64 rng(7);
  std::unordered_set<int64_t> inputs;
  while (inputs.size() < 1000000) inputs.insert(static_cast<int64_t>(rng() >> 1));
  for (int64_t v : inputs) outputs.insert(t.TokenizeInt64(v));
  EXPECT_EQ(outputs.size(), inputs.size());
}

}  // namespace
}  // namespace phony::transform
