#include "src/apply/mysql/my_writer.h"

#include <mysql.h>
#include <mysqld_error.h>
#include <errmsg.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <limits>
#include <map>
#include <set>
#include <utility>

#include "absl/strings/cord.h"
#include "absl/strings/str_join.h"
#include "core/envelope.h"
#include "core/event_codec.h"
#include "core/byte_reader.h"
#include "core/status_macros.h"
#include "spdlog/spdlog.h"
#include "src/apply/apply_util.h"
#include "src/apply/postgres/pg_text.h"

namespace phony::apply {

namespace {

std::string Q(std::string_view name) {
  std::string out = "`";
  for (char c : name) {
    if (c == '`') out.push_back('`');
    out.push_back(c);
  }
  out.push_back('`');
  return out;
}

// "int(11)" and "int" are the same type; so are "integer" and "int".
std::string NormalizeType(std::string t) {
  for (char& c : t) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (t.rfind("integer", 0) == 0) t = "int" + t.substr(7);
  for (const char* ints : {"tinyint", "smallint", "mediumint", "bigint", "int"}) {
    const size_t n = std::strlen(ints);
    if (t.compare(0, n, ints) == 0 && t.size() > n && t[n] == '(') {
      const size_t close = t.find(')', n);
      if (close != std::string::npos) t.erase(n, close - n + 1);
      break;
    }
  }
  return t;
}

}  // namespace

std::string MyStagingType(const ColumnDef& c, bool source_is_postgres) {
  if (!source_is_postgres && !c.type_name.empty()) return c.type_name;
  const bool key = c.key_ordinal != 0;
  switch (c.kind) {
    case ValueKind::kBool: return "tinyint(1)";
    case ValueKind::kInt64: return "bigint";
    case ValueKind::kUInt64: return "bigint unsigned";
    case ValueKind::kDouble: return "double";
    case ValueKind::kDecimal: {
      // PostgreSQL numeric(p,s): typmod = (p << 16 | s) + 4.
      if (c.type_modifier >= 4) {
        const int p = (c.type_modifier - 4) >> 16, s = (c.type_modifier - 4) & 0xffff;
        if (p >= 1 && p <= 65 && s <= 30 && s <= p) return "decimal(" + std::to_string(p) + "," + std::to_string(s) + ")";
      }
      return "decimal(65,30)";
    }
    case ValueKind::kBytes: return key ? "varbinary(3072)" : "longblob";
    case ValueKind::kDate: return "date";
    case ValueKind::kTime: return "time(6)";
    case ValueKind::kTimestamp: return "datetime(6)";
    case ValueKind::kTimestampTz: return "datetime(6)";  // UTC
    case ValueKind::kUuid: return "char(36)";
    case ValueKind::kJson: return "longtext";
    case ValueKind::kText:
      if (c.type_id == 1043 && c.type_modifier > 4 && c.type_modifier - 4 <= 16383) {
        return "varchar(" + std::to_string(c.type_modifier - 4) + ")";
      }
      return key ? "varchar(768)" : "longtext";
    default: return key ? "varchar(768)" : "longtext";
  }
}

struct MyWriter::Impl {
  MyWriterOptions o;
  // The staging database of a source schema (MyWriterOptions::database_renames).
  std::string Db(const std::string& schema) const {
    auto it = o.database_renames.find(schema);
    return it == o.database_renames.end() ? schema : it->second;
  }
  std::string QT(const TableId& t) const { return Q(Db(t.schema)) + "." + Q(t.table); }
  MYSQL* conn = nullptr;
  std::map<TableId, EventPosition> cuts;  // as the open transaction read them
  bool in_tx = false;
  // Per table: which staging columns the server computes (generated
  // columns, as a snapshot creates them from the source's definition).
  // Writes leave them out; the binlog carries their values anyway.
  std::map<TableId, std::pair<uint32_t, std::vector<bool>>> generated;
  std::map<TableId, int> load_cooldown;  // chunks to upsert before trying LOAD DATA again
  // The rows LOAD DATA LOCAL reads (from memory, through the infile handler).
  std::string infile;
  size_t infile_at = 0;

  ~Impl() {
    if (conn) mysql_close(conn);
  }

  absl::Status Error(const std::string& what) {
    const unsigned int err = conn ? mysql_errno(conn) : CR_SERVER_GONE_ERROR;
    const std::string msg = conn ? mysql_error(conn) : "not connected";
    const std::string state = conn ? mysql_sqlstate(conn) : "";
    switch (err) {
      case CR_SERVER_GONE_ERROR: case CR_SERVER_LOST: case CR_CONN_HOST_ERROR: case CR_CONNECTION_ERROR:
      case CR_SERVER_LOST_EXTENDED: case ER_SERVER_SHUTDOWN: case ER_CON_COUNT_ERROR: case 1927 /* connection killed */:
      case ER_QUERY_INTERRUPTED:
        return absl::UnavailableError("staging: " + what + ": " + msg);
      case ER_LOCK_DEADLOCK: case ER_LOCK_WAIT_TIMEOUT:
        return absl::AbortedError("staging: " + what + ": error " + std::to_string(err) + " (deadlock or lock wait)");
      case ER_ACCESS_DENIED_ERROR: case ER_DBACCESS_DENIED_ERROR: case ER_TABLEACCESS_DENIED_ERROR:
      case ER_SPECIFIC_ACCESS_DENIED_ERROR:
        return absl::PermissionDeniedError("staging: " + what + ": " + msg);
      default: break;
    }
    // SQLSTATE classes 22 (data) and 23 (integrity), and the value errors.
    if (state.rfind("22", 0) == 0 || state.rfind("23", 0) == 0 || err == ER_TRUNCATED_WRONG_VALUE_FOR_FIELD ||
        err == ER_WARN_DATA_OUT_OF_RANGE || err == ER_DATA_TOO_LONG || err == ER_BAD_NULL_ERROR ||
        err == ER_TRUNCATED_WRONG_VALUE || err == ER_DUP_ENTRY || err == ER_NO_REFERENCED_ROW_2 ||
        err == ER_ROW_IS_REFERENCED_2 || err == 4025 /* CHECK constraint */ || err == 3819) {
      absl::Status s = absl::InvalidArgumentError("staging: " + what + ": error " + std::to_string(err) +
                                                  " (SQLSTATE " + state + ")");
      s.SetPayload(kErrorDetailPayload, absl::Cord(msg));
      return s;
    }
    return absl::FailedPreconditionError("staging: " + what + ": " + msg + " (error " + std::to_string(err) + ")");
  }

  absl::Status Run(const std::string& sql, const std::string& what) {
    if (conn == nullptr) return absl::UnavailableError("staging: not connected");
    if (mysql_real_query(conn, sql.data(), sql.size()) != 0) return Error(what);
    if (MYSQL_RES* r = mysql_store_result(conn)) mysql_free_result(r);
    return absl::OkStatus();
  }
  absl::StatusOr<int64_t> Affected(const std::string& sql, const std::string& what) {
    PHONY_RETURN_IF_ERROR(Run(sql, what));
    return static_cast<int64_t>(mysql_affected_rows(conn));
  }
  absl::StatusOr<std::vector<std::vector<std::string>>> Query(const std::string& sql, const std::string& what) {
    if (conn == nullptr) return absl::UnavailableError("staging: not connected");
    if (mysql_real_query(conn, sql.data(), sql.size()) != 0) return Error(what);
    MYSQL_RES* r = mysql_store_result(conn);
    if (r == nullptr) return Error(what);
    std::vector<std::vector<std::string>> rows;
    const unsigned n = mysql_num_fields(r);
    while (MYSQL_ROW row = mysql_fetch_row(r)) {
      unsigned long* lengths = mysql_fetch_lengths(r);
      std::vector<std::string> out;
      for (unsigned i = 0; i < n; ++i) out.emplace_back(row[i] ? std::string(row[i], lengths[i]) : std::string());
      rows.push_back(std::move(out));
    }
    mysql_free_result(r);
    return rows;
  }

  const std::vector<bool>& Generated(const TableSchema& s) {
    auto it = generated.find(s.id);
    if (it != generated.end() && it->second.first == s.version && it->second.second.size() == s.columns.size()) {
      return it->second.second;
    }
    std::vector<bool> flags(s.columns.size(), false);
    auto rows = Query("SELECT COLUMN_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = " + Lit(Db(s.id.schema)) +
                          " AND TABLE_NAME = " + Lit(s.id.table) +
                          " AND (EXTRA LIKE '%GENERATED%' OR EXTRA IN ('VIRTUAL', 'PERSISTENT', 'STORED'))",
                      "reading the generated columns of " + s.id.QualifiedName());
    if (rows.ok()) {
      for (const auto& r : *rows) {
        const int i = s.ColumnIndex(r[0]);
        if (i >= 0) flags[static_cast<size_t>(i)] = true;
      }
    }
    // (Unreadable: none assumed; a write to one then fails with its name.)
    auto& slot = generated[s.id];
    slot = {s.version, std::move(flags)};
    return slot.second;
  }
  // The columns a write gives values to.
  std::vector<uint16_t> Writable(const TableSchema& s) {
    const std::vector<bool>& g = Generated(s);
    std::vector<uint16_t> out;
    for (size_t i = 0; i < s.columns.size(); ++i) {
      if (!g[i]) out.push_back(static_cast<uint16_t>(i));
    }
    return out;
  }

  void Str(std::string_view s, std::string* out) {
    std::string buf(s.size() * 2 + 1, '\0');
    const unsigned long n = mysql_real_escape_string(conn, buf.data(), s.data(), static_cast<unsigned long>(s.size()));
    out->push_back('\'');
    out->append(buf.data(), n);
    out->push_back('\'');
  }
  std::string Lit(std::string_view s) {
    std::string out;
    Str(s, &out);
    return out;
  }

  void Literal(const Value& v, std::string* out) {
    switch (v.kind()) {
      case ValueKind::kNull:
      case ValueKind::kUnchanged:
        out->append("NULL");
        return;
      case ValueKind::kBool:
        out->push_back(v.bool_value() ? '1' : '0');
        return;
      case ValueKind::kInt64:
      case ValueKind::kUInt64:
        pg::AppendText(v, out);
        return;
      case ValueKind::kDecimal:
        // NaN and ±Infinity have no DECIMAL: quoted, the column refuses
        // them (a dead letter), instead of a syntax error stopping the stage.
        if (v.str().find_first_of("NI") != std::string::npos) {
          Str(v.str(), out);
        } else {
          out->append(v.str());
        }
        return;
      case ValueKind::kDouble: {
        std::string t = pg::Text(v);
        if (t == "NaN" || t == "Infinity" || t == "-Infinity") {
          Str(t, out);  // refused by the column: a dead letter, never a silent change
        } else {
          out->append(t);
        }
        return;
      }
      case ValueKind::kBytes:
        out->append("X'").append(ToHex(v.str())).push_back('\'');
        return;
      case ValueKind::kTimestampTz: {
        std::string t = pg::Text(v);  // "… +00" in UTC: the session's time zone
        if (t.size() > 3 && t.compare(t.size() - 3, 3, "+00") == 0) t.resize(t.size() - 3);
        Str(t, out);
        return;
      }
      default:
        Str(pg::Text(v), out);
        return;
    }
  }

  static void AppendList(const TableSchema& s, const std::vector<uint16_t>& idx, std::string* out) {
    out->push_back('(');
    for (size_t i = 0; i < idx.size(); ++i) {
      if (i) out->append(", ");
      out->append(Q(s.columns[idx[i]].name));
    }
    out->push_back(')');
  }
  void AppendTuple(const Row& row, const std::vector<uint16_t>& idx, std::string* out) {
    out->push_back('(');
    for (size_t i = 0; i < idx.size(); ++i) {
      if (i) out->push_back(',');
      Literal(row[idx[i]], out);
    }
    out->push_back(')');
  }
  // `col` = v AND … (NULL-safe for full-row matches).
  std::string Where(const TableSchema& s, const std::vector<uint16_t>& idx, const Row& row, bool null_safe) {
    std::string out;
    for (size_t i = 0; i < idx.size(); ++i) {
      if (row[idx[i]].is_unchanged()) continue;
      if (!out.empty()) out += " AND ";
      out += Q(s.columns[idx[i]].name) + (null_safe ? " <=> " : " = ");
      Literal(row[idx[i]], &out);
    }
    return out.empty() ? "1" : out;
  }
  std::string SetPresent(const TableSchema& s, const Row& row) {
    std::string out;
    const std::vector<bool>& g = Generated(s);
    for (size_t i = 0; i < s.columns.size(); ++i) {
      if (row[i].is_unchanged() || g[i]) continue;
      if (!out.empty()) out += ", ";
      out += Q(s.columns[i].name) + " = ";
      Literal(row[i], &out);
    }
    return out;
  }
  std::string UpsertTail(const TableSchema& s) {
    std::string sets;
    const std::vector<bool>& g = Generated(s);
    for (size_t i = 0; i < s.columns.size(); ++i) {
      const ColumnDef& c = s.columns[i];
      if (c.key_ordinal != 0 || g[i]) continue;
      sets += (sets.empty() ? "" : ", ") + Q(c.name) + " = VALUES(" + Q(c.name) + ")";
    }
    // A table of key columns only: a no-op update keeps the statement valid.
    if (sets.empty()) {
      const std::string k = Q(s.columns[s.KeyColumns().front()].name);
      sets = k + " = " + k;
    }
    return " ON DUPLICATE KEY UPDATE " + sets;
  }

  // Multi-row statements of at most ~1 MiB each.
  absl::Status MultiRow(const std::string& head, const std::vector<Row>& rows, const std::vector<uint16_t>& idx,
                        const std::string& tail, const std::string& what) {
    std::string sql;
    for (const Row& row : rows) {
      if (sql.empty()) {
        sql = head;
      } else {
        sql.push_back(',');
      }
      AppendTuple(row, idx, &sql);
      if (sql.size() >= (1 << 20)) {
        PHONY_RETURN_IF_ERROR(Run(sql + tail, what));
        sql.clear();
      }
    }
    if (!sql.empty()) PHONY_RETURN_IF_ERROR(Run(sql + tail, what));
    return absl::OkStatus();
  }

  // One LOAD DATA field: tab-separated text with backslash escapes, \N for null.
  static void AppendLoadField(const Value& v, std::string* out) {
    if (v.is_null() || v.is_unchanged()) {
      out->append("\\N");
      return;
    }
    std::string text;
    switch (v.kind()) {
      case ValueKind::kBool: out->push_back(v.bool_value() ? '1' : '0'); return;
      case ValueKind::kTimestampTz:
        pg::AppendText(v, &text);
        if (text.size() > 3 && text.compare(text.size() - 3, 3, "+00") == 0) text.resize(text.size() - 3);
        break;
      default: pg::AppendText(v, &text); break;
    }
    for (char c : text) {
      switch (c) {
        case '\\': out->append("\\\\"); break;
        case '\t': out->append("\\t"); break;
        case '\n': out->append("\\n"); break;
        case '\r': out->append("\\r"); break;
        case '\0': out->append("\\0"); break;
        default: out->push_back(c);
      }
    }
  }

  // New rows through LOAD DATA LOCAL INFILE, the server's fastest load.
  // LOCAL turns a duplicate key or a value the column alters into a
  // warning, so anything but every row loaded without a warning is undone
  // (a savepoint) and reported as false: the caller upserts instead.
  absl::StatusOr<bool> LoadRows(const TableSchema& s, const std::vector<Row>& rows, const std::vector<uint16_t>& idx) {
    infile.clear();
    infile_at = 0;
    for (const Row& row : rows) {
      for (size_t i = 0; i < idx.size(); ++i) {
        if (i) infile.push_back('\t');
        AppendLoadField(row[idx[i]], &infile);
      }
      infile.push_back('\n');
    }
    PHONY_RETURN_IF_ERROR(Run("SAVEPOINT phony_load", "loading rows"));
    std::string sql = "LOAD DATA LOCAL INFILE 'phony-rows' INTO TABLE " + QT(s.id) +
                      " CHARACTER SET utf8mb4 FIELDS TERMINATED BY '\\t' ESCAPED BY '\\\\' LINES TERMINATED BY "
                      "'\\n' ";
    AppendList(s, idx, &sql);
    PHONY_ASSIGN_OR_RETURN(int64_t n, Affected(sql, "loading rows of " + s.id.QualifiedName()));
    if (n == static_cast<int64_t>(rows.size()) && mysql_warning_count(conn) == 0) {
      PHONY_RETURN_IF_ERROR(Run("RELEASE SAVEPOINT phony_load", "loading rows"));
      return true;
    }
    PHONY_RETURN_IF_ERROR(Run("ROLLBACK TO SAVEPOINT phony_load", "loading rows"));
    PHONY_RETURN_IF_ERROR(Run("RELEASE SAVEPOINT phony_load", "loading rows"));
    return false;
  }

  absl::Status Upsert(const TableSchema& s, const Row& row) {
    std::vector<uint16_t> present;
    const std::vector<bool>& g = Generated(s);
    for (size_t i = 0; i < row.size(); ++i) {
      if (!row[i].is_unchanged() && !g[i]) present.push_back(static_cast<uint16_t>(i));
    }
    std::string sql = "INSERT INTO " + QT(s.id) + " ";
    AppendList(s, present, &sql);
    sql += " VALUES ";
    AppendTuple(row, present, &sql);
    if (!s.KeyColumns().empty()) sql += UpsertTail(s);
    return Run(sql, "writing a row of " + s.id.QualifiedName());
  }
};

namespace {
// The infile handler: LOAD DATA LOCAL reads MyWriter::Impl::infile, never a file.
int InfileInit(void** ptr, const char*, void* userdata) {
  *ptr = userdata;
  return 0;
}
int InfileRead(void* ptr, char* buf, unsigned int len) {
  auto* im = static_cast<MyWriter::Impl*>(ptr);
  const size_t n = std::min<size_t>(len, im->infile.size() - im->infile_at);
  std::memcpy(buf, im->infile.data() + im->infile_at, n);
  im->infile_at += n;
  return static_cast<int>(n);
}
void InfileEnd(void*) {}
int InfileError(void*, char* buf, unsigned int len) {
  std::snprintf(buf, len, "phony: no such rows");
  return 1;
}
}  // namespace

MyWriter::MyWriter(MyWriterOptions options) : impl_(std::make_unique<Impl>()) { impl_->o = std::move(options); }
MyWriter::~MyWriter() = default;

absl::Status MyWriter::Connect() {
  Impl& im = *impl_;
  if (im.conn) mysql_close(im.conn);
  im.conn = mysql_init(nullptr);
  im.in_tx = false;
  unsigned int timeout = 10;
  mysql_optionsv(im.conn, MYSQL_OPT_CONNECT_TIMEOUT, &timeout);
  unsigned int rw_timeout = 600;
  mysql_optionsv(im.conn, MYSQL_OPT_READ_TIMEOUT, &rw_timeout);
  mysql_optionsv(im.conn, MYSQL_OPT_WRITE_TIMEOUT, &rw_timeout);
  mysql_optionsv(im.conn, MYSQL_SET_CHARSET_NAME, "utf8mb4");
  unsigned int local_infile = 1;
  mysql_optionsv(im.conn, MYSQL_OPT_LOCAL_INFILE, &local_infile);
  if (!mysql_real_connect(im.conn, im.o.host.c_str(), im.o.user.c_str(), im.o.password.c_str(), nullptr,
                          static_cast<unsigned>(im.o.port), nullptr, CLIENT_FOUND_ROWS)) {
    const unsigned err = mysql_errno(im.conn);
    const std::string m = "staging connection to " + im.o.host + ":" + std::to_string(im.o.port) + ": " +
                          mysql_error(im.conn);
    mysql_close(im.conn);
    im.conn = nullptr;
    if (err == ER_ACCESS_DENIED_ERROR || err == ER_DBACCESS_DENIED_ERROR) return absl::PermissionDeniedError(m);
    return absl::UnavailableError(m);
  }
  mysql_set_local_infile_handler(im.conn, InfileInit, InfileRead, InfileEnd, InfileError, &im);
  PHONY_RETURN_IF_ERROR(im.Run("SET time_zone = '+00:00'", "setting the session"));
  PHONY_RETURN_IF_ERROR(im.Run("SET SESSION sql_mode = 'STRICT_ALL_TABLES,NO_AUTO_VALUE_ON_ZERO,NO_ENGINE_SUBSTITUTION'",
                               "setting the session"));
  PHONY_RETURN_IF_ERROR(im.Run(std::string("SET SESSION foreign_key_checks = ") + (im.o.source_is_postgres ? "0" : "1"),
                               "setting the session"));
  PHONY_RETURN_IF_ERROR(im.Run("CREATE DATABASE IF NOT EXISTS phony", "creating the phony database"));
  PHONY_RETURN_IF_ERROR(im.Run(
      "CREATE TABLE IF NOT EXISTS phony.apply_progress (stream varchar(255) NOT NULL, `partition` int NOT NULL, "
      "next_offset bigint NOT NULL, position varbinary(1024) NOT NULL, position_text varchar(1024) NOT NULL, "
      "applied_at timestamp(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6), PRIMARY KEY (stream, `partition`)) "
      "ENGINE=InnoDB",
      "creating phony.apply_progress"));
  PHONY_RETURN_IF_ERROR(im.Run(
      "CREATE TABLE IF NOT EXISTS phony.schemas (schema_name varchar(255) NOT NULL, table_name varchar(255) NOT NULL, "
      "version int NOT NULL, definition longblob NOT NULL, applied_at timestamp(6) NOT NULL DEFAULT "
      "CURRENT_TIMESTAMP(6), PRIMARY KEY (schema_name, table_name)) ENGINE=InnoDB",
      "creating phony.schemas"));
  PHONY_RETURN_IF_ERROR(im.Run(
      "CREATE TABLE IF NOT EXISTS phony.dead_letters (id bigint AUTO_INCREMENT PRIMARY KEY, stream varchar(255), "
      "`partition` int, kafka_offset bigint, position varchar(1024), table_name varchar(512), op varchar(16), "
      "error text, event longtext, recorded_at timestamp(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6)) ENGINE=InnoDB",
      "creating phony.dead_letters"));
  PHONY_RETURN_IF_ERROR(im.Run(kCreateTableCuts, "creating phony.table_cuts"));
  // Every statement names its database; this one marks the session as ours.
  return im.Run("USE phony", "selecting the phony database");
}

absl::StatusOr<ProgressMap> MyWriter::LoadProgress() {
  PHONY_ASSIGN_OR_RETURN(auto rows, impl_->Query("SELECT stream, `partition`, next_offset, HEX(position) FROM "
                                                 "phony.apply_progress",
                                                 "reading phony.apply_progress"));
  ProgressMap out;
  for (const auto& r : rows) {
    PHONY_ASSIGN_OR_RETURN(std::string bytes, FromHex(r[3]));
    PHONY_ASSIGN_OR_RETURN(EventPosition pos, DecodeStoredPosition(bytes, "phony.apply_progress row for " + r[0]));
    out[{r[0], std::atoi(r[1].c_str())}] = {std::strtoll(r[2].c_str(), nullptr, 10), std::move(pos)};
  }
  return out;
}

// Inside the transaction Begin opened, with shared locks: a snapshot's
// REPLACE of a cut waits for this transaction, so rows written here never
// land in a copy swapped in after the cut was read.
absl::Status MyWriter::ReadTableCuts() {
  Impl& im = *impl_;
  PHONY_ASSIGN_OR_RETURN(auto rows, im.Query("SELECT staging_schema, source_schema, table_name, binlog_file, "
                                             "binlog_position FROM phony.table_cuts LOCK IN SHARE MODE",
                                             "reading phony.table_cuts"));
  im.cuts.clear();
  for (const auto& r : rows) {
    if (im.Db(r[1]) != r[0]) continue;  // another job's staging database
    auto at = BinlogPosition::Make(r[3], std::strtoull(r[4].c_str(), nullptr, 10));
    if (!at.ok()) {
      return absl::DataLossError("phony.table_cuts: the cut of " + r[1] + "." + r[2] + " is no binlog position: " +
                                 std::string(at.status().message()));
    }
    // A transaction's position is its end: those ending at or before the
    // copy's binlog position are in the copy.
    const TableId id{.database = r[1], .schema = r[1], .table = r[2]};
    im.cuts[id] = EventPosition::MySql(at->file_index(), at->offset(), std::numeric_limits<uint32_t>::max(),
                                       std::numeric_limits<uint32_t>::max());
  }
  return absl::OkStatus();
}

const std::map<TableId, EventPosition>* MyWriter::TableCuts() const { return &impl_->cuts; }

absl::StatusOr<std::vector<TableSchema>> MyWriter::LoadAppliedSchemas() {
  PHONY_ASSIGN_OR_RETURN(auto rows, impl_->Query("SELECT HEX(definition) FROM phony.schemas", "reading phony.schemas"));
  std::vector<TableSchema> out;
  for (const auto& r : rows) {
    PHONY_ASSIGN_OR_RETURN(std::string bytes, FromHex(r[0]));
    PHONY_ASSIGN_OR_RETURN(TableSchema schema, DecodeStoredSchema(bytes));
    out.push_back(std::move(schema));
  }
  return out;
}

absl::Status MyWriter::Begin() {
  PHONY_RETURN_IF_ERROR(impl_->Run("START TRANSACTION", "beginning a transaction"));
  impl_->in_tx = true;
  return ReadTableCuts();
}

absl::Status MyWriter::ApplySchema(const TableSchema& schema, const TableSchema* applied) {
  Impl& im = *impl_;
  const std::string table = im.QT(schema.id);
  const std::string name = schema.id.QualifiedName();
  const bool pg = im.o.source_is_postgres;
  im.generated.erase(schema.id);
  // Foreign keys may name tables that come later: checks off for the DDL.
  PHONY_RETURN_IF_ERROR(im.Run("SET SESSION foreign_key_checks = 0", "creating " + name));
  absl::Status s = [&]() -> absl::Status {
    PHONY_RETURN_IF_ERROR(im.Run("CREATE DATABASE IF NOT EXISTS " + Q(im.Db(schema.id.schema)), "creating a database"));
    PHONY_ASSIGN_OR_RETURN(auto cols, im.Query("SELECT COLUMN_NAME, COLUMN_TYPE FROM information_schema.COLUMNS WHERE "
                                               "TABLE_SCHEMA = " + im.Lit(im.Db(schema.id.schema)) + " AND TABLE_NAME = " +
                                               im.Lit(schema.id.table) + " ORDER BY ORDINAL_POSITION",
                                               "reading the columns of " + name));
    std::map<std::string, std::string> existing;
    for (const auto& c : cols) existing[c[0]] = c[1];
    std::vector<std::string> keys;
    for (uint16_t k : schema.KeyColumns()) keys.push_back(Q(schema.columns[k].name));
    auto fk_sql = [&](const ForeignKey& fk) {
      std::vector<std::string> a, b;
      for (const auto& c : fk.columns) a.push_back(Q(c));
      for (const auto& c : fk.referenced_columns) b.push_back(Q(c));
      return "CONSTRAINT " + Q(fk.name) + " FOREIGN KEY (" + absl::StrJoin(a, ", ") + ") REFERENCES " +
             im.QT(fk.referenced) + " (" + absl::StrJoin(b, ", ") + ") ON DELETE " + FkActionSql(fk.on_delete) +
             " ON UPDATE " + FkActionSql(fk.on_update);
    };
    if (existing.empty()) {
      std::vector<std::string> defs;
      for (const ColumnDef& c : schema.columns) {
        defs.push_back(Q(c.name) + " " + MyStagingType(c, pg) + (c.key_ordinal ? " NOT NULL" : " NULL"));
      }
      if (!keys.empty()) defs.push_back("PRIMARY KEY (" + absl::StrJoin(keys, ", ") + ")");
      for (const ForeignKey& fk : schema.foreign_keys) {
        if (!fk.name.empty() && !fk.columns.empty()) defs.push_back(fk_sql(fk));
      }
      PHONY_RETURN_IF_ERROR(im.Run("CREATE TABLE IF NOT EXISTS " + table + " (" + absl::StrJoin(defs, ", ") +
                                       ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4",
                                   "creating " + name));
      // A table CDC creates was never copied: a cut left from an earlier
      // table of that name must not hide its changes.
      im.cuts.erase(schema.id);
      return im.Run("DELETE FROM phony.table_cuts WHERE staging_schema = " + im.Lit(im.Db(schema.id.schema)) +
                        " AND table_name = " + im.Lit(schema.id.table),
                    "creating " + name);
    }
    PHONY_ASSIGN_OR_RETURN(auto pk, im.Query("SELECT COLUMN_NAME FROM information_schema.KEY_COLUMN_USAGE WHERE "
                                             "TABLE_SCHEMA = " + im.Lit(im.Db(schema.id.schema)) + " AND TABLE_NAME = " +
                                             im.Lit(schema.id.table) + " AND CONSTRAINT_NAME = 'PRIMARY' ORDER BY "
                                             "ORDINAL_POSITION",
                                             "reading the primary key of " + name));
    std::vector<std::string> current_pk;
    for (const auto& r : pk) current_pk.push_back(Q(r[0]));
    const bool pk_changes = current_pk != keys;
    PHONY_ASSIGN_OR_RETURN(auto fks, im.Query("SELECT CONSTRAINT_NAME FROM information_schema.REFERENTIAL_CONSTRAINTS "
                                              "WHERE CONSTRAINT_SCHEMA = " + im.Lit(im.Db(schema.id.schema)) +
                                              " AND TABLE_NAME = " + im.Lit(schema.id.table),
                                              "reading the foreign keys of " + name));
    std::set<std::string> current_fks;
    for (const auto& r : fks) current_fks.insert(r[0]);
    std::vector<std::string> changes;
    for (const std::string& fk : current_fks) {
      const bool kept = std::any_of(schema.foreign_keys.begin(), schema.foreign_keys.end(),
                                    [&](const ForeignKey& f) { return f.name == fk; });
      if (!kept) changes.push_back("DROP FOREIGN KEY " + Q(fk));
    }
    if (pk_changes && !current_pk.empty()) changes.push_back("DROP PRIMARY KEY");
    for (const ColumnDef& c : schema.columns) {
      const std::string type = MyStagingType(c, pg);
      auto it = existing.find(c.name);
      if (it == existing.end()) {
        changes.push_back("ADD COLUMN " + Q(c.name) + " " + type + (c.key_ordinal ? " NOT NULL" : " NULL"));
      } else if (NormalizeType(it->second) != NormalizeType(type)) {
        changes.push_back("MODIFY COLUMN " + Q(c.name) + " " + type + (c.key_ordinal ? " NOT NULL" : " NULL"));
      }
    }
    for (const auto& [col, type] : existing) {
      if (schema.ColumnIndex(col) < 0) changes.push_back("DROP COLUMN " + Q(col));
    }
    if (pk_changes && !keys.empty()) changes.push_back("ADD PRIMARY KEY (" + absl::StrJoin(keys, ", ") + ")");
    for (const ForeignKey& fk : schema.foreign_keys) {
      if (!fk.name.empty() && !fk.columns.empty() && !current_fks.count(fk.name)) changes.push_back("ADD " + fk_sql(fk));
    }
    if (changes.empty()) return absl::OkStatus();
    return im.Run("ALTER TABLE " + table + " " + absl::StrJoin(changes, ", "), "altering " + name);
  }();
  absl::Status on = im.Run(std::string("SET SESSION foreign_key_checks = ") + (pg ? "0" : "1"), "altering " + name);
  PHONY_RETURN_IF_ERROR(s);
  PHONY_RETURN_IF_ERROR(on);
  // DDL committed implicitly: what follows is a new transaction.
  PHONY_RETURN_IF_ERROR(Begin());
  std::string definition;
  EncodeEvent(SchemaEvent{.position = {}, .schema = schema}, &definition);
  (void)applied;
  return im.Run("REPLACE INTO phony.schemas (schema_name, table_name, version, definition) VALUES (" +
                    im.Lit(schema.id.schema) + ", " + im.Lit(schema.id.table) + ", " + std::to_string(schema.version) +
                    ", X'" + ToHex(definition) + "')",
                "recording the definition of " + name);
}

absl::Status MyWriter::WriteChanges(const TableChanges& changes) {
  Impl& im = *impl_;
  const TableSchema& s = *changes.schema;
  const std::string table = im.QT(s.id);
  const std::string name = s.id.QualifiedName();
  const std::vector<uint16_t> keys = s.KeyColumns();
  std::vector<uint16_t> all(s.columns.size());
  for (size_t i = 0; i < all.size(); ++i) all[i] = static_cast<uint16_t>(i);
  const std::vector<uint16_t> writable = im.Writable(s);
  if (!changes.deletes.empty()) {
    std::string head = "DELETE FROM " + table + " WHERE ";
    if (keys.size() == 1) {
      head += Q(s.columns[keys[0]].name) + " IN (";
    } else {
      Impl::AppendList(s, keys, &head);
      head += " IN (";
    }
    std::string sql;
    for (const Row& row : changes.deletes) {
      sql += sql.empty() ? head : ",";
      if (keys.size() == 1) {
        im.Literal(row[keys[0]], &sql);
      } else {
        im.AppendTuple(row, keys, &sql);
      }
      if (sql.size() >= (1 << 20)) {
        PHONY_RETURN_IF_ERROR(im.Run(sql + ")", "deleting rows of " + name));
        sql.clear();
      }
    }
    if (!sql.empty()) PHONY_RETURN_IF_ERROR(im.Run(sql + ")", "deleting rows of " + name));
  }
  if (!changes.upserts.empty()) {
    int& cooldown = im.load_cooldown[s.id];
    bool loaded = false;
    const bool has_bytes = std::any_of(s.columns.begin(), s.columns.end(),
                                       [](const ColumnDef& c) { return c.kind == ValueKind::kBytes; });
    if (changes.inserts_only && cooldown == 0 && !has_bytes && changes.upserts.size() >= 64) {
      PHONY_ASSIGN_OR_RETURN(loaded, im.LoadRows(s, changes.upserts, writable));
      ++(loaded ? counters_.bulk_loads : counters_.bulk_fallbacks);
      if (!loaded) cooldown = 16;  // keys already there (a replay), or values to check: upsert for a while
    } else if (cooldown > 0) {
      --cooldown;
    }
    if (!loaded) {
      std::string head = "INSERT INTO " + table + " ";
      Impl::AppendList(s, writable, &head);
      head += " VALUES ";
      PHONY_RETURN_IF_ERROR(
          im.MultiRow(head, changes.upserts, writable, im.UpsertTail(s), "upserting rows of " + name));
    }
  }
  for (const Row& row : changes.partial_updates) {
    PHONY_RETURN_IF_ERROR(im.Run("UPDATE " + table + " SET " + im.SetPresent(s, row) + " WHERE " +
                                     im.Where(s, keys, row, false),
                                 "updating a row of " + name));
  }
  if (!changes.appends.empty()) {
    std::string head = "INSERT INTO " + table + " ";
    Impl::AppendList(s, writable, &head);
    head += " VALUES ";
    PHONY_RETURN_IF_ERROR(im.MultiRow(head, changes.appends, writable, "", "loading rows of " + name));
  }
  return absl::OkStatus();
}

absl::Status MyWriter::ApplyEvent(const ChangeEvent& event, const TableSchema& s) {
  Impl& im = *impl_;
  const std::string table = im.QT(s.id);
  const std::string name = s.id.QualifiedName();
  const std::vector<uint16_t> keys = s.KeyColumns();
  std::vector<uint16_t> all(s.columns.size());
  for (size_t i = 0; i < all.size(); ++i) all[i] = static_cast<uint16_t>(i);
  switch (event.op) {
    case ChangeOp::kTruncate: {
      // TRUNCATE would commit and refuses referenced tables: DELETE, as
      // the source's TRUNCATE did not cascade.
      PHONY_RETURN_IF_ERROR(im.Run("SET SESSION foreign_key_checks = 0", "truncating " + name));
      for (const TableId& t : event.truncated) {
        absl::Status d = im.Run("DELETE FROM " + im.QT(t), "truncating " + t.QualifiedName());
        if (!d.ok()) {
          (void)im.Run(std::string("SET SESSION foreign_key_checks = ") + (im.o.source_is_postgres ? "0" : "1"),
                       "truncating");
          return d;
        }
      }
      return im.Run(std::string("SET SESSION foreign_key_checks = ") + (im.o.source_is_postgres ? "0" : "1"),
                    "truncating " + name);
    }
    case ChangeOp::kInsert:
    case ChangeOp::kRead:
      if (!event.after) return absl::DataLossError("an insert without a row");
      if (keys.empty() || IsComplete(*event.after)) return im.Upsert(s, *event.after);
      return im.Run("UPDATE " + table + " SET " + im.SetPresent(s, *event.after) + " WHERE " +
                        im.Where(s, keys, *event.after, false),
                    "updating a row of " + name);
    case ChangeOp::kUpdate: {
      if (!event.after) return absl::DataLossError("an update without a new row");
      const Row& after = *event.after;
      if (keys.empty()) {
        if (!event.before || s.replica_identity != ReplicaIdentity::kFull) {
          return absl::InvalidArgumentError("staging: " + name + " has no primary key and the event carries no full "
                                            "old row, so an update cannot say which row it changes");
        }
        return im.Run("UPDATE " + table + " SET " + im.SetPresent(s, after) + " WHERE " +
                          im.Where(s, all, *event.before, true) + " LIMIT 1",
                      "updating a row of " + name);
      }
      const bool complete = IsComplete(after);
      if (event.before) {
        const std::string at_old = im.Where(s, keys, *event.before, false);
        const std::string at_new = im.Where(s, keys, after, false);
        if (at_old != at_new) {
          // A key change: an UPDATE of the old key (keeps the columns the
          // event does not carry, cascades ON UPDATE as the source did).
          PHONY_ASSIGN_OR_RETURN(auto old_rows, im.Query("SELECT 1 FROM " + table + " WHERE " + at_old + " LIMIT 1",
                                                         "moving a row of " + name));
          if (!old_rows.empty()) {
            PHONY_RETURN_IF_ERROR(im.Run("DELETE FROM " + table + " WHERE " + at_new, "moving a row of " + name));
          }
          PHONY_ASSIGN_OR_RETURN(int64_t n, im.Affected("UPDATE " + table + " SET " + im.SetPresent(s, after) +
                                                            " WHERE " + at_old,
                                                        "moving a row of " + name));
          if (n == 0 && complete) return im.Upsert(s, after);
          return absl::OkStatus();
        }
      }
      if (complete) return im.Upsert(s, after);
      return im.Run("UPDATE " + table + " SET " + im.SetPresent(s, after) + " WHERE " + im.Where(s, keys, after, false),
                    "updating a row of " + name);
    }
    case ChangeOp::kDelete:
      if (!event.before) return absl::DataLossError("a delete without an old row");
      if (keys.empty()) {
        if (s.replica_identity != ReplicaIdentity::kFull && event.before->empty()) {
          return absl::InvalidArgumentError("staging: " + name + " has no primary key and the event carries no full "
                                            "old row, so a delete cannot say which row it removes");
        }
        return im.Run("DELETE FROM " + table + " WHERE " + im.Where(s, all, *event.before, true) + " LIMIT 1",
                      "deleting a row of " + name);
      }
      return im.Run("DELETE FROM " + table + " WHERE " + im.Where(s, keys, *event.before, false),
                    "deleting a row of " + name);
  }
  return absl::InternalError("unknown change operation");
}

bool MyWriter::KeepsTableOrder() const { return !impl_->o.source_is_postgres; }

absl::Status MyWriter::Mark() { return impl_->Run("SAVEPOINT phony_event", "isolating an event"); }
absl::Status MyWriter::Undo() { return impl_->Run("ROLLBACK TO SAVEPOINT phony_event", "undoing an event"); }
absl::Status MyWriter::Release() { return impl_->Run("RELEASE SAVEPOINT phony_event", "isolating an event"); }

absl::Status MyWriter::RecordDeadLetter(const DeadLetter& letter) {
  Impl& im = *impl_;
  const ChangeEvent& e = *letter.event;
  const std::string json =
      RenderEnvelope(e, *letter.schema, EnvelopeSource{.connector = "phony", .name = "phony-apply"},
                     std::chrono::duration_cast<std::chrono::milliseconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count());
  return im.Run("INSERT INTO phony.dead_letters (stream, `partition`, kafka_offset, position, table_name, op, error, "
                "event) VALUES (" + im.Lit(letter.stream.first) + ", " + std::to_string(letter.stream.second) + ", " +
                    std::to_string(letter.offset) + ", " + im.Lit(e.position.ToString()) + ", " +
                    im.Lit(e.table.QualifiedName()) + ", " + im.Lit(ChangeOpName(e.op)) + ", " + im.Lit(letter.error) +
                    ", " + im.Lit(json) + ")",
                "recording a dead letter");
}

absl::Status MyWriter::Commit(const std::vector<ProgressUpdate>& progress) {
  Impl& im = *impl_;
  for (const ProgressUpdate& u : progress) {
    std::string bytes;
    EncodePosition(u.progress.position, &bytes);
    std::string sql;
    if (u.expected) {
      std::string expected;
      EncodePosition(*u.expected, &expected);
      sql = "UPDATE phony.apply_progress SET next_offset = " + std::to_string(u.progress.next_offset) +
            ", position = X'" + ToHex(bytes) + "', position_text = " + im.Lit(u.progress.position.ToString()) +
            ", applied_at = CURRENT_TIMESTAMP(6) WHERE stream = " + im.Lit(u.stream.first) +
            " AND `partition` = " + std::to_string(u.stream.second) + " AND position = X'" + ToHex(expected) + "'";
    } else {
      sql = "INSERT IGNORE INTO phony.apply_progress (stream, `partition`, next_offset, position, position_text) "
            "VALUES (" + im.Lit(u.stream.first) + ", " + std::to_string(u.stream.second) + ", " +
            std::to_string(u.progress.next_offset) + ", X'" + ToHex(bytes) + "', " +
            im.Lit(u.progress.position.ToString()) + ")";
    }
    PHONY_ASSIGN_OR_RETURN(int64_t n, im.Affected(sql, "recording progress"));
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

void MyWriter::Rollback() {
  Impl& im = *impl_;
  if (im.conn != nullptr && im.in_tx) mysql_real_query(im.conn, "ROLLBACK", 8);
  im.in_tx = false;
}

}  // namespace phony::apply
