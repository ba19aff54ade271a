// The MySQL/MariaDB snapshot: copies the tables a job covers from a MySQL or
// MariaDB source into MySQL/MariaDB staging, anonymized in-stream by the
// same transformer as CDC (docs/snapshot-mysql.md has the design).
//
// One consistent cut: every worker opens START TRANSACTION WITH CONSISTENT
// SNAPSHOT while commits are blocked for a moment (MariaDB BACKUP STAGE
// BLOCK_COMMIT, MySQL FLUSH TABLES WITH READ LOCK), so all of them read the
// same state and the binlog position where CDC continues is exact. Without
// the RELOAD privilege those need, one worker reads everything under a
// lock-free MariaDB consistent snapshot (binlog_snapshot_file/position).
// Each table loads into a shadow table in the `phony` database that has
// only its primary key (LOAD DATA LOCAL INFILE, streamed from the source
// cursor through the transformer, one staging transaction per chunk of the
// primary key's range), then gets its secondary and unique indexes in one
// ALTER and replaces the staging table by RENAME; foreign keys come last.
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "src/snapshot/pg_job.h"
#include "src/snapshot/pg_snapshot.h"

namespace phony::snapshot {

struct MySnapshotResult {
  SnapshotReport report;
  // Where CDC continues: the binlog file and offset of the cut, and the
  // GTID set at it ("" when the server gave none).
  std::string binlog_file;
  uint64_t binlog_position = 0;
  std::string gtids;
};

// Runs one snapshot (SnapshotOptions as for PostgreSQL; exported_snapshot
// and cdc_follows do not apply). A table that fails after its retries is in
// the report and the others complete; errors that stop the whole run are a
// status (kCancelled when `stop` was set).
absl::StatusOr<MySnapshotResult> RunMySqlSnapshot(const SnapshotOptions& options);

// Whether MySQL/MariaDB staging holds a finished snapshot of the job.
absl::StatusOr<bool> MyStagingHasSnapshot(const JobConfig& config, const std::string& target_password);

// What MySQL/MariaDB staging's bookkeeping says (phony status): the last
// finished snapshot, the applier's progress, dead letters.
absl::StatusOr<StagingStats> ReadMyStagingStats(const JobConfig& config, const std::string& target_password);

// The source's binlog end and the replica connections reading it.
struct MySourceStats {
  std::string position;   // "file:offset" of the binlog's end
  std::string gtids;      // gtid_binlog_pos (MariaDB) or gtid_executed (MySQL)
  int dump_connections = 0;  // binlog dumps connected as the job's user
};
absl::StatusOr<MySourceStats> ReadMySourceStats(const JobConfig& config, const std::string& source_password);

// CREATE TABLE text from SHOW CREATE TABLE, split: `create` keeps columns,
// the primary key, CHECK constraints and table options (under `new_name`);
// `indexes` the other keys as ALTER TABLE clauses ("ADD UNIQUE KEY ...");
// `foreign_keys` the foreign keys as clauses ("ADD CONSTRAINT ... FOREIGN
// KEY ..."). Exposed for tests.
struct SplitCreate {
  std::string create;
  std::vector<std::string> indexes;
  std::vector<std::string> foreign_keys;
};
absl::StatusOr<SplitCreate> SplitCreateTable(std::string_view show_create, std::string_view new_name);

}  // namespace phony::snapshot
