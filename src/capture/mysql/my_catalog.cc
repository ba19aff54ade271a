#include "src/capture/mysql/my_catalog.h"

#include <algorithm>
#include <cstdlib>
#include <functional>
#include <map>
#include <set>

#include "core/status_macros.h"
#include "src/capture/mysql/binlog_assembler.h"
#include "src/capture/mysql/binlog_values.h"

namespace phony::mysql {
namespace {

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

int64_t Int(const std::optional<std::string>& v) { return v ? std::strtoll(v->c_str(), nullptr, 10) : 0; }

FkAction ActionOf(const std::optional<std::string>& rule) {
  const std::string r = rule.value_or("");
  if (r == "CASCADE") return FkAction::kCascade;
  if (r == "SET NULL") return FkAction::kSetNull;
  if (r == "SET DEFAULT") return FkAction::kSetDefault;
  if (r == "RESTRICT") return FkAction::kRestrict;
  return FkAction::kNoAction;
}

// The table-map type byte and metadata of a column, from its catalog row.
absl::Status Describe(const std::string& data_type, const std::string& column_type, int64_t octets,
                      int64_t precision, int64_t scale, int64_t fsp, ColumnInfo* c) {
  const std::string t = Lower(data_type);
  auto blob = [&](uint8_t prefix) {
    c->type = c->wire_type = kTypeBlob;
    c->meta = prefix;
  };
  if (t == "tinyint") { c->type = kTypeTiny; }
  else if (t == "smallint") { c->type = kTypeShort; }
  else if (t == "mediumint") { c->type = kTypeInt24; }
  else if (t == "int" || t == "integer") { c->type = kTypeLong; }
  else if (t == "bigint") { c->type = kTypeLongLong; }
  else if (t == "float") { c->type = kTypeFloat; c->meta = 4; }
  else if (t == "double" || t == "real") { c->type = kTypeDouble; c->meta = 8; }
  else if (t == "decimal" || t == "numeric") {
    c->type = kTypeNewDecimal;
    c->meta = static_cast<uint16_t>(precision << 8 | scale);
  }
  else if (t == "year") { c->type = kTypeYear; }
  else if (t == "date") { c->type = kTypeDate; }
  else if (t == "time") { c->type = kTypeTime2; c->meta = static_cast<uint16_t>(fsp); }
  else if (t == "datetime") { c->type = kTypeDatetime2; c->meta = static_cast<uint16_t>(fsp); }
  else if (t == "timestamp") { c->type = kTypeTimestamp2; c->meta = static_cast<uint16_t>(fsp); }
  else if (t == "varchar" || t == "varbinary") { c->type = kTypeVarchar; c->meta = static_cast<uint16_t>(octets); }
  else if (t == "char" || t == "binary") { c->type = kTypeString; c->meta = static_cast<uint16_t>(octets); }
  else if (t == "inet6" || t == "uuid") { c->type = kTypeString; c->meta = 16; c->collation = 63; }
  else if (t == "inet4") { c->type = kTypeString; c->meta = 4; c->collation = 63; }
  else if (t == "tinyblob" || t == "tinytext") { blob(1); }
  else if (t == "blob" || t == "text") { blob(2); }
  else if (t == "mediumblob" || t == "mediumtext") { blob(3); }
  else if (t == "longblob" || t == "longtext") { blob(4); }
  else if (t == "json") { c->type = kTypeJson; c->meta = 4; }
  else if (t == "enum") {
    c->type = kTypeEnum;
    c->enum_values = ParseEnumValues(column_type);
    c->meta = c->enum_values.size() < 256 ? 1 : 2;
  }
  else if (t == "set") {
    c->type = kTypeSet;
    c->enum_values = ParseEnumValues(column_type);
    const size_t bytes = (c->enum_values.size() + 7) / 8;
    c->meta = static_cast<uint16_t>(bytes == 5 || bytes == 6 || bytes == 7 ? 8 : bytes);
  }
  else if (t == "bit") {
    c->type = kTypeBit;
    c->meta = static_cast<uint16_t>((precision / 8) << 8 | (precision % 8));
  }
  else if (t == "geometry" || t == "point" || t == "linestring" || t == "polygon" || t == "multipoint" ||
           t == "multilinestring" || t == "multipolygon" || t == "geometrycollection" || t == "geomcollection") {
    c->type = kTypeGeometry;
    c->meta = 4;
  }
  else if (t == "vector") { c->type = kTypeVector; c->meta = 4; }
  else {
    return absl::UnimplementedError("column type " + data_type + " is not one phony can copy");
  }
  if (c->wire_type == 0) c->wire_type = c->type;
  c->is_unsigned = Lower(column_type).find("unsigned") != std::string::npos;
  return absl::OkStatus();
}

}  // namespace

std::vector<std::string> ParseEnumValues(std::string_view type) {
  std::vector<std::string> out;
  const size_t open = type.find('(');
  if (open == std::string_view::npos) return out;
  size_t i = open + 1;
  while (i < type.size() && type[i] == '\'') {
    std::string v;
    ++i;
    while (i < type.size()) {
      if (type[i] == '\'') {
        if (i + 1 < type.size() && type[i + 1] == '\'') {
          v.push_back('\'');
          i += 2;
          continue;
        }
        ++i;
        break;
      }
      if (type[i] == '\\' && i + 1 < type.size()) ++i;  // a backslash escape (NO_BACKSLASH_ESCAPES off)
      v.push_back(type[i++]);
    }
    out.push_back(std::move(v));
    if (i < type.size() && type[i] == ',') ++i;
  }
  return out;
}

absl::StatusOr<std::vector<TableId>> ListTables(MySession& s, const TableFilter& filter) {
  PHONY_ASSIGN_OR_RETURN(
      auto rows, s.Query("SELECT TABLE_SCHEMA, TABLE_NAME FROM information_schema.TABLES WHERE TABLE_TYPE = 'BASE TABLE' "
                         "AND TABLE_SCHEMA NOT IN ('mysql', 'information_schema', 'performance_schema', 'sys') "
                         "ORDER BY TABLE_SCHEMA, TABLE_NAME",
                         "listing tables"));
  std::vector<TableId> tables;
  for (const auto& r : rows) {
    TableId id{.database = r[0].value_or(""), .schema = r[0].value_or(""), .table = r[1].value_or("")};
    if (filter.Matches(id)) tables.push_back(std::move(id));
  }
  // Parents first: a depth-first order over the declared foreign keys.
  PHONY_ASSIGN_OR_RETURN(
      auto fks, s.Query("SELECT CONSTRAINT_SCHEMA, TABLE_NAME, UNIQUE_CONSTRAINT_SCHEMA, REFERENCED_TABLE_NAME FROM "
                        "information_schema.REFERENTIAL_CONSTRAINTS",
                        "listing foreign keys"));
  std::map<TableId, std::set<TableId>> parents;
  for (const auto& r : fks) {
    TableId child{.database = r[0].value_or(""), .schema = r[0].value_or(""), .table = r[1].value_or("")};
    TableId parent{.database = r[2].value_or(""), .schema = r[2].value_or(""), .table = r[3].value_or("")};
    if (child != parent) parents[child].insert(parent);
  }
  std::vector<TableId> ordered;
  std::set<TableId> seen, in_scope(tables.begin(), tables.end());
  std::function<void(const TableId&)> visit = [&](const TableId& t) {
    if (!seen.insert(t).second) return;
    for (const TableId& p : parents[t]) {
      if (in_scope.count(p)) visit(p);
    }
    ordered.push_back(t);
  };
  for (const TableId& t : tables) visit(t);
  return ordered;
}

absl::StatusOr<std::vector<ForeignKey>> ReadForeignKeys(MySession& s, const TableId& table) {
  PHONY_ASSIGN_OR_RETURN(
      auto rows,
      s.Query("SELECT k.CONSTRAINT_NAME, k.COLUMN_NAME, k.REFERENCED_TABLE_SCHEMA, k.REFERENCED_TABLE_NAME, "
              "k.REFERENCED_COLUMN_NAME, r.DELETE_RULE, r.UPDATE_RULE FROM information_schema.KEY_COLUMN_USAGE k JOIN "
              "information_schema.REFERENTIAL_CONSTRAINTS r ON r.CONSTRAINT_SCHEMA = k.CONSTRAINT_SCHEMA AND "
              "r.CONSTRAINT_NAME = k.CONSTRAINT_NAME AND r.TABLE_NAME = k.TABLE_NAME WHERE k.TABLE_SCHEMA = " +
                  s.Literal(table.schema) + " AND k.TABLE_NAME = " + s.Literal(table.table) +
                  " AND k.REFERENCED_TABLE_NAME IS NOT NULL ORDER BY k.CONSTRAINT_NAME, k.ORDINAL_POSITION",
              "reading the foreign keys of " + table.QualifiedName()));
  std::vector<ForeignKey> out;
  for (const auto& r : rows) {
    const std::string name = r[0].value_or("");
    if (out.empty() || out.back().name != name) {
      ForeignKey fk;
      fk.name = name;
      const std::string db = r[2].value_or("");
      fk.referenced = TableId{.database = db, .schema = db, .table = r[3].value_or("")};
      fk.on_delete = ActionOf(r[5]);
      fk.on_update = ActionOf(r[6]);
      out.push_back(std::move(fk));
    }
    out.back().columns.push_back(r[1].value_or(""));
    out.back().referenced_columns.push_back(r[4].value_or(""));
  }
  return out;
}

absl::StatusOr<CatalogTable> ReadCatalogTable(MySession& s, const TableId& table) {
  const std::string where =
      " WHERE c.TABLE_SCHEMA = " + s.Literal(table.schema) + " AND c.TABLE_NAME = " + s.Literal(table.table);
  PHONY_ASSIGN_OR_RETURN(
      auto cols,
      s.Query("SELECT c.COLUMN_NAME, c.DATA_TYPE, c.COLUMN_TYPE, c.IS_NULLABLE, c.CHARACTER_OCTET_LENGTH, "
              "c.NUMERIC_PRECISION, c.NUMERIC_SCALE, c.DATETIME_PRECISION, co.ID, c.EXTRA FROM "
              "information_schema.COLUMNS c LEFT JOIN information_schema.COLLATIONS co ON co.COLLATION_NAME = "
              "c.COLLATION_NAME" + where + " ORDER BY c.ORDINAL_POSITION",
              "reading the columns of " + table.QualifiedName()));
  if (cols.empty()) return absl::NotFoundError("table " + table.QualifiedName() + " is not at the source");
  PHONY_ASSIGN_OR_RETURN(
      auto keys, s.Query("SELECT c.COLUMN_NAME, c.ORDINAL_POSITION FROM information_schema.KEY_COLUMN_USAGE c" + where +
                             " AND c.CONSTRAINT_NAME = 'PRIMARY' ORDER BY c.ORDINAL_POSITION",
                         "reading the primary key of " + table.QualifiedName()));
  std::map<std::string, uint16_t> key_ordinal;
  for (const auto& k : keys) key_ordinal[k[0].value_or("")] = static_cast<uint16_t>(Int(k[1]));

  CatalogTable out;
  out.map.database = table.schema;
  out.map.table = table.table;
  out.map.has_names = out.map.has_signedness = out.map.has_charsets = out.map.has_primary_key = true;
  for (const auto& r : cols) {
    ColumnInfo c;
    c.name = r[0].value_or("");
    const std::string data_type = Lower(r[1].value_or(""));
    if (absl::Status st = Describe(data_type, r[2].value_or(""), Int(r[4]), Int(r[5]), Int(r[6]), Int(r[7]), &c);
        !st.ok()) {
      return absl::UnimplementedError(table.QualifiedName() + "." + c.name + ": " + std::string(st.message()));
    }
    c.nullable = r[3].value_or("") == "YES";
    if (c.is_character() && !c.collation) c.collation = r[8] ? static_cast<uint32_t>(Int(r[8])) : 63u;
    if (c.type == kTypeEnum || c.type == kTypeSet) c.collation = r[8] ? static_cast<uint32_t>(Int(r[8])) : 63u;
    auto k = key_ordinal.find(c.name);
    if (k != key_ordinal.end()) c.key_ordinal = k->second;
    const std::string extra = Lower(r[9].value_or(""));
    out.generated.push_back(extra.find("generated") != std::string::npos ||
                            extra.find("persistent") != std::string::npos || extra.find("virtual") != std::string::npos);
    out.data_types.push_back(data_type);
    out.map.columns.push_back(std::move(c));
  }
  PHONY_ASSIGN_OR_RETURN(out.schema, SchemaFromTableMap(out.map));
  PHONY_ASSIGN_OR_RETURN(out.schema.foreign_keys, ReadForeignKeys(s, table));
  PHONY_ASSIGN_OR_RETURN(auto stats, s.Query("SELECT TABLE_ROWS, DATA_LENGTH FROM information_schema.TABLES c" + where,
                                             "reading the size of " + table.QualifiedName()));
  if (!stats.empty()) {
    out.estimated_rows = Int(stats[0][0]);
    out.data_bytes = Int(stats[0][1]);
  }
  return out;
}

}  // namespace phony::mysql
