// The MariaDB/MySQL staging writer (StagingWriter over MariaDB
// Connector/C). Bulk path: multi-row INSERT … ON DUPLICATE KEY UPDATE and
// batched DELETE … WHERE key IN (…), per table and chunk. From a
// MySQL/MariaDB source, foreign-key checks stay on, with the source's ON
// DELETE / ON UPDATE actions on staging's keys, and tables are written in
// source order, because InnoDB's cascades are not in the binlog: staging
// cascades as the source did. From a PostgreSQL source (whose cascades are
// in the WAL as events) checks are off, as in PostgreSQL staging. DDL
// commits implicitly in these servers, so the stage commits its progress
// before each one.
// docs/apply.md has the details. The connector stays behind this header.
// Not thread-safe.
#pragma once

#include <memory>
#include <map>
#include <string>

#include "src/apply/staging_writer.h"

namespace phony::apply {

// Where each copied table's copy stands in the binlog (written by the MySQL
// snapshot before its swap, read by the applier: StagingWriter::TableCuts).
inline constexpr const char* kCreateTableCuts =
    "CREATE TABLE IF NOT EXISTS phony.table_cuts (staging_schema varchar(255) NOT NULL, table_name varchar(255) NOT "
    "NULL, source_schema varchar(255) NOT NULL, binlog_file varchar(255) NOT NULL, binlog_position bigint unsigned "
    "NOT NULL, gtids text NOT NULL, run_id bigint NOT NULL, copied_at timestamp(6) NOT NULL DEFAULT "
    "CURRENT_TIMESTAMP(6), PRIMARY KEY (staging_schema, table_name)) ENGINE=InnoDB";

struct MyWriterOptions {
  std::string host = "127.0.0.1";
  int port = 3306;
  std::string user;
  std::string password;
  // Where the stream comes from: MySQL/MariaDB type names are kept,
  // PostgreSQL columns are mapped by value kind.
  bool source_is_postgres = false;
  // Source schema -> staging database, for a MySQL/MariaDB source whose
  // staging database has another name (source.database vs
  // target.database); other schemas keep their names.
  std::map<std::string, std::string> database_renames;
};

class MyWriter : public StagingWriter {
 public:
  explicit MyWriter(MyWriterOptions options);
  ~MyWriter() override;

  absl::Status Connect() override;
  absl::StatusOr<ProgressMap> LoadProgress() override;
  absl::StatusOr<std::vector<TableSchema>> LoadAppliedSchemas() override;
  const std::map<TableId, EventPosition>* TableCuts() const override;
  absl::Status Begin() override;
  absl::Status ApplySchema(const TableSchema& schema, const TableSchema* applied) override;
  absl::Status WriteChanges(const TableChanges& changes) override;
  absl::Status ApplyEvent(const ChangeEvent& event, const TableSchema& schema) override;
  absl::Status Mark() override;
  absl::Status Undo() override;
  absl::Status Release() override;
  absl::Status RecordDeadLetter(const DeadLetter& letter) override;
  absl::Status Commit(const std::vector<ProgressUpdate>& progress) override;
  void Rollback() override;
  bool KeepsTableOrder() const override;
  bool DdlCommits() const override { return true; }

  struct Impl;

 private:
  absl::Status ReadTableCuts();
  std::unique_ptr<Impl> impl_;
};

// The staging column type for a source column (exposed for tests).
std::string MyStagingType(const ColumnDef& column, bool source_is_postgres);

}  // namespace phony::apply
