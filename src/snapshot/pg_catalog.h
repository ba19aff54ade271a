// What the snapshot needs to know about a PostgreSQL source: the tables the
// job covers, in foreign-key order, with everything needed to recreate them
// in staging (column types, defaults, identity and generated columns, the
// primary key, secondary and unique indexes, check and foreign-key
// constraints), the user-defined types and extensions their columns use, and
// the sequences their defaults draw from. Read under search_path = '' so
// every name the server prints is schema-qualified. Internal to
// src/snapshot/.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/config.h"
#include "core/schema.h"
#include "src/snapshot/pg_session.h"

namespace phony::snapshot {

struct SourceColumn {
  std::string name;
  std::string type_sql;      // format_type(), qualified for user types
  bool not_null = false;
  std::string default_expr;  // pg_get_expr(), "" when none (or identity/generated)
  char identity = 0;         // 'a' ALWAYS, 'd' BY DEFAULT, 0 none
  std::string generated;     // the expression of a stored generated column
  std::string identity_sequence;  // the source's identity sequence (qualified)
  std::string identity_sequence_name;  // … its name alone
};

struct SourceIndex {
  std::string name;
  std::string definition;  // pg_get_indexdef() / ALTER TABLE … ADD CONSTRAINT …
  std::string clause;      // for a constraint: "ADD CONSTRAINT …", to combine into one ALTER TABLE
  bool unique = false;     // deferred until CDC has converged (DESIGN.md)
  std::vector<std::string> columns;  // a CHECK constraint: the columns it reads
};

struct SourceTable {
  TableSchema schema;  // as capture describes it: what the transformer learns
  uint32_t oid = 0;
  bool partitioned = false;  // a partitioned parent: copied through its partitions, unchunked
  int64_t pages = 0;
  double estimated_rows = 0;
  int64_t bytes = 0;
  // Every column, in order, for the staging DDL; schema.columns leaves out
  // stored generated columns (pgoutput does not carry them: staging computes
  // them), and copy_oids are the type OIDs their text is parsed as.
  std::vector<SourceColumn> columns;
  std::vector<uint32_t> copy_oids;
  std::string primary_key_name;        // "" when none
  std::vector<std::string> primary_key;  // column names
  std::vector<SourceIndex> indexes;      // secondary: non-unique right after the load, unique deferred
  std::vector<SourceIndex> checks;       // CHECK constraints (deferred with unique ones)
  std::vector<SourceIndex> foreign_keys; // ALTER TABLE … ADD CONSTRAINT … FOREIGN KEY (deferred)

  bool has_key() const { return !primary_key.empty(); }
};

// A type, extension or sequence to create in staging before the tables.
struct SourceObject {
  std::string name;  // qualified, for messages
  std::string ddl;   // one or more statements
};

struct SourceSequence {
  std::string name;  // qualified
  std::string ddl;   // CREATE SEQUENCE IF NOT EXISTS …
};

struct SourceCatalog {
  std::vector<SourceTable> tables;  // parents before children (cycles broken)
  std::vector<SourceObject> types;  // extensions and types, dependencies first
  std::vector<SourceSequence> sequences;
};

// Reads the catalog on `session` (which must run with search_path = '').
// Tables matching `filter`, excluding phony's own schemas and partitions
// (their parent is copied). `database` names the source in TableIds.
absl::StatusOr<SourceCatalog> ReadSourceCatalog(PgSession* session, const TableFilter& filter,
                                                const std::string& database);

// Parents before children; tables in a cycle keep their relative order.
std::vector<size_t> ForeignKeyOrder(const std::vector<TableSchema>& tables);

}  // namespace phony::snapshot
