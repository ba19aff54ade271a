// The PostgreSQL staging writer (StagingWriter over libpq). Bulk path: COPY
// into a temporary table, then one INSERT … ON CONFLICT, one UPDATE … FROM
// and one DELETE … USING per table and chunk; an insert-only chunk is first
// tried as a plain COPY into the table (under a savepoint, falling back to
// the upsert when a key already exists). The session runs with
// session_replication_role = replica, so FK triggers stay off as in
// PostgreSQL's own logical replication. docs/apply.md has the details.
// libpq stays behind this header. Not thread-safe.
#pragma once

#include <memory>
#include <string>

#include "src/apply/staging_writer.h"

namespace phony::apply {

struct PgWriterOptions {
  std::string host = "127.0.0.1";
  int port = 5432;
  std::string database;
  std::string user;
  std::string password;
  std::string application_name = "phony-apply";
  // Where the stream comes from: PostgreSQL type names are kept, MySQL
  // columns are mapped by value kind.
  bool source_is_postgres = true;
};

class PgWriter : public StagingWriter {
 public:
  explicit PgWriter(PgWriterOptions options);
  ~PgWriter() override;

  absl::Status Connect() override;
  absl::StatusOr<ProgressMap> LoadProgress() override;
  absl::StatusOr<std::vector<TableSchema>> LoadAppliedSchemas() override;
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

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace phony::apply
