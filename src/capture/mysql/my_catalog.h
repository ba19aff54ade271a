// The MySQL/MariaDB catalog as phony reads it: which tables a job covers,
// each table's TableSchema built exactly as capture builds it from a table
// map with full metadata (so a row copied by the snapshot and the same row
// decoded from the binlog are the same Values, and anonymize alike), and
// its foreign keys, which table maps never carry (capture completes its
// schema events with them). Reads information_schema over a MySession.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/config.h"
#include "core/schema.h"
#include "src/capture/mysql/binlog_decoder.h"
#include "src/capture/mysql/my_session.h"

namespace phony::mysql {

struct CatalogTable {
  TableSchema schema;      // with foreign_keys
  TableMap map;            // the columns as a table map with FULL metadata would give them
  std::vector<bool> generated;  // per column: a generated column (computed by staging, never loaded)
  std::vector<std::string> data_types;  // per column: information_schema DATA_TYPE ("int", "uuid", ...)
  int64_t estimated_rows = 0;
  int64_t data_bytes = 0;
};

// Base tables of the server's user databases that `filter` matches (system
// databases never), in foreign-key order (parents first; cycles keep
// their name order).
absl::StatusOr<std::vector<TableId>> ListTables(MySession& session, const TableFilter& filter);

absl::StatusOr<CatalogTable> ReadCatalogTable(MySession& session, const TableId& table);

// The foreign keys of one table, with their actions.
absl::StatusOr<std::vector<ForeignKey>> ReadForeignKeys(MySession& session, const TableId& table);

// ENUM/SET strings from a COLUMN_TYPE ("enum('a','it''s')").
std::vector<std::string> ParseEnumValues(std::string_view column_type);

}  // namespace phony::mysql
