#include "src/analyze/analyzer.h"

#include <algorithm>
#include <chrono>
#include <ctime>
#include <map>
#include <set>
#include <unordered_set>

#include "core/status_macros.h"

namespace phony::analyze {
namespace {

// At most this many distinct child values go into one inclusion probe.
constexpr size_t kProbeValues = 200;

bool EndsWith(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::string Compact(const std::vector<std::string>& tokens) {
  std::string out;
  for (const std::string& t : tokens) out += t;
  return out;
}

// Suffixes that make a column a reference: "customer_id", "CustomerID",
// "country_code", "user_fk", "parent_no".
bool IsRefSuffix(const std::string& t) {
  return t == "id" || t == "fk" || t == "ref" || t == "key" || t == "no" || t == "nr" || t == "code" || t == "num" ||
         t == "uuid" || t == "guid" || t == "sk";
}

// A column's name without its reference suffix, compacted ("support_rep_id"
// -> "supportrep", "CustomerId" -> "customer", "customerid" -> "customer");
// "" when the name has no reference suffix.
std::string RefBase(const std::string& column) {
  std::vector<std::string> tokens = NameTokens(column);
  if (tokens.size() >= 2 && IsRefSuffix(tokens.back())) {
    tokens.pop_back();
    return Compact(tokens);
  }
  const std::string c = Compact(tokens);
  for (const char* suffix : {"id", "fk", "uuid"}) {
    if (EndsWith(c, suffix) && c.size() >= std::string(suffix).size() + 3) return c.substr(0, c.size() - std::string(suffix).size());
  }
  return "";
}

// Words that make a column point at a person (an employee, a user): the
// rep of `customer.support_rep_id`, the manager of `reports_to`.
bool IsPersonRole(const std::string& t) {
  static const auto* s = new std::unordered_set<std::string>{
      "rep", "representative", "agent", "manager", "supervisor", "reports", "boss", "staff", "assignee", "assigned",
      "owner", "creator", "created", "updated", "modified", "approved", "approver", "reviewer", "author", "editor",
      "salesperson", "seller", "employee", "referrer", "referred", "mentor", "coach", "lead", "handler", "by"};
  return s->count(t) > 0;
}

// Names of a table, compacted and singular, with common prefixes dropped:
// "tbl_customers" -> {"customers", "customer"}.
std::vector<std::string> TableNames(const std::string& table) {
  std::vector<std::string> tokens = NameTokens(table);
  while (tokens.size() > 1 && (tokens.front() == "tbl" || tokens.front() == "t" || tokens.front() == "tb")) {
    tokens.erase(tokens.begin());
  }
  std::vector<std::string> out{Compact(tokens)};
  if (!tokens.empty()) {
    std::vector<std::string> singular = tokens;
    singular.back() = Singular(singular.back());
    out.push_back(Compact(singular));
    // The last word alone: "order_items" -> "item" (order_item_id matches the whole).
    out.push_back(singular.back());
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

struct ParentKey {
  size_t table = 0;
  size_t column = 0;
};

// How strongly a child column's name points at a parent key: 0.9 when it
// repeats the key's own name (Chinook's CustomerId both sides) or names
// the table ("customer_id" -> customers.id), 0.75 when it ends with the
// table's name ("billing_customer_id"), 0 otherwise.
double NameScore(const CatalogTable& child, const CatalogColumn& c, const CatalogTable& parent,
                 const CatalogColumn& key) {
  const std::string cc = Compact(NameTokens(c.name));
  const std::string kc = Compact(NameTokens(key.name));
  if (kc != "id" && kc.size() >= 4 && cc == kc && (&child != &parent)) return 0.9;
  const std::string base = RefBase(c.name);
  if (base.empty()) return 0;
  for (const std::string& name : TableNames(parent.table)) {
    if (name.size() < 2) continue;
    if (base == name) return 0.9;
    if (EndsWith(base, name) && name.size() >= 4) return 0.75;
  }
  // "parent_id" / "manager_id" in the same table.
  if (&child == &parent) {
    const std::vector<std::string> tokens = NameTokens(c.name);
    for (const std::string& t : tokens) {
      if (t == "parent" || t == "reports" || t == "manager" || t == "supervisor" || t == "boss" || t == "mentor") {
        return 0.75;
      }
    }
  }
  return 0;
}

// The child column points at people and the parent is a table of people.
bool PersonLink(const CatalogColumn& c, const CatalogTable& parent) {
  if (!IsPersonTable(parent.table)) return false;
  for (const std::string& t : NameTokens(c.name)) {
    if (IsPersonRole(t)) return true;
  }
  return false;
}

bool KeyCompatible(ColumnClass a, ColumnClass b) {
  if (a == ColumnClass::kInteger || b == ColumnClass::kInteger) return a == b;
  if (a == ColumnClass::kUuid || b == ColumnClass::kUuid) return a == b || a == ColumnClass::kText || b == ColumnClass::kText;
  return a == ColumnClass::kText && b == ColumnClass::kText;
}

std::string NowIso() {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace

std::string Singular(const std::string& word) {
  static const std::map<std::string, std::string> irregular = {
      {"people", "person"}, {"persons", "person"}, {"children", "child"}, {"men", "man"}, {"women", "woman"},
      {"data", "data"},     {"media", "media"},    {"staff", "staff"},    {"status", "status"},
      {"address", "address"}, {"addresses", "address"}, {"series", "series"}, {"news", "news"},
      {"analyses", "analysis"}, {"indices", "index"}, {"matrices", "matrix"}};
  if (const auto it = irregular.find(word); it != irregular.end()) return it->second;
  // Turkish plurals.
  if (word.size() > 5 && (EndsWith(word, "ler") || EndsWith(word, "lar"))) return word.substr(0, word.size() - 3);
  if (word.size() > 4 && EndsWith(word, "ies")) return word.substr(0, word.size() - 3) + "y";
  if (word.size() > 4 && (EndsWith(word, "sses") || EndsWith(word, "shes") || EndsWith(word, "ches") ||
                          EndsWith(word, "xes") || EndsWith(word, "zes"))) {
    return word.substr(0, word.size() - 2);
  }
  if (word.size() > 3 && EndsWith(word, "s") && !EndsWith(word, "ss") && !EndsWith(word, "us") &&
      !EndsWith(word, "is")) {
    return word.substr(0, word.size() - 1);
  }
  return word;
}

const ColumnFinding* Report::Flagged(const std::string& table, const std::string& column) const {
  for (const ColumnFinding& f : flagged) {
    if (f.table == table && f.column == column) return &f;
  }
  return nullptr;
}

bool Report::Seen(const std::string& table, const std::string& column) const {
  for (const ColumnFinding& f : columns) {
    if (f.table == table && f.column == column) return true;
  }
  return false;
}

absl::StatusOr<std::vector<ForeignKeyFinding>> InferForeignKeys(AnalyzeSource& source,
                                                                const std::vector<CatalogTable>& tables,
                                                                const std::vector<TableSample>& samples,
                                                                const AnalyzeOptions& options) {
  const std::string ds = source.DefaultSchema();
  std::vector<ForeignKeyFinding> out;
  // Declared constraints first; their columns are settled.
  std::set<std::pair<size_t, std::string>> settled;
  if (options.use_declared_fks) {
    for (size_t t = 0; t < tables.size(); ++t) {
      for (const DeclaredForeignKey& fk : tables[t].foreign_keys) {
        ForeignKeyFinding f;
        f.from_table = tables[t].Key(ds);
        f.to_table = fk.ref_schema == ds ? fk.ref_table : fk.ref_schema + "." + fk.ref_table;
        for (size_t i = 0; i < fk.columns.size(); ++i) {
          f.from_column += (i ? "," : "") + fk.columns[i];
          settled.emplace(t, fk.columns[i]);
        }
        for (size_t i = 0; i < fk.ref_columns.size(); ++i) f.to_column += (i ? "," : "") + fk.ref_columns[i];
        f.confidence = 1.0;
        f.evidence = {"declared"};
        out.push_back(std::move(f));
      }
    }
  }

  // Parent keys: a single-column primary key, or a unique non-null column,
  // of a type a reference can have.
  std::vector<ParentKey> keys;
  for (size_t t = 0; t < tables.size(); ++t) {
    size_t pk_columns = 0;
    for (const CatalogColumn& c : tables[t].columns) pk_columns += c.primary_key;
    for (size_t c = 0; c < tables[t].columns.size(); ++c) {
      const CatalogColumn& col = tables[t].columns[c];
      const bool single_pk = col.primary_key && pk_columns == 1;
      const bool unique_key = col.unique && !col.nullable;
      if (!single_pk && !unique_key) continue;
      if (col.cls != ColumnClass::kInteger && col.cls != ColumnClass::kText && col.cls != ColumnClass::kUuid) continue;
      keys.push_back({t, c});
    }
  }

  // The distinct sampled values of a column.
  auto distinct_of = [&](size_t t, size_t c) {
    std::vector<std::string> v = samples[t].size() > c ? samples[t][c] : std::vector<std::string>{};
    std::sort(v.begin(), v.end());
    v.erase(std::unique(v.begin(), v.end()), v.end());
    return v;
  };

  for (size_t t = 0; t < tables.size(); ++t) {
    const CatalogTable& child = tables[t];
    size_t pk_columns = 0;
    for (const CatalogColumn& c : child.columns) pk_columns += c.primary_key;
    for (size_t c = 0; c < child.columns.size(); ++c) {
      const CatalogColumn& col = child.columns[c];
      if (settled.count({t, col.name}) > 0) continue;
      if (col.primary_key && pk_columns == 1) continue;  // the table's own key
      if (col.cls != ColumnClass::kInteger && col.cls != ColumnClass::kText && col.cls != ColumnClass::kUuid) continue;
      const std::string base = RefBase(col.name);
      bool role = false;
      for (const std::string& tok : NameTokens(col.name)) role = role || IsPersonRole(tok) || tok == "parent";
      // Only columns whose name makes them a reference are candidates: an
      // amount or a quantity is included in some key range by chance.
      if (base.empty() && !role) continue;
      const std::vector<std::string> values = distinct_of(t, c);

      struct Candidate {
        const ParentKey* key;
        double name = 0;
        bool person = false;
        double included = -1;  // fraction of the sampled values present; -1 not probed
        double coverage = 0;   // distinct child values / parent rows
      };
      std::vector<Candidate> candidates;
      for (const ParentKey& k : keys) {
        const CatalogTable& parent = tables[k.table];
        const CatalogColumn& key = parent.columns[k.column];
        if (k.table == t && k.column == c) continue;
        if (!KeyCompatible(col.cls, key.cls)) continue;
        Candidate cand{&k};
        cand.name = NameScore(child, col, parent, key);
        cand.person = PersonLink(col, parent);
        // An id column pointing into a table of few rows: more distinct
        // values than the parent has rows cannot all be in it.
        if (parent.estimated_rows > 0 && static_cast<double>(values.size()) > parent.estimated_rows * 1.5 + 10) continue;
        if (cand.name == 0 && !cand.person && k.table == t) continue;  // self references need a name
        candidates.push_back(cand);
      }
      if (candidates.empty()) continue;
      const bool named = std::any_of(candidates.begin(), candidates.end(), [](const Candidate& x) { return x.name > 0; });
      // With a name match, probe the named parents only; otherwise every
      // compatible parent (bounded), the likeliest first.
      std::vector<Candidate*> probe;
      for (Candidate& cand : candidates) {
        if (!named || cand.name > 0) probe.push_back(&cand);
      }
      std::stable_sort(probe.begin(), probe.end(), [](const Candidate* a, const Candidate* b) {
        return (a->name + (a->person ? 0.5 : 0)) > (b->name + (b->person ? 0.5 : 0));
      });
      if (probe.size() > 24) probe.resize(24);
      if (!values.empty()) {
        std::vector<std::string> sample(values.begin(), values.begin() + static_cast<long>(std::min(values.size(), kProbeValues)));
        for (Candidate* cand : probe) {
          const CatalogTable& parent = tables[cand->key->table];
          PHONY_ASSIGN_OR_RETURN(size_t present,
                                 source.CountPresent(parent, parent.columns[cand->key->column].name, sample));
          cand->included = static_cast<double>(present) / static_cast<double>(sample.size());
          const double rows = std::max(1.0, parent.estimated_rows);
          cand->coverage = std::min(1.0, static_cast<double>(values.size()) / rows);
        }
      }
      // Score each probed parent.
      const Candidate* best = nullptr;
      double best_score = 0;
      std::vector<std::string> best_evidence;
      size_t full = 0;
      for (const Candidate* cand : probe) full += cand->included >= 0.999;
      for (const Candidate* cand : probe) {
        double score = 0;
        std::vector<std::string> evidence;
        if (cand->name > 0) {
          evidence.push_back("name");
          if (cand->included < 0) {
            score = cand->name * 0.75;  // nothing sampled to check against
          } else if (cand->included >= 0.98) {
            score = std::min(0.97, cand->name + 0.07);
            evidence.push_back("data");
          } else if (cand->included >= 0.9) {
            score = cand->name * 0.85;  // a few orphans
            evidence.push_back("data");
          } else {
            score = 0;  // the data says no
          }
        } else if (cand->included >= 0.999) {
          // Data alone: every sampled value is a key of the parent.
          evidence.push_back("data");
          score = 0.5;
          if (full == 1) score += 0.15;
          if (cand->person) {
            score += 0.15;
            evidence.insert(evidence.begin(), "name");
          }
          if (values.size() >= 10) score += 0.05;
          if (cand->coverage >= 0.2) score += 0.05;
        }
        // Among equal scores, the parent the values cover most.
        if (score > best_score + 1e-9 ||
            (best != nullptr && std::abs(score - best_score) < 1e-9 && cand->coverage > best->coverage)) {
          best = cand;
          best_score = score;
          best_evidence = evidence;
        }
      }
      if (best == nullptr || best_score < options.fk_threshold) continue;
      const CatalogTable& parent = tables[best->key->table];
      ForeignKeyFinding f;
      f.from_table = child.Key(ds);
      f.from_column = col.name;
      f.to_table = parent.Key(ds);
      f.to_column = parent.columns[best->key->column].name;
      f.confidence = best_score;
      f.evidence = best_evidence;
      out.push_back(std::move(f));
    }
  }
  return out;
}

absl::StatusOr<Report> Analyze(AnalyzeSource& source, const AnalyzeOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  Report report;
  report.source_kind = source.Kind();
  report.default_schema = source.DefaultSchema();
  report.sample_rows = options.sample_rows;
  report.threshold = options.threshold;
  report.generated_at = NowIso();
  PHONY_ASSIGN_OR_RETURN(std::vector<CatalogTable> tables, source.ReadCatalog());
  report.tables = tables.size();
  std::vector<TableSample> samples;
  samples.reserve(tables.size());
  for (const CatalogTable& table : tables) {
    PHONY_ASSIGN_OR_RETURN(TableSample sample, source.Sample(table, options.sample_rows));
    sample.resize(table.columns.size());
    for (size_t c = 0; c < table.columns.size(); ++c) {
      const CatalogColumn& col = table.columns[c];
      ColumnFacts facts{table.table, col.name, col.cls, col.primary_key, col.unique};
      const ContentProfile profile = ProfileValues(facts, sample[c]);
      const ColumnJudgement j = Judge(facts, &profile);
      ColumnFinding f;
      f.table = table.Key(report.default_schema);
      f.column = col.name;
      f.sql_type = col.type;
      f.cls = col.cls;
      f.unique = col.unique;
      f.nullable = col.nullable;
      f.type = j.verdict.type;
      f.confidence = j.verdict.confidence;
      if (j.by_name) f.evidence.push_back("name");
      if (j.by_content) f.evidence.push_back("content");
      report.columns.push_back(f);
      if (f.type != PiiType::kNone && f.confidence >= options.threshold) report.flagged.push_back(std::move(f));
    }
    samples.push_back(std::move(sample));
  }
  PHONY_ASSIGN_OR_RETURN(report.fks, InferForeignKeys(source, tables, samples, options));
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return report;
}

}  // namespace phony::analyze
