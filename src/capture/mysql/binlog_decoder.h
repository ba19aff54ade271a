// The MySQL / MariaDB binlog event decoder: pure (bytes in, events out), for
// files (`phony inspect binlog`, golden tests) and for the replication
// stream alike. It follows the format description event for checksums and
// post-header sizes, verifies every CRC32, remembers table maps by id, and
// decodes row events into core Rows with the table map they were written
// under. docs/mysql.md describes what is decoded and how.
//
// Statement text (QUERY bodies, MariaDB ANNOTATE_ROWS, MySQL ROWS_QUERY) can
// hold literal values: ANNOTATE_ROWS and ROWS_QUERY are never decoded, and a
// QUERY's text is kept only for the caller to recognize BEGIN, COMMIT,
// XA and DDL; it must not travel past capture.
//
// Not thread-safe: one decoder per stream.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "core/value.h"
#include "src/capture/mysql/binlog_json.h"
#include "src/capture/mysql/binlog_values.h"

namespace phony::mysql {

enum EventType : uint8_t {
  kQueryEvent = 2, kStopEvent = 3, kRotateEvent = 4, kIntvarEvent = 5, kRandEvent = 13, kUserVarEvent = 14,
  kFormatDescriptionEvent = 15, kXidEvent = 16, kBeginLoadQueryEvent = 17, kExecuteLoadQueryEvent = 18,
  kTableMapEvent = 19, kWriteRowsEventV1 = 23, kUpdateRowsEventV1 = 24, kDeleteRowsEventV1 = 25,
  kIncidentEvent = 26, kHeartbeatEvent = 27, kIgnorableEvent = 28, kRowsQueryEvent = 29, kWriteRowsEvent = 30,
  kUpdateRowsEvent = 31, kDeleteRowsEvent = 32, kGtidEvent = 33, kAnonymousGtidEvent = 34,
  kPreviousGtidsEvent = 35, kTransactionContextEvent = 36, kViewChangeEvent = 37, kXaPrepareEvent = 38,
  kPartialUpdateRowsEvent = 39, kTransactionPayloadEvent = 40, kHeartbeatEventV2 = 41, kGtidTaggedEvent = 42,
  // MariaDB
  kAnnotateRowsEvent = 160, kBinlogCheckpointEvent = 161, kMariaGtidEvent = 162, kMariaGtidListEvent = 163,
  kStartEncryptionEvent = 164, kQueryCompressedEvent = 165, kWriteRowsCompressedEventV1 = 166,
  kUpdateRowsCompressedEventV1 = 167, kDeleteRowsCompressedEventV1 = 168, kWriteRowsCompressedEvent = 169,
  kUpdateRowsCompressedEvent = 170, kDeleteRowsCompressedEvent = 171,
};
const char* EventTypeName(uint8_t type);

inline constexpr size_t kEventHeaderSize = 19;
inline constexpr uint16_t kBinlogInUseFlag = 0x0001;  // LOG_EVENT_BINLOG_IN_USE_F
inline constexpr uint16_t kIgnorableFlag = 0x0080;    // LOG_EVENT_IGNORABLE_F

struct EventHeader {
  uint32_t timestamp = 0;
  uint8_t type = 0;
  uint32_t server_id = 0;
  uint32_t event_size = 0;
  uint32_t log_pos = 0;  // position after this event (0 inside a transaction payload)
  uint16_t flags = 0;
};

enum class Flavor : uint8_t { kMySQL, kMariaDB };

struct FormatDescription {
  uint16_t binlog_version = 4;
  std::string server_version;
  Flavor flavor = Flavor::kMySQL;
  uint8_t checksum_alg = 0;  // 0 none, 1 CRC32
};
struct Rotate {
  uint64_t position = 0;
  std::string next_file;
};
// A statement: BEGIN, COMMIT, XA ..., or DDL. The text may hold literal
// values (a DDL's defaults): for recognizing the statement only.
struct Query {
  std::string database;
  std::string text;
  uint16_t error_code = 0;
};
struct Xid {
  uint64_t xid = 0;
};
struct TableMap {
  uint64_t table_id = 0;
  std::string database;
  std::string table;
  std::vector<ColumnInfo> columns;
  bool has_names = false;       // binlog_row_metadata=FULL
  bool has_signedness = false;
  bool has_charsets = false;
  bool has_primary_key = false;
};
struct RowChange {
  // Aligned with the table map's columns; a column the image lacks
  // (binlog_row_image MINIMAL/NOBLOB, or a partial JSON update) is
  // Value::Unchanged().
  std::optional<Row> before, after;
  // Partial JSON updates (PARTIAL_UPDATE_ROWS_EVENT): column index -> diffs
  // to apply to the before value; the after image has kUnchanged there.
  std::vector<std::pair<size_t, std::vector<JsonDiff>>> json_diffs;
};
struct RowsEvent {
  enum class Kind : uint8_t { kInsert, kUpdate, kDelete };
  Kind kind = Kind::kInsert;
  uint64_t table_id = 0;
  uint16_t flags = 0;  // bit 0x0001: end of statement
  std::shared_ptr<const TableMap> table;
  std::vector<RowChange> rows;
  bool partial_json = false;
};
// MySQL `uuid:gno` / `uuid:tag:gno`, MariaDB `domain-server-seq`, or the
// anonymous GTID (empty `gtid`).
struct GtidEvent {
  std::string gtid;
  bool anonymous = false;
  // MariaDB: the event group has no COMMIT (DDL, or non-transactional).
  bool standalone = false;
  // MySQL: microseconds since the epoch when the source committed (0 when
  // the event has none).
  uint64_t commit_ts_us = 0;
};
// MySQL PREVIOUS_GTIDS (a GTID set) or MariaDB GTID_LIST (`d-s-n,...`).
struct GtidSetEvent {
  std::string set;
};
struct Heartbeat {
  std::string log_file;
  uint64_t position = 0;
};
// The server lost events (INCIDENT): a replica cannot trust the stream past it.
struct Incident {
  uint16_t type = 0;
  std::string message;
};
// An event with nothing for a change stream (checkpoints, annotations,
// statement-based context, stop, XA prepare, ignorable unknowns).
struct Skipped {};

struct BinlogEvent {
  EventHeader header;
  uint64_t offset = 0;  // where the event starts (inside a payload: the payload event's)
  std::variant<Skipped, FormatDescription, Rotate, Query, Xid, std::shared_ptr<const TableMap>, RowsEvent, GtidEvent,
               GtidSetEvent, Heartbeat, Incident>
      body;
};

class BinlogDecoder {
 public:
  BinlogDecoder();

  // Decodes one whole event (header, body, and checksum if the format
  // description says so) that starts at `offset`; appends it to `out` (a
  // transaction payload appends its inner events). Every failure is
  // kDataLoss (malformed, wrong CRC, unknown non-ignorable event) or
  // kUnimplemented (a valid event phony cannot decode: an encrypted binlog,
  // a character set it does not convert), naming the event type and offset.
  absl::Status Decode(std::string_view event, uint64_t offset, std::vector<BinlogEvent>* out);

  // Parses just the header of `event` (at least 19 bytes).
  static absl::StatusOr<EventHeader> ParseHeader(std::string_view event, uint64_t offset);

  // A replication stream starts with an artificial ROTATE that comes before
  // any format description but carries a checksum when the replica
  // announced it understands them: the client says which (0 none, 1 CRC32).
  void AssumeChecksum(uint8_t alg) { format_.checksum_alg = alg; }

  // The format description in force (the default before the first one).
  const FormatDescription& format() const { return format_; }
  // The table map of `table_id`, if one was seen.
  std::shared_ptr<const TableMap> FindTable(uint64_t table_id) const;
  // Called when a table map arrives, before the rows that use it: the
  // capture completes a map written with binlog_row_metadata=MINIMAL from
  // the catalog (names, signedness, charsets, ENUM values, key).
  using TableMapHook = std::function<absl::Status(TableMap* map)>;
  void set_table_map_hook(TableMapHook hook) { hook_ = std::move(hook); }

 private:
  absl::Status DecodeFormatDescription(std::string_view event, uint64_t offset, std::vector<BinlogEvent>* out);
  absl::Status DecodeTableMap(const EventHeader& h, std::string_view body, uint64_t offset, BinlogEvent* ev);
  absl::Status DecodeRows(const EventHeader& h, std::string_view body, uint64_t offset, BinlogEvent* ev);
  absl::Status DecodePayload(std::string_view body, uint64_t offset, std::vector<BinlogEvent>* out);
  size_t TableIdBytes(uint8_t type) const;
  absl::Status DecodeBody(const EventHeader& h, std::string_view body, uint64_t offset, bool in_payload,
                          std::vector<BinlogEvent>* out);

  FormatDescription format_;
  std::vector<uint8_t> post_header_;  // by event type - 1
  absl::flat_hash_map<uint64_t, std::shared_ptr<const TableMap>> tables_;
  TableMapHook hook_;
};

}  // namespace phony::mysql
