#include "src/snapshot/my_subset.h"

#include "absl/strings/escaping.h"
#include "absl/strings/str_join.h"
#include "core/status_macros.h"
#include "spdlog/spdlog.h"

namespace phony::snapshot {

using mysql::CatalogTable;
using mysql::MySession;

namespace {

bool LooksNumeric(std::string_view v) {
  if (v.empty()) return false;
  for (char c : v) {
    if (!((c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E')) return false;
  }
  return true;
}

// A literal for `value`, as the text protocol gave it, of column `column`.
std::string Literal(const CatalogTable& t, const std::string& column, const std::string& value) {
  const int i = t.schema.ColumnIndex(column);
  const ValueKind kind = i >= 0 ? t.schema.columns[static_cast<size_t>(i)].kind : ValueKind::kText;
  switch (kind) {
    case ValueKind::kInt64: case ValueKind::kUInt64: case ValueKind::kDecimal: case ValueKind::kDouble:
    case ValueKind::kBool:
      if (LooksNumeric(value)) return value;
      return "X'" + absl::BytesToHexString(value) + "'";  // BIT: its bytes
    case ValueKind::kBytes:
      return "X'" + absl::BytesToHexString(value) + "'";
    default:
      // Text in the connection's utf8mb4, coercible: the column's collation
      // compares, and its index serves.
      return "_utf8mb4 X'" + absl::BytesToHexString(value) + "'";
  }
}

std::string OneOfCondition(const CatalogTable& t, const std::vector<std::string>& cols,
                           const std::vector<std::string>& values, size_t begin, size_t end) {
  if (begin >= end) return "FALSE";
  std::vector<std::string> quoted;
  for (const std::string& c : cols) quoted.push_back(MySession::Ident(c));
  std::vector<std::string> items;
  for (size_t v = begin; v < end; ++v) {
    if (cols.size() == 1) {
      items.push_back(Literal(t, cols[0], values[v]));
      continue;
    }
    std::optional<std::vector<std::string>> parts = DecodeTuple(values[v]);
    if (!parts || parts->size() != cols.size()) continue;  // not a key of these columns: matches nothing
    std::vector<std::string> literals;
    for (size_t k = 0; k < cols.size(); ++k) literals.push_back(Literal(t, cols[k], (*parts)[k]));
    items.push_back("(" + absl::StrJoin(literals, ", ") + ")");
  }
  if (items.empty()) return "FALSE";
  return (cols.size() == 1 ? quoted[0] : "(" + absl::StrJoin(quoted, ", ") + ")") + " IN (" +
         absl::StrJoin(items, ", ") + ")";
}

class MySubsetDialect : public SubsetDialect {
 public:
  MySubsetDialect(MySession& s, const std::vector<const CatalogTable*>& tables) : s_(s), tables_(tables) {}

  std::vector<std::string> Columns(const SubsetTable&, const std::vector<std::string>& cols) const override {
    std::vector<std::string> out;
    for (const std::string& c : cols) out.push_back(MySession::Ident(c));
    return out;
  }
  std::string Sample(const SubsetTable& t, int64_t seed, int64_t per_million) const override {
    std::vector<std::string> hashed = {std::to_string(seed)};
    if (t.has_key()) {
      for (const std::string& c : t.key) hashed.push_back(MySession::Ident(c));
    } else {
      for (const auto& c : t.schema->columns) hashed.push_back(MySession::Ident(c.name));
    }
    // 48 bits of the keyed MD5: exact as an unsigned integer.
    return "CAST(CONV(SUBSTRING(MD5(CONCAT_WS(0x1f, " + absl::StrJoin(hashed, ", ") +
           ")), 1, 12), 16, 10) AS UNSIGNED) % 1000000 < " + std::to_string(per_million);
  }
  std::string OneOf(const SubsetTable& t, const std::vector<std::string>& cols, const std::vector<std::string>& values,
                    size_t begin, size_t end) const override {
    return OneOfCondition(*tables_[t.native], cols, values, begin, end);
  }
  std::string From(const SubsetTable& t) const override {
    return MySession::Ident(t.schema->id.schema) + "." + MySession::Ident(t.schema->id.table) + " t";
  }
  absl::Status Query(const std::string& sql, const std::string& what,
                     const std::function<void(const SubsetRow&)>& each) override {
    PHONY_ASSIGN_OR_RETURN(auto rows, s_.Query(sql, what));
    for (const auto& row : rows) each(row);
    return absl::OkStatus();
  }

 private:
  MySession& s_;
  const std::vector<const CatalogTable*>& tables_;
};

}  // namespace

absl::StatusOr<SubsetPlan> ComputeMySubset(MySession& session, const std::vector<const CatalogTable*>& tables,
                                           const SubsetConfig& config, const std::string& default_schema,
                                           int64_t seed, const std::vector<InferredForeignKey>& inferred) {
  std::vector<SubsetTable> subset_tables;
  for (size_t i = 0; i < tables.size(); ++i) {
    SubsetTable t{&tables[i]->schema, {}, i, {}};
    for (uint16_t k : tables[i]->schema.KeyColumns()) t.key.push_back(tables[i]->schema.columns[k].name);
    subset_tables.push_back(std::move(t));
  }
  if (const size_t n = AttachInferredForeignKeys(inferred, &subset_tables); n > 0) {
    spdlog::info("subset: following {} foreign keys phony analyze inferred (the saved report)", n);
  }
  MySubsetDialect dialect(session, tables);
  return ComputeSubset(dialect, subset_tables, config, default_schema, seed);
}

std::string MySelectionCondition(const CatalogTable& table, const SubsetSelection& selection, size_t begin,
                                 size_t end) {
  if (selection.all) return "TRUE";
  if (selection.columns.empty()) return selection.values.empty() ? "FALSE" : "(" + selection.values[0] + ")";
  return OneOfCondition(table, selection.columns, selection.values, begin, end);
}

}  // namespace phony::snapshot
