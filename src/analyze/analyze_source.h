// The analyzer's readers: a PostgreSQL or MariaDB/MySQL source's catalog
// (tables the job's include/exclude cover, columns, keys, declared foreign
// keys) read in a few bulk queries, samples taken without scanning big
// tables (PostgreSQL TABLESAMPLE SYSTEM; on MySQL/MariaDB ranges of the
// integer primary key), and inclusion probes for foreign-key inference.
// Values travel as text and are never logged.
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "core/config.h"
#include "src/analyze/analyzer.h"

namespace phony::analyze {

// Connects to the job's source (`password` resolved from the config's
// reference). The source is only read.
absl::StatusOr<std::unique_ptr<AnalyzeSource>> OpenAnalyzeSource(const JobConfig& config, const std::string& password);

// Postgres type category and name to a ColumnClass; MySQL DATA_TYPE and
// COLUMN_TYPE to one. Exposed for tests.
ColumnClass PgColumnClass(const std::string& typname, char typcategory);
ColumnClass MyColumnClass(const std::string& data_type, const std::string& column_type);

}  // namespace phony::analyze
