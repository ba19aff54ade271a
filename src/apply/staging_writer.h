// What an applier needs from a staging database (PostgreSQL or
// MariaDB/MySQL): one open transaction at a time into which the apply stage
// (src/apply/apply_stage.h) writes schema changes, coalesced row changes and
// single events, and which it commits together with its progress
// (DESIGN.md "Delivery", rule 4). The stage owns ordering, batching and
// re-delivery; a writer owns SQL.
//
// Errors a writer returns, by code, and what the stage does with them:
//   kUnavailable         the server or the connection is gone: roll back,
//                        reconnect with backoff, re-read from the progress.
//   kAborted             a serialization failure, a deadlock, or the stored
//                        progress moved under us (another applier): roll
//                        back and re-read from the progress.
//   kInvalidArgument     this data cannot be written (a constraint or a
//                        value the column refuses): the event goes to the
//                        dead letters once it is isolated.
//   anything else        stops the stage (a DDL the server cannot do, no
//                        permission, a bug).
// Not thread-safe: one stage thread drives one writer.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/event.h"
#include "core/position.h"
#include "core/schema.h"

namespace phony::apply {

// One (stream, partition) of the internal anonymized stream: Kafka's topic
// and partition, or the embedded bus's channel and 0.
using StreamPartition = std::pair<std::string, int32_t>;

// What staging holds for one StreamPartition.
struct StoredProgress {
  int64_t next_offset = -1;  // where to resume reading
  EventPosition position;    // the highest event position applied
};
using ProgressMap = std::map<StreamPartition, StoredProgress>;

// The progress written with a staging commit. `expected` is the position
// staging held when this applier read it (nullopt: no row yet); positions
// only grow, so the commit fails with kAborted when another applier of the
// same stream committed since (a partition that moved in a rebalance).
struct ProgressUpdate {
  StreamPartition stream;
  std::optional<EventPosition> expected;
  StoredProgress progress;
};

// The rows of one table to write, coalesced to the final state of each key
// within the chunk (a later event for a key replaces an earlier one).
struct TableChanges {
  const TableSchema* schema = nullptr;  // the version the rows are aligned with
  // Deleted keys: rows with only the key columns set.
  std::vector<Row> deletes;
  // Complete rows to upsert. `inserts_only` when every one of them came
  // from an insert (a writer may then try a plain bulk load first).
  std::vector<Row> upserts;
  bool inserts_only = true;
  // Rows with some columns kUnchanged (TOAST not sent, partial images):
  // update the present columns of an existing row; a key staging lacks is
  // skipped (DESIGN.md "Snapshot and CDC").
  std::vector<Row> partial_updates;
  // Inserts into a table without a key (no coalescing possible).
  std::vector<Row> appends;
  size_t size() const { return deletes.size() + upserts.size() + partial_updates.size() + appends.size(); }
};

// Writers attach the server's full error text (which may quote row values)
// to a status under this payload key: it goes into the dead letters, never
// into logs, which carry only the status message.
inline constexpr const char* kErrorDetailPayload = "phony.error_detail";

// The status message followed by its detail payload, if any.
inline std::string FullErrorText(const absl::Status& s) {
  std::string out(s.message());
  if (auto detail = s.GetPayload(kErrorDetailPayload)) out += ": " + std::string(*detail);
  return out;
}

// A dead letter: an anonymized event that can never be applied.
struct DeadLetter {
  StreamPartition stream;
  int64_t offset = -1;  // the delivery that held it
  const ChangeEvent* event = nullptr;
  const TableSchema* schema = nullptr;
  std::string error;
};

// How often the bulk path's plain load (COPY / LOAD DATA into the table)
// was used, and how often it met existing keys and upserted instead.
struct WriterCounters {
  uint64_t bulk_loads = 0;
  uint64_t bulk_fallbacks = 0;
};

class StagingWriter {
 public:
  virtual ~StagingWriter() = default;
  const WriterCounters& counters() const { return counters_; }

  // Connects (again) and prepares the `phony` bookkeeping tables. Any open
  // transaction is gone.
  virtual absl::Status Connect() = 0;
  // Stored progress of every stream partition (a committed read).
  virtual absl::StatusOr<ProgressMap> LoadProgress() = 0;
  // The table definitions staging was last altered to (from its own
  // bookkeeping), so a restarted applier knows the current shape.
  virtual absl::StatusOr<std::vector<TableSchema>> LoadAppliedSchemas() = 0;
  // Tables a snapshot copied, each with the position of its copy: the copy
  // holds every change up to there, so the stage skips the table's events
  // at or before it. Read when each staging transaction begins, under a
  // lock that makes a snapshot's swap wait for the transaction (nullptr:
  // this staging has none).
  virtual const std::map<TableId, EventPosition>* TableCuts() const { return nullptr; }

  virtual absl::Status Begin() = 0;
  // Creates or alters the staging table to `schema` (the previous
  // definition, if staging has one, is `applied`).
  virtual absl::Status ApplySchema(const TableSchema& schema, const TableSchema* applied) = 0;
  virtual absl::Status WriteChanges(const TableChanges& changes) = 0;
  // One event exactly as the source did it, idempotently: insert and full
  // update as an upsert, a partial update of the present columns, a key
  // change as an UPDATE of the old key, delete if present, a row of a table
  // without a key by its full old image, a truncate of all its tables in
  // one statement. Rows are aligned with `schema` (the applied one).
  virtual absl::Status ApplyEvent(const ChangeEvent& event, const TableSchema& schema) = 0;
  // Isolation for exact replays: a failing ApplyEvent after Mark is undone
  // by Undo without losing the rest of the transaction; Release drops the
  // mark after a success.
  virtual absl::Status Mark() = 0;
  virtual absl::Status Undo() = 0;
  virtual absl::Status Release() = 0;
  virtual absl::Status RecordDeadLetter(const DeadLetter& letter) = 0;
  virtual absl::Status Commit(const std::vector<ProgressUpdate>& progress) = 0;
  // Abandons the open transaction, if any. Never fails: a broken connection
  // is found by the next call.
  virtual void Rollback() = 0;

  // True when foreign keys are checked as rows arrive (MariaDB/MySQL, which
  // cascade in staging): the stage then writes tables in source order
  // instead of coalescing across them.
  virtual bool KeepsTableOrder() const { return false; }
  // True when DDL commits the open transaction (MariaDB/MySQL): the stage
  // then commits its progress up to the event before a schema change first.
  virtual bool DdlCommits() const { return false; }

 protected:
  WriterCounters counters_;
};

}  // namespace phony::apply
