// The 10-column customer row the serializer benchmarks share (issue #4's
// bar names a 10-column row).
#pragma once

#include <string>

#include "core/event.h"

namespace phony {

inline ChangeEvent TenColumnInsert(int64_t i) {
  std::string uuid(16, '\x5a');
  ChangeEvent c;
  c.op = ChangeOp::kInsert;
  c.table = TableId{"shop", "public", "customers"};
  c.schema_version = 1;
  c.key_columns = {0};
  c.after = Row{Value::Int64(i),
                Value::Text("customer" + std::to_string(i) + "@mail.example"),
                Value::Text("First"),
                Value::Text("Last"),
                Value::Text("+1 212 555 0199"),
                Value::Date(7000),
                Value::Decimal("1234.56"),
                Value::TimestampTz(1700000000000000 + i),
                Value::Uuid(uuid),
                Value::Bool(true)};
  c.commit_ts_us = 1700000000000000;
  c.position = EventPosition::Postgres(Lsn(0x1000000 + static_cast<uint64_t>(i)), 1);
  return c;
}

}  // namespace phony
