#include "src/snapshot/subset.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <set>

#include "absl/strings/str_join.h"
#include "core/status_macros.h"
#include "spdlog/spdlog.h"
#include "src/transform/keyed.h"

namespace phony::snapshot {

std::string EncodeTuple(const std::vector<std::string_view>& parts) {
  std::string out;
  for (std::string_view p : parts) {
    out += std::to_string(p.size());
    out.push_back(':');
    out.append(p);
  }
  return out;
}

std::optional<std::vector<std::string>> DecodeTuple(std::string_view encoded) {
  std::vector<std::string> out;
  while (!encoded.empty()) {
    size_t n = 0;
    const auto [end, ec] = std::from_chars(encoded.data(), encoded.data() + encoded.size(), n);
    if (ec != std::errc() || end == encoded.data() + encoded.size() || *end != ':') return std::nullopt;
    encoded.remove_prefix(static_cast<size_t>(end - encoded.data()) + 1);
    if (n > encoded.size()) return std::nullopt;
    out.emplace_back(encoded.substr(0, n));
    encoded.remove_prefix(n);
  }
  return out;
}

absl::StatusOr<int64_t> SubsetSeed(const std::string& secret) {
  // The sample is keyed by the secret: the same rows every run, and nobody
  // without the secret can tell which.
  PHONY_ASSIGN_OR_RETURN(const transform::Key128 key, transform::DeriveKey(secret, "subset-sample:v1"));
  return static_cast<int64_t>(transform::SipHash64(key, "seed") & 0x7fffffffffffffffULL);
}

namespace {

struct Edge {
  size_t child = 0;
  size_t parent = 0;
  const ForeignKey* fk = nullptr;
};

struct Work {
  const SubsetTable* t = nullptr;
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

// SELECT expressions for several column groups, and where each group's
// expressions sit in a row.
struct Projection {
  std::vector<std::string> exprs;
  std::vector<std::pair<size_t, size_t>> groups;  // offset, count

  size_t Add(std::vector<std::string> e) {
    groups.emplace_back(exprs.size(), e.size());
    for (std::string& x : e) exprs.push_back(std::move(x));
    return groups.size() - 1;
  }
  // Group `g` of `row` as one value; nullopt when any of it is NULL.
  std::optional<std::string> Take(const SubsetRow& row, size_t g) const {
    const auto [offset, count] = groups[g];
    if (count == 1) return row[offset];
    std::vector<std::string_view> parts;
    for (size_t i = offset; i < offset + count; ++i) {
      if (!row[i]) return std::nullopt;
      parts.push_back(*row[i]);
    }
    return EncodeTuple(parts);
  }
};

class Subsetter {
 public:
  Subsetter(SubsetDialect& d, const std::vector<SubsetTable>& tables, const SubsetConfig& config,
            std::string default_schema, int64_t seed)
      : d_(d), tables_(tables), config_(config), default_schema_(std::move(default_schema)), seed_(seed) {}

  absl::StatusOr<SubsetPlan> Run() {
    std::map<TableId, size_t> index;
    for (const SubsetTable& t : tables_) {
      index[t.schema->id] = work_.size();
      Work w;
      w.t = &t;
      work_.push_back(std::move(w));
    }
    for (size_t i = 0; i < work_.size(); ++i) {
      auto add = [&](const ForeignKey& fk) {
        auto it = index.find(fk.referenced);
        if (it == index.end()) return;  // a table the job does not cover
        edges_.push_back({i, it->second, &fk});
        work_[i].out.push_back(edges_.size() - 1);
        work_[it->second].in.push_back(edges_.size() - 1);
      };
      for (const ForeignKey& fk : work_[i].t->schema->foreign_keys) add(fk);
      for (const ForeignKey& fk : work_[i].t->inferred) add(fk);
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
          work_[i].follows_parent = work_[p].t->schema->id.QualifiedName();
        }
      } else {
        work_[i].seeded = true;
      }
    }
    for (const std::string& name : config_.seed_tables) {
      PHONY_ASSIGN_OR_RETURN(size_t i, resolve(name, "subset.seed_tables"));
      if (work_[i].follows) {
        return absl::InvalidArgumentError("subset: " + work_[i].t->schema->id.QualifiedName() +
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
        if (pct < 100) where.push_back(d_.Sample(*w.t, seed_, std::llround(pct * 10000)));
        if (rule && !rule->filter.empty()) where.push_back("(" + rule->filter + ")");
        const std::string cond = where.empty() ? "1 = 1" : absl::StrJoin(where, " AND ");
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
                                          d_.OneOf(*parent.t, edge.fk->referenced_columns, ask, b,
                                                   std::min(ask.size(), b + kBatch)),
                                          "finding rows " + child.t->schema->id.QualifiedName() + "." +
                                              edge.fk->name + " references in"));
            }
          }
        }
        const bool follows = child.follows && !child.all &&
                             (child.follows_parent.empty() ||
                              child.follows_parent == parent.t->schema->id.QualifiedName());
        if (follows) {
          if (parent.all) {
            // Every parent row: every child row that references one.
            child.all = true;
            child.how = "follows " + parent.t->schema->id.QualifiedName() + " (all)";
            PHONY_RETURN_IF_ERROR(FetchAll(edge.child));
            progress = true;
            continue;
          }
          std::vector<std::string> ask = Unasked(in_values_[e], &asked_children_[e]);
          if (ask.empty()) continue;
          progress = true;
          if (child.how.empty() || child.how == "referenced") {
            child.how = "follows " + parent.t->schema->id.QualifiedName();
          }
          if (!child.t->has_key()) {
            if (child.via_edge >= 0 && child.via_edge != static_cast<int>(e)) {
              return absl::FailedPreconditionError(
                  "subset: " + child.t->schema->id.QualifiedName() +
                  " has no primary key and follows two foreign keys: name one with \"parent\"");
            }
            child.via_edge = static_cast<int>(e);
            child.via.insert(ask.begin(), ask.end());
          }
          for (size_t b = 0; b < ask.size(); b += kBatch) {
            PHONY_RETURN_IF_ERROR(Fetch(edge.child,
                                        d_.OneOf(*child.t, edge.fk->columns, ask, b, std::min(ask.size(), b + kBatch)),
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
        sel.columns = w.t->key;
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
      plan.tables[w.t->schema->id] = std::move(sel);
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
    Projection p;
    const size_t key = w.t->has_key() ? p.Add(d_.Columns(*w.t, w.t->key)) : p.Add({"NULL"});
    std::vector<size_t> outs, ins;
    for (size_t e : w.out) outs.push_back(p.Add(d_.Columns(*w.t, edges_[e].fk->columns)));
    for (size_t e : w.in) ins.push_back(p.Add(d_.Columns(*w.t, edges_[e].fk->referenced_columns)));
    const std::string sql = "SELECT " + absl::StrJoin(p.exprs, ", ") + " FROM " + d_.From(*w.t) + " WHERE " + condition;
    size_t rows = 0;
    PHONY_RETURN_IF_ERROR(d_.Query(sql, what + " " + w.t->schema->id.QualifiedName(), [&](const SubsetRow& row) {
      ++rows;
      if (w.t->has_key()) {
        std::optional<std::string> k = p.Take(row, key);
        if (k && !w.keys.insert(*std::move(k)).second) return;  // known already
      }
      for (size_t j = 0; j < outs.size(); ++j) {
        if (auto v = p.Take(row, outs[j])) out_values_[w.out[j]].insert(*std::move(v));
      }
      for (size_t j = 0; j < ins.size(); ++j) {
        if (auto v = p.Take(row, ins[j])) in_values_[w.in[j]].insert(*std::move(v));
      }
    }));
    spdlog::debug("snapshot: subset: {} {}: {} rows", what, w.t->schema->id.QualifiedName(), rows);
    return absl::OkStatus();
  }

  // A table taken whole: only the references it makes.
  absl::Status FetchAll(size_t i) {
    Work& w = work_[i];
    for (size_t e : w.out) {
      Projection p;
      const size_t g = p.Add(d_.Columns(*w.t, edges_[e].fk->columns));
      std::vector<std::string> not_null;
      for (const std::string& x : p.exprs) not_null.push_back(x + " IS NOT NULL");
      const std::string sql = "SELECT DISTINCT " + absl::StrJoin(p.exprs, ", ") + " FROM " + d_.From(*w.t) +
                              " WHERE " + absl::StrJoin(not_null, " AND ");
      PHONY_RETURN_IF_ERROR(d_.Query(sql, "reading references of " + w.t->schema->id.QualifiedName(),
                                     [&](const SubsetRow& row) {
                                       if (auto v = p.Take(row, g)) out_values_[e].insert(*std::move(v));
                                     }));
    }
    return absl::OkStatus();
  }

  SubsetDialect& d_;
  const std::vector<SubsetTable>& tables_;
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

size_t AttachInferredForeignKeys(const std::vector<InferredForeignKey>& inferred, std::vector<SubsetTable>* tables) {
  size_t attached = 0;
  for (const InferredForeignKey& in : inferred) {
    SubsetTable* child = nullptr;
    const SubsetTable* parent = nullptr;
    for (SubsetTable& t : *tables) {
      if (t.schema->id.QualifiedName() == in.table) child = &t;
      if (t.schema->id.schema == in.fk.referenced.schema && t.schema->id.table == in.fk.referenced.table) parent = &t;
    }
    if (child == nullptr || parent == nullptr) continue;
    bool declared = false;
    for (const ForeignKey& fk : child->schema->foreign_keys) declared = declared || fk.columns == in.fk.columns;
    if (declared) continue;
    ForeignKey fk = in.fk;
    fk.referenced = parent->schema->id;
    child->inferred.push_back(std::move(fk));
    ++attached;
  }
  return attached;
}

absl::StatusOr<SubsetPlan> ComputeSubset(SubsetDialect& dialect, const std::vector<SubsetTable>& tables,
                                         const SubsetConfig& config, const std::string& default_schema,
                                         int64_t seed) {
  Subsetter s(dialect, tables, config, default_schema, seed);
  return s.Run();
}

}  // namespace phony::snapshot
