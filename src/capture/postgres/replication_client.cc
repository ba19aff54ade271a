#include "src/capture/postgres/replication_client.h"

#include <libpq-fe.h>
#include <poll.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <set>
#include <string>
#include <utility>

#include "core/byte_reader.h"
#include "core/status_macros.h"
#include "src/capture/postgres/pg_values.h"
#include "src/capture/postgres/pgoutput_decoder.h"

namespace phony::pg {
namespace {

using Rows = std::vector<std::vector<std::string>>;

// libpq errors end with a newline; trim it for our messages.
std::string PgError(PGconn* conn) {
  std::string e = PQerrorMessage(conn);
  while (!e.empty() && (e.back() == '\n' || e.back() == ' ')) e.pop_back();
  return e;
}

absl::Status ConnectionError(const std::string& what, const std::string& message) {
  const std::string m = what + ": " + message;
  if (message.find("password authentication failed") != std::string::npos ||
      message.find("permission denied") != std::string::npos ||
      message.find("no pg_hba.conf entry") != std::string::npos) {
    return absl::PermissionDeniedError(m);
  }
  if (message.find("does not exist") != std::string::npos) return absl::FailedPreconditionError(m);
  return absl::UnavailableError(m);
}

// Runs a statement with text parameters; the one place PGresult becomes
// a Status.
absl::StatusOr<Rows> Exec(PGconn* conn, const std::string& sql,
                          const std::vector<std::string>& params = {}) {
  std::vector<const char*> values;
  for (const auto& p : params) values.push_back(p.c_str());
  PGresult* r = PQexecParams(conn, sql.c_str(), static_cast<int>(values.size()), nullptr,
                             values.data(), nullptr, nullptr, 0);
  const ExecStatusType st = PQresultStatus(r);
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
    std::string msg = PQresultErrorMessage(r);
    while (!msg.empty() && msg.back() == '\n') msg.pop_back();
    const char* sqlstate = PQresultErrorField(r, PG_DIAG_SQLSTATE);
    const std::string state = sqlstate ? sqlstate : "";
    PQclear(r);
    if (PQstatus(conn) != CONNECTION_OK) return absl::UnavailableError("connection lost: " + msg);
    if (state.rfind("42501", 0) == 0) return absl::PermissionDeniedError(msg);
    return absl::FailedPreconditionError(msg + (state.empty() ? "" : " (SQLSTATE " + state + ")"));
  }
  Rows rows;
  for (int i = 0; i < PQntuples(r); ++i) {
    std::vector<std::string> row;
    for (int j = 0; j < PQnfields(r); ++j) row.emplace_back(PQgetisnull(r, i, j) ? "" : PQgetvalue(r, i, j));
    rows.push_back(std::move(row));
  }
  PQclear(r);
  return rows;
}

std::string QuoteIdent(PGconn* conn, const std::string& ident) {
  char* q = PQescapeIdentifier(conn, ident.c_str(), ident.size());
  std::string out = q ? q : "\"\"";
  PQfreemem(q);
  return out;
}

std::string QualifiedIdent(PGconn* conn, const TableId& t) {
  return QuoteIdent(conn, t.schema) + "." + QuoteIdent(conn, t.table);
}

std::string SafeName(const std::string& prefix, const std::string& job) {
  std::string out = prefix;
  for (char c : job) {
    out.push_back(std::isalnum(static_cast<unsigned char>(c)) ? static_cast<char>(std::tolower(c)) : '_');
  }
  return out.substr(0, 63);  // NAMEDATALEN - 1
}

}  // namespace

std::string DefaultSlotName(const std::string& job_name) { return SafeName("phony_", job_name); }
std::string DefaultPublicationName(const std::string& job_name) {
  return SafeName("phony_", job_name) + "_pub";
}

PgReplicationClient::~PgReplicationClient() {
  if (repl_) PQfinish(repl_);
  if (sql_) PQfinish(sql_);
}

absl::StatusOr<std::unique_ptr<PgReplicationClient>> PgReplicationClient::Connect(
    const PgConnectOptions& o) {
  std::unique_ptr<PgReplicationClient> c(new PgReplicationClient());
  const std::string port = std::to_string(o.port);
  const std::string options =
      std::string(kReplicationSessionOptions) +
      (o.extra_session_options.empty() ? "" : " " + o.extra_session_options);
  auto open = [&](bool replication) -> absl::StatusOr<PGconn*> {
    std::vector<const char*> keys = {"host", "port", "dbname", "user", "application_name",
                                     "connect_timeout"};
    std::vector<const char*> values = {o.host.c_str(), port.c_str(), o.database.c_str(),
                                       o.user.c_str(), o.application_name.c_str(), "10"};
    if (!o.password.empty()) {
      keys.push_back("password");
      values.push_back(o.password.c_str());
    }
    if (replication) {
      keys.push_back("replication");
      values.push_back("database");
      keys.push_back("options");
      values.push_back(options.c_str());
    }
    keys.push_back(nullptr);
    values.push_back(nullptr);
    PGconn* conn = PQconnectdbParams(keys.data(), values.data(), 0);
    if (PQstatus(conn) != CONNECTION_OK) {
      const std::string msg = PgError(conn);
      PQfinish(conn);
      return ConnectionError(std::string(replication ? "replication connection" : "connection") +
                                 " to " + o.host + ":" + port + "/" + o.database,
                             msg);
    }
    return conn;
  };
  PHONY_ASSIGN_OR_RETURN(c->sql_, open(false));
  PHONY_ASSIGN_OR_RETURN(c->repl_, open(true));
  return c;
}

absl::StatusOr<PreflightReport> PgReplicationClient::Preflight(const TableFilter& filter,
                                                               const std::string& slot) {
  PreflightReport rep;
  PHONY_ASSIGN_OR_RETURN(
      Rows s, Exec(sql_,
                   "SELECT current_setting('server_version_num')::int, current_setting('wal_level'), "
                   "current_setting('max_replication_slots')::int, "
                   "current_setting('max_wal_senders')::int, "
                   "current_setting('max_slot_wal_keep_size'), "
                   "(SELECT rolsuper OR rolreplication FROM pg_roles WHERE rolname = current_user), "
                   "(SELECT count(*) FROM pg_replication_slots), "
                   "(SELECT count(*) FROM pg_stat_replication)"));
  const auto& row = s.at(0);
  rep.server_version = std::stoi(row[0]);
  rep.protocol_version = rep.server_version >= 160000   ? 4
                         : rep.server_version >= 150000 ? 3
                         : rep.server_version >= 140000 ? 2
                                                        : 1;
  if (row[1] != "logical") {
    rep.errors.push_back("wal_level is '" + row[1] +
                         "'; logical decoding needs wal_level = logical (ALTER SYSTEM SET "
                         "wal_level = logical, then restart the server)");
  }
  if (row[5] != "t") {
    rep.errors.push_back("the user has neither REPLICATION nor SUPERUSER (ALTER ROLE … REPLICATION)");
  }
  rep.max_slot_wal_keep_size = row[4];
  if (row[4] == "-1") {
    rep.warnings.push_back("max_slot_wal_keep_size is unlimited: a stopped capture retains WAL "
                           "until the disk fills; consider a limit");
  }
  PHONY_ASSIGN_OR_RETURN(Rows slots, Exec(sql_,
                                          "SELECT plugin, two_phase, wal_status, confirmed_flush_lsn, "
                                          "active, active_pid FROM pg_replication_slots "
                                          "WHERE slot_name = $1",
                                          {slot}));
  if (!slots.empty()) {
    rep.slot_exists = true;
    const auto& sl = slots[0];
    if (sl[0] != "pgoutput") rep.errors.push_back("slot " + slot + " uses plugin '" + sl[0] + "', not pgoutput");
    if (sl[1] == "t") rep.errors.push_back("slot " + slot + " was created with two_phase on; Phony Sync needs two_phase off");
    if (sl[2] == "lost") {
      rep.errors.push_back("slot " + slot + " is invalidated (wal_status = lost): the WAL it needed "
                           "was removed; the mirror needs a new snapshot (drop the slot and run a "
                           "full sync)");
    }
    if (sl[4] == "t") rep.slot_active_pid = sl[5];
    if (!sl[3].empty()) {
      auto lsn = Lsn::Parse(sl[3]);
      if (lsn.ok()) rep.slot_confirmed_flush = *lsn;
    }
  } else {
    if (std::stoi(row[6]) >= std::stoi(row[2])) {
      rep.errors.push_back("all " + row[2] + " replication slots are used (max_replication_slots)");
    }
  }
  if (std::stoi(row[7]) >= std::stoi(row[3])) {
    rep.errors.push_back("all " + row[3] + " WAL senders are busy (max_wal_senders)");
  }

  PHONY_ASSIGN_OR_RETURN(rep.tables, DiscoverTables(filter, &rep.warnings));
  return rep;
}

absl::StatusOr<std::vector<PublishedTable>> PgReplicationClient::DiscoverTables(
    const TableFilter& filter, std::vector<std::string>* warnings) {
  PHONY_ASSIGN_OR_RETURN(
      Rows tables,
      Exec(sql_,
           "SELECT n.nspname, c.relname, c.relreplident, "
           "EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.oid AND i.indisprimary), "
           "EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.oid AND i.indisreplident) "
           "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
           "WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition "
           "AND n.nspname NOT IN ('pg_catalog', 'information_schema') "
           "AND n.nspname !~ '^pg_(toast|temp)' ORDER BY 1, 2"));
  const std::string db = PQdb(sql_);
  std::vector<PublishedTable> out;
  for (const auto& t : tables) {
    PublishedTable pt;
    pt.id = TableId{db, t[0], t[1]};
    if (!filter.Matches(pt.id)) continue;
    pt.replica_identity = t[2].empty() ? 'd' : t[2][0];
    pt.usable_identity = pt.replica_identity == 'f' || (pt.replica_identity == 'd' && t[3] == "t") ||
                         (pt.replica_identity == 'i' && t[4] == "t");
    if (!pt.usable_identity && warnings != nullptr) {
      warnings->push_back(
          "table " + pt.id.QualifiedName() +
          " has no usable replica identity: it is left out of the publication, because "
          "publishing it would make UPDATE and DELETE on it fail on the source. Fix: add a "
          "primary key, or ALTER TABLE " + pt.id.QualifiedName() + " REPLICA IDENTITY FULL");
    }
    out.push_back(std::move(pt));
  }
  return out;
}

absl::Status PgReplicationClient::EmitHeartbeat() {
  return Exec(sql_, "SELECT pg_logical_emit_message(false, 'phony_heartbeat', '')").status();
}

absl::StatusOr<std::vector<TableId>> PgReplicationClient::EnsurePublication(
    const std::string& publication, const PreflightReport& report) {
  std::vector<TableId> wanted;
  for (const auto& t : report.tables) {
    if (t.usable_identity) wanted.push_back(t.id);
  }
  PHONY_ASSIGN_OR_RETURN(Rows pub, Exec(sql_, "SELECT puballtables FROM pg_publication WHERE pubname = $1",
                                        {publication}));
  if (pub.empty()) {
    std::string sql = "CREATE PUBLICATION " + QuoteIdent(sql_, publication);
    for (size_t i = 0; i < wanted.size(); ++i) {
      sql += (i == 0 ? " FOR TABLE " : ", ") + QualifiedIdent(sql_, wanted[i]);
    }
    sql += " WITH (publish_via_partition_root = true)";
    PHONY_RETURN_IF_ERROR(Exec(sql_, sql).status());
    return wanted;
  }
  if (pub[0][0] == "t") return std::vector<TableId>();  // user-managed FOR ALL TABLES: leave it
  PHONY_ASSIGN_OR_RETURN(Rows have, Exec(sql_,
                                         "SELECT schemaname, tablename FROM pg_publication_tables "
                                         "WHERE pubname = $1",
                                         {publication}));
  std::set<std::pair<std::string, std::string>> present;
  for (const auto& r : have) present.emplace(r[0], r[1]);
  std::vector<TableId> added;
  for (const TableId& t : wanted) {
    if (present.count({t.schema, t.table})) continue;
    PHONY_RETURN_IF_ERROR(Exec(sql_, "ALTER PUBLICATION " + QuoteIdent(sql_, publication) +
                                         " ADD TABLE " + QualifiedIdent(sql_, t))
                              .status());
    added.push_back(t);
  }
  return added;
}

absl::Status PgReplicationClient::EnsureSlot(const std::string& slot) {
  PHONY_ASSIGN_OR_RETURN(Rows slots, Exec(sql_,
                                          "SELECT plugin, two_phase, wal_status FROM "
                                          "pg_replication_slots WHERE slot_name = $1",
                                          {slot}));
  if (slots.empty()) {
    return Exec(sql_, "SELECT pg_create_logical_replication_slot($1, 'pgoutput', false, false)",
                {slot})
        .status();
  }
  const auto& s = slots[0];
  if (s[0] != "pgoutput") {
    return absl::FailedPreconditionError("slot " + slot + " uses plugin '" + s[0] + "', not pgoutput");
  }
  if (s[1] == "t") {
    return absl::FailedPreconditionError("slot " + slot + " has two_phase on; Phony Sync needs two_phase off");
  }
  if (s[2] == "lost") {
    return absl::FailedPreconditionError("slot " + slot +
                                         " is invalidated (wal_status = lost); the mirror needs a "
                                         "new snapshot: drop the slot and run a full sync");
  }
  return absl::OkStatus();
}

namespace {
std::vector<std::string> SplitOnSoh(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (true) {
    const size_t end = s.find('\x01', start);
    out.push_back(s.substr(start, end == std::string::npos ? std::string::npos : end - start));
    if (end == std::string::npos) return out;
    start = end + 1;
  }
}
}  // namespace

absl::StatusOr<PgTypeInfo> PgReplicationClient::DescribeType(uint32_t type_oid) {
  // typtype: b base (arrays are base types of category A with an element),
  // c composite, d domain, e enum, r range, m multirange (14+).
  PHONY_ASSIGN_OR_RETURN(
      Rows rows, Exec(sql_,
                      "SELECT t.typtype, t.typcategory, t.typelem, t.typbasetype, t.typdelim, "
                      "coalesce((SELECT rngsubtype FROM pg_range WHERE rngtypid = t.oid), 0), "
                      "format_type(t.oid, NULL) FROM pg_type t WHERE t.oid = $1::oid",
                      {std::to_string(type_oid)}));
  if (rows.empty()) {
    return absl::NotFoundError("type OID " + std::to_string(type_oid) + " is not in pg_type");
  }
  const auto& t = rows[0];
  PgTypeInfo info;
  info.name = t[6];
  auto oid_of = [](const std::string& s) { return static_cast<uint32_t>(std::strtoul(s.c_str(), nullptr, 10)); };
  const char typtype = t[0].empty() ? '?' : t[0][0];
  if (typtype == 'e') {
    info.kind = PgTypeInfo::Kind::kEnum;
  } else if (typtype == 'd') {
    info.kind = PgTypeInfo::Kind::kDomain;
    info.target = oid_of(t[3]);
  } else if (typtype == 'c') {
    info.kind = PgTypeInfo::Kind::kComposite;
  } else if (typtype == 'r') {
    info.kind = PgTypeInfo::Kind::kRange;
    info.target = oid_of(t[5]);
  } else if (typtype == 'm') {
    PHONY_ASSIGN_OR_RETURN(Rows range, Exec(sql_, "SELECT rngtypid FROM pg_range WHERE rngmultitypid = $1::oid",
                                            {std::to_string(type_oid)}));
    if (range.empty()) return absl::NotFoundError("multirange " + info.name + " has no range type");
    info.kind = PgTypeInfo::Kind::kMultirange;
    info.target = oid_of(range[0][0]);
  } else if (typtype == 'b' && t[1] == "A" && oid_of(t[2]) != 0) {
    info.kind = PgTypeInfo::Kind::kArray;
    info.target = oid_of(t[2]);
    info.delimiter = t[4].empty() ? ',' : t[4][0];
  }
  return info;
}

absl::StatusOr<std::vector<uint32_t>> PgReplicationClient::PublishedColumnTypes(
    const std::string& publication) {
  PHONY_ASSIGN_OR_RETURN(
      Rows rows, Exec(sql_,
                      "SELECT DISTINCT a.atttypid FROM pg_publication_tables p "
                      "JOIN pg_namespace n ON n.nspname = p.schemaname "
                      "JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = p.tablename "
                      "JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped "
                      "WHERE p.pubname = $1 ORDER BY 1",
                      {publication}));
  std::vector<uint32_t> oids;
  for (const auto& r : rows) oids.push_back(static_cast<uint32_t>(std::strtoul(r[0].c_str(), nullptr, 10)));
  return oids;
}

namespace {
// pg_constraint.confdeltype / confupdtype.
}  // namespace

absl::Status PgReplicationClient::DescribeTable(uint32_t relation_oid, TableSchema* schema) {
  const std::string oid = std::to_string(relation_oid);
  PHONY_ASSIGN_OR_RETURN(
      Rows cols, Exec(sql_,
                      "SELECT a.attname, a.attnotnull, pg_get_expr(d.adbin, d.adrelid), "
                      "format_type(a.atttypid, a.atttypmod) FROM pg_attribute a "
                      "LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum "
                      "WHERE a.attrelid = $1::oid AND a.attnum > 0 AND NOT a.attisdropped",
                      {oid}));
  for (const auto& c : cols) {
    const int i = schema->ColumnIndex(c[0]);
    if (i < 0) continue;  // the table moved on since this WAL was written
    ColumnDef& col = schema->columns[static_cast<size_t>(i)];
    col.nullable = c[1] != "t";
    if (!c[2].empty()) col.default_expr = c[2];
    col.type_name = c[3];
  }
  // Under REPLICA IDENTITY FULL pgoutput flags every column as part of the
  // identity; the key that names a row is the primary key (none: the
  // table has no key, and its rows are told apart by their full images).
  if (schema->replica_identity == ReplicaIdentity::kFull) {
    PHONY_ASSIGN_OR_RETURN(Rows pk, Exec(sql_,
                                         "SELECT a.attname, k.ord FROM pg_index i, unnest(i.indkey::int2[]) WITH "
                                         "ORDINALITY k(attnum, ord) JOIN pg_attribute a ON a.attnum = k.attnum "
                                         "WHERE i.indrelid = $1::oid AND i.indisprimary AND a.attrelid = $1::oid",
                                         {oid}));
    for (ColumnDef& col : schema->columns) col.key_ordinal = 0;
    for (const auto& k : pk) {
      const int i = schema->ColumnIndex(k[0]);
      if (i >= 0) schema->columns[static_cast<size_t>(i)].key_ordinal = static_cast<uint16_t>(std::atoi(k[1].c_str()));
    }
  }
  PHONY_ASSIGN_OR_RETURN(
      Rows fks,
      Exec(sql_,
           "SELECT c.conname, "
           "(SELECT string_agg(a.attname, chr(1) ORDER BY k.ord) FROM unnest(c.conkey) WITH "
           "ORDINALITY k(n, ord) JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.n), "
           "fn.nspname, fc.relname, "
           "(SELECT string_agg(a.attname, chr(1) ORDER BY k.ord) FROM unnest(c.confkey) WITH "
           "ORDINALITY k(n, ord) JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.n), "
           "c.confdeltype, c.confupdtype "
           "FROM pg_constraint c JOIN pg_class fc ON fc.oid = c.confrelid "
           "JOIN pg_namespace fn ON fn.oid = fc.relnamespace "
           "WHERE c.conrelid = $1::oid AND c.contype = 'f' ORDER BY c.conname",
           {oid}));
  schema->foreign_keys.clear();
  for (const auto& f : fks) {
    ForeignKey fk;
    fk.name = f[0];
    fk.columns = SplitOnSoh(f[1]);
    fk.referenced = TableId{schema->id.database, f[2], f[3]};
    fk.referenced_columns = SplitOnSoh(f[4]);
    fk.on_delete = FkActionFromPgCode(f[5]);
    fk.on_update = FkActionFromPgCode(f[6]);
    schema->foreign_keys.push_back(std::move(fk));
  }
  return absl::OkStatus();
}

absl::StatusOr<PgReplicationClient::TableSample> PgReplicationClient::SampleTable(const TableId& table, int rows) {
  PHONY_ASSIGN_OR_RETURN(Rows rel, Exec(sql_,
                                        "SELECT c.oid, greatest(c.reltuples, 0)::bigint FROM pg_class c "
                                        "JOIN pg_namespace n ON n.oid = c.relnamespace "
                                        "WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind IN ('r', 'p')",
                                        {table.schema, table.table}));
  if (rel.empty()) return absl::NotFoundError("table " + table.QualifiedName() + " does not exist");
  const uint32_t oid = static_cast<uint32_t>(std::strtoul(rel[0][0].c_str(), nullptr, 10));
  const double estimate = std::strtod(rel[0][1].c_str(), nullptr);
  PHONY_ASSIGN_OR_RETURN(
      Rows cols, Exec(sql_,
                      "SELECT a.attname, a.atttypid, a.atttypmod, coalesce((SELECT array_position(i.indkey::int2[], "
                      "a.attnum) + 1 FROM pg_index i WHERE i.indrelid = a.attrelid AND i.indisprimary), 0) "
                      "FROM pg_attribute a WHERE a.attrelid = $1::oid AND a.attnum > 0 AND NOT a.attisdropped "
                      "ORDER BY a.attnum",
                      {std::to_string(oid)}));
  TableSample out;
  out.schema.id = TableId{PQdb(sql_), table.schema, table.table};
  out.schema.version = 1;
  for (const auto& c : cols) {
    ColumnDef col;
    col.name = c[0];
    col.type_id = static_cast<uint32_t>(std::strtoul(c[1].c_str(), nullptr, 10));
    col.type_modifier = std::atoi(c[2].c_str());
    col.kind = KindForType(col.type_id);
    col.key_ordinal = static_cast<uint16_t>(std::atoi(c[3].c_str()));
    out.schema.columns.push_back(std::move(col));
  }
  PHONY_RETURN_IF_ERROR(DescribeTable(oid, &out.schema));
  // Small tables: a random order; big ones: a Bernoulli sample of about
  // ten times the rows asked for, so the read stays cheap.
  std::string sql = "SELECT * FROM " + QualifiedIdent(sql_, table);
  if (estimate > 100.0 * rows) {
    sql += " TABLESAMPLE BERNOULLI (" + std::to_string(std::min(100.0, 1000.0 * rows / estimate)) + ")";
  } else {
    sql += " ORDER BY random()";
  }
  sql += " LIMIT " + std::to_string(rows);
  PGresult* r = PQexec(sql_, sql.c_str());
  if (PQresultStatus(r) != PGRES_TUPLES_OK) {
    std::string msg = PQresultErrorMessage(r);
    PQclear(r);
    return absl::FailedPreconditionError("sampling " + table.QualifiedName() + ": " + msg);
  }
  for (int i = 0; i < PQntuples(r); ++i) {
    Row row;
    for (int j = 0; j < PQnfields(r) && j < static_cast<int>(out.schema.columns.size()); ++j) {
      if (PQgetisnull(r, i, j)) {
        row.push_back(Value::Null());
        continue;
      }
      auto v = ParseTextValue(out.schema.columns[static_cast<size_t>(j)].type_id,
                              std::string_view(PQgetvalue(r, i, j), static_cast<size_t>(PQgetlength(r, i, j))));
      if (!v.ok()) {
        PQclear(r);
        return absl::Status(v.status().code(), "sampling " + table.QualifiedName() + "." +
                                                   out.schema.columns[static_cast<size_t>(j)].name + ": " +
                                                   std::string(v.status().message()));
      }
      row.push_back(*std::move(v));
    }
    out.rows.push_back(std::move(row));
  }
  PQclear(r);
  return out;
}

absl::StatusOr<PgReplicationClient::ExportedSlot> PgReplicationClient::CreateSlotWithSnapshot(
    const std::string& slot) {
  // PostgreSQL 15 introduced the parenthesized option list; 14 takes the
  // bare keyword.
  const std::string opts = PQserverVersion(repl_) >= 150000 ? "(SNAPSHOT 'export')" : "EXPORT_SNAPSHOT";
  const std::string cmd = "CREATE_REPLICATION_SLOT " + QuoteIdent(repl_, slot) + " LOGICAL pgoutput " + opts;
  PGresult* r = PQexec(repl_, cmd.c_str());
  if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1) {
    std::string msg = PQresultErrorMessage(r);
    PQclear(r);
    while (!msg.empty() && msg.back() == '\n') msg.pop_back();
    if (PQstatus(repl_) != CONNECTION_OK) return absl::UnavailableError("CREATE_REPLICATION_SLOT: " + msg);
    return absl::FailedPreconditionError("CREATE_REPLICATION_SLOT: " + msg);
  }
  auto lsn = Lsn::Parse(PQgetvalue(r, 0, 1));
  ExportedSlot out;
  out.snapshot_name = PQgetvalue(r, 0, 2);
  PQclear(r);
  if (!lsn.ok()) return absl::DataLossError("CREATE_REPLICATION_SLOT returned a bad consistent point");
  out.consistent_point = *lsn;
  return out;
}

absl::Status PgReplicationClient::Start(const std::string& slot, const std::string& publication,
                                        int protocol_version, bool streaming, bool binary, Lsn start_at) {
  std::string cmd = "START_REPLICATION SLOT " + QuoteIdent(repl_, slot) + " LOGICAL " + start_at.ToString() +
                    " (proto_version '" +
                    std::to_string(protocol_version) + "', publication_names '" +
                    QuoteIdent(repl_, publication) + "'";
  if (streaming && protocol_version >= 2) cmd += ", streaming 'on'";
  if (binary) cmd += ", binary 'true'";
  cmd += ")";
  PGresult* r = PQexec(repl_, cmd.c_str());
  const ExecStatusType st = PQresultStatus(r);
  std::string msg = PQresultErrorMessage(r);
  PQclear(r);
  if (st != PGRES_COPY_BOTH) {
    while (!msg.empty() && msg.back() == '\n') msg.pop_back();
    if (PQstatus(repl_) != CONNECTION_OK) return absl::UnavailableError("START_REPLICATION: " + msg);
    return absl::FailedPreconditionError("START_REPLICATION: " + msg);
  }
  Confirm(start_at);
  return absl::OkStatus();
}

void PgReplicationClient::Confirm(Lsn flush) {
  if (flush > confirmed_) confirmed_ = flush;
}

absl::Status PgReplicationClient::SendStatus(bool reply_requested) {
  std::string msg;
  msg.push_back('r');
  PutU64BE(&msg, confirmed_.value());  // written
  PutU64BE(&msg, confirmed_.value());  // flushed
  PutU64BE(&msg, confirmed_.value());  // applied
  const int64_t now_pg = absl::ToUnixMicros(absl::Now()) - kPgEpochOffsetMicros;
  PutU64BE(&msg, static_cast<uint64_t>(now_pg));
  msg.push_back(reply_requested ? 1 : 0);
  if (PQputCopyData(repl_, msg.data(), static_cast<int>(msg.size())) != 1 || PQflush(repl_) != 0) {
    return absl::UnavailableError("sending standby status: " + PgError(repl_));
  }
  last_status_ = absl::Now();
  sent_ = confirmed_;
  return absl::OkStatus();
}

absl::Status PgReplicationClient::Flush() { return SendStatus(false); }

absl::StatusOr<std::optional<XLogData>> PgReplicationClient::Next(absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (true) {
    char* buf = nullptr;
    const int n = PQgetCopyData(repl_, &buf, /*async=*/1);
    if (n > 0) {
      std::string data(buf, static_cast<size_t>(n));
      PQfreemem(buf);
      ByteReader r(data, "replication message");
      PHONY_ASSIGN_OR_RETURN(uint8_t kind, r.ReadU8());
      if (kind == 'w') {
        XLogData x;
        PHONY_ASSIGN_OR_RETURN(uint64_t start, r.ReadU64BE());
        PHONY_ASSIGN_OR_RETURN(uint64_t end, r.ReadU64BE());
        PHONY_RETURN_IF_ERROR(r.Skip(8));  // send time
        x.wal_start = Lsn(start);
        x.wal_end = Lsn(end);
        if (x.wal_end > server_wal_end_) server_wal_end_ = x.wal_end;
        x.payload = std::string(r.Peek());
        return std::optional<XLogData>(std::move(x));
      }
      if (kind == 'k') {
        PHONY_ASSIGN_OR_RETURN(uint64_t end, r.ReadU64BE());
        PHONY_RETURN_IF_ERROR(r.Skip(8));
        PHONY_ASSIGN_OR_RETURN(uint8_t reply, r.ReadU8());
        if (Lsn(end) > server_wal_end_) server_wal_end_ = Lsn(end);
        if (reply) PHONY_RETURN_IF_ERROR(SendStatus(false));
        continue;
      }
      return r.Error("unknown replication message kind " + std::to_string(kind));
    }
    if (n == -1) {
      PGresult* res = PQgetResult(repl_);
      std::string msg = res ? PQresultErrorMessage(res) : "";
      if (res) PQclear(res);
      while (!msg.empty() && msg.back() == '\n') msg.pop_back();
      return absl::UnavailableError("replication stream ended" + (msg.empty() ? "" : ": " + msg));
    }
    if (n == -2) return absl::UnavailableError("replication stream: " + PgError(repl_));

    // No complete message buffered: send a status update when due, then wait.
    const absl::Time now = absl::Now();
    if (now - last_status_ >= status_interval_ ||
        (confirmed_ > sent_ && now - last_status_ >= absl::Seconds(1))) {
      PHONY_RETURN_IF_ERROR(SendStatus(false));
    }
    if (now >= deadline) return std::optional<XLogData>();
    const absl::Duration wait = std::min(deadline - now, absl::Seconds(1));
    pollfd pfd{PQsocket(repl_), POLLIN, 0};
    const int rc = poll(&pfd, 1, static_cast<int>(absl::ToInt64Milliseconds(wait)) + 1);
    if (rc < 0 && errno != EINTR) return absl::UnavailableError("poll on the replication socket failed");
    if (rc > 0 && PQconsumeInput(repl_) != 1) {
      return absl::UnavailableError("replication connection: " + PgError(repl_));
    }
  }
}

}  // namespace phony::pg
