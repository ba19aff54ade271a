// The analyzer (issue #10): reads a source's catalog and a sample of every
// table through an AnalyzeSource, flags PII columns (detect.h), infers the
// foreign-key graph (declared, by naming, by data inclusion) and returns a
// Report. report.h writes it as JSON, as a terminal table and as a starter
// config; strict.h enforces it at start-up.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "src/analyze/detect.h"

namespace phony::analyze {

struct CatalogColumn {
  std::string name;
  std::string type;  // as the server names it: "character varying(255)", "int(11)"
  ColumnClass cls = ColumnClass::kText;
  bool nullable = true;
  bool primary_key = false;  // part of the primary key
  bool unique = false;       // alone in a unique constraint or index (or the primary key alone)
};

struct DeclaredForeignKey {
  std::vector<std::string> columns;
  std::string ref_schema, ref_table;
  std::vector<std::string> ref_columns;
};

struct CatalogTable {
  std::string schema, table;
  double estimated_rows = 0;
  std::vector<CatalogColumn> columns;
  std::vector<DeclaredForeignKey> foreign_keys;

  // "users" in the default schema, "sales.users" elsewhere: how the config
  // and the report name tables.
  std::string Key(const std::string& default_schema) const {
    return schema == default_schema ? table : schema + "." + table;
  }
};

// One table's sample: per column (aligned with CatalogTable::columns), the
// non-null values read, as text. A column the reader cannot show as text
// (binary) has none.
using TableSample = std::vector<std::vector<std::string>>;

// Where the analyzer reads from: PostgreSQL or MariaDB/MySQL (analyze_source.h).
class AnalyzeSource {
 public:
  virtual ~AnalyzeSource() = default;
  // The tables the job covers (include/exclude), with columns, keys and
  // declared foreign keys.
  virtual absl::StatusOr<std::vector<CatalogTable>> ReadCatalog() = 0;
  // About `rows` rows spread over the table (TABLESAMPLE or equivalent on
  // big tables), never a full scan of a big one.
  virtual absl::StatusOr<TableSample> Sample(const CatalogTable& table, size_t rows) = 0;
  // How many of the distinct `values` (text forms of `column`'s type) exist
  // in `table`.`column`.
  virtual absl::StatusOr<size_t> CountPresent(const CatalogTable& table, const std::string& column,
                                              const std::vector<std::string>& values) = 0;
  // "postgresql" or "mysql", and the schema unqualified names mean.
  virtual std::string Kind() const = 0;
  virtual std::string DefaultSchema() const = 0;
};

struct AnalyzeOptions {
  size_t sample_rows = 1000;
  double threshold = 0.5;     // flag a column at or above this confidence
  double fk_threshold = 0.6;  // report an inferred foreign key at or above this
  bool use_declared_fks = true;  // false: infer every FK (the tests drop the declared ones)
};

struct ColumnFinding {
  std::string table;   // CatalogTable::Key
  std::string column;
  std::string sql_type;
  ColumnClass cls = ColumnClass::kText;
  bool unique = false;
  bool nullable = true;
  PiiType type = PiiType::kNone;
  double confidence = 0;
  std::vector<std::string> evidence;  // "name", "content"
};

struct ForeignKeyFinding {
  std::string from_table, from_column;  // from_column "a,b" for a composite key
  std::string to_table, to_column;
  double confidence = 0;
  std::vector<std::string> evidence;  // "declared", "name", "data"
  bool declared() const { return !evidence.empty() && evidence[0] == "declared"; }
};

struct Report {
  std::string source_kind;     // postgresql | mysql
  std::string default_schema;
  size_t sample_rows = 0;
  double threshold = 0;
  std::string generated_at;    // ISO 8601, UTC
  double seconds = 0;
  size_t tables = 0;
  std::vector<ColumnFinding> flagged;  // at or above the threshold, in table then column order
  std::vector<ColumnFinding> columns;  // every column analyzed (flagged ones included)
  std::vector<ForeignKeyFinding> fks;

  // The finding for a column, or nullptr.
  const ColumnFinding* Flagged(const std::string& table, const std::string& column) const;
  bool Seen(const std::string& table, const std::string& column) const;
};

absl::StatusOr<Report> Analyze(AnalyzeSource& source, const AnalyzeOptions& options);

// Foreign keys from the catalog and the samples (declared ones first).
// Exposed for tests; Analyze calls it.
absl::StatusOr<std::vector<ForeignKeyFinding>> InferForeignKeys(AnalyzeSource& source,
                                                                const std::vector<CatalogTable>& tables,
                                                                const std::vector<TableSample>& samples,
                                                                const AnalyzeOptions& options);

// English and a few other plurals to singular, lower case ("categories" ->
// "category", "people" -> "person", "musteriler" -> "musteri").
std::string Singular(const std::string& word);

}  // namespace phony::analyze
