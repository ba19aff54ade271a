#include "src/snapshot/pg_subset.h"

#include <set>

#include "absl/strings/str_join.h"
#include "core/status_macros.h"
#include "spdlog/spdlog.h"

namespace phony::snapshot {

namespace {

std::string Quote(const std::string& ident) { return QuoteIdent(ident); }

// The text of `cols` of a row: "c"::text, or row("a", "b")::text; NULL when
// any of them is NULL (such a reference references nothing).
std::string TupleExpr(const std::vector<std::string>& cols) {
  if (cols.size() == 1) return Quote(cols[0]) + "::text";
  std::vector<std::string> quoted, present;
  for (const std::string& c : cols) {
    quoted.push_back(Quote(c));
    present.push_back(Quote(c) + " IS NOT NULL");
  }
  return "CASE WHEN " + absl::StrJoin(present, " AND ") + " THEN row(" + absl::StrJoin(quoted, ", ") + ")::text END";
}

// values[begin, end) as an SQL string literal of a PostgreSQL array.
std::string ArrayLiteral(const std::vector<std::string>& values, size_t begin, size_t end) {
  std::string out = "'{";
  for (size_t i = begin; i < end; ++i) {
    if (i > begin) out.push_back(',');
    out.push_back('"');
    for (char c : values[i]) {
      if (c == '"' || c == '\\') out.push_back('\\');
      if (c == '\'') out.push_back('\'');
      out.push_back(c);
    }
    out.push_back('"');
  }
  return out + "}'";
}

std::string Condition(const SourceTable& t, const std::vector<std::string>& cols, const std::vector<std::string>& values,
                      size_t begin, size_t end) {
  if (begin >= end) return "false";
  if (cols.size() == 1) {
    // A built-in type compares typed, so an index on the column serves.
    const int i = t.schema.ColumnIndex(cols[0]);
    if (i >= 0 && t.schema.columns[static_cast<size_t>(i)].type_id < 16384) {
      return Quote(cols[0]) + " = ANY(" + ArrayLiteral(values, begin, end) + "::" +
             t.schema.columns[static_cast<size_t>(i)].type_name + "[])";
    }
  }
  std::string cond = TupleExpr(cols) + " = ANY(" + ArrayLiteral(values, begin, end) + "::text[])";
  // Several columns compare as row text, which no index serves; an integer
  // first column also compares typed, so an index starting with it does.
  const int first = t.schema.ColumnIndex(cols[0]);
  const uint32_t type = first >= 0 ? t.schema.columns[static_cast<size_t>(first)].type_id : 0;
  if (type == 20 || type == 21 || type == 23) {  // int8, int2, int4
    std::set<std::string> prefixes;
    for (size_t i = begin; i < end; ++i) {
      const std::string& v = values[i];  // "(12,3)"
      const size_t comma = v.find(',');
      if (v.size() < 3 || v[0] != '(' || comma == std::string::npos) return cond;
      prefixes.insert(v.substr(1, comma - 1));
    }
    const std::vector<std::string> list(prefixes.begin(), prefixes.end());
    cond = Quote(cols[0]) + " = ANY(" + ArrayLiteral(list, 0, list.size()) + "::" +
           t.schema.columns[static_cast<size_t>(first)].type_name + "[]) AND " + cond;
  }
  return cond;
}

class PgSubsetDialect : public SubsetDialect {
 public:
  PgSubsetDialect(PgSession* s, const SourceCatalog& catalog) : s_(s), catalog_(catalog) {}

  std::vector<std::string> Columns(const SubsetTable&, const std::vector<std::string>& cols) const override {
    return {TupleExpr(cols)};
  }
  std::string Sample(const SubsetTable& t, int64_t seed, int64_t per_million) const override {
    const std::string hashed = t.has_key() ? TupleExpr(t.key) : "t::text";
    return "(hashtextextended(" + hashed + ", " + std::to_string(seed) + ") & 9223372036854775807) % 1000000 < " +
           std::to_string(per_million);
  }
  std::string OneOf(const SubsetTable& t, const std::vector<std::string>& cols, const std::vector<std::string>& values,
                    size_t begin, size_t end) const override {
    return Condition(catalog_.tables[t.native], cols, values, begin, end);
  }
  std::string From(const SubsetTable& t) const override {
    return std::string(catalog_.tables[t.native].partitioned ? "" : "ONLY ") + QualifiedIdent(t.schema->id) + " t";
  }
  absl::Status Query(const std::string& sql, const std::string& what,
                     const std::function<void(const SubsetRow&)>& each) override {
    PHONY_ASSIGN_OR_RETURN(PgResult r, s_->Query(sql, what));
    const int columns = PQnfields(r.get());
    SubsetRow row(static_cast<size_t>(columns));
    for (int i = 0; i < PQntuples(r.get()); ++i) {
      for (int c = 0; c < columns; ++c) {
        if (PQgetisnull(r.get(), i, c)) {
          row[static_cast<size_t>(c)].reset();
        } else {
          row[static_cast<size_t>(c)] = Text(r.get(), i, c);
        }
      }
      each(row);
    }
    return absl::OkStatus();
  }

 private:
  PgSession* s_;
  const SourceCatalog& catalog_;
};

}  // namespace

absl::StatusOr<SubsetPlan> ComputeSubset(PgSession* session, const SourceCatalog& catalog, const SubsetConfig& config,
                                         const std::string& default_schema, int64_t seed,
                                         const std::vector<InferredForeignKey>& inferred) {
  std::vector<SubsetTable> tables;
  for (size_t i = 0; i < catalog.tables.size(); ++i) {
    tables.push_back({&catalog.tables[i].schema, catalog.tables[i].primary_key, i, {}});
  }
  if (const size_t n = AttachInferredForeignKeys(inferred, &tables); n > 0) {
    spdlog::info("subset: following {} foreign keys phony analyze inferred (the saved report)", n);
  }
  PgSubsetDialect dialect(session, catalog);
  return ComputeSubset(dialect, tables, config, default_schema, seed);
}

std::string SelectionCondition(const SourceTable& table, const SubsetSelection& selection, size_t begin, size_t end) {
  if (selection.all) return "true";
  if (selection.columns.empty()) return selection.values.empty() ? "false" : "(" + selection.values[0] + ")";
  return Condition(table, selection.columns, selection.values, begin, end);
}

}  // namespace phony::snapshot
