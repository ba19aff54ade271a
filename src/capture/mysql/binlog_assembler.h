// BinlogAssembler: decoded binlog events in, the pipeline's events out:
// whole source transactions (TxBegin, ChangeEvents, TxCommit) with MySQL
// event positions, a SchemaEvent before the first change of each table
// version, and TRUNCATE statements as kTruncate changes. Pure (no I/O); the
// capture stage feeds it what BinlogDecoder produced and publishes what it
// returns. docs/mysql.md ("From binlog events to change events").
//
// Positions: (file index, commit offset, event index, row index) where the
// commit offset is the end of the transaction's commit event in its file —
// the position a replica resumes from after it — the event index counts the
// transaction's rows events and the row index the rows within one. The
// GTID rides along. A transaction is buffered until its commit: its
// position is only known then.
//
// Not thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/config.h"
#include "core/event.h"
#include "core/position.h"
#include "src/capture/mysql/binlog_decoder.h"

namespace phony::mysql {

class BinlogAssembler {
 public:
  struct Options {
    TableFilter filter;
    // Completes a new table version from the source catalog (type names as
    // declared, defaults, foreign keys) when the catalog still describes the
    // table the map describes. Optional.
    std::function<absl::Status(TableSchema* schema)> complete;
  };

  // `file` and `position`: where the stream starts (the first event's
  // file, for dumps that start at a position; a GTID dump's artificial
  // ROTATE names it).
  BinlogAssembler(Options options, std::string file, uint64_t position);

  // A table version known from an earlier run: versions only grow.
  void SeedSchema(const TableSchema& schema);

  // One decoded event. `end` is the position in its file just after the
  // binlog event it came from (for a transaction payload's inner events,
  // the payload's end). Appends a whole transaction to `out` when `e`
  // commits one (possibly nothing for a transaction with no matching
  // table). kDataLoss for a stream that breaks the transaction structure,
  // kUnimplemented for what phony does not follow (XA transactions).
  absl::Status Add(const BinlogEvent& e, uint64_t end, std::vector<Event>* out);

  // Forgets a transaction in progress (the connection broke inside it: the
  // stream resumes at next_file()/next_position(), its start), and starts a
  // new stream: each table's current version is described again before
  // its first change in it, for consumers that start with this stream.
  void ResetStream();

  // Where a stream resumes to read the first transaction not yet returned.
  const std::string& next_file() const { return next_file_; }
  uint64_t next_position() const { return next_position_; }
  // The GTIDs of the transactions returned (and of those skipped as
  // filtered out), as the source's GTID set is after them.
  const GtidSet& gtids() const { return gtids_; }
  // The binlog file a position's file index belongs to (every file seen).
  std::optional<std::string> FileOf(uint32_t index) const;

  // Every table version emitted or seeded, by table.
  const std::map<TableId, TableSchema>& schemas() const { return schemas_; }
  uint64_t transactions() const { return transactions_; }

 private:
  void AbandonTransaction();
  absl::Status Commit(uint64_t end, int64_t commit_ts_us, uint64_t xid, std::vector<Event>* out);
  absl::StatusOr<const TableSchema*> SchemaFor(const TableMap& map);
  absl::Status AddRows(const RowsEvent& rows);
  absl::Status Truncate(const Query& q);

  Options options_;
  std::string file_;  // the file being read
  uint32_t file_index_ = 0;
  std::string next_file_;
  uint64_t next_position_ = 0;
  GtidSet gtids_;
  std::map<uint32_t, std::string> files_;
  std::map<TableId, TableSchema> schemas_;
  std::set<TableId> described_;  // in this stream

  // The transaction being read.
  bool in_tx_ = false;
  std::optional<Gtid> gtid_;
  int64_t gtid_commit_ts_us_ = 0;
  std::vector<Event> pending_;  // schema and change events, positions filled at commit
  uint32_t rows_events_ = 0;
  uint64_t transactions_ = 0;
};

// A TableSchema from a table map written with binlog_row_metadata=FULL:
// names, types, nullability, key (kDataLoss naming the table when the map
// has no column names).
absl::StatusOr<TableSchema> SchemaFromTableMap(const TableMap& map);

}  // namespace phony::mysql
