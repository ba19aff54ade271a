#include "src/analyze/analyze_source.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <optional>

#include "core/status_macros.h"
#include "src/capture/mysql/my_session.h"
#include "src/snapshot/pg_session.h"

namespace phony::analyze {
namespace {

// Long values are cut before they travel: the detectors read shapes, not novels.
constexpr int kMaxValueChars = 2000;

// "{1,3}" (an int2vector or int2[] as text) to its numbers.
std::vector<int> ParseIntList(const std::string& s) {
  std::vector<int> out;
  int cur = 0;
  bool in = false;
  for (char c : s) {
    if (c >= '0' && c <= '9') {
      cur = cur * 10 + (c - '0');
      in = true;
    } else if (in) {
      out.push_back(cur);
      cur = 0;
      in = false;
    }
  }
  if (in) out.push_back(cur);
  return out;
}

// A PostgreSQL text[] literal.
std::string PgTextArray(const std::vector<std::string>& values) {
  std::string out = "{";
  for (size_t i = 0; i < values.size(); ++i) {
    if (i) out += ',';
    out += '"';
    for (char c : values[i]) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
  }
  return out + "}";
}

class PgSource final : public AnalyzeSource {
 public:
  PgSource(std::unique_ptr<snapshot::PgSession> s, TableFilter filter)
      : s_(std::move(s)), filter_(std::move(filter)) {}

  std::string Kind() const override { return "postgresql"; }
  std::string DefaultSchema() const override { return "public"; }

  absl::StatusOr<std::vector<CatalogTable>> ReadCatalog() override {
    using snapshot::Text;
    PHONY_ASSIGN_OR_RETURN(
        auto tr, s_->Query("SELECT c.oid, n.nspname, c.relname, greatest(c.reltuples, 0)::float8 FROM pg_class c "
                           "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind IN ('r', 'p') AND NOT "
                           "c.relispartition AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'phony', "
                           "'phony_snapshot') AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE "
                           "'pg\\_temp%' ORDER BY n.nspname, c.relname",
                           "listing tables"));
    std::vector<CatalogTable> tables;
    std::map<std::string, size_t> by_oid;
    std::string oids = "{";
    for (int i = 0; i < PQntuples(tr.get()); ++i) {
      CatalogTable t;
      t.schema = Text(tr.get(), i, 1);
      t.table = Text(tr.get(), i, 2);
      t.estimated_rows = std::atof(Text(tr.get(), i, 3).c_str());
      if (!filter_.Matches(TableId{.database = "", .schema = t.schema, .table = t.table})) continue;
      const std::string oid = Text(tr.get(), i, 0);
      by_oid[oid] = tables.size();
      oids += (oids.size() > 1 ? "," : "") + oid;
      tables.push_back(std::move(t));
    }
    oids += "}";
    if (tables.empty()) return tables;
    // Columns, in order.
    PHONY_ASSIGN_OR_RETURN(
        auto cr, s_->Query("SELECT a.attrelid, a.attname, format_type(a.atttypid, a.atttypmod), bt.typname, "
                           "bt.typcategory, a.attnotnull, a.attnum FROM pg_attribute a JOIN pg_type t ON t.oid = "
                           "a.atttypid JOIN pg_type bt ON bt.oid = CASE WHEN t.typtype = 'd' THEN t.typbasetype ELSE "
                           "t.oid END WHERE a.attrelid = ANY($1::oid[]) AND a.attnum > 0 AND NOT a.attisdropped "
                           "ORDER BY a.attrelid, a.attnum",
                           "reading columns", {oids}));
    std::map<std::pair<size_t, int>, size_t> by_attnum;
    for (int i = 0; i < PQntuples(cr.get()); ++i) {
      const auto it = by_oid.find(Text(cr.get(), i, 0));
      if (it == by_oid.end()) continue;
      CatalogTable& t = tables[it->second];
      CatalogColumn c;
      c.name = Text(cr.get(), i, 1);
      c.type = Text(cr.get(), i, 2);
      const std::string cat = Text(cr.get(), i, 4);
      c.cls = PgColumnClass(Text(cr.get(), i, 3), cat.empty() ? 'X' : cat[0]);
      c.nullable = Text(cr.get(), i, 5) != "t";
      by_attnum[{it->second, std::atoi(Text(cr.get(), i, 6).c_str())}] = t.columns.size();
      t.columns.push_back(std::move(c));
    }
    // Keys and foreign keys.
    PHONY_ASSIGN_OR_RETURN(
        auto kr, s_->Query("SELECT c.conrelid, c.contype, c.conkey::text, fn.nspname, fc.relname, c.confrelid, "
                           "c.confkey::text FROM pg_constraint c LEFT JOIN pg_class fc ON fc.oid = c.confrelid LEFT "
                           "JOIN pg_namespace fn ON fn.oid = fc.relnamespace WHERE c.conrelid = ANY($1::oid[]) AND "
                           "c.contype IN ('p', 'u', 'f') ORDER BY c.conrelid, c.conname",
                           "reading constraints", {oids}));
    // Referenced columns are named through the parent's attributes, which
    // may lie outside the job: read their names when needed.
    std::vector<std::tuple<size_t, std::vector<int>, std::string, std::string, std::string, std::vector<int>>> fks;
    for (int i = 0; i < PQntuples(kr.get()); ++i) {
      const auto it = by_oid.find(Text(kr.get(), i, 0));
      if (it == by_oid.end()) continue;
      CatalogTable& t = tables[it->second];
      const std::string type = Text(kr.get(), i, 1);
      const std::vector<int> cols = ParseIntList(Text(kr.get(), i, 2));
      if (type == "p" || type == "u") {
        for (int a : cols) {
          const auto c = by_attnum.find({it->second, a});
          if (c == by_attnum.end()) continue;
          if (type == "p") t.columns[c->second].primary_key = true;
          if (cols.size() == 1) t.columns[c->second].unique = true;
        }
      } else {
        fks.emplace_back(it->second, cols, Text(kr.get(), i, 3), Text(kr.get(), i, 4), Text(kr.get(), i, 5),
                         ParseIntList(Text(kr.get(), i, 6)));
      }
    }
    // Unique indexes on one column (not constraints).
    PHONY_ASSIGN_OR_RETURN(
        auto ir, s_->Query("SELECT indrelid, indkey::text FROM pg_index WHERE indrelid = ANY($1::oid[]) AND "
                           "indisunique AND indnkeyatts = 1 AND indpred IS NULL AND indexprs IS NULL",
                           "reading unique indexes", {oids}));
    for (int i = 0; i < PQntuples(ir.get()); ++i) {
      const auto it = by_oid.find(Text(ir.get(), i, 0));
      if (it == by_oid.end()) continue;
      const std::vector<int> cols = ParseIntList(Text(ir.get(), i, 1));
      if (cols.size() != 1) continue;
      const auto c = by_attnum.find({it->second, cols[0]});
      if (c != by_attnum.end()) tables[it->second].columns[c->second].unique = true;
    }
    for (auto& [t, cols, ref_schema, ref_table, ref_oid, ref_cols] : fks) {
      DeclaredForeignKey fk;
      fk.ref_schema = ref_schema;
      fk.ref_table = ref_table;
      for (int a : cols) {
        const auto c = by_attnum.find({t, a});
        if (c != by_attnum.end()) fk.columns.push_back(tables[t].columns[c->second].name);
      }
      PHONY_ASSIGN_OR_RETURN(auto nr, s_->Query("SELECT attnum, attname FROM pg_attribute WHERE attrelid = $1::oid",
                                                "reading referenced columns", {ref_oid}));
      std::map<int, std::string> names;
      for (int i = 0; i < PQntuples(nr.get()); ++i) names[std::atoi(Text(nr.get(), i, 0).c_str())] = Text(nr.get(), i, 1);
      for (int a : ref_cols) fk.ref_columns.push_back(names[a]);
      tables[t].foreign_keys.push_back(std::move(fk));
    }
    return tables;
  }

  absl::StatusOr<TableSample> Sample(const CatalogTable& table, size_t rows) override {
    TableSample out(table.columns.size());
    if (table.columns.empty() || rows == 0) return out;
    std::string select;
    for (const CatalogColumn& c : table.columns) {
      if (!select.empty()) select += ", ";
      if (c.cls == ColumnClass::kBinary) {
        select += "NULL";
      } else {
        select += "left(" + snapshot::QuoteIdent(c.name) + "::text, " + std::to_string(kMaxValueChars) + ")";
      }
    }
    const std::string from = snapshot::QualifiedIdent(TableId{.database = "", .schema = table.schema, .table = table.table});
    const std::string limit = " LIMIT " + std::to_string(rows);
    std::string sql = "SELECT " + select + " FROM " + from;
    // Big tables: a block sample about three times what is needed.
    if (table.estimated_rows > static_cast<double>(rows) * 10) {
      const double pct = std::min(100.0, std::max(0.001, 300.0 * static_cast<double>(rows) / table.estimated_rows));
      char buf[32];
      std::snprintf(buf, sizeof(buf), "%.4f", pct);
      sql += " TABLESAMPLE SYSTEM (" + std::string(buf) + ")";
    }
    PHONY_ASSIGN_OR_RETURN(auto r, s_->Query(sql + limit, "sampling " + table.schema + "." + table.table));
    for (int i = 0; i < PQntuples(r.get()); ++i) {
      for (size_t c = 0; c < table.columns.size(); ++c) {
        if (PQgetisnull(r.get(), i, static_cast<int>(c))) continue;
        out[c].push_back(snapshot::Text(r.get(), i, static_cast<int>(c)));
      }
    }
    return out;
  }

  absl::StatusOr<size_t> CountPresent(const CatalogTable& table, const std::string& column,
                                      const std::vector<std::string>& values) override {
    if (values.empty()) return 0;
    std::string type;
    for (const CatalogColumn& c : table.columns) {
      if (c.name == column) type = c.type;
    }
    const std::string from = snapshot::QualifiedIdent(TableId{.database = "", .schema = table.schema, .table = table.table});
    const std::string col = snapshot::QuoteIdent(column);
    auto r = s_->Query("SELECT count(DISTINCT " + col + ") FROM " + from + " WHERE " + col + " = ANY($1::text[]::" +
                           type + "[])",
                       "probing " + table.schema + "." + table.table, {PgTextArray(values)});
    if (!r.ok()) {
      // A value that is not of the key's type (22P02 and kin) is simply not in it.
      if (!s_->alive()) return r.status();
      return 0;
    }
    return static_cast<size_t>(std::atoll(snapshot::Text(r->get(), 0, 0).c_str()));
  }

 private:
  std::unique_ptr<snapshot::PgSession> s_;
  TableFilter filter_;
};

class MySource final : public AnalyzeSource {
 public:
  MySource(std::unique_ptr<mysql::MySession> s, TableFilter filter, std::string database)
      : s_(std::move(s)), filter_(std::move(filter)), database_(std::move(database)) {}

  std::string Kind() const override { return "mysql"; }
  std::string DefaultSchema() const override { return database_; }

  absl::StatusOr<std::vector<CatalogTable>> ReadCatalog() override {
    const std::string system = "('mysql', 'information_schema', 'performance_schema', 'sys')";
    PHONY_ASSIGN_OR_RETURN(auto tr, s_->Query("SELECT TABLE_SCHEMA, TABLE_NAME, COALESCE(TABLE_ROWS, 0) FROM "
                                              "information_schema.TABLES WHERE TABLE_TYPE = 'BASE TABLE' AND "
                                              "TABLE_SCHEMA NOT IN " + system + " ORDER BY TABLE_SCHEMA, TABLE_NAME",
                                              "listing tables"));
    std::vector<CatalogTable> tables;
    std::map<std::pair<std::string, std::string>, size_t> index;
    for (const auto& r : tr) {
      CatalogTable t;
      t.schema = r[0].value_or("");
      t.table = r[1].value_or("");
      t.estimated_rows = std::atof(r[2].value_or("0").c_str());
      if (!filter_.Matches(TableId{.database = t.schema, .schema = t.schema, .table = t.table})) continue;
      index[{t.schema, t.table}] = tables.size();
      tables.push_back(std::move(t));
    }
    if (tables.empty()) return tables;
    std::string schemas;
    for (const CatalogTable& t : tables) {
      const std::string lit = s_->Literal(t.schema);
      if (schemas.find(lit) == std::string::npos) schemas += (schemas.empty() ? "" : ", ") + lit;
    }
    PHONY_ASSIGN_OR_RETURN(auto cr, s_->Query("SELECT TABLE_SCHEMA, TABLE_NAME, COLUMN_NAME, DATA_TYPE, COLUMN_TYPE, "
                                              "IS_NULLABLE FROM information_schema.COLUMNS WHERE TABLE_SCHEMA IN (" +
                                                  schemas + ") ORDER BY TABLE_SCHEMA, TABLE_NAME, ORDINAL_POSITION",
                                              "reading columns"));
    for (const auto& r : cr) {
      const auto it = index.find({r[0].value_or(""), r[1].value_or("")});
      if (it == index.end()) continue;
      CatalogColumn c;
      c.name = r[2].value_or("");
      c.type = r[4].value_or("");
      c.cls = MyColumnClass(r[3].value_or(""), c.type);
      c.nullable = r[5].value_or("YES") == "YES";
      tables[it->second].columns.push_back(std::move(c));
    }
    auto column = [&](size_t t, const std::string& name) -> CatalogColumn* {
      for (CatalogColumn& c : tables[t].columns) {
        if (c.name == name) return &c;
      }
      return nullptr;
    };
    // Unique indexes (the primary key among them), by column count.
    PHONY_ASSIGN_OR_RETURN(auto ir, s_->Query("SELECT TABLE_SCHEMA, TABLE_NAME, INDEX_NAME, COLUMN_NAME FROM "
                                              "information_schema.STATISTICS WHERE NON_UNIQUE = 0 AND TABLE_SCHEMA IN (" +
                                                  schemas + ") ORDER BY TABLE_SCHEMA, TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX",
                                              "reading keys"));
    std::map<std::tuple<size_t, std::string>, std::vector<std::string>> uniques;
    for (const auto& r : ir) {
      const auto it = index.find({r[0].value_or(""), r[1].value_or("")});
      if (it == index.end()) continue;
      uniques[{it->second, r[2].value_or("")}].push_back(r[3].value_or(""));
    }
    for (const auto& [key, cols] : uniques) {
      const auto& [t, name] = key;
      for (const std::string& col : cols) {
        CatalogColumn* c = column(t, col);
        if (c == nullptr) continue;
        if (name == "PRIMARY") c->primary_key = true;
        if (cols.size() == 1) c->unique = true;
      }
    }
    PHONY_ASSIGN_OR_RETURN(auto fr, s_->Query("SELECT TABLE_SCHEMA, TABLE_NAME, CONSTRAINT_NAME, COLUMN_NAME, "
                                              "REFERENCED_TABLE_SCHEMA, REFERENCED_TABLE_NAME, REFERENCED_COLUMN_NAME "
                                              "FROM information_schema.KEY_COLUMN_USAGE WHERE REFERENCED_TABLE_NAME "
                                              "IS NOT NULL AND TABLE_SCHEMA IN (" + schemas +
                                                  ") ORDER BY TABLE_SCHEMA, TABLE_NAME, CONSTRAINT_NAME, "
                                                  "ORDINAL_POSITION",
                                              "reading foreign keys"));
    std::map<std::tuple<size_t, std::string>, DeclaredForeignKey> fks;
    for (const auto& r : fr) {
      const auto it = index.find({r[0].value_or(""), r[1].value_or("")});
      if (it == index.end()) continue;
      DeclaredForeignKey& fk = fks[{it->second, r[2].value_or("")}];
      fk.columns.push_back(r[3].value_or(""));
      fk.ref_schema = r[4].value_or("");
      fk.ref_table = r[5].value_or("");
      fk.ref_columns.push_back(r[6].value_or(""));
    }
    for (auto& [key, fk] : fks) tables[std::get<0>(key)].foreign_keys.push_back(std::move(fk));
    return tables;
  }

  absl::StatusOr<TableSample> Sample(const CatalogTable& table, size_t rows) override {
    TableSample out(table.columns.size());
    if (table.columns.empty() || rows == 0) return out;
    std::string select;
    const CatalogColumn* int_pk = nullptr;
    size_t pk_columns = 0;
    for (const CatalogColumn& c : table.columns) {
      if (c.primary_key) {
        ++pk_columns;
        if (c.cls == ColumnClass::kInteger) int_pk = &c;
      }
      if (!select.empty()) select += ", ";
      if (c.cls == ColumnClass::kBinary || c.cls == ColumnClass::kGeometry) {
        select += c.cls == ColumnClass::kGeometry ? "ST_AsText(" + mysql::MySession::Ident(c.name) + ")" : "NULL";
      } else {
        select += "LEFT(" + mysql::MySession::Ident(c.name) + ", " + std::to_string(kMaxValueChars) + ")";
      }
    }
    const std::string from = mysql::MySession::Ident(table.schema) + "." + mysql::MySession::Ident(table.table);
    auto read = [&](const std::string& sql) -> absl::Status {
      PHONY_ASSIGN_OR_RETURN(auto rs, s_->Query(sql, "sampling " + table.schema + "." + table.table));
      for (const auto& r : rs) {
        for (size_t c = 0; c < table.columns.size() && c < r.size(); ++c) {
          if (r[c]) out[c].push_back(*r[c]);
        }
      }
      return absl::OkStatus();
    };
    // Big tables with an integer key: ten slices spread over its range,
    // each an index range scan (MySQL has no TABLESAMPLE).
    if (table.estimated_rows > static_cast<double>(rows) * 10 && int_pk != nullptr && pk_columns == 1) {
      const std::string pk = mysql::MySession::Ident(int_pk->name);
      PHONY_ASSIGN_OR_RETURN(auto mm, s_->Query("SELECT MIN(" + pk + "), MAX(" + pk + ") FROM " + from,
                                                "sampling " + table.schema + "." + table.table));
      if (!mm.empty() && mm[0][0] && mm[0][1]) {
        const double lo = std::atof(mm[0][0]->c_str()), hi = std::atof(mm[0][1]->c_str());
        const size_t slices = 10, per = std::max<size_t>(1, rows / slices);
        for (size_t i = 0; i < slices; ++i) {
          const long long at = static_cast<long long>(lo + (hi - lo) * static_cast<double>(i) / slices);
          PHONY_RETURN_IF_ERROR(read("SELECT " + select + " FROM " + from + " WHERE " + pk +
                                     " >= " + std::to_string(at) + " ORDER BY " + pk + " LIMIT " + std::to_string(per)));
        }
        return out;
      }
    }
    PHONY_RETURN_IF_ERROR(read("SELECT " + select + " FROM " + from + " LIMIT " + std::to_string(rows)));
    return out;
  }

  absl::StatusOr<size_t> CountPresent(const CatalogTable& table, const std::string& column,
                                      const std::vector<std::string>& values) override {
    if (values.empty()) return 0;
    std::string in;
    for (const std::string& v : values) in += (in.empty() ? "" : ", ") + s_->Literal(v);
    const std::string col = mysql::MySession::Ident(column);
    PHONY_ASSIGN_OR_RETURN(auto r, s_->Query("SELECT COUNT(DISTINCT " + col + ") FROM " +
                                                 mysql::MySession::Ident(table.schema) + "." +
                                                 mysql::MySession::Ident(table.table) + " WHERE " + col + " IN (" +
                                                 in + ")",
                                             "probing " + table.schema + "." + table.table));
    if (r.empty() || !r[0][0]) return 0;
    return static_cast<size_t>(std::atoll(r[0][0]->c_str()));
  }

 private:
  std::unique_ptr<mysql::MySession> s_;
  TableFilter filter_;
  std::string database_;
};

}  // namespace

ColumnClass PgColumnClass(const std::string& typname, char typcategory) {
  if (typname == "int2" || typname == "int4" || typname == "int8" || typname == "oid") return ColumnClass::kInteger;
  if (typname == "numeric" || typname == "float4" || typname == "float8" || typname == "money") return ColumnClass::kNumber;
  if (typname == "date") return ColumnClass::kDate;
  if (typname == "timestamp" || typname == "timestamptz") return ColumnClass::kTimestamp;
  if (typname == "bool") return ColumnClass::kBool;
  if (typname == "bytea") return ColumnClass::kBinary;
  if (typname == "json" || typname == "jsonb") return ColumnClass::kJson;
  if (typname == "uuid") return ColumnClass::kUuid;
  if (typname == "inet" || typname == "cidr") return ColumnClass::kInet;
  if (typname == "geometry" || typname == "geography" || typcategory == 'G') return ColumnClass::kGeometry;
  if (typcategory == 'S' || typcategory == 'E') return ColumnClass::kText;
  return ColumnClass::kOther;
}

ColumnClass MyColumnClass(const std::string& data_type, const std::string& column_type) {
  const std::string& d = data_type;
  if (d == "tinyint" && column_type.rfind("tinyint(1)", 0) == 0) return ColumnClass::kBool;
  if (d == "tinyint" || d == "smallint" || d == "mediumint" || d == "int" || d == "bigint" || d == "year") {
    return ColumnClass::kInteger;
  }
  if (d == "decimal" || d == "float" || d == "double") return ColumnClass::kNumber;
  if (d == "date") return ColumnClass::kDate;
  if (d == "datetime" || d == "timestamp") return ColumnClass::kTimestamp;
  if (d == "char" || d == "varchar" || d == "tinytext" || d == "text" || d == "mediumtext" || d == "longtext" ||
      d == "enum" || d == "set") {
    return ColumnClass::kText;
  }
  if (d == "json") return ColumnClass::kJson;
  if (d == "binary" || d == "varbinary" || d == "tinyblob" || d == "blob" || d == "mediumblob" || d == "longblob" ||
      d == "bit") {
    return ColumnClass::kBinary;
  }
  if (d == "uuid") return ColumnClass::kUuid;
  if (d == "inet4" || d == "inet6") return ColumnClass::kInet;
  if (d == "geometry" || d == "point" || d == "linestring" || d == "polygon" || d == "multipoint" ||
      d == "multilinestring" || d == "multipolygon" || d == "geometrycollection") {
    return ColumnClass::kGeometry;
  }
  return ColumnClass::kOther;
}

absl::StatusOr<std::unique_ptr<AnalyzeSource>> OpenAnalyzeSource(const JobConfig& config, const std::string& password) {
  if (config.source.is_postgres()) {
    snapshot::PgEndpoint e{.host = config.source.host, .port = config.source.port, .database = config.source.database,
                           .user = config.source.user, .password = password, .application_name = "phony-analyze"};
    PHONY_ASSIGN_OR_RETURN(auto s, snapshot::PgSession::Connect(e, "source"));
    PHONY_RETURN_IF_ERROR(s->Run("SET search_path = ''", "setting the search path"));
    PHONY_RETURN_IF_ERROR(s->Run("SET statement_timeout = '60s'", "setting a statement timeout"));
    return std::unique_ptr<AnalyzeSource>(new PgSource(std::move(s), config.Filter()));
  }
  mysql::MySessionOptions o{.host = config.source.host, .port = config.source.port, .user = config.source.user,
                            .password = password, .label = "source"};
  PHONY_ASSIGN_OR_RETURN(auto s, mysql::MySession::Connect(o));
  return std::unique_ptr<AnalyzeSource>(new MySource(std::move(s), config.Filter(), config.DefaultSchema()));
}

}  // namespace phony::analyze
