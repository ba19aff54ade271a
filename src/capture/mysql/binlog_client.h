// The replica side of MySQL/MariaDB replication over MariaDB Connector/C:
// connects, checks that the source can feed a row-based change stream
// (Preflight), announces checksum support and a heartbeat period, asks for
// the binlog from a file:position or a GTID set (MySQL COM_BINLOG_DUMP_GTID,
// MariaDB @slave_connect_state), and hands out each event exactly as the
// server sent it, for BinlogDecoder. The connector's own event parser is not
// used: the packets are read raw (mysql_net_read_packet), so events it does
// not know (MySQL 8 payloads, tagged GTIDs) pass through to our decoder.
// docs/mysql.md ("The replica client").
//
// Not thread-safe: one thread drives a client.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "core/position.h"

namespace phony::mysql {

struct BinlogClientOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 3306;
  std::string user;
  std::string password;
  // The server id this replica presents: unique among the source's
  // replicas (two readers with one id disconnect each other).
  uint32_t server_id = 0;
  // The source sends a heartbeat after this long without events; a read
  // that waits for three periods declares the connection dead.
  absl::Duration heartbeat = absl::Seconds(5);
  absl::Duration connect_timeout = absl::Seconds(10);
  // End at the current end of the binlog instead of waiting for more
  // (BINLOG_DUMP_NON_BLOCK): tools and tests.
  bool non_blocking = false;
};

// Where to start: a GTID set when there is one (the transactions after
// it), else the file and offset.
struct BinlogStart {
  std::string file;       // empty: the server's first binlog file
  uint64_t position = 4;  // 4: the first event
  std::optional<GtidSet> gtids;
};

// What the source is, and whether it can feed phony (Preflight).
struct SourceInfo {
  std::string version;         // SELECT VERSION()
  bool mariadb = false;
  std::string binlog_format;   // ROW, MIXED, STATEMENT
  std::string row_image;       // FULL, MINIMAL, NOBLOB
  std::string row_metadata;    // FULL, MINIMAL ("" when the server has no such variable)
  std::string row_value_options;  // MySQL: "" or PARTIAL_JSON
  std::string checksum;        // NONE, CRC32
  bool log_bin = false;
  bool gtid_mode = false;      // MySQL gtid_mode=ON; MariaDB always has GTIDs
  std::string current_file;    // SHOW MASTER STATUS
  uint64_t current_position = 0;
  std::string gtid_executed;   // MySQL @@gtid_executed, MariaDB @@gtid_binlog_pos
  std::vector<std::string> files;  // SHOW BINARY LOGS, oldest first
  // Problems that stop capture, each naming the setting and the fix.
  std::vector<std::string> errors;
  // Settings capture works with but with less (partial rows).
  std::vector<std::string> warnings;
};

// Adds to `info` the errors and warnings its server settings call for
// (binary logging, binlog_format, binlog_row_metadata,
// binlog_row_value_options, binlog_row_image). Part of Preflight.
void JudgeSettings(SourceInfo* info);

class BinlogClient {
 public:
  // Connects and reads the source's settings; errors (kUnavailable for a
  // server that cannot be reached, kPermissionDenied for refused
  // credentials) name the host and port, never the password.
  static absl::StatusOr<SourceInfo> Preflight(const BinlogClientOptions& options);

  // Connects and starts the dump at `start`. kFailedPrecondition when the
  // start file is no longer on the server (purged) or the GTID set cannot
  // be served; kPermissionDenied without REPLICATION SLAVE.
  static absl::StatusOr<std::unique_ptr<BinlogClient>> Start(const BinlogClientOptions& options,
                                                            const BinlogStart& start);
  ~BinlogClient();
  BinlogClient(const BinlogClient&) = delete;
  BinlogClient& operator=(const BinlogClient&) = delete;

  // The next event (header, body and checksum as the server sent it; valid
  // until the next call), or nullopt at the end of the binlog in
  // non-blocking mode. kUnavailable when the connection broke or went
  // silent for three heartbeat periods (reconnect from the last position
  // processed); kFailedPrecondition for an error the server reports that a
  // reconnect will not cure (a purged binlog, a GTID gap).
  absl::StatusOr<std::optional<std::string_view>> Next();

  bool mariadb() const { return mariadb_; }
  // Whether events carry a CRC32 (the source's binlog_checksum), which the
  // decoder must know before the first format description.
  bool crc32() const { return crc32_; }
  uint64_t bytes_received() const { return bytes_; }

 private:
  BinlogClient() = default;
  struct Conn;
  std::unique_ptr<Conn> conn_;
  bool mariadb_ = false;
  bool crc32_ = false;
  uint64_t bytes_ = 0;
};

// The packet body of MySQL's COM_BINLOG_DUMP_GTID for `gtids` (exposed for
// tests): flags, server id, an empty file name, position 4, and the GTID
// set in its binary encoding.
std::string EncodeMySqlGtidDump(uint32_t server_id, uint16_t flags, const GtidSet& gtids);

}  // namespace phony::mysql
