#include "src/snapshot/my_rows.h"

#include "gtest/gtest.h"
#include "src/capture/mysql/binlog_values.h"
#include "src/snapshot/my_snapshot.h"

namespace phony::snapshot {
namespace {

using mysql::ColumnInfo;

ColumnInfo Col(uint8_t type, uint16_t meta = 0) {
  ColumnInfo c;
  c.type = c.wire_type = type;
  c.meta = meta;
  return c;
}

TEST(ParseMySqlTextTest, TextProtocolValuesBecomeTheDecodersValues) {
  EXPECT_EQ(*ParseMySqlText(Col(mysql::kTypeLong), ValueKind::kInt64, "-2147483648"), Value::Int64(-2147483648LL));
  EXPECT_EQ(*ParseMySqlText(Col(mysql::kTypeLongLong), ValueKind::kUInt64, "18446744073709551615"),
            Value::UInt64(18446744073709551615ULL));
  EXPECT_EQ(*ParseMySqlText(Col(mysql::kTypeYear), ValueKind::kInt64, "2155"), Value::Int64(2155));
  // FLOAT keeps its shortest decimal form, as the decoder does.
  EXPECT_EQ(*ParseMySqlText(Col(mysql::kTypeFloat, 4), ValueKind::kDouble, "1.1"), Value::Double(1.1));
  EXPECT_EQ(*ParseMySqlText(Col(mysql::kTypeNewDecimal, 10 << 8 | 2), ValueKind::kDecimal, "-0.00"),
            Value::Decimal("0.00"));
  EXPECT_EQ(*ParseMySqlText(Col(mysql::kTypeDate), ValueKind::kDate, "1970-01-02"), Value::Date(1));
  EXPECT_EQ(*ParseMySqlText(Col(mysql::kTypeDate), ValueKind::kDate, "0000-00-00"), Value::Null());
  EXPECT_EQ(*ParseMySqlText(Col(mysql::kTypeDate), ValueKind::kDate, "2020-00-10"), Value::Null());
  EXPECT_EQ(*ParseMySqlText(Col(mysql::kTypeDatetime2, 3), ValueKind::kTimestamp, "1970-01-01 00:00:01.5"),
            Value::Timestamp(1500000));
  EXPECT_EQ(*ParseMySqlText(Col(mysql::kTypeTimestamp2, 6), ValueKind::kTimestampTz, "1970-01-01 00:01:00.000001"),
            Value::TimestampTz(60000001));
  EXPECT_EQ(*ParseMySqlText(Col(mysql::kTypeTime2, 2), ValueKind::kTime, "-838:59:59.25"),
            Value::Time(-((838LL * 3600 + 59 * 60 + 59) * 1000000 + 250000)));
  EXPECT_EQ(*ParseMySqlText(Col(mysql::kTypeBit, 1), ValueKind::kBool, std::string_view("\x01", 1)), Value::Bool(true));
  EXPECT_EQ(*ParseMySqlText(Col(mysql::kTypeBit, 2 << 8), ValueKind::kBytes, std::string_view("\x00\x05", 2)),
            Value::Bytes(std::string("\x00\x05", 2)));
  EXPECT_EQ(*ParseMySqlText(Col(mysql::kTypeVarchar, 64), ValueKind::kText, "a\tb"), Value::Text("a\tb"));
}

TEST(ParseMySqlTextTest, WhatDoesNotParseIsDataLossWithoutTheValue) {
  for (auto [type, kind, text] : std::vector<std::tuple<uint8_t, ValueKind, std::string>>{
           {mysql::kTypeLong, ValueKind::kInt64, "12x"},
           {mysql::kTypeDate, ValueKind::kDate, "2024-13-01"},
           {mysql::kTypeDatetime2, ValueKind::kTimestamp, "2024-01-01T00:00:00"},
           {mysql::kTypeTime2, ValueKind::kTime, "10:61:00"},
           {mysql::kTypeNewDecimal, ValueKind::kDecimal, "1e5"}}) {
    auto v = ParseMySqlText(Col(type), kind, text);
    ASSERT_FALSE(v.ok()) << text;
    EXPECT_EQ(v.status().code(), absl::StatusCode::kDataLoss);
    EXPECT_EQ(std::string(v.status().message()).find(text), std::string::npos);
  }
}

TEST(LoadTextTest, EscapesWhatLoadDataReadsSpecially) {
  std::string out;
  AppendLoadEscaped(std::string_view("a\\b\tc\nd\re\0f", 11), &out);
  EXPECT_EQ(out, "a\\\\b\\tc\\nd\\re\\0f");
  out.clear();
  AppendLoadValue(Col(mysql::kTypeBit, 1), Value::Bool(false), &out);
  EXPECT_EQ(out, "\\0");
  out.clear();
  AppendLoadValue(Col(mysql::kTypeTimestamp2, 6), Value::TimestampTz(1500000), &out);
  EXPECT_EQ(out, "1970-01-01 00:00:01.500000");
  out.clear();
  AppendLoadValue(Col(mysql::kTypeTime2, 0), Value::Time(-(100LL * 3600) * 1000000), &out);
  EXPECT_EQ(out, "-100:00:00.000000");
  out.clear();
  AppendLoadValue(Col(mysql::kTypeVarchar, 8), Value::Null(), &out);
  EXPECT_EQ(out, "\\N");
}

TEST(SplitCreateTableTest, KeysAndForeignKeysWaitColumnsChecksAndOptionsStay) {
  const std::string show =
      "CREATE TABLE `orders` (\n"
      "  `id` bigint(20) NOT NULL AUTO_INCREMENT,\n"
      "  `person` int(11) NOT NULL DEFAULT 0 COMMENT 'who, (really)',\n"
      "  `j` longtext DEFAULT NULL CHECK (json_valid(`j`)),\n"
      "  PRIMARY KEY (`id`),\n"
      "  UNIQUE KEY `u` (`person`,`j`(10)),\n"
      "  KEY `orders_person` (`person`),\n"
      "  FULLTEXT KEY `ft` (`j`),\n"
      "  CONSTRAINT `orders_person` FOREIGN KEY (`person`) REFERENCES `people` (`id`) ON DELETE CASCADE,\n"
      "  CONSTRAINT `CONSTRAINT_1` CHECK (`person` >= 0)\n"
      ") ENGINE=InnoDB AUTO_INCREMENT=9001 DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci";
  auto split = SplitCreateTable(show, "phony.`snap_r1_0`");
  ASSERT_TRUE(split.ok()) << split.status();
  EXPECT_EQ(split->create,
            "CREATE TABLE phony.`snap_r1_0` (\n"
            "  `id` bigint(20) NOT NULL AUTO_INCREMENT,\n"
            "  `person` int(11) NOT NULL DEFAULT 0 COMMENT 'who, (really)',\n"
            "  `j` longtext DEFAULT NULL CHECK (json_valid(`j`)),\n"
            "  PRIMARY KEY (`id`),\n"
            "  CONSTRAINT `CONSTRAINT_1` CHECK (`person` >= 0)\n"
            ") ENGINE=InnoDB AUTO_INCREMENT=9001 DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci");
  EXPECT_EQ(split->indexes, (std::vector<std::string>{"ADD UNIQUE KEY `u` (`person`,`j`(10))",
                                                      "ADD KEY `orders_person` (`person`)", "ADD FULLTEXT KEY `ft` (`j`)"}));
  EXPECT_EQ(split->foreign_keys,
            (std::vector<std::string>{"ADD CONSTRAINT `orders_person` FOREIGN KEY (`person`) REFERENCES `people` "
                                      "(`id`) ON DELETE CASCADE"}));
  EXPECT_FALSE(SplitCreateTable("CREATE VIEW v AS SELECT 1", "x").ok());
}

}  // namespace
}  // namespace phony::snapshot
