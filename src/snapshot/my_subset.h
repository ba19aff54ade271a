// FK-closed subsets of a MySQL/MariaDB source (subset.h has the algorithm):
// MySQL's SQL for it. Key columns are read one by one (several as one
// EncodeTuple in memory) and looked up again with IN lists whose literals
// keep the column's type: numbers as numbers, binary strings as X'…', text
// as _utf8mb4 X'…' so the column's collation and index apply. The sample
// hashes the key with MD5 under the seed. Internal to src/snapshot/.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/config.h"
#include "src/capture/mysql/my_catalog.h"
#include "src/capture/mysql/my_session.h"
#include "src/snapshot/subset.h"

namespace phony::snapshot {

// Runs on `session`, which must be inside the copy's consistent snapshot.
absl::StatusOr<SubsetPlan> ComputeMySubset(mysql::MySession& session,
                                           const std::vector<const mysql::CatalogTable*>& tables,
                                           const SubsetConfig& config, const std::string& default_schema,
                                           int64_t seed, const std::vector<InferredForeignKey>& inferred = {});

// The WHERE condition selecting values[begin, end) of `selection` in
// `table` ("FALSE" for none).
std::string MySelectionCondition(const mysql::CatalogTable& table, const SubsetSelection& selection, size_t begin,
                                 size_t end);

}  // namespace phony::snapshot
