#include "core/event_codec.h"

#include <cmath>
#include <limits>
#include <string>

#include "core/testing/status_matchers.h"
#include "gtest/gtest.h"

namespace phony {
namespace {

using ::phony::testing::StatusIs;
using ::testing::HasSubstr;

// One value of every kind, with edge values.
Row EveryKind() {
  std::string uuid;
  ParseUuid("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", &uuid);
  return {
      Value::Null(),
      Value::Unchanged(),
      Value::Bool(true),
      Value::Bool(false),
      Value::Int64(INT64_MIN),
      Value::Int64(INT64_MAX),
      Value::UInt64(UINT64_MAX),
      Value::Double(std::numeric_limits<double>::quiet_NaN()),
      Value::Double(-std::numeric_limits<double>::infinity()),
      Value::Double(-0.0),
      Value::Double(3.141592653589793),
      Value::Decimal("-123456789012345678901234567890.000000001"),
      Value::Decimal("NaN"),
      Value::Decimal("-Infinity"),
      Value::Text(""),
      Value::Text(std::string("nul\0inside \xc3\xa7", 14)),
      Value::Bytes(std::string("\x00\xff\x80", 3)),
      Value::Date(kDateNegInfinity),
      Value::Date(kDatePosInfinity),
      Value::Date(-719528),
      Value::Time(86399999999),
      Value::Time(-3020399000000),  // MySQL TIME '-838:59:59'
      Value::TimeTz(45296789012, -34200),
      Value::Timestamp(kTimestampNegInfinity),
      Value::TimestampTz(kTimestampPosInfinity),
      Value::TimestampTz(1700000000123456),
      Value::MakeInterval({-14, 3, -86400000001}),
      Value::Uuid(uuid),
      Value::Json(R"({"a":[1,2,{"b":null}],"c":"\u00e7"})"),
  };
}

ChangeEvent SampleChange() {
  ChangeEvent c;
  c.op = ChangeOp::kUpdate;
  c.table = TableId{"prod", "public", "users"};
  c.schema_version = 3;
  c.key_columns = {0};
  c.before = Row{Value::Int64(1), Value::Text("old@example.com")};
  c.after = EveryKind();
  c.commit_ts_us = 1700000000000001;
  c.flags = kFlagPartialImage;
  c.position = EventPosition::Postgres(Lsn(0x1000), 2);
  return c;
}

TableSchema SampleSchema() {
  TableSchema s;
  s.id = TableId{"prod", "sales", "orders"};
  s.version = 7;
  s.replica_identity = ReplicaIdentity::kFull;
  s.columns = {
      ColumnDef{"id", "bigint", ValueKind::kInt64, 20, -1, false, 1, "nextval('orders_id_seq')"},
      ColumnDef{"user_id", "bigint", ValueKind::kInt64, 20, -1, false, 0, std::nullopt},
      ColumnDef{"note", "character varying(64)", ValueKind::kText, 1043, 68, true, 0, std::nullopt},
  };
  s.foreign_keys = {ForeignKey{"orders_user_fk", {"user_id"}, TableId{"prod", "public", "users"}, {"id"}}};
  return s;
}

std::vector<Event> SampleEvents() {
  ChangeEvent truncate;
  truncate.op = ChangeOp::kTruncate;
  truncate.table = TableId{"prod", "public", "a"};
  truncate.truncated = {TableId{"prod", "public", "a"}, TableId{"prod", "public", "b"}};
  truncate.flags = kFlagTruncateCascade | kFlagTruncateRestartIdentity;
  truncate.position = EventPosition::Postgres(Lsn(0x1000), 3);
  ChangeEvent read;
  read.op = ChangeOp::kRead;
  read.table = TableId{"shop", "shop", "items"};
  read.after = Row{Value::UInt64(9)};
  read.position = EventPosition::Snapshot("shop.items", 4, 1);
  return {
      TxBegin{EventPosition::Postgres(Lsn(0x1000), 0), 747, 1700000000000001},
      SchemaEvent{EventPosition::Postgres(Lsn(0x1000), 1), SampleSchema()},
      SampleChange(),
      truncate,
      TxCommit{EventPosition::Postgres(Lsn(0x1000), 4), 747, 1700000000000001, 2},
      read,
      TxBegin{EventPosition::MySql(2, 880, 0, 0, Gtid::MariaDb(0, 1, 55)), 9, 5},
  };
}

TEST(EventCodecTest, EveryValueKindRoundTripsExactly) {
  for (const Value& v : EveryKind()) {
    std::string buf;
    EncodeValue(v, &buf);
    ByteReader r(buf);
    ASSERT_OK_AND_ASSIGN(Value back, DecodeValue(r));
    EXPECT_EQ(back, v) << v.DebugString();
    EXPECT_EQ(back.DebugString(), v.DebugString());
    EXPECT_OK(r.ExpectEnd());
    // Byte-for-byte stable re-encoding.
    std::string again;
    EncodeValue(back, &again);
    EXPECT_EQ(again, buf);
  }
  // NaN payload bits survive.
  std::string buf;
  EncodeValue(Value::Double(std::nan("0x7")), &buf);
  ByteReader r(buf);
  ASSERT_OK_AND_ASSIGN(Value back, DecodeValue(r));
  EXPECT_EQ(back, Value::Double(std::nan("0x7")));
}

TEST(EventCodecTest, EventsRoundTrip) {
  for (const Event& e : SampleEvents()) {
    std::string buf;
    EncodeEvent(e, &buf);
    ASSERT_OK_AND_ASSIGN(Event back, DecodeEvent(buf));
    EXPECT_EQ(back, e) << DescribeEvent(e);
    std::string again;
    EncodeEvent(back, &again);
    EXPECT_EQ(again, buf);
  }
}

// Every strict prefix of every encoded event fails cleanly with kDataLoss.
TEST(EventCodecTest, EveryPrefixIsDataLoss) {
  for (const Event& e : SampleEvents()) {
    std::string buf;
    EncodeEvent(e, &buf);
    for (size_t len = 0; len < buf.size(); ++len) {
      auto r = DecodeEvent(std::string_view(buf.data(), len));
      ASSERT_FALSE(r.ok()) << DescribeEvent(e) << " prefix " << len;
      EXPECT_EQ(r.status().code(), absl::StatusCode::kDataLoss) << r.status();
      EXPECT_THAT(std::string(r.status().message()), HasSubstr("internal event"));
    }
  }
}

TEST(EventCodecTest, RejectsTrailingBytes) {
  std::string buf;
  EncodeEvent(SampleEvents()[0], &buf);
  buf.push_back('\0');
  EXPECT_THAT(DecodeEvent(buf).status(),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("1 trailing bytes")));
}

TEST(EventCodecTest, RejectsUnknownFormatTypeKindAndOp) {
  std::string buf;
  EncodeEvent(SampleChange(), &buf);
  std::string bad = buf;
  bad[0] = 9;
  EXPECT_THAT(DecodeEvent(bad).status(),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("unsupported event format 9")));
  bad = buf;
  bad[1] = 77;
  EXPECT_THAT(DecodeEvent(bad).status(),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("unknown event type 77")));
  bad = buf;
  bad[2] = 9;  // position kind
  EXPECT_THAT(DecodeEvent(bad).status(),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("unknown position kind 9")));

  ChangeEvent c;
  c.after = Row{Value::Int64(1)};
  std::string one;
  EncodeEvent(c, &one);
  // The value kind tag is the second-to-last byte (int64 1 encodes as one byte).
  std::string bad_kind = one;
  bad_kind[bad_kind.size() - 2] = 99;
  EXPECT_THAT(DecodeEvent(bad_kind).status(),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("unknown value kind 99")));
  // op is right after format, type and the 1-byte kNone position.
  std::string bad_op = one;
  bad_op[3] = 0;
  EXPECT_THAT(DecodeEvent(bad_op).status(),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("unknown change op 0")));
}

TEST(EventCodecTest, RejectsHugeCountsBeforeAllocating) {
  // format, change, kNone position, op, flags, empty table id, then a huge
  // truncated-table count.
  std::string buf;
  PutU8(&buf, kEventFormatV1);
  PutU8(&buf, 2);
  PutU8(&buf, 0);
  PutU8(&buf, 1);
  PutU8(&buf, 0);
  for (int i = 0; i < 3; ++i) PutVarint64(&buf, 0);
  PutVarint64(&buf, 1ull << 40);
  EXPECT_THAT(DecodeEvent(buf).status(),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("exceeds the maximum")));
}

}  // namespace
}  // namespace phony
