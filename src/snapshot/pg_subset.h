// FK-closed subsets of a PostgreSQL source (docs/snapshot.md "Subsets"):
// which rows of each table a subset copy takes. Seeds are a keyed,
// deterministic sample of the primary key (the same rows every run under
// the same secret) and/or a filter; `follow_fk` tables take the rows that
// reference included rows; with preserve_integrity every row an included
// row references is included too, transitively — iterated to a fixpoint over
// the declared foreign keys, cycles and self-references included. Computed
// with SELECTs inside the run's snapshot; the keys are held in memory.
// Internal to src/snapshot/.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/config.h"
#include "src/snapshot/pg_catalog.h"
#include "src/snapshot/pg_session.h"

namespace phony::snapshot {

// The rows of one table a subset takes: all of them, or those whose
// `columns` (the key, or for a table without one the foreign key it
// follows) have one of `values` (as the columns' text, `row(…)::text` for
// several columns).
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

// `seed` keys the sample (from the anonymization secret).
absl::StatusOr<SubsetPlan> ComputeSubset(PgSession* session, const SourceCatalog& catalog, const SubsetConfig& config,
                                         const std::string& default_schema, int64_t seed);

// The WHERE condition selecting values[begin, end) of `selection` in `table`
// ("false" for none).
std::string SelectionCondition(const SourceTable& table, const SubsetSelection& selection, size_t begin, size_t end);

}  // namespace phony::snapshot
