#include "src/snapshot/my_verify.h"

#include <chrono>
#include <functional>
#include <set>
#include <unordered_map>

#include "core/status_macros.h"
#include "src/capture/mysql/my_catalog.h"
#include "src/capture/mysql/my_session.h"
#include "src/snapshot/my_rows.h"

namespace phony::snapshot {
namespace {

using mysql::CatalogTable;
using mysql::MySession;

constexpr char kSep = '\x1f';

// The staging side of one source table, read into key -> digest.
struct Side {
  std::unordered_map<std::string, uint64_t> rows;      // keyed tables
  std::unordered_map<std::string, int64_t> multiset;   // tables without a key: row -> count
  int64_t count = 0;
};

bool Wanted(const TableId& id, const std::vector<std::string>& only) {
  if (only.empty()) return true;
  for (const std::string& t : only) {
    if (t == id.QualifiedName() || t == id.table) return true;
  }
  return false;
}

// Reads `sql` and records each row's key text and digest; `row` turns the
// fields into one canonical line, or fails.
absl::Status ReadSide(MySession& s, const std::string& sql, const std::string& what,
                      const std::function<absl::Status(const char* const*, const unsigned long*, std::string* key,
                                                       std::string* line)>& row,
                      Side* side) {
  PHONY_ASSIGN_OR_RETURN(auto cursor, s.Open(sql, what));
  std::string key, line;
  while (cursor->Next()) {
    key.clear();
    line.clear();
    PHONY_RETURN_IF_ERROR(row(cursor->fields(), cursor->lengths(), &key, &line));
    ++side->count;
    if (key.empty()) {
      ++side->multiset[line];
    } else {
      side->rows[key] = std::hash<std::string>()(line);
    }
  }
  return cursor->status();
}

}  // namespace

absl::StatusOr<VerifyReport> VerifyMy(const VerifyOptions& o) {
  const auto started = std::chrono::steady_clock::now();
  const JobConfig& c = *o.config;
  PHONY_ASSIGN_OR_RETURN(auto source, MySession::Connect({.host = c.source.host, .port = c.source.port,
                                                          .user = c.source.user, .password = o.source_password,
                                                          .label = "source"}));
  PHONY_ASSIGN_OR_RETURN(auto catalog, MySession::Connect({.host = c.source.host, .port = c.source.port,
                                                           .user = c.source.user, .password = o.source_password,
                                                           .label = "source"}));
  PHONY_ASSIGN_OR_RETURN(auto staging, MySession::Connect({.host = c.target.host, .port = c.target.port,
                                                           .user = c.target.user, .password = o.target_password,
                                                           .label = "staging"}));
  PHONY_ASSIGN_OR_RETURN(auto transformer,
                         transform::Transformer::Create(c, o.secret, {.ledger = o.ledger, .quiet = true}));
  PHONY_ASSIGN_OR_RETURN(std::vector<TableId> ids, mysql::ListTables(*catalog, c.Filter()));
  for (const std::string& t : o.only_tables) {
    bool found = false;
    for (const TableId& id : ids) found = found || Wanted(id, {t});
    if (!found) return absl::InvalidArgumentError("--tables: " + t + " is not a source table this job covers");
  }
  // One moment of the source for every table.
  PHONY_RETURN_IF_ERROR(source->Run("SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ", "beginning the read"));
  PHONY_RETURN_IF_ERROR(source->Run("START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY", "beginning the read"));
  auto staging_db = [&](const std::string& schema) {
    return schema == c.source.database && !c.target.database.empty() ? c.target.database : schema;
  };
  VerifyReport report;
  for (const TableId& id : ids) {
    if (!Wanted(id, o.only_tables)) continue;
    TableVerdict v;
    v.table = id.QualifiedName();
    PHONY_ASSIGN_OR_RETURN(CatalogTable table, mysql::ReadCatalogTable(*catalog, id));
    const std::string staged = MySession::Ident(staging_db(id.schema)) + "." + MySession::Ident(id.table);
    PHONY_ASSIGN_OR_RETURN(auto present, staging->Query("SELECT COUNT(*) FROM information_schema.TABLES WHERE "
                                                        "TABLE_SCHEMA = " + staging->Literal(staging_db(id.schema)) +
                                                        " AND TABLE_NAME = " + staging->Literal(id.table),
                                                        "looking for " + v.table));
    if (present.empty() || present[0][0] == "0") {
      v.problem = "staging has no table " + staging_db(id.schema) + "." + id.table;
      report.tables.push_back(std::move(v));
      continue;
    }
    PHONY_RETURN_IF_ERROR(transformer->LearnSchema(table.schema));
    const TableSchema& schema = table.schema;
    const std::vector<uint16_t> keys = schema.KeyColumns();
    std::string cols;
    for (size_t i = 0; i < schema.columns.size(); ++i) {
      cols += std::string(i ? ", " : "") + SelectExpression(table.map.columns[i]);
    }
    auto canonical = [&](const Row& row, std::string* key, std::string* line) {
      for (size_t i = 0; i < schema.columns.size(); ++i) {
        if (table.generated[i]) continue;
        const std::string text = CanonicalText(table.map.columns[i], schema.columns[i].kind, row[i]);
        line->append(text).push_back(kSep);
      }
      for (uint16_t k : keys) key->append(CanonicalText(table.map.columns[k], schema.columns[k].kind, row[k])).push_back(kSep);
    };
    auto parse = [&](const char* const* fields, const unsigned long* lengths, Row* row) -> absl::Status {
      row->clear();
      for (size_t i = 0; i < schema.columns.size(); ++i) {
        if (fields[i] == nullptr) {
          row->push_back(Value::Null());
          continue;
        }
        auto value = ParseMySqlText(table.map.columns[i], schema.columns[i].kind,
                                    std::string_view(fields[i], lengths[i]));
        if (!value.ok()) {
          return absl::DataLossError(v.table + "." + schema.columns[i].name + ": " +
                                     std::string(value.status().message()));
        }
        row->push_back(*std::move(value));
      }
      return absl::OkStatus();
    };
    Row row;
    Side want, have;
    absl::Status read_source = ReadSide(
        *source, "SELECT " + cols + " FROM " + MySession::Ident(id.schema) + "." + MySession::Ident(id.table),
        "reading " + v.table,
        [&](const char* const* f, const unsigned long* l, std::string* key, std::string* line) -> absl::Status {
          PHONY_RETURN_IF_ERROR(parse(f, l, &row));
          if (absl::Status s = transformer->TransformRow(schema.id, &row); !s.ok()) {
            return absl::InvalidArgumentError("anonymizing " + v.table + ": " + std::string(s.message()));
          }
          canonical(row, key, line);
          return absl::OkStatus();
        },
        &want);
    PHONY_RETURN_IF_ERROR(read_source);
    absl::Status read_staging = ReadSide(
        *staging, "SELECT " + cols + " FROM " + staged, "reading " + v.table + " in staging",
        [&](const char* const* f, const unsigned long* l, std::string* key, std::string* line) -> absl::Status {
          PHONY_RETURN_IF_ERROR(parse(f, l, &row));
          canonical(row, key, line);
          return absl::OkStatus();
        },
        &have);
    PHONY_RETURN_IF_ERROR(read_staging);
    v.source_rows = want.count;
    v.staging_rows = have.count;
    auto show = [&](const std::string& key) {
      std::string out = key;
      for (char& ch : out) {
        if (ch == kSep) ch = ',';
      }
      if (!out.empty()) out.pop_back();
      return out;
    };
    auto list = [&](std::vector<std::string>* where, const std::string& key) {
      if (static_cast<int>(where->size()) < o.max_listed) where->push_back(show(key));
    };
    if (keys.empty()) {
      for (const auto& [line, n] : want.multiset) {
        auto it = have.multiset.find(line);
        const int64_t got = it == have.multiset.end() ? 0 : it->second;
        if (got < n) v.missing += n - got;
      }
      for (const auto& [line, n] : have.multiset) {
        auto it = want.multiset.find(line);
        const int64_t wanted = it == want.multiset.end() ? 0 : it->second;
        if (n > wanted) v.extra += n - wanted;
      }
    } else {
      for (const auto& [key, digest] : want.rows) {
        auto it = have.rows.find(key);
        if (it == have.rows.end()) {
          ++v.missing;
          list(&v.missing_keys, key);
        } else if (it->second != digest) {
          ++v.differing;
          list(&v.differing_keys, key);
        }
      }
      for (const auto& [key, digest] : have.rows) {
        if (!want.rows.count(key)) {
          ++v.extra;
          list(&v.extra_keys, key);
        }
      }
    }
    // Foreign keys: orphans in staging.
    for (const ForeignKey& fk : schema.foreign_keys) {
      ForeignKeyVerdict f;
      f.constraint = v.table + "." + fk.name;
      f.child = v.table;
      f.parent = fk.referenced.QualifiedName();
      std::string on, not_null;
      for (size_t i = 0; i < fk.columns.size(); ++i) {
        const std::string col = "c." + MySession::Ident(fk.columns[i]);
        on += std::string(i ? " AND " : "") + col + " = p." + MySession::Ident(fk.referenced_columns[i]);
        not_null += " AND " + col + " IS NOT NULL";
      }
      auto n = staging->Query("SELECT COUNT(*) FROM " + staged + " c WHERE NOT EXISTS (SELECT 1 FROM " +
                                  MySession::Ident(staging_db(fk.referenced.schema)) + "." +
                                  MySession::Ident(fk.referenced.table) + " p WHERE " + on + ")" + not_null,
                              "checking foreign key " + fk.name);
      if (!n.ok()) {
        f.problem = std::string(n.status().message());
      } else if (!n->empty()) {
        f.orphans = std::strtoll((*n)[0][0].value_or("0").c_str(), nullptr, 10);
      }
      report.foreign_keys.push_back(std::move(f));
    }
    report.tables.push_back(std::move(v));
  }
  (void)source->Run("COMMIT", "ending the read");
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return report;
}

}  // namespace phony::snapshot
