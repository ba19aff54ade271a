#include "src/capture/postgres/pg_values.h"

#include <cmath>
#include <limits>

#include "core/testing/status_matchers.h"
#include "gtest/gtest.h"

namespace phony::pg {
namespace {

using ::phony::testing::StatusIs;
using ::testing::HasSubstr;

Value Parse(uint32_t oid, std::string_view text) {
  auto v = ParseTextValue(oid, text);
  EXPECT_TRUE(v.ok()) << oid << " '" << text << "': " << v.status();
  return v.ok() ? *v : Value();
}

TEST(PgValuesTest, Calendar) {
  EXPECT_EQ(DaysFromCivil(1970, 1, 1), 0);
  EXPECT_EQ(DaysFromCivil(2000, 1, 1), 10957);
  EXPECT_EQ(DaysFromCivil(2000, 3, 1), 11017);  // leap year
  EXPECT_EQ(DaysFromCivil(1969, 12, 31), -1);
  EXPECT_EQ(DaysFromCivil(0, 1, 1), -719528);   // 1 BC
  // Julian day 0, PostgreSQL's earliest date 4714-11-24 BC (astronomical -4713).
  EXPECT_EQ(DaysFromCivil(-4713, 11, 24), -2440588);
}

TEST(PgValuesTest, Scalars) {
  EXPECT_EQ(Parse(kBoolOid, "t"), Value::Bool(true));
  EXPECT_EQ(Parse(kBoolOid, "f"), Value::Bool(false));
  EXPECT_EQ(Parse(kInt2Oid, "-32768"), Value::Int64(-32768));
  EXPECT_EQ(Parse(kInt4Oid, "2147483647"), Value::Int64(2147483647));
  EXPECT_EQ(Parse(kInt8Oid, "-9223372036854775808"), Value::Int64(INT64_MIN));
  EXPECT_EQ(Parse(kOidOid, "4294967295"), Value::Int64(4294967295));
  EXPECT_EQ(Parse(kFloat8Oid, "1.5e-310"), Value::Double(1.5e-310));
  EXPECT_EQ(Parse(kFloat8Oid, "-Infinity"), Value::Double(-std::numeric_limits<double>::infinity()));
  EXPECT_EQ(Parse(kFloat4Oid, "NaN"), Value::Double(std::numeric_limits<double>::quiet_NaN()));
  EXPECT_EQ(Parse(kFloat4Oid, "3.4028235e+38"), Value::Double(3.4028235e+38));
  EXPECT_EQ(Parse(kNumericOid, "-0.000100"), Value::Decimal("-0.000100"));
  EXPECT_EQ(Parse(kNumericOid, "Infinity"), Value::Decimal("Infinity"));
  EXPECT_EQ(Parse(kNumericOid, "NaN"), Value::Decimal("NaN"));
  EXPECT_EQ(Parse(kByteaOid, "\\x00ff10"), Value::Bytes(std::string("\x00\xff\x10", 3)));
  EXPECT_EQ(Parse(kByteaOid, "\\x"), Value::Bytes(""));
  EXPECT_EQ(Parse(kUuidOid, "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11").DebugString(),
            "uuid:a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11");
  EXPECT_EQ(Parse(kJsonbOid, "{\"a\": 1}"), Value::Json("{\"a\": 1}"));
  EXPECT_EQ(Parse(kTextOid, "plain"), Value::Text("plain"));
  // Unknown and pass-through types keep the server's text.
  EXPECT_EQ(Parse(869 /* inet */, "192.168.0.1/24"), Value::Text("192.168.0.1/24"));
  EXPECT_EQ(Parse(1007 /* _int4 */, "{1,2,NULL}"), Value::Text("{1,2,NULL}"));
  EXPECT_EQ(Parse(99999, "whatever"), Value::Text("whatever"));
  EXPECT_EQ(KindForType(1007), ValueKind::kText);
  EXPECT_EQ(KindForType(kTimestampTzOid), ValueKind::kTimestampTz);
}

TEST(PgValuesTest, DatesAndTimes) {
  EXPECT_EQ(Parse(kDateOid, "1970-01-02"), Value::Date(1));
  EXPECT_EQ(Parse(kDateOid, "0001-01-01 BC"), Value::Date(-719528));
  EXPECT_EQ(Parse(kDateOid, "infinity"), Value::Date(kDatePosInfinity));
  EXPECT_EQ(Parse(kDateOid, "-infinity"), Value::Date(kDateNegInfinity));
  EXPECT_EQ(Parse(kDateOid, "10000-01-01"), Value::Date(static_cast<int32_t>(DaysFromCivil(10000, 1, 1))));
  EXPECT_EQ(Parse(kTimeOid, "13:45:06.5"), Value::Time((13 * 3600 + 45 * 60 + 6) * 1000000LL + 500000));
  EXPECT_EQ(Parse(kTimeOid, "24:00:00"), Value::Time(86400000000LL));
  EXPECT_EQ(Parse(kTimeTzOid, "13:45:06+05:30"), Value::TimeTz((13 * 3600 + 45 * 60 + 6) * 1000000LL, 19800));
  EXPECT_EQ(Parse(kTimeTzOid, "00:00:01-08"), Value::TimeTz(1000000, -28800));
  EXPECT_EQ(Parse(kTimestampOid, "2000-01-01 00:00:00"), Value::Timestamp(946684800000000LL));
  EXPECT_EQ(Parse(kTimestampOid, "1969-12-31 23:59:59.999999"), Value::Timestamp(-1));
  EXPECT_EQ(Parse(kTimestampTzOid, "2000-01-01 00:00:00+00"), Value::TimestampTz(946684800000000LL));
  EXPECT_EQ(Parse(kTimestampTzOid, "2000-01-01 02:00:00+02"), Value::TimestampTz(946684800000000LL));
  EXPECT_EQ(Parse(kTimestampTzOid, "infinity"), Value::TimestampTz(kTimestampPosInfinity));
  EXPECT_EQ(Parse(kTimestampOid, "-infinity"), Value::Timestamp(kTimestampNegInfinity));
  EXPECT_EQ(Parse(kTimestampOid, "0044-03-15 12:00:00 BC"),
            Value::Timestamp(DaysFromCivil(-43, 3, 15) * 86400000000LL + 12 * 3600000000LL));
}

TEST(PgValuesTest, Intervals) {
  EXPECT_EQ(Parse(kIntervalOid, "P1Y2M3DT4H5M6.5S"),
            Value::MakeInterval({14, 3, (4 * 3600 + 5 * 60 + 6) * 1000000LL + 500000}));
  EXPECT_EQ(Parse(kIntervalOid, "PT0S"), Value::MakeInterval({0, 0, 0}));
  EXPECT_EQ(Parse(kIntervalOid, "P-1Y-2M3DT-4H-5M-6.000001S"),
            Value::MakeInterval({-14, 3, -(4 * 3600 + 5 * 60 + 6) * 1000000LL - 1}));
  EXPECT_EQ(Parse(kIntervalOid, "P2W"), Value::MakeInterval({0, 14, 0}));
}

TEST(PgValuesTest, MalformedTextIsDataLossWithoutTheValue) {
  struct Case {
    uint32_t oid;
    const char* text;
    const char* why;
  };
  for (const Case& c : {Case{kBoolOid, "yes", "not t or f"}, Case{kInt2Oid, "40000", "not an integer"},
                        Case{kInt4Oid, "12x", "not an integer"}, Case{kFloat8Oid, "1.2.3", "not a number"},
                        Case{kNumericOid, "1e5", "not a decimal"}, Case{kByteaOid, "abc", "hex"},
                        Case{kByteaOid, "\\x0g", "bad hex"}, Case{kDateOid, "2023-13-01", "YYYY-MM-DD"},
                        Case{kDateOid, "0000-01-01 BC", "YYYY-MM-DD"},
                        Case{kTimeOid, "25:00:00", "HH:MM:SS"}, Case{kTimeOid, "12:00:00.1234567", "HH:MM:SS"},
                        Case{kTimestampTzOid, "2000-01-01 00:00:00", "zone"},
                        Case{kTimestampOid, "2000-01-01T00:00:00", "YYYY-MM-DD HH"},
                        Case{kIntervalOid, "1 day", "ISO 8601"}, Case{kIntervalOid, "P1.5D", "fraction"},
                        Case{kUuidOid, "not-a-uuid", "8-4-4-4-12"}}) {
    auto v = ParseTextValue(c.oid, c.text);
    EXPECT_THAT(v.status(), StatusIs(absl::StatusCode::kDataLoss, HasSubstr(c.why))) << c.text;
    if (!v.ok() && std::string(c.text).size() > 3) {
      EXPECT_EQ(std::string(v.status().message()).find(c.text), std::string::npos)
          << "error messages must not carry row values";
    }
  }
}

std::string Be(std::initializer_list<int> bytes) {
  std::string out;
  for (int b : bytes) out.push_back(static_cast<char>(b));
  return out;
}

TEST(PgValuesTest, BinaryNumeric) {
  // 12345.678: ndigits 3, weight 1, sign +, dscale 3; digits 1, 2345, 6780
  auto v = ParseBinaryValue(kNumericOid, Be({0, 3, 0, 1, 0, 0, 0, 3, 0, 1, 0x09, 0x29, 0x1A, 0x7C}));
  ASSERT_OK(v.status());
  EXPECT_EQ(*v, Value::Decimal("12345.678"));
  // -0.0012: ndigits 1, weight -1, sign -, dscale 4; digit 12
  v = ParseBinaryValue(kNumericOid, Be({0, 1, 0xFF, 0xFF, 0x40, 0, 0, 4, 0, 12}));
  ASSERT_OK(v.status());
  EXPECT_EQ(*v, Value::Decimal("-0.0012"));
  // zero with scale 2: no digits
  v = ParseBinaryValue(kNumericOid, Be({0, 0, 0, 0, 0, 0, 0, 2}));
  ASSERT_OK(v.status());
  EXPECT_EQ(*v, Value::Decimal("0.00"));
  v = ParseBinaryValue(kNumericOid, Be({0, 0, 0, 0, 0xC0, 0, 0, 0}));
  EXPECT_EQ(*v, Value::Decimal("NaN"));
}

TEST(PgValuesTest, BinaryScalarsAndBadInput) {
  EXPECT_EQ(*ParseBinaryValue(kInt4Oid, Be({0xFF, 0xFF, 0xFF, 0xFE})), Value::Int64(-2));
  EXPECT_EQ(*ParseBinaryValue(kDateOid, Be({0, 0, 0, 0})), Value::Date(10957));  // 2000-01-01
  EXPECT_EQ(*ParseBinaryValue(kDateOid, Be({0x7F, 0xFF, 0xFF, 0xFF})), Value::Date(kDatePosInfinity));
  EXPECT_EQ(*ParseBinaryValue(kTimestampTzOid, Be({0, 0, 0, 0, 0, 0, 0, 0})),
            Value::TimestampTz(946684800000000LL));
  EXPECT_EQ(*ParseBinaryValue(kTimeTzOid, Be({0, 0, 0, 0, 0, 0, 0, 1, 0xFF, 0xFF, 0xB9, 0xB0})),
            Value::TimeTz(1, 18000));  // zone sent as seconds west: -18000 → +05:00
  EXPECT_EQ(*ParseBinaryValue(kJsonbOid, Be({1, '{', '}'})), Value::Json("{}"));
  EXPECT_THAT(ParseBinaryValue(kInt4Oid, Be({0, 0, 1})).status(), StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_THAT(ParseBinaryValue(kInt2Oid, Be({0, 0, 1})).status(),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("1 trailing bytes")));
  EXPECT_THAT(ParseBinaryValue(kJsonbOid, Be({2, '{', '}'})).status(),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("jsonb version 2")));
  EXPECT_EQ(*ParseBinaryValue(kInetOid, Be({2, 32, 0, 4, 1, 2, 3, 4})), Value::Text("1.2.3.4"));
  EXPECT_EQ(*ParseBinaryValue(kCidrOid, Be({2, 8, 1, 4, 10, 0, 0, 0})), Value::Text("10.0.0.0/8"));
  EXPECT_EQ(*ParseBinaryValue(kInetOid, Be({3, 128, 0, 16, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1})),
            Value::Text("::1"));
  EXPECT_EQ(*ParseBinaryValue(kVarbitOid, Be({0, 0, 0, 5, 0xB0})), Value::Text("10110"));
  EXPECT_THAT(ParseBinaryValue(kInetOid, Be({7, 32, 0, 4, 1, 2, 3, 4})).status(),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("bad inet header")));
  EXPECT_THAT(ParseBinaryValue(1007 /* int4[] */, Be({0, 0, 0, 0})).status(),
              StatusIs(absl::StatusCode::kUnimplemented, HasSubstr("text mode")));
  EXPECT_FALSE(SupportsBinary(1007));
  EXPECT_TRUE(SupportsBinary(kInetOid));
  EXPECT_TRUE(SupportsBinary(kNumericOid));
}

}  // namespace
}  // namespace phony::pg
