#include "src/apply/postgres/pg_text.h"

#include <cmath>
#include <limits>

#include "gtest/gtest.h"

namespace phony::apply::pg {
namespace {

std::string Copy(const Value& v) {
  std::string out;
  AppendCopyField(v, &out);
  return out;
}

TEST(PgTextTest, Scalars) {
  EXPECT_EQ(Text(Value::Bool(true)), "t");
  EXPECT_EQ(Text(Value::Bool(false)), "f");
  EXPECT_EQ(Text(Value::Int64(-42)), "-42");
  EXPECT_EQ(Text(Value::UInt64(18446744073709551615ull)), "18446744073709551615");
  EXPECT_EQ(Text(Value::Double(0.1)), "0.1");
  EXPECT_EQ(Text(Value::Double(-1e300)), "-1e+300");
  EXPECT_EQ(Text(Value::Double(std::numeric_limits<double>::infinity())), "Infinity");
  EXPECT_EQ(Text(Value::Double(-std::numeric_limits<double>::infinity())), "-Infinity");
  EXPECT_EQ(Text(Value::Double(std::nan(""))), "NaN");
  EXPECT_EQ(Text(Value::Decimal("-12.340")), "-12.340");
  EXPECT_EQ(Text(Value::Bytes(std::string("\x00\xff", 2))), "\\x00ff");
  std::string uuid;
  ASSERT_TRUE(ParseUuid("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", &uuid));
  EXPECT_EQ(Text(Value::Uuid(uuid)), "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11");
}

TEST(PgTextTest, DatesAndTimes) {
  EXPECT_EQ(Text(Value::Date(0)), "1970-01-01");
  EXPECT_EQ(Text(Value::Date(static_cast<int32_t>(DaysFromCivil(2024, 2, 29)))), "2024-02-29");
  // Astronomical year 0 is 1 BC.
  EXPECT_EQ(Text(Value::Date(static_cast<int32_t>(DaysFromCivil(0, 12, 31)))), "0001-12-31 BC");
  EXPECT_EQ(Text(Value::Date(kDatePosInfinity)), "infinity");
  EXPECT_EQ(Text(Value::Date(kDateNegInfinity)), "-infinity");
  EXPECT_EQ(Text(Value::Time(13 * 3600000000LL + 5 * 60000000LL + 7000001)), "13:05:07.000001");
  EXPECT_EQ(Text(Value::Time(-(838LL * 3600 + 59 * 60 + 59) * 1000000)), "-838:59:59.000000");
  EXPECT_EQ(Text(Value::TimeTz(3600000000LL, -(5 * 3600 + 30 * 60))), "01:00:00.000000-05:30:00");
  EXPECT_EQ(Text(Value::Timestamp(-1)), "1969-12-31 23:59:59.999999");
  EXPECT_EQ(Text(Value::TimestampTz(1700000000123456LL)), "2023-11-14 22:13:20.123456+00");
  const int64_t bc = DaysFromCivil(-44, 3, 15) * 86400000000LL + 12 * 3600000000LL;
  EXPECT_EQ(Text(Value::Timestamp(bc)), "0045-03-15 12:00:00.000000 BC");
  EXPECT_EQ(Text(Value::TimestampTz(kTimestampPosInfinity)), "infinity");
  EXPECT_EQ(Text(Value::MakeInterval({14, -3, -1500000})), "14 mons -3 days -00:00:01.500000");
}

TEST(PgTextTest, CopyEscapes) {
  EXPECT_EQ(Copy(Value::Null()), "\\N");
  EXPECT_EQ(Copy(Value::Unchanged()), "\\N");
  EXPECT_EQ(Copy(Value::Text("a\tb\nc\\d\re")), "a\\tb\\nc\\\\d\\re");
  EXPECT_EQ(Copy(Value::Json("{\"a\":\"\\n\"}")), "{\"a\":\"\\\\n\"}");
  EXPECT_EQ(Copy(Value::Bytes("\x01")), "\\\\x01");
  EXPECT_EQ(Copy(Value::Text("\\N")), "\\\\N");  // the text, not a null
}

TEST(PgTextTest, QuotingAndTypes) {
  EXPECT_EQ(QuoteIdent("we\"ird"), "\"we\"\"ird\"");
  EXPECT_EQ(QuoteTable({"db", "sales", "Order Items"}), "\"sales\".\"Order Items\"");
  ColumnDef c{.name = "x", .type_name = "character varying(64)", .kind = ValueKind::kText, .type_id = 1043};
  EXPECT_EQ(StagingType(c, true), "character varying(64)");
  c.type_id = 16500;  // an enum
  c.type_name = "public.mood";
  EXPECT_EQ(StagingType(c, true), "text");
  c.kind = ValueKind::kUInt64;
  EXPECT_EQ(StagingType(c, false), "numeric(20,0)");
  c.kind = ValueKind::kTime;
  EXPECT_EQ(StagingType(c, false), "interval");
}

}  // namespace
}  // namespace phony::apply::pg
