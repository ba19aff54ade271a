#include "src/snapshot/pg_verify.h"

#include <chrono>
#include <map>
#include <memory>

#include "absl/strings/str_join.h"
#include "core/status_macros.h"
#include "nlohmann/json.hpp"
#include "spdlog/spdlog.h"
#include "src/capture/postgres/pg_values.h"
#include "src/snapshot/pg_catalog.h"
#include "src/snapshot/pg_session.h"
#include "src/snapshot/row_copier.h"

namespace phony::snapshot {
namespace {

constexpr size_t kSendBytes = 256 << 10;
constexpr const char* kExpected = "phony_verify_expected";

PgEndpoint EndpointOf(const EndpointConfig& e, const std::string& password, const std::string& options) {
  return {.host = e.host, .port = e.port, .database = e.database, .user = e.user, .password = password,
          .application_name = "phony-verify", .options = options};
}

bool Wanted(const TableId& id, const std::vector<std::string>& only) {
  if (only.empty()) return true;
  for (const std::string& t : only) {
    if (t == id.QualifiedName() || (t.find('.') == std::string::npos && id.schema == "public" && t == id.table)) {
      return true;
    }
  }
  return false;
}

// Source COPY → RowCopier → COPY into the expected table in staging.
absl::StatusOr<int64_t> LoadExpected(PgSession* source, PgSession* staging, RowCopier& copier, const SourceTable& t) {
  const std::string cols = copier.ColumnList();
  const TableId& id = t.schema.id;
  PHONY_RETURN_IF_ERROR(source->Run("COPY (SELECT " + cols + " FROM " + (t.partitioned ? "" : "ONLY ") +
                                        QualifiedIdent(id) + ") TO STDOUT",
                                    "reading " + id.QualifiedName()));
  PHONY_RETURN_IF_ERROR(staging->Run(std::string("COPY ") + kExpected + " (" + cols + ") FROM STDIN",
                                     "loading the expected rows of " + id.QualifiedName()));
  PGconn* in = source->get();
  PGconn* out = staging->get();
  std::string buf;
  int64_t rows = 0;
  absl::Status failure;
  while (true) {
    char* line = nullptr;
    const int n = PQgetCopyData(in, &line, 0);
    if (n == -1) break;
    if (n < 0) {
      failure = source->ErrorFor(nullptr, "reading " + id.QualifiedName());
      break;
    }
    const std::unique_ptr<char, void (*)(void*)> held(line, PQfreemem);
    if (failure.ok()) failure = copier.Append(std::string_view(line, static_cast<size_t>(n)), &buf);
    ++rows;
    if (failure.ok() && buf.size() >= kSendBytes) {
      if (PQputCopyData(out, buf.data(), static_cast<int>(buf.size())) != 1) {
        failure = staging->ErrorFor(nullptr, "loading the expected rows of " + id.QualifiedName());
      }
      buf.clear();
    }
  }
  while (PGresult* r = PQgetResult(in)) {
    if (PQresultStatus(r) != PGRES_COMMAND_OK && failure.ok()) failure = source->ErrorFor(r, "reading " + id.QualifiedName());
    PQclear(r);
  }
  if (failure.ok() && !buf.empty() && PQputCopyData(out, buf.data(), static_cast<int>(buf.size())) != 1) {
    failure = staging->ErrorFor(nullptr, "loading the expected rows of " + id.QualifiedName());
  }
  PQputCopyEnd(out, failure.ok() ? nullptr : "phony verify: reading the source failed");
  while (PGresult* r = PQgetResult(out)) {
    if (PQresultStatus(r) != PGRES_COMMAND_OK && failure.ok()) {
      failure = staging->ErrorFor(r, "loading the expected rows of " + id.QualifiedName());
    }
    PQclear(r);
  }
  if (!failure.ok()) return failure;
  return rows;
}

absl::Status Compare(PgSession* staging, const SourceTable& t, int max_listed, TableVerdict* v) {
  const TableId& id = t.schema.id;
  std::vector<std::string> select, keys;
  for (size_t i = 0; i < t.schema.columns.size(); ++i) {
    select.push_back(QuoteIdent(t.schema.columns[i].name) + "::text AS c" + std::to_string(i));
  }
  for (const std::string& k : t.primary_key) {
    for (size_t i = 0; i < t.schema.columns.size(); ++i) {
      if (t.schema.columns[i].name == k) keys.push_back("c" + std::to_string(i));
    }
  }
  const std::string list = absl::StrJoin(select, ", ");
  const std::string target = "ONLY " + QualifiedIdent(id);
  std::string sql = "WITH a AS (SELECT " + list + " FROM " + kExpected + " EXCEPT ALL SELECT " + list + " FROM " +
                    target + "), b AS (SELECT " + list + " FROM " + target + " EXCEPT ALL SELECT " + list + " FROM " +
                    kExpected + ")";
  if (keys.empty()) {
    sql += " SELECT (SELECT count(*) FROM " + target + "), (SELECT count(*) FROM a), (SELECT count(*) FROM b), 0";
    PHONY_ASSIGN_OR_RETURN(PgResult r, staging->Query(sql, "comparing " + id.QualifiedName()));
    v->staging_rows = std::atoll(PQgetvalue(r.get(), 0, 0));
    v->missing = std::atoll(PQgetvalue(r.get(), 0, 1));
    v->extra = std::atoll(PQgetvalue(r.get(), 0, 2));
    return absl::OkStatus();
  }
  std::vector<std::string> match;
  for (const std::string& k : keys) match.push_back("x." + k + " IS NOT DISTINCT FROM y." + k);
  const std::string on = absl::StrJoin(match, " AND ");
  std::vector<std::string> key_text;
  for (const std::string& k : keys) key_text.push_back("coalesce(x." + k + ", 'NULL')");
  const std::string key = keys.size() == 1 ? key_text[0] : "'(' || concat_ws(', ', " + absl::StrJoin(key_text, ", ") + ") || ')'";
  const std::string limit = std::to_string(max_listed);
  sql += ", d AS (SELECT " + key + " AS k, 'missing' AS kind FROM a x WHERE NOT EXISTS (SELECT 1 FROM b y WHERE " + on +
         ") UNION ALL SELECT " + key + ", 'extra' FROM b x WHERE NOT EXISTS (SELECT 1 FROM a y WHERE " + on +
         ") UNION ALL SELECT " + key + ", 'differing' FROM a x WHERE EXISTS (SELECT 1 FROM b y WHERE " + on + "))"
         " SELECT kind, count(*), array_to_string((array_agg(k ORDER BY k))[1:" + limit + "], ' ') FROM d GROUP BY kind"
         " UNION ALL SELECT 'staging', (SELECT count(*) FROM " + target + "), NULL";
  PHONY_ASSIGN_OR_RETURN(PgResult r, staging->Query(sql, "comparing " + id.QualifiedName()));
  for (int i = 0; i < PQntuples(r.get()); ++i) {
    const std::string kind = Text(r.get(), i, 0);
    const int64_t n = std::atoll(PQgetvalue(r.get(), i, 1));
    std::vector<std::string>* listed = nullptr;
    if (kind == "staging") {
      v->staging_rows = n;
    } else if (kind == "missing") {
      v->missing = n;
      listed = &v->missing_keys;
    } else if (kind == "extra") {
      v->extra = n;
      listed = &v->extra_keys;
    } else {
      v->differing = n;
      listed = &v->differing_keys;
    }
    if (listed != nullptr && !PQgetisnull(r.get(), i, 2)) listed->push_back(Text(r.get(), i, 2));
  }
  return absl::OkStatus();
}

struct ForeignKey {
  std::string name;
  TableId child, parent;
  std::vector<std::string> child_columns, parent_columns;
};

absl::StatusOr<std::vector<ForeignKey>> ReadForeignKeys(PgSession* source, const std::string& database) {
  PHONY_ASSIGN_OR_RETURN(
      PgResult r,
      source->Query("SELECT c.oid, c.conname, cn.nspname, cl.relname, fn.nspname, fl.relname, ca.attname, fa.attname "
                    "FROM pg_catalog.pg_constraint c "
                    "JOIN pg_catalog.pg_class cl ON cl.oid = c.conrelid "
                    "JOIN pg_catalog.pg_namespace cn ON cn.oid = cl.relnamespace "
                    "JOIN pg_catalog.pg_class fl ON fl.oid = c.confrelid "
                    "JOIN pg_catalog.pg_namespace fn ON fn.oid = fl.relnamespace "
                    "CROSS JOIN LATERAL unnest(c.conkey, c.confkey) WITH ORDINALITY AS k(child, parent, i) "
                    "JOIN pg_catalog.pg_attribute ca ON ca.attrelid = c.conrelid AND ca.attnum = k.child "
                    "JOIN pg_catalog.pg_attribute fa ON fa.attrelid = c.confrelid AND fa.attnum = k.parent "
                    "WHERE c.contype = 'f' AND c.conparentid = 0 ORDER BY c.oid, k.i",
                    "reading foreign keys"));
  std::vector<ForeignKey> out;
  std::string last;
  for (int i = 0; i < PQntuples(r.get()); ++i) {
    if (Text(r.get(), i, 0) != last) {
      last = Text(r.get(), i, 0);
      out.push_back({.name = Text(r.get(), i, 1),
                     .child = {database, Text(r.get(), i, 2), Text(r.get(), i, 3)},
                     .parent = {database, Text(r.get(), i, 4), Text(r.get(), i, 5)}});
    }
    out.back().child_columns.push_back(Text(r.get(), i, 6));
    out.back().parent_columns.push_back(Text(r.get(), i, 7));
  }
  return out;
}

}  // namespace

bool VerifyReport::equal() const {
  for (const auto& t : tables) {
    if (!t.equal()) return false;
  }
  for (const auto& f : foreign_keys) {
    if (f.orphans != 0 || !f.problem.empty()) return false;
  }
  return true;
}

absl::StatusOr<VerifyReport> VerifyPg(const VerifyOptions& o) {
  const auto started = std::chrono::steady_clock::now();
  const JobConfig& c = *o.config;
  PHONY_ASSIGN_OR_RETURN(
      auto source,
      PgSession::Connect(EndpointOf(c.source, o.source_password,
                                    std::string(pg::kReplicationSessionOptions) + " -c client_encoding=UTF8"),
                         "source"));
  PHONY_ASSIGN_OR_RETURN(
      auto staging,
      PgSession::Connect(EndpointOf(c.target, o.target_password,
                                    "-c DateStyle=ISO -c TimeZone=UTC -c IntervalStyle=postgres -c client_encoding=UTF8"),
                         "staging"));
  // One moment of the source for every table.
  PHONY_RETURN_IF_ERROR(source->Run("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", "beginning the read"));
  PHONY_RETURN_IF_ERROR(source->Run("SET LOCAL search_path = ''", "setting the catalog session"));
  PHONY_ASSIGN_OR_RETURN(SourceCatalog catalog, ReadSourceCatalog(source.get(), c.Filter(), c.source.database));
  for (const std::string& t : o.only_tables) {
    bool found = false;
    for (const SourceTable& s : catalog.tables) found = found || Wanted(s.schema.id, {t});
    if (!found) return absl::InvalidArgumentError("--tables: " + t + " is not a source table this job covers");
  }
  PHONY_ASSIGN_OR_RETURN(auto transformer, transform::Transformer::Create(c, o.secret, {.ledger = o.ledger, .quiet = true}));

  VerifyReport report;
  for (const SourceTable& t : catalog.tables) {
    if (!Wanted(t.schema.id, o.only_tables)) continue;
    TableVerdict v;
    v.table = t.schema.id.QualifiedName();
    PHONY_ASSIGN_OR_RETURN(PgResult exists, staging->Query("SELECT to_regclass($1) IS NOT NULL", "looking for a table",
                                                           {QualifiedIdent(t.schema.id)}));
    if (Text(exists.get(), 0, 0) != "t") {
      v.problem = "staging has no such table";
      report.tables.push_back(std::move(v));
      continue;
    }
    PHONY_ASSIGN_OR_RETURN(RowCopier copier, RowCopier::Create(&t, transformer.get()));
    PHONY_RETURN_IF_ERROR(staging->Run("BEGIN", "beginning a comparison"));
    absl::Status s = staging->Run(std::string("CREATE TEMP TABLE ") + kExpected + " ON COMMIT DROP AS SELECT " +
                                      copier.ColumnList() + " FROM ONLY " + QualifiedIdent(t.schema.id) + " WITH NO DATA",
                                  "preparing the comparison of " + v.table);
    if (s.ok()) {
      auto rows = LoadExpected(source.get(), staging.get(), copier, t);
      if (rows.ok()) {
        v.source_rows = *rows;
        s = Compare(staging.get(), t, o.max_listed, &v);
      } else {
        s = rows.status();
      }
    }
    (void)staging->Run("ROLLBACK", "ending a comparison");
    if (!s.ok()) {
      if (absl::IsUnavailable(s) || absl::IsDataLoss(s) || absl::IsInvalidArgument(s)) return s;
      v.problem = std::string(s.message());  // say, a column staging lacks
    }
    report.tables.push_back(std::move(v));
  }

  PHONY_ASSIGN_OR_RETURN(std::vector<ForeignKey> fks, ReadForeignKeys(source.get(), c.source.database));
  (void)source->Run("COMMIT", "ending the read");
  const TableFilter filter = c.Filter();
  for (const ForeignKey& fk : fks) {
    if (!filter.Matches(fk.child) || !filter.Matches(fk.parent)) continue;
    if (!Wanted(fk.child, o.only_tables) && !Wanted(fk.parent, o.only_tables)) continue;
    ForeignKeyVerdict v{.constraint = fk.child.QualifiedName() + "." + fk.name,
                        .child = fk.child.QualifiedName(),
                        .parent = fk.parent.QualifiedName()};
    std::vector<std::string> present, match;
    for (size_t i = 0; i < fk.child_columns.size(); ++i) {
      present.push_back("c." + QuoteIdent(fk.child_columns[i]) + " IS NOT NULL");
      match.push_back("p." + QuoteIdent(fk.parent_columns[i]) + " = c." + QuoteIdent(fk.child_columns[i]));
    }
    auto r = staging->Query("SELECT count(*) FROM ONLY " + QualifiedIdent(fk.child) + " c WHERE " +
                                absl::StrJoin(present, " AND ") + " AND NOT EXISTS (SELECT 1 FROM " +
                                QualifiedIdent(fk.parent) + " p WHERE " + absl::StrJoin(match, " AND ") + ")",
                            "checking " + v.constraint);
    if (r.ok()) {
      v.orphans = std::atoll(PQgetvalue(r->get(), 0, 0));
    } else if (absl::IsUnavailable(r.status())) {
      return r.status();
    } else {
      v.problem = std::string(r.status().message());
    }
    report.foreign_keys.push_back(std::move(v));
  }
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return report;
}

std::string VerifyReportText(const VerifyReport& r) {
  std::string out;
  char line[512];
  std::snprintf(line, sizeof(line), "%-40s %12s %12s %9s %9s %9s\n", "table", "source", "staging", "missing", "extra",
                "differ");
  out += line;
  for (const TableVerdict& t : r.tables) {
    if (!t.problem.empty()) {
      out += t.table + ": " + t.problem + "\n";
      continue;
    }
    std::snprintf(line, sizeof(line), "%-40s %12lld %12lld %9lld %9lld %9lld%s\n", t.table.c_str(),
                  static_cast<long long>(t.source_rows), static_cast<long long>(t.staging_rows),
                  static_cast<long long>(t.missing), static_cast<long long>(t.extra),
                  static_cast<long long>(t.differing), t.equal() ? "" : "  DIFFERENT");
    out += line;
    for (const auto& k : t.missing_keys) out += "    missing keys: " + k + "\n";
    for (const auto& k : t.extra_keys) out += "    extra keys: " + k + "\n";
    for (const auto& k : t.differing_keys) out += "    differing keys: " + k + "\n";
  }
  for (const ForeignKeyVerdict& f : r.foreign_keys) {
    if (!f.problem.empty()) {
      out += "foreign key " + f.constraint + ": " + f.problem + "\n";
    } else if (f.orphans > 0) {
      out += "foreign key " + f.constraint + ": " + std::to_string(f.orphans) + " rows of " + f.child +
             " reference no row of " + f.parent + "\n";
    }
  }
  std::snprintf(line, sizeof(line), "%s (%zu tables, %zu foreign keys checked, %.1f s)\n",
                r.equal() ? "staging equals the anonymized source" : "staging DIFFERS from the anonymized source",
                r.tables.size(), r.foreign_keys.size(), r.seconds);
  out += line;
  return out;
}

std::string VerifyReportJson(const VerifyReport& r) {
  nlohmann::json j;
  j["equal"] = r.equal();
  j["seconds"] = r.seconds;
  j["tables"] = nlohmann::json::array();
  for (const TableVerdict& t : r.tables) {
    nlohmann::json e{{"table", t.table},   {"source_rows", t.source_rows}, {"staging_rows", t.staging_rows},
                     {"missing", t.missing}, {"extra", t.extra},           {"differing", t.differing},
                     {"equal", t.equal()}};
    if (!t.problem.empty()) e["problem"] = t.problem;
    if (!t.missing_keys.empty()) e["missing_keys"] = t.missing_keys;
    if (!t.extra_keys.empty()) e["extra_keys"] = t.extra_keys;
    if (!t.differing_keys.empty()) e["differing_keys"] = t.differing_keys;
    j["tables"].push_back(std::move(e));
  }
  j["foreign_keys"] = nlohmann::json::array();
  for (const ForeignKeyVerdict& f : r.foreign_keys) {
    nlohmann::json e{{"constraint", f.constraint}, {"child", f.child}, {"parent", f.parent}, {"orphans", f.orphans}};
    if (!f.problem.empty()) e["problem"] = f.problem;
    j["foreign_keys"].push_back(std::move(e));
  }
  return j.dump(2);
}

}  // namespace phony::snapshot
