#include "src/apply/postgres/pg_writer.h"

#include <libpq-fe.h>

#include <chrono>
#include <map>
#include <set>
#include <utility>

#include "absl/strings/cord.h"
#include "absl/strings/str_join.h"
#include "core/byte_reader.h"
#include "core/envelope.h"
#include "core/event_codec.h"
#include "core/status_macros.h"
#include "spdlog/spdlog.h"
#include "src/apply/apply_util.h"
#include "src/apply/postgres/pg_text.h"

namespace phony::apply {

using pg::AppendCopyField;
using pg::QuoteIdent;
using pg::QuoteTable;

namespace {

struct ResultDeleter {
  void operator()(PGresult* r) const { PQclear(r); }
};
using Result = std::unique_ptr<PGresult, ResultDeleter>;

const char* ConditionName(const std::string& state) {
  static const std::map<std::string, const char*> kNames = {
      {"22001", "string_data_right_truncation"}, {"22003", "numeric_value_out_of_range"},
      {"22007", "invalid_datetime_format"},      {"22008", "datetime_field_overflow"},
      {"22021", "character_not_in_repertoire"},  {"22P02", "invalid_text_representation"},
      {"22P05", "untranslatable_character"},     {"23502", "not_null_violation"},
      {"23503", "foreign_key_violation"},        {"23505", "unique_violation"},
      {"23514", "check_violation"},              {"23P01", "exclusion_violation"},
      {"54000", "program_limit_exceeded"},       {"22023", "invalid_parameter_value"},
  };
  auto it = kNames.find(state);
  return it == kNames.end() ? "data exception" : it->second;
}

// bytea in its hex text form, and back.
std::string HexBytes(std::string_view bytes) { return "\\x" + ToHex(bytes); }
absl::StatusOr<std::string> UnhexBytes(std::string_view text) {
  if (text.substr(0, 2) != "\\x") return absl::DataLossError("not a hex bytea");
  return FromHex(text.substr(2));
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

// Types without an equality operator: rows of keyless tables compare them as text.
bool CompareAsText(const std::string& type) {
  static const std::set<std::string> kTypes = {"json", "xml", "point", "line", "lseg", "box", "path", "polygon",
                                               "circle"};
  return kTypes.count(type) > 0;
}

}  // namespace

struct PgWriter::Impl {
  PgWriterOptions o;
  PGconn* conn = nullptr;
  bool in_tx = false;
  std::map<TableId, int> temp_ids;
  std::set<int> temps_ready;          // created (or checked) in this transaction
  std::map<TableId, int> copy_cooldown;  // chunks to upsert before trying a plain COPY again
  std::map<TableId, TableSchema> known;  // applied definitions, for foreign keys

  ~Impl() {
    if (conn) PQfinish(conn);
  }

  // The one place a PGresult becomes a Status. `what` names the statement
  // (never its values). Data errors carry the server's text as a payload.
  absl::Status Error(PGresult* r, const std::string& what) {
    const char* state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : nullptr;
    const std::string sqlstate = state ? state : "";
    const char* primary = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : nullptr;
    const char* detail = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_DETAIL) : nullptr;
    std::string full = primary ? primary : PQerrorMessage(conn);
    while (!full.empty() && (full.back() == '\n' || full.back() == ' ')) full.pop_back();
    if (detail) full += " (" + std::string(detail) + ")";
    if (PQstatus(conn) == CONNECTION_BAD || sqlstate.rfind("08", 0) == 0 || sqlstate.rfind("57P0", 0) == 0 ||
        sqlstate.rfind("53", 0) == 0) {
      return absl::UnavailableError("staging: " + what + ": " + full);
    }
    if (sqlstate == "40001" || sqlstate == "40P01") {
      return absl::AbortedError("staging: " + what + ": SQLSTATE " + sqlstate + " (serialization failure or deadlock)");
    }
    if (sqlstate.rfind("22", 0) == 0 || sqlstate.rfind("23", 0) == 0 || sqlstate.rfind("54", 0) == 0) {
      absl::Status s = absl::InvalidArgumentError("staging: " + what + ": SQLSTATE " + sqlstate + " (" +
                                                  ConditionName(sqlstate) + ")");
      s.SetPayload(kErrorDetailPayload, absl::Cord(full));
      return s;
    }
    if (sqlstate == "42501") return absl::PermissionDeniedError("staging: " + what + ": " + full);
    return absl::FailedPreconditionError("staging: " + what + ": " + full +
                                         (sqlstate.empty() ? "" : " (SQLSTATE " + sqlstate + ")"));
  }

  absl::StatusOr<Result> Exec(const std::string& sql, const std::string& what,
                              const std::vector<std::optional<std::string>>& params = {}) {
    if (conn == nullptr) return absl::UnavailableError("staging: not connected");
    std::vector<const char*> values;
    values.reserve(params.size());
    for (const auto& p : params) values.push_back(p ? p->c_str() : nullptr);
    Result r(params.empty() ? PQexec(conn, sql.c_str())
                            : PQexecParams(conn, sql.c_str(), static_cast<int>(values.size()), nullptr,
                                           values.data(), nullptr, nullptr, 0));
    const ExecStatusType st = r ? PQresultStatus(r.get()) : PGRES_FATAL_ERROR;
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) return Error(r.get(), what);
    return r;
  }
  absl::Status Run(const std::string& sql, const std::string& what,
                   const std::vector<std::optional<std::string>>& params = {}) {
    return Exec(sql, what, params).status();
  }
  absl::StatusOr<int64_t> Affected(const std::string& sql, const std::string& what,
                                   const std::vector<std::optional<std::string>>& params) {
    PHONY_ASSIGN_OR_RETURN(Result r, Exec(sql, what, params));
    return std::strtoll(PQcmdTuples(r.get()), nullptr, 10);
  }

  // COPY `target` FROM STDIN with `rows` (the `idx` columns of each) in the
  // text format, sent in pieces as they are formatted so the server parses
  // while the client formats.
  absl::Status CopyRows(const std::string& target, const std::vector<const Row*>& rows,
                        const std::vector<uint16_t>& idx, const std::string& what) {
    Result start(PQexec(conn, ("COPY " + target + " FROM STDIN").c_str()));
    if (!start || PQresultStatus(start.get()) != PGRES_COPY_IN) return Error(start.get(), what);
    constexpr size_t kPiece = 256 << 10;
    std::string& data = copy_buffer;
    data.clear();
    bool sent = true;
    for (const Row* row : rows) {
      AppendCopyRow(*row, idx, &data);
      if (data.size() >= kPiece) {
        sent = PQputCopyData(conn, data.data(), static_cast<int>(data.size())) == 1;
        data.clear();
        if (!sent) break;
      }
    }
    if (sent && !data.empty()) sent = PQputCopyData(conn, data.data(), static_cast<int>(data.size())) == 1;
    if (PQputCopyEnd(conn, sent ? nullptr : "client failed") != 1) {
      return absl::UnavailableError("staging: " + what + ": " + PQerrorMessage(conn));
    }
    absl::Status s;
    while (PGresult* raw = PQgetResult(conn)) {
      Result r(raw);
      if (PQresultStatus(raw) != PGRES_COMMAND_OK && s.ok()) s = Error(raw, what);
    }
    return s;
  }
  static std::vector<const Row*> Pointers(const std::vector<Row>& rows) {
    std::vector<const Row*> out;
    out.reserve(rows.size());
    for (const Row& r : rows) out.push_back(&r);
    return out;
  }
  std::string copy_buffer;

  int TempId(const TableId& table) {
    auto [it, inserted] = temp_ids.try_emplace(table, static_cast<int>(temp_ids.size()));
    return it->second;
  }
  std::string UpsertTemp(const TableId& t) { return "pg_temp.phony_u" + std::to_string(TempId(t)); }
  std::string DeleteTemp(const TableId& t) { return "pg_temp.phony_d" + std::to_string(TempId(t)); }

  absl::Status EnsureTemps(const TableSchema& schema) {
    const int id = TempId(schema.id);
    if (temps_ready.count(id)) return absl::OkStatus();
    const std::string table = QuoteTable(schema.id);
    PHONY_RETURN_IF_ERROR(Run("CREATE TEMP TABLE IF NOT EXISTS phony_u" + std::to_string(id) + " AS SELECT * FROM " +
                                  table + " WITH NO DATA",
                              "creating a work table for " + schema.id.QualifiedName()));
    std::vector<std::string> keys;
    for (uint16_t k : schema.KeyColumns()) keys.push_back(QuoteIdent(schema.columns[k].name));
    if (!keys.empty()) {
      PHONY_RETURN_IF_ERROR(Run("CREATE TEMP TABLE IF NOT EXISTS phony_d" + std::to_string(id) + " AS SELECT " +
                                    absl::StrJoin(keys, ", ") + " FROM " + table + " WITH NO DATA",
                                "creating a work table for " + schema.id.QualifiedName()));
    }
    temps_ready.insert(id);
    return absl::OkStatus();
  }

  static std::string ColumnList(const TableSchema& s, const std::vector<uint16_t>& idx) {
    std::string out = "(";
    for (size_t i = 0; i < idx.size(); ++i) {
      if (i) out += ", ";
      out += QuoteIdent(s.columns[idx[i]].name);
    }
    return out + ")";
  }
  static void AppendCopyRow(const Row& row, const std::vector<uint16_t>& idx, std::string* data) {
    for (size_t i = 0; i < idx.size(); ++i) {
      if (i) data->push_back('\t');
      AppendCopyField(row[idx[i]], data);
    }
    data->push_back('\n');
  }
  static std::string KeyMatch(const TableSchema& s, const std::vector<uint16_t>& keys, const std::string& left,
                              const std::string& right) {
    std::string out;
    for (size_t i = 0; i < keys.size(); ++i) {
      if (i) out += " AND ";
      const std::string c = QuoteIdent(s.columns[keys[i]].name);
      out += left + "." + c + " = " + right + "." + c;
    }
    return out;
  }

  // "c1" = $n AND … for the key columns of `row`, appending the parameters.
  static std::string KeyWhere(const TableSchema& s, const std::vector<uint16_t>& keys, const Row& row,
                              std::vector<std::optional<std::string>>* params) {
    std::string out;
    for (size_t i = 0; i < keys.size(); ++i) {
      if (i) out += " AND ";
      params->push_back(pg::Text(row[keys[i]]));
      out += QuoteIdent(s.columns[keys[i]].name) + " = $" + std::to_string(params->size());
    }
    return out;
  }
  static std::optional<std::string> Param(const Value& v) {
    if (v.is_null()) return std::nullopt;
    return pg::Text(v);
  }

  // The single-row statements of ApplyEvent.
  absl::Status Upsert(const TableSchema& s, const Row& row) {
    const std::vector<uint16_t> keys = s.KeyColumns();
    std::vector<std::optional<std::string>> params;
    std::string cols, vals, sets;
    for (size_t i = 0; i < s.columns.size(); ++i) {
      if (row[i].is_unchanged()) continue;
      params.push_back(Param(row[i]));
      const std::string c = QuoteIdent(s.columns[i].name);
      cols += (cols.empty() ? "" : ", ") + c;
      vals += (vals.empty() ? "$" : ", $") + std::to_string(params.size());
      if (s.columns[i].key_ordinal == 0) sets += (sets.empty() ? "" : ", ") + c + " = EXCLUDED." + c;
    }
    std::string sql = "INSERT INTO " + QuoteTable(s.id) + " (" + cols + ") VALUES (" + vals + ")";
    if (!keys.empty()) {
      sql += " ON CONFLICT " + ColumnList(s, keys) + (sets.empty() ? " DO NOTHING" : " DO UPDATE SET " + sets);
    }
    return Run(sql, "writing a row of " + s.id.QualifiedName(), params);
  }

  // UPDATE of the present columns of `after` where `where` holds.
  absl::StatusOr<int64_t> UpdatePresent(const TableSchema& s, const Row& after, const std::string& where,
                                        std::vector<std::optional<std::string>> params) {
    std::string sets;
    for (size_t i = 0; i < s.columns.size(); ++i) {
      if (after[i].is_unchanged()) continue;
      params.push_back(Param(after[i]));
      sets += (sets.empty() ? "" : ", ") + QuoteIdent(s.columns[i].name) + " = $" + std::to_string(params.size());
    }
    if (sets.empty()) return 0;
    return Affected("UPDATE " + QuoteTable(s.id) + " SET " + sets + " WHERE " + where,
                    "updating a row of " + s.id.QualifiedName(), params);
  }

  // WHERE clause picking one row equal to the full image `row` (tables
  // without a key, REPLICA IDENTITY FULL).
  std::string FullRowWhere(const TableSchema& s, const Row& row, std::vector<std::optional<std::string>>* params) {
    std::string match;
    for (size_t i = 0; i < s.columns.size(); ++i) {
      if (row[i].is_unchanged()) continue;
      const std::string c = QuoteIdent(s.columns[i].name);
      match += match.empty() ? "" : " AND ";
      if (row[i].is_null()) {
        match += c + " IS NULL";
        continue;
      }
      params->push_back(pg::Text(row[i]));
      const std::string p = "$" + std::to_string(params->size());
      const std::string type = pg::StagingType(s.columns[i], o.source_is_postgres);
      match += CompareAsText(type) ? c + "::text = (" + p + "::" + type + ")::text" : c + " = " + p;
    }
    return "ctid = (SELECT ctid FROM " + QuoteTable(s.id) + (match.empty() ? "" : " WHERE " + match) + " LIMIT 1)";
  }

  absl::Status TryAddForeignKey(const TableId& owner, const ForeignKey& fk) {
    if (fk.name.empty() || fk.columns.empty()) return absl::OkStatus();
    PHONY_ASSIGN_OR_RETURN(Result exists,
                           Exec("SELECT (SELECT count(*) FROM pg_constraint WHERE conrelid = to_regclass($1) AND "
                                "conname = $2), to_regclass($3) IS NOT NULL",
                                "reading foreign keys", {QuoteTable(owner), fk.name, QuoteTable(fk.referenced)}));
    if (std::string(PQgetvalue(exists.get(), 0, 0)) != "0" || std::string(PQgetvalue(exists.get(), 0, 1)) != "t") {
      return absl::OkStatus();  // there already, or its table is not yet
    }
    std::vector<std::string> cols, refs;
    for (const auto& c : fk.columns) cols.push_back(QuoteIdent(c));
    for (const auto& c : fk.referenced_columns) refs.push_back(QuoteIdent(c));
    PHONY_RETURN_IF_ERROR(Run("SAVEPOINT phony_fk", "adding a foreign key"));
    absl::Status s = Run("ALTER TABLE " + QuoteTable(owner) + " ADD CONSTRAINT " + QuoteIdent(fk.name) +
                             " FOREIGN KEY (" + absl::StrJoin(cols, ", ") + ") REFERENCES " +
                             QuoteTable(fk.referenced) + " (" + absl::StrJoin(refs, ", ") + ") ON DELETE " +
                             FkActionSql(fk.on_delete) + " ON UPDATE " + FkActionSql(fk.on_update) + " NOT VALID",
                         "adding foreign key " + fk.name + " to " + owner.QualifiedName());
    if (!s.ok()) {
      if (absl::IsUnavailable(s)) return s;
      spdlog::info("apply: staging keeps no foreign key {} on {} ({})", fk.name, owner.QualifiedName(),
                   std::string(s.message()));
      PHONY_RETURN_IF_ERROR(Run("ROLLBACK TO SAVEPOINT phony_fk", "adding a foreign key"));
    }
    return Run("RELEASE SAVEPOINT phony_fk", "adding a foreign key");
  }
};

PgWriter::PgWriter(PgWriterOptions options) : impl_(std::make_unique<Impl>()) { impl_->o = std::move(options); }
PgWriter::~PgWriter() = default;

absl::Status PgWriter::Connect() {
  Impl& im = *impl_;
  if (im.conn) PQfinish(im.conn);
  im.conn = nullptr;
  im.in_tx = false;
  im.temps_ready.clear();
  const std::string port = std::to_string(im.o.port);
  std::vector<const char*> keys = {"host", "port", "dbname", "user", "application_name", "connect_timeout"};
  std::vector<const char*> values = {im.o.host.c_str(), port.c_str(), im.o.database.c_str(), im.o.user.c_str(),
                                     im.o.application_name.c_str(), "10"};
  if (!im.o.password.empty()) {
    keys.push_back("password");
    values.push_back(im.o.password.c_str());
  }
  keys.push_back(nullptr);
  values.push_back(nullptr);
  PGconn* conn = PQconnectdbParams(keys.data(), values.data(), 0);
  if (PQstatus(conn) != CONNECTION_OK) {
    std::string msg = PQerrorMessage(conn);
    while (!msg.empty() && msg.back() == '\n') msg.pop_back();
    PQfinish(conn);
    return ConnectionError("staging connection to " + im.o.host + ":" + port + "/" + im.o.database, msg);
  }
  im.conn = conn;
  // Server notices ("already exists, skipping") are not for our logs.
  PQsetNoticeProcessor(conn, [](void*, const char*) {}, nullptr);
  absl::Status role = im.Run("SET session_replication_role = replica", "setting session_replication_role");
  if (!role.ok()) {
    if (absl::IsPermissionDenied(role)) {
      return absl::PermissionDeniedError(
          "staging: user " + im.o.user + " may not set session_replication_role, which the applier needs to "
          "keep foreign-key triggers off as logical replication does: make it a superuser, or on PostgreSQL 15+ "
          "run GRANT SET ON PARAMETER session_replication_role TO " + im.o.user);
    }
    return role;
  }
  PHONY_RETURN_IF_ERROR(im.Run("SET DateStyle = ISO; SET TimeZone = 'UTC'; SET IntervalStyle = postgres; "
                               "SET extra_float_digits = 3; SET bytea_output = hex",
                               "setting the session"));
  // Bookkeeping: two appliers starting together may race on creation.
  absl::Status s;
  for (int attempt = 0; attempt < 3; ++attempt) {
    s = im.Run(
        "CREATE SCHEMA IF NOT EXISTS phony; "
        "CREATE TABLE IF NOT EXISTS phony.apply_progress (stream text NOT NULL, partition integer NOT NULL, "
        "next_offset bigint NOT NULL, position bytea NOT NULL, position_text text NOT NULL, "
        "applied_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (stream, partition)); "
        "CREATE TABLE IF NOT EXISTS phony.schemas (schema_name text NOT NULL, table_name text NOT NULL, "
        "version integer NOT NULL, definition bytea NOT NULL, applied_at timestamptz NOT NULL DEFAULT now(), "
        "PRIMARY KEY (schema_name, table_name)); "
        "CREATE TABLE IF NOT EXISTS phony.dead_letters (id bigserial PRIMARY KEY, stream text, "
        "partition integer, kafka_offset bigint, position text, table_name text, op text, error text, "
        "event jsonb, recorded_at timestamptz NOT NULL DEFAULT now())",
        "creating the phony bookkeeping tables");
    if (s.ok() || !absl::IsInvalidArgument(s)) break;
  }
  return s;
}

absl::StatusOr<ProgressMap> PgWriter::LoadProgress() {
  PHONY_ASSIGN_OR_RETURN(Result r, impl_->Exec("SELECT stream, partition, next_offset, position FROM "
                                               "phony.apply_progress",
                                               "reading phony.apply_progress"));
  ProgressMap out;
  for (int i = 0; i < PQntuples(r.get()); ++i) {
    const std::string stream = PQgetvalue(r.get(), i, 0);
    PHONY_ASSIGN_OR_RETURN(std::string bytes, UnhexBytes(PQgetvalue(r.get(), i, 3)));
    PHONY_ASSIGN_OR_RETURN(EventPosition pos, DecodeStoredPosition(bytes, "phony.apply_progress row for " + stream));
    out[{stream, std::atoi(PQgetvalue(r.get(), i, 1))}] = {std::strtoll(PQgetvalue(r.get(), i, 2), nullptr, 10),
                                                            std::move(pos)};
  }
  return out;
}

absl::StatusOr<std::vector<TableSchema>> PgWriter::LoadAppliedSchemas() {
  PHONY_ASSIGN_OR_RETURN(Result r, impl_->Exec("SELECT definition FROM phony.schemas", "reading phony.schemas"));
  std::vector<TableSchema> out;
  impl_->known.clear();
  for (int i = 0; i < PQntuples(r.get()); ++i) {
    PHONY_ASSIGN_OR_RETURN(std::string bytes, UnhexBytes(PQgetvalue(r.get(), i, 0)));
    PHONY_ASSIGN_OR_RETURN(TableSchema schema, DecodeStoredSchema(bytes));
    impl_->known[schema.id] = schema;
    out.push_back(std::move(schema));
  }
  return out;
}

absl::Status PgWriter::Begin() {
  PHONY_RETURN_IF_ERROR(impl_->Run("BEGIN", "beginning a transaction"));
  impl_->in_tx = true;
  return absl::OkStatus();
}

absl::Status PgWriter::ApplySchema(const TableSchema& schema, const TableSchema* applied) {
  Impl& im = *impl_;
  const std::string table = QuoteTable(schema.id);
  const std::string name = schema.id.QualifiedName();
  PHONY_RETURN_IF_ERROR(im.Run("CREATE SCHEMA IF NOT EXISTS " + QuoteIdent(schema.id.schema), "creating schema"));
  PHONY_ASSIGN_OR_RETURN(Result cols,
                         im.Exec("SELECT a.attname, format_type(a.atttypid, a.atttypmod), a.attgenerated <> '' "
                                 "FROM pg_attribute a WHERE a.attrelid = to_regclass($1) AND a.attnum > 0 AND NOT "
                                 "a.attisdropped ORDER BY a.attnum",
                                 "reading the columns of " + name, {table}));
  std::map<std::string, std::string> existing;
  std::set<std::string> generated;  // staging computes them (a snapshot made them as the source has them)
  for (int i = 0; i < PQntuples(cols.get()); ++i) {
    existing[PQgetvalue(cols.get(), i, 0)] = PQgetvalue(cols.get(), i, 1);
    if (std::string(PQgetvalue(cols.get(), i, 2)) == "t") generated.insert(PQgetvalue(cols.get(), i, 0));
  }
  std::vector<std::string> key_names;
  for (uint16_t k : schema.KeyColumns()) key_names.push_back(QuoteIdent(schema.columns[k].name));
  const std::string pk = key_names.empty() ? "" : "PRIMARY KEY (" + absl::StrJoin(key_names, ", ") + ")";

  if (existing.empty()) {
    std::vector<std::string> defs;
    for (const ColumnDef& c : schema.columns) {
      // Nullable: a rule may null a column the source declares NOT NULL.
      defs.push_back(QuoteIdent(c.name) + " " + pg::StagingType(c, im.o.source_is_postgres));
    }
    if (!pk.empty()) defs.push_back(pk);
    PHONY_RETURN_IF_ERROR(im.Run("CREATE TABLE IF NOT EXISTS " + table + " (" + absl::StrJoin(defs, ", ") + ")",
                                 "creating " + name));
  } else {
    // The primary key, if it changes, is dropped first and added last.
    PHONY_ASSIGN_OR_RETURN(
        Result pkey,
        im.Exec("SELECT c.conname, (SELECT string_agg(a.attname, chr(1) ORDER BY k.n) FROM "
                "unnest(c.conkey) WITH ORDINALITY k(attnum, n) JOIN pg_attribute a ON a.attrelid = c.conrelid "
                "AND a.attnum = k.attnum) FROM pg_constraint c WHERE c.conrelid = to_regclass($1) AND "
                "c.contype = 'p'",
                "reading the primary key of " + name, {table}));
    const bool has_pk = PQntuples(pkey.get()) > 0;
    std::string wanted;  // the key's column names, separated by \x01 as the query gives them
    for (uint16_t k : schema.KeyColumns()) wanted += (wanted.empty() ? "" : "\x01") + schema.columns[k].name;
    const bool pk_changes = (has_pk ? std::string(PQgetvalue(pkey.get(), 0, 1)) : "") != wanted;
    if (pk_changes && has_pk) {
      PHONY_RETURN_IF_ERROR(im.Run("ALTER TABLE " + table + " DROP CONSTRAINT " +
                                       QuoteIdent(PQgetvalue(pkey.get(), 0, 0)),
                                   "dropping the primary key of " + name));
    }
    for (const ColumnDef& c : schema.columns) {
      const std::string type = pg::StagingType(c, im.o.source_is_postgres);
      auto it = existing.find(c.name);
      if (it == existing.end()) {
        PHONY_RETURN_IF_ERROR(im.Run("ALTER TABLE " + table + " ADD COLUMN " + QuoteIdent(c.name) + " " + type,
                                     "adding column " + c.name + " to " + name));
      } else if (it->second != type && it->second != c.type_name) {
        // (A table the snapshot made keeps the source's own type, enums and
        // domains included.)
        PHONY_RETURN_IF_ERROR(im.Run("ALTER TABLE " + table + " ALTER COLUMN " + QuoteIdent(c.name) + " TYPE " +
                                         type + " USING " + QuoteIdent(c.name) + "::" + type,
                                     "changing the type of " + name + "." + c.name + " from " + it->second +
                                         " to " + type));
      }
    }
    for (const auto& [col, type] : existing) {
      if (schema.ColumnIndex(col) < 0 && !generated.count(col)) {
        PHONY_RETURN_IF_ERROR(im.Run("ALTER TABLE " + table + " DROP COLUMN " + QuoteIdent(col),
                                     "dropping column " + col + " of " + name));
      }
    }
    if (pk_changes && !pk.empty()) {
      PHONY_RETURN_IF_ERROR(im.Run("ALTER TABLE " + table + " ADD " + pk, "adding the primary key of " + name));
    }
  }
  // Foreign keys as declared at the source, NOT VALID (staging may hold a
  // past state while it converges); dropped ones go.
  if (applied != nullptr) {
    for (const ForeignKey& old : applied->foreign_keys) {
      const bool kept = std::any_of(schema.foreign_keys.begin(), schema.foreign_keys.end(),
                                    [&](const ForeignKey& f) { return f.name == old.name; });
      if (!kept && !old.name.empty()) {
        PHONY_RETURN_IF_ERROR(im.Run("ALTER TABLE " + table + " DROP CONSTRAINT IF EXISTS " + QuoteIdent(old.name),
                                     "dropping foreign key " + old.name + " of " + name));
      }
    }
  }
  im.known[schema.id] = schema;
  for (const ForeignKey& fk : schema.foreign_keys) PHONY_RETURN_IF_ERROR(im.TryAddForeignKey(schema.id, fk));
  for (const auto& [id, other] : im.known) {
    if (id == schema.id) continue;
    for (const ForeignKey& fk : other.foreign_keys) {
      if (fk.referenced == schema.id) PHONY_RETURN_IF_ERROR(im.TryAddForeignKey(id, fk));
    }
  }
  std::string definition;
  EncodeEvent(SchemaEvent{.position = {}, .schema = schema}, &definition);
  PHONY_RETURN_IF_ERROR(im.Run("INSERT INTO phony.schemas (schema_name, table_name, version, definition) VALUES "
                               "($1, $2, $3, $4::bytea) ON CONFLICT (schema_name, table_name) DO UPDATE SET "
                               "version = EXCLUDED.version, definition = EXCLUDED.definition, applied_at = now()",
                               "recording the definition of " + name,
                               {schema.id.schema, schema.id.table, std::to_string(schema.version),
                                HexBytes(definition)}));
  // Work tables follow the new shape.
  const int id = im.TempId(schema.id);
  im.temps_ready.erase(id);
  return im.Run("DROP TABLE IF EXISTS pg_temp.phony_u" + std::to_string(id) + ", pg_temp.phony_d" +
                    std::to_string(id),
                "dropping work tables");
}

absl::Status PgWriter::WriteChanges(const TableChanges& changes) {
  Impl& im = *impl_;
  const TableSchema& s = *changes.schema;
  const std::string table = QuoteTable(s.id);
  const std::string name = s.id.QualifiedName();
  const std::vector<uint16_t> keys = s.KeyColumns();
  std::vector<uint16_t> all(s.columns.size());
  for (size_t i = 0; i < all.size(); ++i) all[i] = static_cast<uint16_t>(i);
  if (!changes.deletes.empty() || !changes.upserts.empty() || !changes.partial_updates.empty()) {
    PHONY_RETURN_IF_ERROR(im.EnsureTemps(s));
  }

  if (!changes.deletes.empty()) {
    const std::string temp = im.DeleteTemp(s.id);
    PHONY_RETURN_IF_ERROR(im.CopyRows(temp + " " + Impl::ColumnList(s, keys), Impl::Pointers(changes.deletes), keys,
                                      "loading deletes of " + name));
    PHONY_RETURN_IF_ERROR(im.Run("DELETE FROM " + table + " t USING " + temp + " d WHERE " +
                                     Impl::KeyMatch(s, keys, "t", "d"),
                                 "deleting rows of " + name));
    PHONY_RETURN_IF_ERROR(im.Run("TRUNCATE " + temp, "clearing a work table"));
  }

  if (!changes.upserts.empty()) {
    const std::vector<const Row*> rows = Impl::Pointers(changes.upserts);
    int& cooldown = im.copy_cooldown[s.id];
    bool done = false;
    if (changes.inserts_only && cooldown == 0) {
      // New rows are the common case: load them straight into the table.
      PHONY_RETURN_IF_ERROR(im.Run("SAVEPOINT phony_copy", "loading rows"));
      absl::Status copied = im.CopyRows(table + " " + Impl::ColumnList(s, all), rows, all, "loading rows of " + name);
      if (copied.ok()) {
        PHONY_RETURN_IF_ERROR(im.Run("RELEASE SAVEPOINT phony_copy", "loading rows"));
        done = true;
        ++counters_.bulk_loads;
      } else if (absl::IsInvalidArgument(copied) && copied.message().find("23505") != std::string_view::npos) {
        // Some keys are there already (a replay): upsert this chunk and the next few.
        PHONY_RETURN_IF_ERROR(im.Run("ROLLBACK TO SAVEPOINT phony_copy; RELEASE SAVEPOINT phony_copy",
                                     "loading rows"));
        cooldown = 16;
        ++counters_.bulk_fallbacks;
      } else {
        return copied;
      }
    } else if (cooldown > 0) {
      --cooldown;
    }
    if (!done) {
      const std::string temp = im.UpsertTemp(s.id);
      PHONY_RETURN_IF_ERROR(im.CopyRows(temp + " " + Impl::ColumnList(s, all), rows, all, "loading rows of " + name));
      std::string sets;
      for (const ColumnDef& c : s.columns) {
        if (c.key_ordinal != 0) continue;
        sets += (sets.empty() ? "" : ", ") + QuoteIdent(c.name) + " = EXCLUDED." + QuoteIdent(c.name);
      }
      const std::string cols = Impl::ColumnList(s, all);
      PHONY_RETURN_IF_ERROR(im.Run("INSERT INTO " + table + " " + cols + " SELECT " + cols.substr(1, cols.size() - 2) +
                                       " FROM " + temp + " ON CONFLICT " + Impl::ColumnList(s, keys) +
                                       (sets.empty() ? " DO NOTHING" : " DO UPDATE SET " + sets),
                                   "upserting rows of " + name));
      PHONY_RETURN_IF_ERROR(im.Run("TRUNCATE " + temp, "clearing a work table"));
    }
  }

  if (!changes.partial_updates.empty()) {
    // One UPDATE … FROM per set of present columns.
    std::map<std::vector<uint16_t>, std::vector<const Row*>> groups;
    for (const Row& row : changes.partial_updates) {
      std::vector<uint16_t> present;
      for (size_t i = 0; i < row.size(); ++i) {
        if (!row[i].is_unchanged()) present.push_back(static_cast<uint16_t>(i));
      }
      groups[present].push_back(&row);
    }
    const std::string temp = im.UpsertTemp(s.id);
    for (const auto& [present, rows] : groups) {
      PHONY_RETURN_IF_ERROR(
          im.CopyRows(temp + " " + Impl::ColumnList(s, present), rows, present, "loading updates of " + name));
      std::string sets;
      for (uint16_t i : present) {
        if (s.columns[i].key_ordinal != 0) continue;
        sets += (sets.empty() ? "" : ", ") + QuoteIdent(s.columns[i].name) + " = u." + QuoteIdent(s.columns[i].name);
      }
      if (!sets.empty()) {
        PHONY_RETURN_IF_ERROR(im.Run("UPDATE " + table + " t SET " + sets + " FROM " + temp + " u WHERE " +
                                         Impl::KeyMatch(s, keys, "t", "u"),
                                     "updating rows of " + name));
      }
      PHONY_RETURN_IF_ERROR(im.Run("TRUNCATE " + temp, "clearing a work table"));
    }
  }

  if (!changes.appends.empty()) {
    PHONY_RETURN_IF_ERROR(im.CopyRows(table + " " + Impl::ColumnList(s, all), Impl::Pointers(changes.appends), all,
                                      "loading rows of " + name));
  }
  return absl::OkStatus();
}

absl::Status PgWriter::ApplyEvent(const ChangeEvent& event, const TableSchema& s) {
  Impl& im = *impl_;
  const std::string name = s.id.QualifiedName();
  const std::vector<uint16_t> keys = s.KeyColumns();
  switch (event.op) {
    case ChangeOp::kTruncate: {
      std::vector<std::string> tables;
      for (const TableId& t : event.truncated) tables.push_back(QuoteTable(t));
      std::string sql = "TRUNCATE " + absl::StrJoin(tables, ", ");
      if (event.flags & kFlagTruncateRestartIdentity) sql += " RESTART IDENTITY";
      if (event.flags & kFlagTruncateCascade) sql += " CASCADE";
      return im.Run(sql, "truncating " + name);
    }
    case ChangeOp::kInsert:
    case ChangeOp::kRead: {
      if (!event.after) return absl::DataLossError("an insert without a row");
      if (keys.empty() || IsComplete(*event.after)) return im.Upsert(s, *event.after);
      std::vector<std::optional<std::string>> params;
      const std::string where = Impl::KeyWhere(s, keys, *event.after, &params);
      return im.UpdatePresent(s, *event.after, where, params).status();
    }
    case ChangeOp::kUpdate: {
      if (!event.after) return absl::DataLossError("an update without a new row");
      const Row& after = *event.after;
      if (keys.empty()) {
        if (!event.before || s.replica_identity != ReplicaIdentity::kFull) {
          return absl::InvalidArgumentError(
              "staging: " + name + " has no primary key and its REPLICA IDENTITY is not FULL, so an update "
              "cannot say which row it changes (set REPLICA IDENTITY FULL on the source table)");
        }
        std::vector<std::optional<std::string>> params;
        const std::string where = im.FullRowWhere(s, *event.before, &params);
        return im.UpdatePresent(s, after, where, params).status();
      }
      const bool complete = IsComplete(after);
      if (event.before) {
        std::vector<std::optional<std::string>> p_old, p_new;
        const std::string old_key = Impl::KeyWhere(s, keys, *event.before, &p_old);
        Impl::KeyWhere(s, keys, after, &p_new);
        if (p_old != p_new) {
          // A key change: an UPDATE of the old key keeps the columns the
          // event does not carry. A row already at the new key is a later
          // state (catching up after a snapshot): it gives way.
          std::vector<std::optional<std::string>> params;
          const std::string at_new = Impl::KeyWhere(s, keys, after, &params);
          const std::string at_old = Impl::KeyWhere(s, keys, *event.before, &params);
          PHONY_RETURN_IF_ERROR(im.Run("DELETE FROM " + QuoteTable(s.id) + " WHERE " + at_new +
                                           " AND EXISTS (SELECT 1 FROM " + QuoteTable(s.id) + " WHERE " + at_old + ")",
                                       "moving a row of " + name, params));
          PHONY_ASSIGN_OR_RETURN(int64_t n, im.UpdatePresent(s, after, old_key, p_old));
          if (n == 0 && complete) return im.Upsert(s, after);
          return absl::OkStatus();
        }
      }
      if (complete) return im.Upsert(s, after);
      std::vector<std::optional<std::string>> params;
      const std::string where = Impl::KeyWhere(s, keys, after, &params);
      return im.UpdatePresent(s, after, where, params).status();
    }
    case ChangeOp::kDelete: {
      if (!event.before) return absl::DataLossError("a delete without an old row");
      std::vector<std::optional<std::string>> params;
      std::string where;
      if (keys.empty()) {
        if (s.replica_identity != ReplicaIdentity::kFull) {
          return absl::InvalidArgumentError(
              "staging: " + name + " has no primary key and its REPLICA IDENTITY is not FULL, so a delete "
              "cannot say which row it removes (set REPLICA IDENTITY FULL on the source table)");
        }
        where = im.FullRowWhere(s, *event.before, &params);
      } else {
        where = Impl::KeyWhere(s, keys, *event.before, &params);
      }
      return im.Run("DELETE FROM " + QuoteTable(s.id) + " WHERE " + where, "deleting a row of " + name, params);
    }
  }
  return absl::InternalError("unknown change operation");
}

absl::Status PgWriter::Mark() { return impl_->Run("SAVEPOINT phony_event", "isolating an event"); }
absl::Status PgWriter::Undo() {
  return impl_->Run("ROLLBACK TO SAVEPOINT phony_event; RELEASE SAVEPOINT phony_event", "undoing an event");
}
absl::Status PgWriter::Release() { return impl_->Run("RELEASE SAVEPOINT phony_event", "isolating an event"); }

absl::Status PgWriter::RecordDeadLetter(const DeadLetter& letter) {
  const ChangeEvent& e = *letter.event;
  const std::string json =
      RenderEnvelope(e, *letter.schema, EnvelopeSource{.connector = "phony", .name = "phony-apply"},
                     std::chrono::duration_cast<std::chrono::milliseconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count());
  return impl_->Run(
      "INSERT INTO phony.dead_letters (stream, partition, kafka_offset, position, table_name, op, error, event) "
      "VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb)",
      "recording a dead letter",
      {letter.stream.first, std::to_string(letter.stream.second), std::to_string(letter.offset),
       e.position.ToString(), e.table.QualifiedName(), std::string(ChangeOpName(e.op)), letter.error, json});
}

absl::Status PgWriter::Commit(const std::vector<ProgressUpdate>& progress) {
  Impl& im = *impl_;
  for (const ProgressUpdate& u : progress) {
    std::string bytes;
    EncodePosition(u.progress.position, &bytes);
    std::vector<std::optional<std::string>> params = {u.stream.first, std::to_string(u.stream.second),
                                                      std::to_string(u.progress.next_offset), HexBytes(bytes),
                                                      u.progress.position.ToString()};
    std::string sql;
    if (u.expected) {
      std::string expected;
      EncodePosition(*u.expected, &expected);
      params.push_back(HexBytes(expected));
      sql = "UPDATE phony.apply_progress SET next_offset = $3, position = $4::bytea, position_text = $5, "
            "applied_at = now() WHERE stream = $1 AND partition = $2 AND position = $6::bytea";
    } else {
      sql = "INSERT INTO phony.apply_progress (stream, partition, next_offset, position, position_text) VALUES "
            "($1, $2, $3, $4::bytea, $5) ON CONFLICT DO NOTHING";
    }
    PHONY_ASSIGN_OR_RETURN(int64_t n, im.Affected(sql, "recording progress", params));
    if (n != 1) {
      Rollback();
      return absl::AbortedError("staging: the progress of " + u.stream.first + "[" + std::to_string(u.stream.second) +
                                "] moved since this applier read it (another applier committed it); re-reading");
    }
  }
  PHONY_RETURN_IF_ERROR(im.Run("COMMIT", "committing"));
  im.in_tx = false;
  return absl::OkStatus();
}

void PgWriter::Rollback() {
  Impl& im = *impl_;
  if (im.conn != nullptr && im.in_tx && PQstatus(im.conn) == CONNECTION_OK) {
    PQclear(PQexec(im.conn, "ROLLBACK"));
  }
  im.in_tx = false;
  im.temps_ready.clear();
}

}  // namespace phony::apply
