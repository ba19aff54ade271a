#include "src/capture/mysql/binlog_client.h"

#include <mysql.h>
#include <mysqld_error.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "core/status_macros.h"

namespace phony::mysql {
namespace {

constexpr uint16_t kDumpNonBlock = 0x01;
constexpr uint16_t kDumpThroughGtid = 0x04;
// MySQL's COM_BINLOG_DUMP_GTID (0x1e); Connector/C's enum, MariaDB's, calls
// the code COM_UNSUPPORTED.
constexpr auto kComBinlogDumpGtid = static_cast<enum_server_command>(0x1e);
constexpr unsigned int kErrConnectionLost = 2013;  // CR_SERVER_LOST
constexpr unsigned int kErrServerGone = 2006;      // CR_SERVER_GONE_ERROR

void PutLE(uint64_t v, int n, std::string* out) {
  for (int i = 0; i < n; ++i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

// Client-side errors that mean "the server or the network", which a later
// attempt may get past, versus everything the server refused.
absl::Status ErrorOf(MYSQL* m, const std::string& what) {
  const unsigned int code = mysql_errno(m);
  const std::string msg = what + ": " + mysql_error(m) + " (error " + std::to_string(code) + ")";
  if (code >= 2000 && code < 3000) return absl::UnavailableError(msg);  // CR_* client errors
  switch (code) {
    case ER_ACCESS_DENIED_ERROR: case ER_DBACCESS_DENIED_ERROR: case ER_SPECIFIC_ACCESS_DENIED_ERROR:
    case ER_TABLEACCESS_DENIED_ERROR:
      return absl::PermissionDeniedError(msg);
    case ER_MASTER_FATAL_ERROR_READING_BINLOG:
      return absl::FailedPreconditionError(msg);
    case ER_SERVER_SHUTDOWN: case ER_CON_COUNT_ERROR: case ER_TOO_MANY_USER_CONNECTIONS:
      return absl::UnavailableError(msg);
    default:
      return absl::InternalError(msg);
  }
}

}  // namespace

struct BinlogClient::Conn {
  MYSQL* mysql = nullptr;
  std::string where;  // host:port for messages
  ~Conn() {
    if (mysql != nullptr) mysql_close(mysql);
  }

  absl::Status Open(const BinlogClientOptions& o, absl::Duration read_timeout) {
    where = o.host + ":" + std::to_string(o.port);
    mysql = mysql_init(nullptr);
    if (mysql == nullptr) return absl::ResourceExhaustedError("mysql_init failed");
    const unsigned int connect_s = static_cast<unsigned int>(std::max<int64_t>(1, absl::ToInt64Seconds(o.connect_timeout)));
    const unsigned int read_s = static_cast<unsigned int>(std::max<int64_t>(1, absl::ToInt64Seconds(read_timeout)));
    mysql_optionsv(mysql, MYSQL_OPT_CONNECT_TIMEOUT, &connect_s);
    mysql_optionsv(mysql, MYSQL_OPT_READ_TIMEOUT, &read_s);
    mysql_optionsv(mysql, MYSQL_OPT_WRITE_TIMEOUT, &read_s);
    mysql_optionsv(mysql, MYSQL_SET_CHARSET_NAME, "utf8mb4");
    if (mysql_real_connect(mysql, o.host.c_str(), o.user.c_str(), o.password.c_str(), nullptr, o.port, nullptr, 0) ==
        nullptr) {
      return ErrorOf(mysql, "connecting to the MySQL/MariaDB source at " + where + " as " + o.user);
    }
    return absl::OkStatus();
  }

  absl::Status Exec(const std::string& sql) {
    if (mysql_real_query(mysql, sql.data(), sql.size()) != 0) return ErrorOf(mysql, "source " + where);
    if (MYSQL_RES* r = mysql_store_result(mysql)) mysql_free_result(r);
    return absl::OkStatus();
  }

  // Rows of a query as strings ("" for NULL).
  absl::StatusOr<std::vector<std::vector<std::string>>> Rows(const std::string& sql) {
    if (mysql_real_query(mysql, sql.data(), sql.size()) != 0) return ErrorOf(mysql, "source " + where);
    MYSQL_RES* r = mysql_store_result(mysql);
    std::vector<std::vector<std::string>> out;
    if (r == nullptr) return out;
    const unsigned int n = mysql_num_fields(r);
    while (MYSQL_ROW row = mysql_fetch_row(r)) {
      unsigned long* len = mysql_fetch_lengths(r);
      std::vector<std::string> v;
      for (unsigned int i = 0; i < n; ++i) v.emplace_back(row[i] == nullptr ? "" : std::string(row[i], len[i]));
      out.push_back(std::move(v));
    }
    mysql_free_result(r);
    return out;
  }

  absl::StatusOr<std::string> Scalar(const std::string& sql) {
    PHONY_ASSIGN_OR_RETURN(auto rows, Rows(sql));
    if (rows.empty() || rows[0].empty()) return std::string();
    return rows[0][0];
  }

  // The value of a server variable, or "" when the server has none by that name.
  std::string Variable(const std::string& name) {
    auto rows = Rows("SHOW GLOBAL VARIABLES LIKE '" + name + "'");
    if (!rows.ok() || rows->empty() || (*rows)[0].size() < 2) return "";
    return (*rows)[0][1];
  }
};

std::string EncodeMySqlGtidDump(uint32_t server_id, uint16_t flags, const GtidSet& gtids) {
  std::string set;
  bool tagged = false;
  for (const auto& [key, intervals] : gtids.mysql_sources()) tagged |= !key.second.empty();
  const uint64_t n = gtids.mysql_sources().size();
  if (tagged) {
    PutLE((uint64_t{1} << 56) | (n << 8) | 1, 8, &set);
  } else {
    PutLE(n, 8, &set);
  }
  for (const auto& [key, intervals] : gtids.mysql_sources()) {
    set.append(reinterpret_cast<const char*>(key.first.data()), key.first.size());
    if (tagged) {
      // The tag's length in the serialization library's varlen form (tags
      // are at most 32 characters: one byte, value << 1).
      set.push_back(static_cast<char>(key.second.size() << 1));
      set += key.second;
    }
    PutLE(intervals.size(), 8, &set);
    for (const auto& [first, last] : intervals) {
      PutLE(first, 8, &set);
      PutLE(last + 1, 8, &set);  // the wire's intervals end exclusive
    }
  }
  std::string out;
  PutLE(flags | kDumpThroughGtid, 2, &out);
  PutLE(server_id, 4, &out);
  PutLE(0, 4, &out);  // file name length: none
  PutLE(4, 8, &out);  // position
  PutLE(set.size(), 4, &out);
  return out + set;
}

void JudgeSettings(SourceInfo* source) {
  SourceInfo& info = *source;
  if (!info.log_bin) {
    info.errors.push_back("binary logging is off (log_bin): start the server with --log-bin");
  }
  if (info.binlog_format != "ROW") {
    info.errors.push_back("binlog_format is " + info.binlog_format +
                          ", not ROW: row changes are only in the binlog with SET GLOBAL binlog_format = 'ROW' "
                          "(and in the server's configuration)");
  }
  if (info.row_metadata.empty()) {
    info.errors.push_back("the server has no binlog_row_metadata (MySQL 8.0.1 and MariaDB 10.5 added it): "
                          "column names and keys are not in its table maps");
  } else if (info.row_metadata != "FULL") {
    info.errors.push_back("binlog_row_metadata is " + info.row_metadata +
                          ", not FULL: SET GLOBAL binlog_row_metadata = 'FULL' so every table map carries "
                          "column names, signedness, charsets and the primary key");
  }
  if (!info.row_value_options.empty()) {
    info.errors.push_back("binlog_row_value_options is " + info.row_value_options +
                          ": partial JSON updates carry diffs, not values; SET GLOBAL binlog_row_value_options = ''");
  }
  if (info.row_image != "FULL") {
    info.warnings.push_back("binlog_row_image is " + info.row_image +
                            ": updates and deletes carry only some columns, and phony emits them as partial "
                            "rows (docs/mysql.md); FULL gives complete rows");
  }
}

absl::StatusOr<SourceInfo> BinlogClient::Preflight(const BinlogClientOptions& options) {
  Conn c;
  PHONY_RETURN_IF_ERROR(c.Open(options, options.connect_timeout));
  SourceInfo info;
  PHONY_ASSIGN_OR_RETURN(info.version, c.Scalar("SELECT VERSION()"));
  info.mariadb = info.version.find("MariaDB") != std::string::npos;
  info.log_bin = c.Variable("log_bin") == "ON";
  info.binlog_format = c.Variable("binlog_format");
  info.row_image = c.Variable("binlog_row_image");
  info.row_metadata = c.Variable("binlog_row_metadata");
  info.row_value_options = c.Variable("binlog_row_value_options");
  info.checksum = c.Variable("binlog_checksum");
  info.gtid_mode = info.mariadb || c.Variable("gtid_mode") == "ON";
  info.gtid_executed = info.mariadb ? c.Variable("gtid_binlog_pos") : c.Variable("gtid_executed");
  JudgeSettings(&info);
  auto status = c.Rows(info.mariadb ? "SHOW BINLOG STATUS" : "SHOW MASTER STATUS");
  if (!status.ok() && !info.mariadb) status = c.Rows("SHOW BINARY LOG STATUS");  // MySQL 8.4
  if (!status.ok()) {
    info.errors.push_back("cannot read the binlog position (" + std::string(status.status().message()) +
                          "): grant REPLICATION CLIENT (MySQL) or BINLOG MONITOR (MariaDB)");
  } else if (!status->empty() && (*status)[0].size() >= 2) {
    info.current_file = (*status)[0][0];
    info.current_position = std::strtoull((*status)[0][1].c_str(), nullptr, 10);
  }
  auto logs = c.Rows("SHOW BINARY LOGS");
  if (logs.ok()) {
    for (const auto& row : *logs) info.files.push_back(row.empty() ? "" : row[0]);
  } else {
    info.errors.push_back("cannot list the binlog files (" + std::string(logs.status().message()) +
                          "): grant REPLICATION CLIENT (MySQL) or BINLOG MONITOR (MariaDB)");
  }
  auto grants = c.Rows("SHOW GRANTS");
  if (grants.ok()) {
    bool slave = false;
    for (const auto& row : *grants) {
      const std::string& g = row.empty() ? std::string() : row[0];
      slave |= g.find("REPLICATION SLAVE") != std::string::npos || g.find("REPLICATION REPLICA") != std::string::npos ||
               g.find("ALL PRIVILEGES") != std::string::npos;
    }
    if (!slave) {
      info.errors.push_back("user " + options.user + " lacks REPLICATION SLAVE (REPLICATION REPLICA): "
                            "GRANT REPLICATION SLAVE ON *.* TO '" + options.user + "'");
    }
  }
  return info;
}

absl::StatusOr<std::unique_ptr<BinlogClient>> BinlogClient::Start(const BinlogClientOptions& options,
                                                                  const BinlogStart& start) {
  std::unique_ptr<BinlogClient> client(new BinlogClient());
  client->conn_ = std::make_unique<Conn>();
  Conn& c = *client->conn_;
  PHONY_RETURN_IF_ERROR(c.Open(options, options.heartbeat * 3 + absl::Seconds(1)));
  client->mariadb_ = std::string(mysql_get_server_info(c.mysql)).find("MariaDB") != std::string::npos;
  // We verify checksums ourselves: the server may send them.
  PHONY_RETURN_IF_ERROR(c.Exec("SET @master_binlog_checksum = @@global.binlog_checksum"));
  PHONY_ASSIGN_OR_RETURN(const std::string checksum, c.Scalar("SELECT @@global.binlog_checksum"));
  client->crc32_ = checksum == "CRC32";
  PHONY_RETURN_IF_ERROR(c.Exec("SET @master_heartbeat_period = " +
                               std::to_string(absl::ToInt64Nanoseconds(options.heartbeat))));
  if (client->mariadb_) {
    // 4 (MARIA_SLAVE_CAPABILITY_GTID): GTID events as they are, annotate
    // rows, checkpoints; this replica understands them.
    PHONY_RETURN_IF_ERROR(c.Exec("SET @mariadb_slave_capability = 4"));
  } else {
    PHONY_RETURN_IF_ERROR(c.Exec("SET @source_binlog_checksum = @@global.binlog_checksum"));
  }
  const uint16_t flags = options.non_blocking ? kDumpNonBlock : 0;
  std::string packet;
  enum_server_command command = COM_BINLOG_DUMP;
  if (start.gtids && !start.gtids->empty()) {
    if (client->mariadb_) {
      if (start.gtids->flavor() != GtidFlavor::kMariaDb) {
        return absl::InvalidArgumentError("a MySQL GTID set cannot start a MariaDB binlog dump");
      }
      PHONY_RETURN_IF_ERROR(c.Exec("SET @slave_connect_state = '" + start.gtids->ToString() + "'"));
      PHONY_RETURN_IF_ERROR(c.Exec("SET @slave_gtid_strict_mode = 1"));
      PHONY_RETURN_IF_ERROR(c.Exec("SET @slave_gtid_ignore_duplicates = 0"));
      PutLE(4, 4, &packet);
      PutLE(flags, 2, &packet);
      PutLE(options.server_id, 4, &packet);
    } else {
      if (start.gtids->flavor() != GtidFlavor::kMySql) {
        return absl::InvalidArgumentError("a MariaDB GTID set cannot start a MySQL binlog dump");
      }
      command = kComBinlogDumpGtid;
      packet = EncodeMySqlGtidDump(options.server_id, flags, *start.gtids);
    }
  } else {
    PutLE(std::min<uint64_t>(start.position, 0xffffffffu), 4, &packet);
    PutLE(flags, 2, &packet);
    PutLE(options.server_id, 4, &packet);
    packet += start.file;
  }
  if (c.mysql->methods->db_command(c.mysql, command, packet.data(), packet.size(), 1, nullptr) != 0) {
    return ErrorOf(c.mysql, "starting the binlog dump from " + c.where);
  }
  return client;
}

BinlogClient::~BinlogClient() = default;

absl::StatusOr<std::optional<std::string_view>> BinlogClient::Next() {
  Conn& c = *conn_;
  const unsigned long n = mysql_net_read_packet(c.mysql);
  // packet_error is (unsigned int)-1 in Connector/C, whatever the width of
  // the function's unsigned long.
  if (n == static_cast<unsigned long>(static_cast<unsigned int>(-1)) || n == static_cast<unsigned long>(-1) || n == 0) {
    absl::Status s = ErrorOf(c.mysql, "reading the binlog from " + c.where);
    const unsigned int code = mysql_errno(c.mysql);
    if (code == kErrConnectionLost || code == kErrServerGone || code == 0) {
      return absl::UnavailableError("the binlog connection to " + c.where +
                                    " broke or stayed silent for three heartbeat periods: " + std::string(s.message()));
    }
    return s;
  }
  const auto* p = reinterpret_cast<const char*>(c.mysql->net.read_pos);
  bytes_ += n;
  switch (static_cast<uint8_t>(p[0])) {
    case 0x00: return std::optional<std::string_view>(std::string_view(p + 1, n - 1));
    case 0xfe:
      if (n < 8) return std::optional<std::string_view>();  // EOF: the end of the binlog (non-blocking)
      break;
    case 0xff: {
      // An error packet: code, '#' and a 5-character SQL state, message.
      const unsigned code = n >= 3 ? static_cast<uint8_t>(p[1]) | (static_cast<uint8_t>(p[2]) << 8) : 0;
      std::string_view msg = n > 3 ? std::string_view(p + 3, n - 3) : std::string_view();
      if (!msg.empty() && msg[0] == '#') msg.remove_prefix(std::min<size_t>(6, msg.size()));
      const std::string text = "the source " + c.where + " ended the binlog dump: " + std::string(msg) + " (error " +
                               std::to_string(code) + ")";
      if (code == ER_MASTER_FATAL_ERROR_READING_BINLOG) return absl::FailedPreconditionError(text);
      if (code == ER_SERVER_SHUTDOWN || code == 0) return absl::UnavailableError(text);
      return absl::InternalError(text);
    }
    default: break;
  }
  char lead[8];
  std::snprintf(lead, sizeof(lead), "%02x", static_cast<unsigned>(static_cast<uint8_t>(p[0])));
  return absl::DataLossError("the binlog stream from " + c.where + " sent a packet starting with 0x" + lead + " (" +
                             std::to_string(n) + " bytes)");
}

}  // namespace phony::mysql
