#include "core/value.h"

#include <cmath>
#include <limits>

#include "gtest/gtest.h"

namespace phony {
namespace {

TEST(ValueTest, KindsAndAccessors) {
  EXPECT_TRUE(Value().is_null());
  EXPECT_TRUE(Value::Unchanged().is_unchanged());
  EXPECT_FALSE(Value::Unchanged().is_null());
  EXPECT_EQ(Value::Int64(-5).int64_value(), -5);
  EXPECT_EQ(Value::UInt64(UINT64_MAX).uint64_value(), UINT64_MAX);
  EXPECT_EQ(Value::Date(-719528).date_value(), -719528);
  const Value tz = Value::TimeTz(3600000000, -18000);
  EXPECT_EQ(tz.int64_value(), 3600000000);
  EXPECT_EQ(tz.tz_offset_seconds(), -18000);
  const Interval iv{14, -3, 123456};
  EXPECT_EQ(Value::MakeInterval(iv).interval_value(), iv);
  EXPECT_EQ(Value::Text("x").kind(), ValueKind::kText);
}

TEST(ValueTest, UnchangedIsNeitherNullNorText) {
  EXPECT_NE(Value::Unchanged(), Value::Null());
  EXPECT_NE(Value::Unchanged(), Value::Text("unchanged"));
  EXPECT_NE(Value::Unchanged(), Value::Text("__debezium_unavailable_value"));
  EXPECT_EQ(Value::Unchanged(), Value::Unchanged());
}

TEST(ValueTest, EqualityIsByKindAndExactPayload) {
  EXPECT_NE(Value::Int64(1), Value::UInt64(1));
  EXPECT_NE(Value::Text("a"), Value::Bytes("a"));
  EXPECT_NE(Value::Text("{}"), Value::Json("{}"));
  EXPECT_NE(Value::Timestamp(5), Value::TimestampTz(5));
  EXPECT_NE(Value::TimeTz(5, 0), Value::TimeTz(5, 3600));
  const double nan = std::numeric_limits<double>::quiet_NaN();
  EXPECT_EQ(Value::Double(nan), Value::Double(nan));  // lossless, not arithmetic
  EXPECT_NE(Value::Double(0.0), Value::Double(-0.0));
  EXPECT_EQ(Value::Decimal("1.50"), Value::Decimal("1.50"));
  EXPECT_NE(Value::Decimal("1.50"), Value::Decimal("1.5"));  // scale is data
}

TEST(ValueTest, DebugStringIsUnambiguous) {
  EXPECT_EQ(Value().DebugString(), "null");
  EXPECT_EQ(Value::Unchanged().DebugString(), "unchanged");
  EXPECT_EQ(Value::Text("a\"b\n").DebugString(), "text:\"a\\\"b\\x0a\"");
  EXPECT_EQ(Value::Int64(-3).DebugString(), "int64:-3");
  EXPECT_EQ(Value::Bool(true).DebugString(), "bool:true");
  EXPECT_EQ(Value::MakeInterval({1, 2, 3}).DebugString(), "interval:1m2d3us");
}

TEST(ValueTest, UuidFormatAndParse) {
  std::string bytes;
  ASSERT_TRUE(ParseUuid("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", &bytes));
  ASSERT_EQ(bytes.size(), 16u);
  EXPECT_EQ(FormatUuid(bytes), "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11");
  EXPECT_TRUE(ParseUuid("A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11", &bytes));
  EXPECT_EQ(Value::Uuid(bytes).DebugString(), "uuid:a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11");
  EXPECT_FALSE(ParseUuid("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a1", &bytes));
  EXPECT_FALSE(ParseUuid("a0eebc99x9c0b-4ef8-bb6d-6bb9bd380a11", &bytes));
  EXPECT_FALSE(ParseUuid("g0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", &bytes));
}

TEST(ValueTest, NormalizeDecimal) {
  std::string out;
  ASSERT_TRUE(NormalizeDecimal("-0012.50", &out));
  EXPECT_EQ(out, "-12.50");
  ASSERT_TRUE(NormalizeDecimal(".5", &out));
  EXPECT_EQ(out, "0.5");
  ASSERT_TRUE(NormalizeDecimal("-0.00", &out));
  EXPECT_EQ(out, "0.00");
  ASSERT_TRUE(NormalizeDecimal("+7", &out));
  EXPECT_EQ(out, "7");
  ASSERT_TRUE(NormalizeDecimal("NaN", &out));
  EXPECT_EQ(out, "NaN");
  ASSERT_TRUE(NormalizeDecimal("-Infinity", &out));
  EXPECT_EQ(out, "-Infinity");
  EXPECT_FALSE(NormalizeDecimal("", &out));
  EXPECT_FALSE(NormalizeDecimal("-", &out));
  EXPECT_FALSE(NormalizeDecimal(".", &out));
  EXPECT_FALSE(NormalizeDecimal("1e5", &out));
  EXPECT_FALSE(NormalizeDecimal("1.2.3", &out));
  EXPECT_FALSE(NormalizeDecimal("inf", &out));
}

}  // namespace
}  // namespace phony
