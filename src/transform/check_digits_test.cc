#include "src/transform/check_digits.h"

#include <set>
#include <string>

#include "core/testing/status_matchers.h"
#include "gtest/gtest.h"

namespace phony::transform {
namespace {

using ::phony::testing::StatusIs;

DigitTokenizer Tokenizer() { return DigitTokenizer(*DeriveKey("0123456789abcdef0123456789abcdef", "domain:pii:v1")); }

TEST(CheckDigitsTest, Validators) {
  EXPECT_TRUE(LuhnValid("4111111111111111"));
  EXPECT_TRUE(LuhnValid("79927398713"));
  EXPECT_FALSE(LuhnValid("4111111111111112"));
  EXPECT_FALSE(LuhnValid("4111 1111"));
  EXPECT_TRUE(TcKimlikValid("10000000146"));
  EXPECT_FALSE(TcKimlikValid("10000000147"));
  EXPECT_FALSE(TcKimlikValid("00000000146"));
  EXPECT_TRUE(IbanValid("GB82 WEST 1234 5698 7654 32"));
  EXPECT_TRUE(IbanValid("TR330006100519786457841326"));
  EXPECT_FALSE(IbanValid("GB82 WEST 1234 5698 7654 33"));
}

TEST(CheckDigitsTest, CardsAreValidTestNumbersOfTheSameShapeAndNeverCollide) {
  const DigitTokenizer t = Tokenizer();
  ASSERT_OK_AND_ASSIGN(std::string visa, FakeCardNumber(t, "4556-7375-8689-9855"));
  EXPECT_EQ(visa.size(), 19u);
  EXPECT_EQ(visa.substr(0, 7), "4000-00");
  EXPECT_EQ(visa[4], '-');
  std::string digits;
  for (char c : visa) {
    if (c != '-') digits.push_back(c);
  }
  EXPECT_TRUE(LuhnValid(digits)) << visa;
  EXPECT_EQ(*FakeCardNumber(Tokenizer(), "4556-7375-8689-9855"), visa) << "deterministic";
  ASSERT_OK_AND_ASSIGN(std::string amex, FakeCardNumber(t, "378282246310005"));
  EXPECT_EQ(amex.size(), 15u);
  EXPECT_EQ(amex.substr(0, 2), "37");
  EXPECT_TRUE(LuhnValid(amex));
  std::set<std::string> seen;
  for (int i = 0; i < 10000; ++i) {
    std::string pan = "4556737" + std::to_string(10000000 + i);  // valid originals of one BIN
    pan.push_back(LuhnCheckDigit(pan));
    auto fake = FakeCardNumber(t, pan);
    ASSERT_OK(fake.status());
    EXPECT_TRUE(LuhnValid(*fake));
    seen.insert(*fake);
  }
  EXPECT_EQ(seen.size(), 10000u) << "distinct accounts of a BIN stay distinct";
  EXPECT_THAT(FakeCardNumber(t, "12345").status(), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(CheckDigitsTest, TcKimlikFakesAreValidAndDistinct) {
  const DigitTokenizer t = Tokenizer();
  std::set<std::string> seen;
  for (int64_t body = 100000000; body < 100010000; ++body) {
    std::string original = std::to_string(body);
    // Complete a valid original.
    auto v = [&](size_t i) { return original[i] - '0'; };
    original.push_back(static_cast<char>('0' + (((v(0) + v(2) + v(4) + v(6) + v(8)) * 7 - (v(1) + v(3) + v(5) + v(7))) % 10 + 10) % 10));
    int sum = 0;
    for (char c : original) sum += c - '0';
    original.push_back(static_cast<char>('0' + sum % 10));
    ASSERT_TRUE(TcKimlikValid(original)) << original;
    ASSERT_OK_AND_ASSIGN(std::string fake, FakeTcKimlik(t, original));
    ASSERT_TRUE(TcKimlikValid(fake)) << fake;
    seen.insert(fake);
  }
  EXPECT_EQ(seen.size(), 10000u);
  EXPECT_THAT(FakeTcKimlik(t, "123").status(), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(CheckDigitsTest, IbanFakesKeepCountryLettersAndSpacesAndValidate) {
  const DigitTokenizer t = Tokenizer();
  ASSERT_OK_AND_ASSIGN(std::string gb, FakeIban(t, "GB82 WEST 1234 5698 7654 32"));
  EXPECT_EQ(gb.size(), 27u);
  EXPECT_EQ(gb.substr(0, 2), "GB");
  EXPECT_EQ(gb.substr(5, 4), "WEST");
  EXPECT_EQ(gb[4], ' ');
  EXPECT_TRUE(IbanValid(gb)) << gb;
  EXPECT_NE(gb, "GB82 WEST 1234 5698 7654 32");
  std::set<std::string> seen;
  for (int i = 0; i < 5000; ++i) {
    std::string bban = "00061005" + std::to_string(19786457841326LL + i * 7919);
    std::string iban = "TR00" + bban;
    auto fake = FakeIban(t, iban);  // the original's own check digits do not matter
    ASSERT_OK(fake.status());
    EXPECT_TRUE(IbanValid(*fake)) << *fake;
    seen.insert(*fake);
  }
  EXPECT_EQ(seen.size(), 5000u);
  EXPECT_THAT(FakeIban(t, "not an iban").status(), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(CheckDigitsTest, SsnFakesAreNeverIssuedNumbers) {
  const DigitTokenizer t = Tokenizer();
  for (int i = 0; i < 1000; ++i) {
    const std::string original = std::to_string(123450000 + i * 37);
    ASSERT_OK_AND_ASSIGN(std::string fake, FakeSsn(t, original));
    ASSERT_EQ(fake.size(), 11u);
    EXPECT_EQ(fake[0], '9') << "area 900-999 is never issued";
    EXPECT_NE(fake.substr(4, 2), "00");
    EXPECT_NE(fake.substr(7, 4), "0000");
    EXPECT_EQ(*FakeSsn(t, original), fake);
  }
}

}  // namespace
}  // namespace phony::transform
