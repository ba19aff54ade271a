#include "src/analyze/strict.h"

#include <set>

#include "core/backoff.h"
#include "core/status_macros.h"
#include "src/analyze/analyze_source.h"
#include "src/analyze/report.h"

namespace phony::analyze {
namespace {

// "users" and "public.users" are the same table in the default schema.
std::string Qualified(const std::string& table, const std::string& default_schema) {
  return table.find('.') == std::string::npos ? default_schema + "." + table : table;
}

}  // namespace

std::vector<UnruledColumn> UnruledPii(const JobConfig& config, const std::vector<CatalogTable>& tables,
                                      const std::string& default_schema, const Report* saved) {
  std::set<std::pair<std::string, std::string>> ruled;
  for (const auto& [table, rule] : config.tables) {
    for (const auto& [column, r] : rule.columns) ruled.emplace(Qualified(table, default_schema), column);
  }
  std::set<std::string> accepted;
  for (const std::string& a : config.analyze.accept_unruled) {
    const size_t dot = a.rfind('.');
    accepted.insert(Qualified(a.substr(0, dot), default_schema) + "." + a.substr(dot + 1));
  }
  std::vector<UnruledColumn> out;
  for (const CatalogTable& t : tables) {
    const std::string qualified = t.schema + "." + t.table;
    const std::string key = t.Key(default_schema);
    for (const CatalogColumn& c : t.columns) {
      if (ruled.count({qualified, c.name}) > 0 || accepted.count(qualified + "." + c.name) > 0) continue;
      // A column referencing a ruled key gets that key's rule (the transformer's FK inheritance).
      bool inherited = false;
      for (const DeclaredForeignKey& fk : t.foreign_keys) {
        for (size_t k = 0; k < fk.columns.size() && k < fk.ref_columns.size(); ++k) {
          if (fk.columns[k] == c.name && ruled.count({fk.ref_schema + "." + fk.ref_table, fk.ref_columns[k]}) > 0) {
            inherited = true;
          }
        }
      }
      if (inherited) continue;
      UnruledColumn u{key + "." + c.name};
      if (saved != nullptr && saved->Seen(key, c.name)) {
        const ColumnFinding* f = saved->Flagged(key, c.name);
        if (f == nullptr) continue;
        u.type = f->type;
        u.confidence = f->confidence;
        u.from_report = true;
      } else {
        const Verdict v = DetectByName(ColumnFacts{t.table, c.name, c.cls, c.primary_key, c.unique});
        if (v.type == PiiType::kNone || v.confidence < config.analyze.threshold) continue;
        u.type = v.type;
        u.confidence = v.confidence;
      }
      out.push_back(std::move(u));
    }
  }
  return out;
}

absl::Status EnforceStrictMode(const JobConfig& config, const std::string& source_password, const std::string& command,
                               const std::atomic<bool>* stop) {
  if (!config.analyze.strict) return absl::OkStatus();
  std::optional<Report> saved;
  if (auto r = LoadReport(config); r.ok()) {
    saved = std::move(*r);
  } else if (!absl::IsNotFound(r.status())) {
    return r.status();
  }
  // The catalog, read again with backoff while the source is unreachable.
  std::vector<CatalogTable> tables;
  std::string default_schema;
  const std::atomic<bool> never(false);
  const std::atomic<bool>& stopping = stop != nullptr ? *stop : never;
  absl::Status read = RetryWithBackoff({.what = "source (strict mode's catalog read)", .max_retries = 10}, stopping,
                                       [&](bool* made_progress) -> absl::Status {
                                         auto source = OpenAnalyzeSource(config, source_password);
                                         if (!source.ok()) return source.status();
                                         (void)made_progress;  // a reconnect that fails again still counts
                                         default_schema = (*source)->DefaultSchema();
                                         auto t = (*source)->ReadCatalog();
                                         if (!t.ok()) return t.status();
                                         tables = *std::move(t);
                                         return absl::OkStatus();
                                       });
  if (!read.ok()) {
    // A server's refusal is not the strict check's own (kFailedPrecondition
    // there means unruled PII): report it as a server problem, named.
    const absl::StatusCode code =
        absl::IsFailedPrecondition(read) ? absl::StatusCode::kAborted : read.code();
    return absl::Status(code, command + ": strict mode's catalog read: " + std::string(read.message()));
  }
  if (stopping.load()) return absl::CancelledError(command + ": stopped before strict mode's check");
  const std::vector<UnruledColumn> unruled = UnruledPii(config, tables, default_schema, saved ? &*saved : nullptr);
  if (unruled.empty()) return absl::OkStatus();
  std::string msg = command + ": strict mode: " + std::to_string(unruled.size()) +
                    " column(s) that look like PII have no rule:";
  for (const UnruledColumn& u : unruled) {
    char conf[16];
    std::snprintf(conf, sizeof(conf), "%.2f", u.confidence);
    msg += "\n  tables." + u.column.substr(0, u.column.rfind('.')) + ".columns." + u.column.substr(u.column.rfind('.') + 1) +
           ": " + PiiTypeName(u.type) + " (" + conf + ", " + (u.from_report ? "saved report" : "by its name") + ")";
  }
  msg += "\nGive each a rule (phony analyze --emit-config FILE suggests them), list the ones that are not PII in "
         "analyze.accept_unruled, or set analyze.strict to false.";
  if (!saved) msg += " No saved report: phony analyze --save judges the columns by their content too.";
  return absl::FailedPreconditionError(msg);
}

}  // namespace phony::analyze
