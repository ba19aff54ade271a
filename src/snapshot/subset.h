// FK-closed subsets (docs/snapshot.md "Subsets"), for any source family:
// which rows of each table a subset copy takes. Seeds are a keyed,
// deterministic sample of the primary key (the same rows every run under
// the same secret) and/or a filter; `follow_fk` tables take the rows that
// reference included rows; with preserve_integrity every row an included
// row references is included too, transitively — iterated to a fixpoint
// over the declared foreign keys, cycles and self-references included.
// Computed with SELECTs inside the run's snapshot; the keys are held in
// memory. The SQL a source speaks comes from a SubsetDialect
// (pg_subset.cc, my_subset.cc). Internal to src/snapshot/.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "core/config.h"
#include "core/schema.h"

namespace phony::snapshot {

// The rows of one table a subset takes: all of them, or those whose
// `columns` (the key, or for a table without one the foreign key it
// follows) have one of `values` (as the dialect's SELECT expressions yield
// them, several columns as one EncodeTuple), or with no `columns` the rows
// `values[0]` (an SQL condition) selects.
struct SubsetSelection {
  bool all = false;
  std::vector<std::string> columns;
  std::vector<std::string> values;  // sorted
  std::string how;                  // "1% sample", "follows public.users", "referenced", "all", "schema only"
};

struct SubsetPlan {
  // Tables to create; absent ones are left out (other_tables: none).
  std::map<TableId, SubsetSelection> tables;
  int iterations = 0;
};

// One table as the subsetter sees it.
struct SubsetTable {
  const TableSchema* schema = nullptr;  // id and foreign_keys
  std::vector<std::string> key;         // primary key columns; empty: none
  size_t native = 0;                    // the dialect's own index of the table
  // Foreign keys the source does not declare, inferred by phony analyze
  // (the saved report): followed like declared ones.
  std::vector<ForeignKey> inferred;
  bool has_key() const { return !key.empty(); }
};

// A foreign key phony analyze inferred: `table` ("schema.table") references
// fk.referenced (schema and table set; database ignored).
struct InferredForeignKey {
  std::string table;
  ForeignKey fk;
};

// Attaches `inferred` to the tables they start from, where both tables are
// in `tables` and the source declares no foreign key on those columns;
// fk.referenced becomes the parent's own TableId. Returns how many.
size_t AttachInferredForeignKeys(const std::vector<InferredForeignKey>& inferred, std::vector<SubsetTable>* tables);

using SubsetRow = std::vector<std::optional<std::string>>;

class SubsetDialect {
 public:
  virtual ~SubsetDialect() = default;
  // SELECT expressions over a row of `t` (aliased t) that yield `cols`:
  // one per column, or one for all of them that is NULL when any is.
  virtual std::vector<std::string> Columns(const SubsetTable& t, const std::vector<std::string>& cols) const = 0;
  // A condition on a row of `t`: a keyed hash of its key (of the whole row
  // without one) under `seed` falls below `per_million`.
  virtual std::string Sample(const SubsetTable& t, int64_t seed, int64_t per_million) const = 0;
  // A condition: `cols` of a row of `t` are one of values[begin, end).
  virtual std::string OneOf(const SubsetTable& t, const std::vector<std::string>& cols,
                            const std::vector<std::string>& values, size_t begin, size_t end) const = 0;
  // The FROM item for `t`, aliased t.
  virtual std::string From(const SubsetTable& t) const = 0;
  // Runs a SELECT inside the snapshot, handing over each row.
  virtual absl::Status Query(const std::string& sql, const std::string& what,
                             const std::function<void(const SubsetRow&)>& row) = 0;
};

// Several column texts as one value ("<bytes>:<text>" each), and back.
std::string EncodeTuple(const std::vector<std::string_view>& parts);
std::optional<std::vector<std::string>> DecodeTuple(std::string_view encoded);

// `seed` keys the sample (from the anonymization secret). Tables are named
// in `config` as job configs name them: bare names are in `default_schema`.
absl::StatusOr<SubsetPlan> ComputeSubset(SubsetDialect& dialect, const std::vector<SubsetTable>& tables,
                                         const SubsetConfig& config, const std::string& default_schema,
                                         int64_t seed);

// The sample's seed derived from the anonymization secret.
absl::StatusOr<int64_t> SubsetSeed(const std::string& secret);

}  // namespace phony::snapshot
