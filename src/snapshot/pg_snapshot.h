// The PostgreSQL snapshot: copies the tables a job covers from the source
// into staging, anonymized in-stream by the same transformer as CDC
// (docs/snapshot.md has the design). Schema first (types, sequences, tables
// as shadow tables), then the data in chunks of ctid ranges spread over
// parallel workers that share one exported snapshot, then per table a swap
// into place with its primary key and secondary indexes, sequence values,
// ANALYZE and a row-count check; unique indexes, CHECK / NOT NULL and
// foreign-key constraints come last, or are deferred until CDC replay has
// converged (DESIGN.md "Snapshot and CDC"). Every finished chunk is recorded
// in staging in the transaction that loads it, so a run that stops keeps its
// chunks and the next run re-reads only the rest, under a newer snapshot.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/config.h"
#include "core/position.h"
#include "src/snapshot/subset.h"
#include "src/transform/transformer.h"

namespace phony::snapshot {

struct SnapshotOptions {
  const JobConfig* config = nullptr;
  std::string source_password;
  std::string target_password;
  std::string secret;                            // the anonymization secret
  transform::MappingLedger* ledger = nullptr;    // shared by the workers: must be thread-safe
  std::vector<std::string> only_tables;          // --tables: re-copy these ("schema.table" or "table")
  bool restart = false;                          // abandon an unfinished run instead of resuming it
  // The slot's exported snapshot when the job's slot was created for this
  // run: a clean cut, where CDC starts exactly.
  std::optional<std::string> exported_snapshot;
  std::optional<Lsn> exported_lsn;
  // Whether CDC will replay into staging after this snapshot. Then, unless
  // the cut is clean, unique indexes and constraints wait in
  // phony.deferred_ddl until the applier has passed the snapshot position.
  bool cdc_follows = false;
  const std::atomic<bool>* stop = nullptr;       // SIGINT/SIGTERM: stop after the chunks in flight
  // Called about once a second from the coordinating thread.
  std::function<void(const struct Progress&)> on_progress;
  // Foreign keys phony analyze inferred (its saved report): a subset
  // follows them where the source declares none.
  std::vector<InferredForeignKey> inferred_foreign_keys;
};

struct TableProgress {
  std::string table;
  int64_t rows = 0;
  int64_t bytes = 0;          // COPY text bytes read from the source
  int64_t estimated_rows = 0;
  int chunks_done = 0;
  int chunks = 0;
  std::string state;          // queued, loading, indexing, done, failed
};

struct Progress {
  std::vector<TableProgress> tables;
  double seconds = 0;
};

struct TableReport {
  std::string table;
  std::string state;  // done, failed, kept (finished by an earlier run)
  int64_t rows = 0;
  int64_t bytes = 0;
  int64_t duplicates_removed = 0;  // rows read twice across snapshots of a resumed run
  double load_seconds = 0;
  double index_seconds = 0;
  double analyze_seconds = 0;
  int attempts = 0;
  std::string error;
};

struct SnapshotReport {
  int64_t run_id = 0;
  bool resumed = false;
  bool clean_cut = false;
  std::string snapshot_lsn;  // the newest snapshot the data was read under
  std::vector<TableReport> tables;
  double seconds = 0;
  double analyze_seconds = 0;
  double constraint_seconds = 0;
  int64_t rows = 0;
  int64_t bytes = 0;
  std::vector<std::string> deferred;  // statements waiting for convergence
  std::vector<std::string> warnings;  // what a person should know; the run still succeeded
  std::vector<std::string> problems;  // post-load steps that failed (named): the run did not fully succeed
  bool ok() const;
};

// Runs one snapshot. Errors that stop the whole run (the source or staging
// unreachable after retries, a config problem, a catalog it cannot copy) are
// a status; a table that fails after its retries is in the report, the
// others complete.
absl::StatusOr<SnapshotReport> RunPgSnapshot(const SnapshotOptions& options);

// The report as a JSON document, and as a terminal table.
std::string ReportJson(const SnapshotReport& report);
std::string ReportTable(const SnapshotReport& report);

}  // namespace phony::snapshot

namespace phony::snapshot {

// Whether the source has replication slot `slot` (CDC set up for the job).
absl::StatusOr<bool> SourceHasSlot(const JobConfig& config, const std::string& source_password,
                                   const std::string& slot);

}  // namespace phony::snapshot
