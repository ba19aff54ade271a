// Events: what flows through the pipeline, from capture through transform to
// apply (DESIGN.md "Events and positions"). A source transaction is
// TxBegin, then its SchemaEvents and ChangeEvents, then TxCommit; snapshot
// reads are ChangeEvents with op kRead outside transactions. Every event
// carries its EventPosition; positions strictly grow along a stream.
// Plain value types, thread-compatible.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "core/position.h"
#include "core/schema.h"
#include "core/value.h"

namespace phony {

enum class ChangeOp : uint8_t {
  kInsert = 1,
  kUpdate = 2,
  kDelete = 3,
  kTruncate = 4,
  kRead = 5,  // snapshot read
};
const char* ChangeOpName(ChangeOp op);

struct TxBegin {
  EventPosition position;
  // Source transaction id: PostgreSQL xid, or the MySQL/MariaDB XID.
  uint64_t xid = 0;
  int64_t commit_ts_us = 0;  // commit time, microseconds since the Unix epoch
  friend bool operator==(const TxBegin&, const TxBegin&) = default;
};

struct TxCommit {
  EventPosition position;
  uint64_t xid = 0;
  int64_t commit_ts_us = 0;
  uint64_t event_count = 0;  // change events in the transaction
  friend bool operator==(const TxCommit&, const TxCommit&) = default;
};

// Flags on a change event.
enum ChangeFlags : uint8_t {
  kFlagNone = 0,
  // A partial row image: MINIMAL/NOBLOB binlog images. Missing columns are
  // kUnchanged.
  kFlagPartialImage = 1 << 0,
  kFlagTruncateCascade = 1 << 1,
  kFlagTruncateRestartIdentity = 1 << 2,
};

struct ChangeEvent {
  ChangeOp op = ChangeOp::kInsert;
  TableId table;
  // kTruncate only: every table of one TRUNCATE statement, as one event
  // (`table` is the first of them).
  std::vector<TableId> truncated;
  uint32_t schema_version = 0;
  // Indexes of the key columns in the rows, in key order.
  std::vector<uint16_t> key_columns;
  // Insert/read: after. Delete: before (possibly key columns only, the rest
  // null, per the source's replica identity). Update: after, and before when
  // the source sent it (always when the key changed).
  std::optional<Row> before;
  std::optional<Row> after;
  int64_t commit_ts_us = 0;
  uint8_t flags = kFlagNone;
  EventPosition position;

  friend bool operator==(const ChangeEvent&, const ChangeEvent&) = default;
};

struct SchemaEvent {
  EventPosition position;
  TableSchema schema;
  friend bool operator==(const SchemaEvent&, const SchemaEvent&) = default;
};

using Event = std::variant<TxBegin, ChangeEvent, TxCommit, SchemaEvent>;

const EventPosition& PositionOf(const Event& event);
// Rough in-memory size, for bounding queues by bytes.
size_t ApproximateSize(const Event& event);
// One line naming the event's type, table and position — no row values, so
// it is safe for logs.
std::string DescribeEvent(const Event& event);

}  // namespace phony
