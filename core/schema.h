// Table identity and table schemas: what a row's values mean. A TableSchema
// is versioned per table; capture emits a schema event with the full column
// definitions (read from the source catalog) the first time it sees a table
// and whenever its shape changes, and every change event names the version it
// was decoded with. Plain value types, thread-compatible.
#pragma once

#include <algorithm>
#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/value.h"

namespace phony {

// database: the PostgreSQL database or the MySQL database (== schema there).
struct TableId {
  std::string database;
  std::string schema;
  std::string table;

  // "schema.table", the form configs and topic names use.
  std::string QualifiedName() const { return schema + "." + table; }
  friend auto operator<=>(const TableId&, const TableId&) = default;
  friend bool operator==(const TableId&, const TableId&) = default;
};

struct ColumnDef {
  std::string name;
  // The source's type name as its catalog prints it ("character varying(64)",
  // "int unsigned", "public.mood" for an enum), and the kind of Value the
  // decoder produces for it.
  std::string type_name;
  ValueKind kind = ValueKind::kText;
  // Source type identifier: PostgreSQL type OID, MySQL column type byte.
  uint32_t type_id = 0;
  int32_t type_modifier = -1;
  bool nullable = true;
  // Position in the primary key / replica identity, 0 = not part of it.
  uint16_t key_ordinal = 0;
  std::optional<std::string> default_expr;

  bool is_key() const { return key_ordinal != 0; }
  friend bool operator==(const ColumnDef&, const ColumnDef&) = default;
};

// What a foreign key does when its referenced row is deleted or its key
// updated. Appliers of engines whose cascades are not in the change log
// (InnoDB) need it to let staging cascade as the source did.
enum class FkAction : uint8_t { kNoAction = 0, kRestrict = 1, kCascade = 2, kSetNull = 3, kSetDefault = 4 };
inline const char* FkActionSql(FkAction a) {
  switch (a) {
    case FkAction::kRestrict: return "RESTRICT";
    case FkAction::kCascade: return "CASCADE";
    case FkAction::kSetNull: return "SET NULL";
    case FkAction::kSetDefault: return "SET DEFAULT";
    default: return "NO ACTION";
  }
}

// PostgreSQL's pg_constraint.confdeltype / confupdtype letter as an FkAction.
inline FkAction FkActionFromPgCode(std::string_view code) {
  if (code == "r") return FkAction::kRestrict;
  if (code == "c") return FkAction::kCascade;
  if (code == "n") return FkAction::kSetNull;
  if (code == "d") return FkAction::kSetDefault;
  return FkAction::kNoAction;
}

struct ForeignKey {
  std::string name;
  std::vector<std::string> columns;
  TableId referenced;
  std::vector<std::string> referenced_columns;
  FkAction on_delete = FkAction::kNoAction;
  FkAction on_update = FkAction::kNoAction;
  friend bool operator==(const ForeignKey&, const ForeignKey&) = default;
};

enum class ReplicaIdentity : uint8_t {
  kDefault = 0,  // primary key
  kNothing = 1,
  kFull = 2,
  kIndex = 3,
};

struct TableSchema {
  TableId id;
  uint32_t version = 0;
  std::vector<ColumnDef> columns;
  std::vector<ForeignKey> foreign_keys;
  ReplicaIdentity replica_identity = ReplicaIdentity::kDefault;

  // Index of the column named `name`, or -1.
  int ColumnIndex(std::string_view name) const {
    for (size_t i = 0; i < columns.size(); ++i) {
      if (columns[i].name == name) return static_cast<int>(i);
    }
    return -1;
  }
  // Indexes of the key columns in key order.
  std::vector<uint16_t> KeyColumns() const;
  friend bool operator==(const TableSchema&, const TableSchema&) = default;
};

inline std::vector<uint16_t> TableSchema::KeyColumns() const {
  std::vector<std::pair<uint16_t, uint16_t>> keyed;
  for (size_t i = 0; i < columns.size(); ++i) {
    if (columns[i].key_ordinal != 0) {
      keyed.emplace_back(columns[i].key_ordinal, static_cast<uint16_t>(i));
    }
  }
  std::sort(keyed.begin(), keyed.end());
  std::vector<uint16_t> out;
  out.reserve(keyed.size());
  for (const auto& [ordinal, index] : keyed) out.push_back(index);
  return out;
}

}  // namespace phony
