#include "src/snapshot/pg_subset.h"

#include <cmath>
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

struct Edge {
  size_t child = 0;
  size_t parent = 0;
  const ForeignKey* fk = nullptr;
};

struct Work {
  const SourceTable* t = nullptr;
  std::vector<size_t> out, in;        // edges where it is the child / the parent
  bool all = false;                   // every row
  bool seeded = false;
  bool follows = false;
  std::string follows_parent;         // "" any
  std::string condition;              // a keyless seed: its sample and filter
  std::set<std::string> keys;         // included rows (tables with a key)
  std::set<std::string> via;          // a keyless follower: values of the foreign key it follows
  int via_edge = -1;
  std::string how;
};

class Subsetter {
 public:
  Subsetter(PgSession* s, const SourceCatalog& catalog, const SubsetConfig& config, std::string default_schema,
            int64_t seed)
      : s_(s), catalog_(catalog), config_(config), default_schema_(std::move(default_schema)), seed_(seed) {}

  absl::StatusOr<SubsetPlan> Run() {
    std::map<TableId, size_t> index;
    for (const SourceTable& t : catalog_.tables) {
      index[t.schema.id] = work_.size();
      Work w;
      w.t = &t;
      work_.push_back(std::move(w));
    }
    for (size_t i = 0; i < work_.size(); ++i) {
      for (const ForeignKey& fk : work_[i].t->schema.foreign_keys) {
        auto it = index.find(fk.referenced);
        if (it == index.end()) continue;  // a table the job does not cover
        edges_.push_back({i, it->second, &fk});
        work_[i].out.push_back(edges_.size() - 1);
        work_[it->second].in.push_back(edges_.size() - 1);
      }
    }
    out_values_.resize(edges_.size());
    in_values_.resize(edges_.size());
    asked_parents_.resize(edges_.size());
    asked_children_.resize(edges_.size());

    // Rules and seeds name tables as configs do.
    auto resolve = [&](const std::string& name, const std::string& path) -> absl::StatusOr<size_t> {
      const std::string qualified = name.find('.') == std::string::npos ? default_schema_ + "." + name : name;
      for (const auto& [id, i] : index) {
        if (id.QualifiedName() == qualified) return i;
      }
      return absl::InvalidArgumentError(path + ": " + qualified + " is not a source table this job covers");
    };
    std::map<size_t, const SubsetTableRule*> rules;
    for (const auto& [name, rule] : config_.rules) {
      PHONY_ASSIGN_OR_RETURN(size_t i, resolve(name, "subset.rules." + name));
      rules[i] = &rule;
      if (rule.follow_fk) {
        work_[i].follows = true;
        if (!rule.parent.empty()) {
          PHONY_ASSIGN_OR_RETURN(size_t p, resolve(rule.parent, "subset.rules." + name + ".parent"));
          work_[i].follows_parent = work_[p].t->schema.id.QualifiedName();
        }
      } else {
        work_[i].seeded = true;
      }
    }
    for (const std::string& name : config_.seed_tables) {
      PHONY_ASSIGN_OR_RETURN(size_t i, resolve(name, "subset.seed_tables"));
      if (work_[i].follows) {
        return absl::InvalidArgumentError("subset: " + work_[i].t->schema.id.QualifiedName() +
                                          " is a seed table and follows its parents (\"sample\": \"follow_fk\"): "
                                          "choose one");
      }
      work_[i].seeded = true;
    }

    // Seeds, and with other_tables "all" the tables nobody mentions.
    for (size_t i = 0; i < work_.size(); ++i) {
      Work& w = work_[i];
      if (w.seeded) {
        const SubsetTableRule* rule = rules.count(i) ? rules[i] : nullptr;
        const double pct = rule && rule->percentage ? *rule->percentage : config_.percentage;
        std::vector<std::string> where;
        if (pct < 100) {
          const std::string hashed = w.t->has_key() ? TupleExpr(w.t->primary_key) : "t::text";
          where.push_back("(hashtextextended(" + hashed + ", " + std::to_string(seed_) +
                          ") & 9223372036854775807) % 1000000 < " + std::to_string(std::llround(pct * 10000)));
        }
        if (rule && !rule->filter.empty()) where.push_back("(" + rule->filter + ")");
        const std::string cond = where.empty() ? "true" : absl::StrJoin(where, " AND ");
        char how[64];
        std::snprintf(how, sizeof(how), "%g%% sample", pct);
        w.how = std::string(how) + (rule && !rule->filter.empty() ? " with filter" : "");
        if (!w.t->has_key()) w.condition = cond;
        PHONY_RETURN_IF_ERROR(Fetch(i, cond, "choosing the seed rows of"));
      } else if (!w.follows && config_.other_tables == OtherTables::kAll) {
        w.all = true;
        w.how = "all (other_tables)";
        PHONY_RETURN_IF_ERROR(FetchAll(i));
      }
    }

    // To a fixpoint: parents of included rows, children that follow them.
    SubsetPlan plan;
    for (bool progress = true; progress;) {
      progress = false;
      ++plan.iterations;
      for (size_t e = 0; e < edges_.size(); ++e) {
        const Edge& edge = edges_[e];
        Work& child = work_[edge.child];
        Work& parent = work_[edge.parent];
        if (config_.preserve_integrity && !parent.all) {
          std::vector<std::string> ask = Unasked(out_values_[e], &asked_parents_[e]);
          if (!ask.empty()) {
            progress = true;
            if (parent.how.empty()) parent.how = "referenced";
            for (size_t b = 0; b < ask.size(); b += kBatch) {
              PHONY_RETURN_IF_ERROR(Fetch(edge.parent,
                                          Condition(*parent.t, edge.fk->referenced_columns, ask, b,
                                                    std::min(ask.size(), b + kBatch)),
                                          "finding rows " + child.t->schema.id.QualifiedName() + "." +
                                              edge.fk->name + " references in"));
            }
          }
        }
        const bool follows = child.follows && !child.all &&
                             (child.follows_parent.empty() ||
                              child.follows_parent == parent.t->schema.id.QualifiedName());
        if (follows) {
          if (parent.all) {
            // Every parent row: every child row that references one.
            child.all = true;
            child.how = "follows " + parent.t->schema.id.QualifiedName() + " (all)";
            PHONY_RETURN_IF_ERROR(FetchAll(edge.child));
            progress = true;
            continue;
          }
          std::vector<std::string> ask = Unasked(in_values_[e], &asked_children_[e]);
          if (ask.empty()) continue;
          progress = true;
          if (child.how.empty() || child.how == "referenced") child.how = "follows " + parent.t->schema.id.QualifiedName();
          if (!child.t->has_key()) {
            if (child.via_edge >= 0 && child.via_edge != static_cast<int>(e)) {
              return absl::FailedPreconditionError(
                  "subset: " + child.t->schema.id.QualifiedName() +
                  " has no primary key and follows two foreign keys: name one with \"parent\"");
            }
            child.via_edge = static_cast<int>(e);
            child.via.insert(ask.begin(), ask.end());
          }
          for (size_t b = 0; b < ask.size(); b += kBatch) {
            PHONY_RETURN_IF_ERROR(Fetch(edge.child,
                                        Condition(*child.t, edge.fk->columns, ask, b, std::min(ask.size(), b + kBatch)),
                                        "finding rows that follow"));
          }
        }
      }
    }

    for (Work& w : work_) {
      SubsetSelection sel;
      sel.all = w.all;
      if (w.all) {
        sel.how = w.how;
      } else if (w.t->has_key() && !w.keys.empty()) {
        sel.columns = w.t->primary_key;
        sel.values.assign(w.keys.begin(), w.keys.end());
        sel.how = w.how;
      } else if (!w.condition.empty()) {
        sel.columns.clear();
        sel.values = {w.condition};  // a keyless seed: its condition, used as is
        sel.how = w.how + " (by condition)";
      } else if (w.via_edge >= 0) {
        sel.columns = edges_[static_cast<size_t>(w.via_edge)].fk->columns;
        sel.values.assign(w.via.begin(), w.via.end());
        sel.how = w.how;
      } else {
        if (!w.seeded && !w.follows && config_.other_tables == OtherTables::kNone) continue;
        sel.how = "schema only";
      }
      plan.tables[w.t->schema.id] = std::move(sel);
    }
    return plan;
  }

 private:
  static constexpr size_t kBatch = 20000;

  static std::vector<std::string> Unasked(const std::set<std::string>& values, std::set<std::string>* asked) {
    std::vector<std::string> out;
    for (const std::string& v : values) {
      if (asked->insert(v).second) out.push_back(v);
    }
    return out;
  }

  // Reads the rows of table `i` matching `condition`: their keys, the
  // references they make and the values they can be referenced by.
  absl::Status Fetch(size_t i, const std::string& condition, const std::string& what) {
    Work& w = work_[i];
    std::vector<std::string> exprs = {w.t->has_key() ? TupleExpr(w.t->primary_key) : "NULL"};
    for (size_t e : w.out) exprs.push_back(TupleExpr(edges_[e].fk->columns));
    for (size_t e : w.in) exprs.push_back(TupleExpr(edges_[e].fk->referenced_columns));
    const std::string sql = "SELECT " + absl::StrJoin(exprs, ", ") + " FROM " + (w.t->partitioned ? "" : "ONLY ") +
                            QualifiedIdent(w.t->schema.id) + " t WHERE " + condition;
    PHONY_ASSIGN_OR_RETURN(PgResult r, s_->Query(sql, what + " " + w.t->schema.id.QualifiedName()));
    spdlog::debug("snapshot: subset: {} {}: {} rows", what, w.t->schema.id.QualifiedName(), PQntuples(r.get()));
    for (int row = 0; row < PQntuples(r.get()); ++row) {
      if (w.t->has_key() && !w.keys.insert(Text(r.get(), row, 0)).second) continue;  // known already
      int col = 1;
      for (size_t e : w.out) {
        if (!PQgetisnull(r.get(), row, col)) out_values_[e].insert(Text(r.get(), row, col));
        ++col;
      }
      for (size_t e : w.in) {
        if (!PQgetisnull(r.get(), row, col)) in_values_[e].insert(Text(r.get(), row, col));
        ++col;
      }
    }
    return absl::OkStatus();
  }

  // A table taken whole: only the references it makes and can receive.
  absl::Status FetchAll(size_t i) {
    Work& w = work_[i];
    const std::string from = std::string(w.t->partitioned ? "" : "ONLY ") + QualifiedIdent(w.t->schema.id);
    for (size_t e : w.out) {
      PHONY_ASSIGN_OR_RETURN(PgResult r, s_->Query("SELECT DISTINCT " + TupleExpr(edges_[e].fk->columns) + " FROM " +
                                                       from + " WHERE " + TupleExpr(edges_[e].fk->columns) +
                                                       " IS NOT NULL",
                                                   "reading references of " + w.t->schema.id.QualifiedName()));
      for (int row = 0; row < PQntuples(r.get()); ++row) out_values_[e].insert(Text(r.get(), row, 0));
    }
    return absl::OkStatus();
  }

  PgSession* s_;
  const SourceCatalog& catalog_;
  const SubsetConfig& config_;
  std::string default_schema_;
  int64_t seed_;
  std::vector<Work> work_;
  std::vector<Edge> edges_;
  std::vector<std::set<std::string>> out_values_;      // per edge: references made by included child rows
  std::vector<std::set<std::string>> in_values_;       // per edge: values included parent rows can be referenced by
  std::vector<std::set<std::string>> asked_parents_;   // per edge: references already looked up
  std::vector<std::set<std::string>> asked_children_;  // per edge: parent values already followed
};

}  // namespace

absl::StatusOr<SubsetPlan> ComputeSubset(PgSession* session, const SourceCatalog& catalog, const SubsetConfig& config,
                                         const std::string& default_schema, int64_t seed) {
  Subsetter s(session, catalog, config, default_schema, seed);
  return s.Run();
}

std::string SelectionCondition(const SourceTable& table, const SubsetSelection& selection, size_t begin, size_t end) {
  if (selection.all) return "true";
  if (selection.columns.empty()) return selection.values.empty() ? "false" : "(" + selection.values[0] + ")";
  return Condition(table, selection.columns, selection.values, begin, end);
}

}  // namespace phony::snapshot
