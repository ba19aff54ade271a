#include "src/transform/rules.h"

#include <map>
#include <set>

#include "core/testing/status_matchers.h"
#include "gtest/gtest.h"

namespace phony::transform {
namespace {

using ::phony::testing::StatusIs;
using ::testing::HasSubstr;

Key128 Key(const char* purpose = "domain:phone:v1") {
  return *DeriveKey("0123456789abcdef0123456789abcdef", purpose);
}

TEST(RulesTest, MaskKeepsLiteralsStarsAndTheRequestedEnds) {
  ASSERT_OK_AND_ASSIGN(MaskPattern m, MaskPattern::Parse("+90 5** *** **{last2}"));
  EXPECT_EQ(m.Apply("+90 532 123 45 67", Key()), "+90 5** *** **67");
  ASSERT_OK_AND_ASSIGN(MaskPattern email, MaskPattern::Parse("{first1}***@\\#{last4}"));
  EXPECT_EQ(email.Apply("jane@corp.com", Key()), "j***@#.com");
  // Code points, not bytes.
  ASSERT_OK_AND_ASSIGN(MaskPattern first2, MaskPattern::Parse("{first2}-{last1}"));
  EXPECT_EQ(first2.Apply("çağrı", Key()), "ça-ı");
  EXPECT_EQ(first2.Apply("x", Key()), "x-x") << "shorter originals give what they have";
}

TEST(RulesTest, MaskDigitsAreKeyedAndDeterministic) {
  ASSERT_OK_AND_ASSIGN(MaskPattern m, MaskPattern::Parse("5## ### ## ##"));
  const std::string a = m.Apply("+90 532 123 45 67", Key());
  EXPECT_EQ(a.size(), 13u);
  EXPECT_EQ(a[0], '5');
  EXPECT_EQ(a.find_first_not_of("0123456789 "), std::string::npos);
  EXPECT_EQ(m.Apply("+90 532 123 45 67", Key()), a) << "same original, same digits";
  EXPECT_NE(m.Apply("+90 532 123 45 68", Key()), a);
  EXPECT_NE(m.Apply("+90 532 123 45 67", Key("domain:other:v1")), a) << "another key, other digits";
  // More than 32 digits draw fresh keyed bytes.
  ASSERT_OK_AND_ASSIGN(MaskPattern many, MaskPattern::Parse(std::string(70, '#')));
  const std::string long_digits = many.Apply("x", Key());
  EXPECT_EQ(long_digits.size(), 70u);
  EXPECT_NE(long_digits.substr(0, 32), long_digits.substr(32, 32));
}

TEST(RulesTest, BadMaskPatternsNameTheProblem) {
  EXPECT_THAT(MaskPattern::Parse("ab{last2").status(), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("position 2 is not closed")));
  EXPECT_THAT(MaskPattern::Parse("{middle3}").status(), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("not {firstN} or {lastN}")));
  EXPECT_THAT(MaskPattern::Parse("{last}").status(), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("count")));
  EXPECT_THAT(MaskPattern::Parse("abc\\").status(), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("escapes nothing")));
  EXPECT_THAT(MaskPattern::Parse("").status(), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("empty")));
}

TEST(RulesTest, KeyedHashFormatsLengthsAndKeys) {
  ASSERT_OK_AND_ASSIGN(std::string hex, KeyedHash(Key(), "jane@corp.com", HashFormat::kHex, 64));
  EXPECT_EQ(hex.size(), 64u);
  EXPECT_EQ(hex.find_first_not_of("0123456789abcdef"), std::string::npos);
  ASSERT_OK_AND_ASSIGN(std::string hex16, KeyedHash(Key(), "jane@corp.com", HashFormat::kHex, 16));
  EXPECT_EQ(hex16, hex.substr(0, 16));
  ASSERT_OK_AND_ASSIGN(std::string b32, KeyedHash(Key(), "jane@corp.com", HashFormat::kBase32, 51));
  EXPECT_EQ(b32.find_first_not_of("abcdefghijklmnopqrstuvwxyz234567"), std::string::npos);
  EXPECT_NE(*KeyedHash(Key("domain:x:v1"), "jane@corp.com", HashFormat::kHex, 64), hex);
  EXPECT_THAT(KeyedHash(Key(), "x", HashFormat::kHex, 65).status(), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(KeyedHash(Key(), "x", HashFormat::kBase32, 0).status(), StatusIs(absl::StatusCode::kInvalidArgument));
  // 100 000 values at 16 hex characters (64 bits): no collision.
  std::set<std::string> seen;
  for (int i = 0; i < 100000; ++i) seen.insert(*KeyedHash(Key(), "user" + std::to_string(i), HashFormat::kHex, 16));
  EXPECT_EQ(seen.size(), 100000u);
}

TEST(RulesTest, DateShiftIsKeyedPerEntityBoundedAndNeverZero) {
  const Key128 k = Key("domain:birth:v1");
  std::map<int32_t, int> histogram;
  for (int i = 0; i < 20000; ++i) {
    ASSERT_OK_AND_ASSIGN(int32_t shift, ShiftDays(k, "customer-" + std::to_string(i), 30));
    ASSERT_GE(shift, -30);
    ASSERT_LE(shift, 30);
    ASSERT_NE(shift, 0);
    ++histogram[shift];
  }
  EXPECT_EQ(histogram.size(), 60u) << "every nonzero shift occurs";
  for (const auto& [shift, count] : histogram) EXPECT_GT(count, 200) << shift;  // ~333 each
  EXPECT_EQ(*ShiftDays(k, "customer-7", 30), *ShiftDays(k, "customer-7", 30)) << "one entity, one shift";
  EXPECT_THAT(ShiftDays(k, "x", 0).status(), StatusIs(absl::StatusCode::kInvalidArgument));

  // Every date of an entity moves by the same amount: intervals survive.
  const int32_t shift = *ShiftDays(k, "customer-7", 30);
  ASSERT_OK_AND_ASSIGN(Value born, ShiftDate(Value::Date(7000), shift));
  ASSERT_OK_AND_ASSIGN(Value joined, ShiftDate(Value::Timestamp(7100LL * 86400 * 1000000 + 5), shift));
  EXPECT_EQ(born, Value::Date(7000 + shift));
  EXPECT_EQ(joined.int64_value() - static_cast<int64_t>(born.date_value()) * 86400 * 1000000,
            100LL * 86400 * 1000000 + 5);
  EXPECT_EQ(*ShiftDate(Value::Date(kDatePosInfinity), shift), Value::Date(kDatePosInfinity));
  EXPECT_EQ(*ShiftDate(Value::TimestampTz(kTimestampNegInfinity), shift), Value::TimestampTz(kTimestampNegInfinity));
  EXPECT_TRUE(ShiftDate(Value::Unchanged(), shift)->is_unchanged());
  EXPECT_THAT(ShiftDate(Value::Text("2024-01-01"), shift).status(), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ShiftDate(Value::Timestamp(INT64_MAX - 5), 30).status(), StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace phony::transform
