// Sample events for tests: one value of every kind with edge values, and a
// stream of every event type (codec, bus and Kafka round trips share them).
#pragma once

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "core/event.h"

namespace phony::testing {

// One value of every kind, with edge values.
inline Row EveryKind() {
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

inline ChangeEvent SampleChange() {
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

inline TableSchema SampleSchema() {
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

inline TableSchema SchemaWithFkActions() {
  TableSchema s = SampleSchema();
  s.foreign_keys[0].on_delete = FkAction::kCascade;
  s.foreign_keys[0].on_update = FkAction::kSetNull;
  s.foreign_keys.push_back(ForeignKey{"orders_self_fk", {"note"}, s.id, {"id"}});
  return s;
}

inline std::vector<Event> SampleEvents() {
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
      SchemaEvent{EventPosition::Postgres(Lsn(0x1000), 5), SchemaWithFkActions()},
      truncate,
      TxCommit{EventPosition::Postgres(Lsn(0x1000), 4), 747, 1700000000000001, 2},
      read,
      TxBegin{EventPosition::MySql(2, 880, 0, 0, Gtid::MariaDb(0, 1, 55)), 9, 5},
  };
}

}  // namespace phony::testing
