#include "src/snapshot/row_copier.h"

#include "absl/strings/str_join.h"
#include "core/status_macros.h"
#include "src/apply/postgres/pg_text.h"
#include "src/capture/postgres/pg_values.h"

namespace phony::snapshot {

absl::StatusOr<RowCopier> RowCopier::Create(const SourceTable* table, transform::Transformer* transformer) {
  PHONY_RETURN_IF_ERROR(transformer->LearnSchema(table->schema));
  return RowCopier(table, transformer, transformer->PassThroughColumns(table->schema.id));
}

std::string RowCopier::ColumnList() const {
  std::vector<std::string> cols;
  for (const ColumnDef& c : table_->schema.columns) cols.push_back(apply::pg::QuoteIdent(c.name));
  return absl::StrJoin(cols, ", ");
}

absl::Status RowCopier::Append(std::string_view line, std::string* out) {
  const TableId& id = table_->schema.id;
  const size_t ncols = table_->schema.columns.size();
  absl::Status parsed = parser_.Parse(line);
  if (parsed.ok() && parser_.fields().size() != ncols) {
    parsed = absl::DataLossError("a row has " + std::to_string(parser_.fields().size()) + " fields, not " +
                                 std::to_string(ncols));
  }
  row_.clear();
  for (size_t i = 0; parsed.ok() && i < ncols; ++i) {
    const auto& f = parser_.fields()[i];
    if (pass_[i]) {
      row_.push_back(Value::Unchanged());  // copied as its text below
      continue;
    }
    if (!f) {
      row_.push_back(Value::Null());
      continue;
    }
    auto v = pg::ParseTextValue(table_->copy_oids[i], *f);
    if (!v.ok()) {
      parsed = absl::DataLossError("column " + table_->schema.columns[i].name + ": " + std::string(v.status().message()));
      break;
    }
    row_.push_back(*std::move(v));
  }
  if (!parsed.ok()) return absl::DataLossError("reading " + id.QualifiedName() + ": " + std::string(parsed.message()));
  if (absl::Status s = transformer_->TransformRow(id, &row_); !s.ok()) {
    return absl::Status(
        s.code() == absl::StatusCode::kFailedPrecondition ? absl::StatusCode::kInvalidArgument : s.code(),
        "anonymizing " + id.QualifiedName() + ": " + std::string(s.message()));
  }
  for (size_t i = 0; i < ncols; ++i) {
    if (i) out->push_back('\t');
    if (pass_[i]) {
      out->append(parser_.raw_fields()[i]);
    } else {
      apply::pg::AppendCopyField(row_[i], out);
    }
  }
  out->push_back('\n');
  return absl::OkStatus();
}

}  // namespace phony::snapshot
