#include "core/envelope.h"

#include <limits>

#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace phony {
namespace {

std::string One(const Value& v) {
  std::string out;
  AppendEnvelopeValue(v, &out);
  return out;
}

TEST(EnvelopeTest, ValueConventions) {
  EXPECT_EQ(One(Value::Null()), "null");
  EXPECT_EQ(One(Value::Unchanged()), "\"__debezium_unavailable_value\"");
  EXPECT_EQ(One(Value::Bool(true)), "true");
  EXPECT_EQ(One(Value::Int64(-5)), "-5");
  EXPECT_EQ(One(Value::Double(1.5)), "1.5");
  EXPECT_EQ(One(Value::Double(std::numeric_limits<double>::quiet_NaN())), "\"NaN\"");
  EXPECT_EQ(One(Value::Decimal("-12.50")), "\"-12.50\"");
  EXPECT_EQ(One(Value::Text("a\"b\n")), "\"a\\\"b\\n\"");
  EXPECT_EQ(One(Value::Bytes("hello")), "\"aGVsbG8=\"");
  EXPECT_EQ(One(Value::Bytes("hi")), "\"aGk=\"");
  EXPECT_EQ(One(Value::Bytes("abc")), "\"YWJj\"");
  EXPECT_EQ(One(Value::Date(19782)), "19782");
  EXPECT_EQ(One(Value::Time(3600000000)), "3600000000");
  EXPECT_EQ(One(Value::Timestamp(1709214306123456)), "1709214306123456");
  EXPECT_EQ(One(Value::TimestampTz(1709214306123456)), "\"2024-02-29T13:45:06.123456Z\"");
  EXPECT_EQ(One(Value::TimestampTz(-1)), "\"1969-12-31T23:59:59.999999Z\"");
  EXPECT_EQ(One(Value::TimeTz(3600000000, 7200)), "\"23:00:00.000000Z\"");
  EXPECT_EQ(One(Value::MakeInterval({1, 1, 1})), "2716200000001");
  std::string uuid;
  ParseUuid("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", &uuid);
  EXPECT_EQ(One(Value::Uuid(uuid)), "\"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11\"");
}

TEST(EnvelopeTest, UpdateEnvelopeIsValidJsonWithSource) {
  TableSchema schema;
  schema.id = TableId{"shop", "public", "users"};
  schema.columns = {ColumnDef{.name = "id"}, ColumnDef{.name = "email"}};
  ChangeEvent e;
  e.op = ChangeOp::kUpdate;
  e.table = schema.id;
  e.before = Row{Value::Int64(1), Value::Text("a@x")};
  e.after = Row{Value::Int64(1), Value::Unchanged()};
  e.commit_ts_us = 1700000000123456;
  e.position = EventPosition::Postgres(Lsn(0x16B374D848), 3);
  const auto j = nlohmann::json::parse(
      RenderEnvelope(e, schema, {.connector = "postgresql", .name = "phony", .tx_id = 747}, 42));
  EXPECT_EQ(j["op"], "u");
  EXPECT_EQ(j["before"]["email"], "a@x");
  EXPECT_EQ(j["after"]["email"], "__debezium_unavailable_value");
  EXPECT_EQ(j["source"]["connector"], "postgresql");
  EXPECT_EQ(j["source"]["table"], "users");
  EXPECT_EQ(j["source"]["schema"], "public");
  EXPECT_EQ(j["source"]["txId"], 747);
  EXPECT_EQ(j["source"]["lsn"], 0x16B374D848ull);
  EXPECT_EQ(j["source"]["ts_ms"], 1700000000123);
  EXPECT_EQ(j["source"]["snapshot"], "false");
  EXPECT_EQ(j["ts_ms"], 42);
  EXPECT_TRUE(j["transaction"].is_null());
}

}  // namespace
}  // namespace phony
