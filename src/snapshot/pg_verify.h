// `phony verify` for PostgreSQL: is staging equal to the deterministic
// transform of the source? For each table the source is read (one
// REPEATABLE READ snapshot for all tables), anonymized by the same code as
// the snapshot and CDC, and loaded into a temporary table in staging; staging
// then compares it with the table as multisets of rows (every column as its
// text, so types without equality compare too) and classifies each
// difference by primary key: missing from staging, extra in staging, or
// different. Declared foreign keys are checked in staging for orphans.
// Nothing is written to staging's tables; no value is ever logged (the
// listed keys are staging's, i.e. anonymized, values).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/config.h"
#include "src/transform/transformer.h"

namespace phony::snapshot {

struct VerifyOptions {
  const JobConfig* config = nullptr;
  std::string source_password;
  std::string target_password;
  std::string secret;                          // the anonymization secret
  transform::MappingLedger* ledger = nullptr;  // operator overrides; may be null
  std::vector<std::string> only_tables;        // "schema.table" or "table"; empty: every covered table
  int max_listed = 10;                         // keys listed per table and kind of difference
};

struct TableVerdict {
  std::string table;
  int64_t source_rows = 0;
  int64_t staging_rows = 0;
  int64_t missing = 0;    // rows of the transformed source staging does not have
  int64_t extra = 0;      // rows staging has and the transformed source does not
  int64_t differing = 0;  // keys present on both sides with different rows (counted in neither above)
  std::vector<std::string> missing_keys, extra_keys, differing_keys;  // the first few
  std::string problem;    // the table could not be compared (missing in staging, …)
  bool equal() const { return problem.empty() && missing == 0 && extra == 0 && differing == 0; }
};

struct ForeignKeyVerdict {
  std::string constraint;  // schema.table.name
  std::string child, parent;
  int64_t orphans = 0;
  std::string problem;
};

struct VerifyReport {
  std::vector<TableVerdict> tables;
  std::vector<ForeignKeyVerdict> foreign_keys;
  double seconds = 0;
  bool equal() const;
};

absl::StatusOr<VerifyReport> VerifyPg(const VerifyOptions& options);

std::string VerifyReportText(const VerifyReport& report);
std::string VerifyReportJson(const VerifyReport& report);

}  // namespace phony::snapshot
