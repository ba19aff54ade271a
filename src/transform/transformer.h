// Transformer: the job's column rules applied to events (issue #5;
// docs/anonymization.md). Built once from the config and the secret, where
// every rule is compiled and every problem is an error naming its config
// path; then it follows the stream's schema events and rewrites each change
// event's before and after rows (the key is a projection of them, so it is
// rewritten too). Fail closed: a column without a rule gets the job's
// `unlisted_columns` policy (a column that references a transformed key gets
// that key's rule), a value a rule cannot handle is redacted and counted,
// never passed on. Outputs are pure functions of (secret, domain, generator
// version, value). Thread-compatible: one per stage thread.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "core/config.h"
#include "core/event.h"

namespace phony::transform {

// Where the transformer records and looks up mappings (the RocksDB mapping
// store in a stage; nothing in a dry run). Keys it is given are originals:
// an implementation must store keyed hashes of them only.
class MappingLedger {
 public:
  virtual ~MappingLedger() = default;
  // Whether any operator override exists in `domain` (checked once per
  // domain when the transformer starts; only those domains pay lookups).
  virtual bool HasOverrides(std::string_view domain) const = 0;
  virtual absl::StatusOr<std::optional<std::string>> Override(std::string_view domain,
                                                              std::string_view original) = 0;
  // A mapping made in a unique domain: the ledger reports a collision as an
  // error (kFailedPrecondition naming the domain).
  virtual absl::Status Record(std::string_view domain, std::string_view original, std::string_view fake) = 0;
};

class Transformer {
 public:
  struct Options {
    MappingLedger* ledger = nullptr;  // not owned; may be null
    // No log lines about columns without a rule (the stage's other
    // transformers, which would repeat the first one's).
    bool quiet = false;
  };

  // kInvalidArgument listing every problem (path: reason): unknown generator
  // or locale, a pattern that does not parse, columns sharing a domain with
  // different rules, a secret shorter than 16 bytes.
  static absl::StatusOr<std::unique_ptr<Transformer>> Create(const JobConfig& config, std::string_view secret,
                                                             const Options& options);
  ~Transformer();

  // Rewrites one event in place. Schema events are learnt (and passed on);
  // kFailedPrecondition when a column has no rule under `unlisted_columns:
  // fail`, kInvalidArgument when a rule cannot apply to its column's type —
  // both name the column. A change event for a table whose schema was never
  // seen is kFailedPrecondition.
  absl::Status Transform(Event* event);

  // Learns a schema (as a schema event does) and rewrites one row of it:
  // what the snapshot path and `phony preview` use.
  absl::Status LearnSchema(const TableSchema& schema);
  absl::Status TransformRow(const TableId& table, Row* row);

  // For each column of the table's latest schema: whether every value
  // passes through unchanged (KEEP without JSON paths, or no rule under
  // `unlisted_columns: keep`) and no other column's rule reads it. A bulk
  // path may then copy such a column's text as it is and hand TransformRow
  // Value::Unchanged() in its place.
  std::vector<bool> PassThroughColumns(const TableId& table) const;

  // Columns running under the unlisted-columns policy (never reviewed:
  // "schema.table.column"), and how each table column is handled, for the
  // stage's report and `phony preview`.
  std::vector<std::string> UnreviewedColumns() const;
  std::string DescribeColumn(const TableId& table, std::string_view column) const;

  struct Stats {
    uint64_t rows = 0;
    uint64_t values_transformed = 0;
    uint64_t values_redacted = 0;  // a rule could not handle the value
  };
  const Stats& stats() const;

 private:
  struct Impl;
  explicit Transformer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace phony::transform
