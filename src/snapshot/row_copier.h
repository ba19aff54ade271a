// RowCopier: one source table's COPY text rows in, anonymized COPY text
// rows out — the per-row work the snapshot's workers and `phony verify`
// share. Columns the rules leave alone are copied as their text (never
// parsed); the others go through capture's text parser, the transformer
// and the applier's COPY formatter, so a row comes out exactly as CDC would
// have written it. Not thread-safe: one per worker and table.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "core/value.h"
#include "src/snapshot/copy_text.h"
#include "src/snapshot/pg_catalog.h"
#include "src/transform/transformer.h"

namespace phony::snapshot {

class RowCopier {
 public:
  // `table` and `transformer` must outlive the copier; the transformer
  // learns the table's schema here.
  static absl::StatusOr<RowCopier> Create(const SourceTable* table, transform::Transformer* transformer);

  // Appends the anonymized row, '\n'-terminated, to `out`. kDataLoss for a
  // line that does not parse (naming the column), kInvalidArgument for a
  // rule that cannot apply (naming the table; never a value).
  absl::Status Append(std::string_view line, std::string* out);

  // The SELECT list of the columns in copy order ("a", "b", …).
  std::string ColumnList() const;

 private:
  RowCopier(const SourceTable* table, transform::Transformer* transformer, std::vector<bool> pass)
      : table_(table), transformer_(transformer), pass_(std::move(pass)) {}

  const SourceTable* table_;
  transform::Transformer* transformer_;
  std::vector<bool> pass_;  // per column: copied as its text
  CopyRowParser parser_;
  Row row_;
};

}  // namespace phony::snapshot
