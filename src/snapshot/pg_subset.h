// FK-closed subsets of a PostgreSQL source (subset.h has the algorithm):
// PostgreSQL's SQL for it. Keys are a column's text, several columns as
// row(…)::text; the sample hashes them with hashtextextended. Internal to
// src/snapshot/.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/config.h"
#include "src/snapshot/pg_catalog.h"
#include "src/snapshot/pg_session.h"
#include "src/snapshot/subset.h"

namespace phony::snapshot {

// `seed` keys the sample (from the anonymization secret). `inferred`:
// foreign keys phony analyze inferred, followed like declared ones.
absl::StatusOr<SubsetPlan> ComputeSubset(PgSession* session, const SourceCatalog& catalog, const SubsetConfig& config,
                                         const std::string& default_schema, int64_t seed,
                                         const std::vector<InferredForeignKey>& inferred = {});

// The WHERE condition selecting values[begin, end) of `selection` in `table`
// ("false" for none).
std::string SelectionCondition(const SourceTable& table, const SubsetSelection& selection, size_t begin, size_t end);

}  // namespace phony::snapshot
