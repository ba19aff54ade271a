// `phony verify` for MySQL/MariaDB jobs: is staging equal to the
// deterministic transform of the source? Every table is read from the
// source in one consistent snapshot, anonymized by the same code as the
// snapshot and CDC (MyRowCopier's parser and the transformer), and compared
// with staging's table as multisets of rows keyed by primary key (every
// column as the text its column holds, CanonicalText), so each difference
// is classified: missing from staging, extra in staging, or different.
// Declared foreign keys are checked in staging for orphans. Memory: the
// transformed source's keys and a 64-bit digest per row. Nothing is
// written; no value is logged (listed keys are staging's, anonymized).
#pragma once

#include "absl/status/statusor.h"
#include "src/snapshot/pg_verify.h"

namespace phony::snapshot {

absl::StatusOr<VerifyReport> VerifyMy(const VerifyOptions& options);

}  // namespace phony::snapshot
