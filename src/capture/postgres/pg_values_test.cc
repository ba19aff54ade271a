#include "src/capture/postgres/pg_values.h"

#include <cmath>
#include <limits>

#include "core/byte_reader.h"
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
  EXPECT_THAT(ParseBinaryValue(99999 /* a user type, no catalog */, Be({0, 0, 0, 0})).status(),
              StatusIs(absl::StatusCode::kUnimplemented, HasSubstr("text mode")));
  EXPECT_FALSE(SupportsBinary(99999));
  EXPECT_TRUE(SupportsBinary(kInetOid));
  EXPECT_TRUE(SupportsBinary(kNumericOid));
}

// PostgreSQL's output text of a value, through the value its text parses to:
// every canonical output string must come back unchanged.
TEST(PgValuesTest, TextOutInvertsTheTextParser) {
  const std::pair<uint32_t, const char*> cases[] = {
      {kBoolOid, "t"}, {kBoolOid, "f"}, {kInt8Oid, "-9223372036854775808"},
      {kFloat8Oid, "0.1"}, {kFloat8Oid, "1e+20"}, {kFloat8Oid, "123456789012345"}, {kFloat8Oid, "1e+15"},
      {kFloat8Oid, "1e-05"}, {kFloat8Oid, "0.0001"}, {kFloat8Oid, "-0"}, {kFloat8Oid, "5e-324"},
      {kFloat8Oid, "-1.7976931348623157e+308"}, {kFloat8Oid, "NaN"}, {kFloat8Oid, "-Infinity"},
      {kFloat4Oid, "1e+06"}, {kFloat4Oid, "123456"}, {kFloat4Oid, "3.4028235e+38"}, {kFloat4Oid, "1.5"},
      {kNumericOid, "-0.000100"}, {kByteaOid, "\\x00ff"}, {kByteaOid, "\\x"},
      {kDateOid, "2024-02-29"}, {kDateOid, "0044-03-15 BC"}, {kDateOid, "infinity"}, {kDateOid, "10000-01-01"},
      {kTimeOid, "24:00:00"}, {kTimeOid, "13:45:06.78"}, {kTimeTzOid, "13:45:06.789+05:30"},
      {kTimeTzOid, "00:00:01-15:59"}, {kTimeTzOid, "12:00:00+00"},
      {kTimestampOid, "2024-02-29 13:45:06.123456"}, {kTimestampOid, "0044-03-15 12:00:00 BC"},
      {kTimestampTzOid, "1999-12-31 23:59:59.5+00"}, {kTimestampTzOid, "-infinity"},
      {kIntervalOid, "P1Y2M3DT4H5M6.5S"}, {kIntervalOid, "P-1Y-2M3DT-4H-5M-6.000001S"},
      {kIntervalOid, "PT0S"}, {kIntervalOid, "P14D"}, {kIntervalOid, "PT-0.25S"},
      {kUuidOid, "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"}, {kJsonbOid, "{\"a\": 1}"},
  };
  for (const auto& [oid, text] : cases) {
    auto v = ParseTextValue(oid, text);
    ASSERT_TRUE(v.ok()) << text << ": " << v.status();
    EXPECT_EQ(PgTextOut(oid, *v), text) << "type " << oid;
  }
}

// array_send of int4[]: ndim, has-nulls flag, element type, (size, lower
// bound) per dimension, then length-prefixed elements.
std::string Int4Array(std::vector<std::pair<int32_t, int32_t>> dims, std::vector<int32_t> elems,
                      uint32_t elem_oid = kInt4Oid) {
  std::string b;
  PutU32BE(&b, static_cast<uint32_t>(dims.size()));
  PutU32BE(&b, 1);
  PutU32BE(&b, elem_oid);
  for (auto [size, lb] : dims) {
    PutU32BE(&b, static_cast<uint32_t>(size));
    PutU32BE(&b, static_cast<uint32_t>(lb));
  }
  for (int32_t e : elems) {
    if (e == INT32_MIN) {  // NULL
      PutU32BE(&b, 0xFFFFFFFF);
      continue;
    }
    PutU32BE(&b, 4);
    PutU32BE(&b, static_cast<uint32_t>(e));
  }
  return b;
}

TEST(PgValuesTest, BinaryContainers) {
  EXPECT_EQ(*ParseBinaryValue(1007, Int4Array({{3, 1}}, {1, INT32_MIN, -3})), Value::Text("{1,NULL,-3}"));
  EXPECT_EQ(*ParseBinaryValue(1007, Int4Array({{2, 0}, {2, 1}}, {1, 2, 3, 4})),
            Value::Text("[0:1][1:2]={{1,2},{3,4}}"));
  EXPECT_EQ(*ParseBinaryValue(1007, Int4Array({}, {})), Value::Text("{}"));
  EXPECT_THAT(ParseBinaryValue(1007, Int4Array({{3, 1}}, {1, 2})).status(),
              StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_THAT(ParseBinaryValue(1007, Int4Array({{1, 1}}, {1}, kInt8Oid)).status(),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("element type 20")));
  EXPECT_THAT(ParseBinaryValue(1007, Int4Array({{1, 1}, {1, 1}, {1, 1}, {1, 1}, {1, 1}, {1, 1}, {1, 1}}, {1}))
                  .status(),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("dimensions")));
  EXPECT_THAT(ParseBinaryValue(1007, Int4Array({{1 << 30, 1}}, {1})).status(),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("more elements than bytes")));
  // int4range [1,10): flags LB_INC, then each bound.
  std::string range = Be({0x02, 0, 0, 0, 4, 0, 0, 0, 1, 0, 0, 0, 4, 0, 0, 0, 10});
  EXPECT_EQ(*ParseBinaryValue(3904, range), Value::Text("[1,10)"));
  EXPECT_EQ(*ParseBinaryValue(3904, Be({0x01})), Value::Text("empty"));
  EXPECT_EQ(*ParseBinaryValue(kMoneyOid, Be({0xFF, 0xFF, 0xFF, 0xFF, 0xF8, 0xA4, 0x32, 0xEB})),
            Value::Text("-$1,234,567.89"));
  EXPECT_EQ(*ParseBinaryValue(kMoneyOid, Be({0, 0, 0, 0, 0, 0, 0, 5})), Value::Text("$0.05"));
  std::string point;
  PutU64BE(&point, 0x3FF8000000000000ULL);  // 1.5
  PutU64BE(&point, 0xC000000000000000ULL);  // -2
  EXPECT_EQ(*ParseBinaryValue(kPointOid, point), Value::Text("(1.5,-2)"));

  // Catalog-defined types through a lookup: a domain over int4 decodes as
  // int4; an enum is its label; an array of the enum quotes what needs it.
  int lookups = 0;
  PgTypeCache types([&](uint32_t oid) -> absl::StatusOr<PgTypeInfo> {
    ++lookups;
    if (oid == 20000) return PgTypeInfo{.kind = PgTypeInfo::Kind::kDomain, .target = kInt4Oid, .name = "d"};
    if (oid == 20001) return PgTypeInfo{.kind = PgTypeInfo::Kind::kEnum, .name = "mood"};
    if (oid == 20002) return PgTypeInfo{.kind = PgTypeInfo::Kind::kArray, .target = 20001, .name = "mood[]"};
    return absl::NotFoundError("no such type");
  });
  EXPECT_EQ(*types.Effective(20000), kInt4Oid);
  EXPECT_EQ(*types.Effective(kTextOid), kTextOid);
  EXPECT_EQ(*ParseBinaryValue(20000, Be({0, 0, 0, 42}), &types), Value::Int64(42));
  EXPECT_EQ(*ParseBinaryValue(20001, "so so", &types), Value::Text("so so"));
  std::string moods;
  PutU32BE(&moods, 1);
  PutU32BE(&moods, 0);
  PutU32BE(&moods, 20001);
  PutU32BE(&moods, 2);
  PutU32BE(&moods, 1);
  for (std::string_view label : {"sad", "so so"}) {
    PutU32BE(&moods, static_cast<uint32_t>(label.size()));
    moods.append(label);
  }
  EXPECT_EQ(*ParseBinaryValue(20002, moods, &types), Value::Text("{sad,\"so so\"}"));
  EXPECT_EQ(lookups, 3);  // each type looked up once
  EXPECT_THAT(ParseBinaryValue(20003, "x", &types).status(), StatusIs(absl::StatusCode::kNotFound));
}

}  // namespace
}  // namespace phony::pg
