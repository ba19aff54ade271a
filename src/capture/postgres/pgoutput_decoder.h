// The pgoutput decoder: one logical replication message (the payload of an
// XLogData 'w' copy message) in, one typed PgMessage out. Pure: no sockets,
// no clocks, no logging, no state beyond what the caller passes in
// (DecodeContext: whether the message sits inside a Stream Start/Stop block,
// and whether parallel streaming was negotiated). Covers protocol versions
// 1–4 as PostgreSQL's proto.c writes them, and validates as its reader does:
// unknown tags, bad flags, invalid LSNs and xids, unknown tuple markers,
// truncation and trailing bytes are kDataLoss naming the message and offset.
//
// Decoded messages point into the input buffer (std::string_view fields):
// they are valid while that buffer lives. Thread-safe (pure functions).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "absl/status/statusor.h"
#include "core/position.h"

namespace phony::pg {

// Microseconds between the PostgreSQL epoch (2000-01-01) and the Unix epoch.
inline constexpr int64_t kPgEpochOffsetMicros = 946684800000000LL;
// PostgreSQL's MaxTupleAttributeNumber: no tuple or relation has more columns.
inline constexpr uint64_t kMaxPgColumns = 1664;
// Truncate: bounded by the message size anyway; this keeps allocation sane.
inline constexpr uint64_t kMaxTruncateRelations = 1 << 20;

struct DecodeContext {
  int protocol_version = 1;
  // Between Stream Start and Stream Stop: data messages carry the xid.
  bool in_stream = false;
  // streaming = parallel (protocol 4): Stream Abort carries abort LSN and time.
  bool parallel_streaming = false;
};

struct PgBegin {
  Lsn final_lsn;          // LSN of the commit record
  int64_t commit_ts_us;   // Unix epoch microseconds
  uint32_t xid;
};

struct PgCommit {
  uint8_t flags;
  Lsn commit_lsn;
  Lsn end_lsn;
  int64_t commit_ts_us;
};

struct PgOrigin {
  Lsn origin_lsn;
  std::string_view name;
};

struct PgRelationColumn {
  bool is_key;
  std::string_view name;
  uint32_t type_oid;
  int32_t type_modifier;
};

struct PgRelation {
  std::optional<uint32_t> xid;
  uint32_t oid;
  std::string_view nspname;
  std::string_view relname;
  char replica_identity;  // 'd' default, 'n' nothing, 'f' full, 'i' index
  std::vector<PgRelationColumn> columns;
};

struct PgType {
  std::optional<uint32_t> xid;
  uint32_t oid;
  std::string_view nspname;
  std::string_view name;
};

enum class TupleColumnKind : uint8_t { kNull, kUnchanged, kText, kBinary };

struct PgTupleColumn {
  TupleColumnKind kind;
  std::string_view data;  // kText / kBinary only
};

using PgTuple = std::vector<PgTupleColumn>;

struct PgInsert {
  std::optional<uint32_t> xid;
  uint32_t relation_oid;
  PgTuple new_tuple;
};

struct PgUpdate {
  std::optional<uint32_t> xid;
  uint32_t relation_oid;
  // 'K' (old key columns), 'O' (whole old row, REPLICA IDENTITY FULL), or 0
  // when the server sent no old tuple (key unchanged).
  char old_kind;
  PgTuple old_tuple;
  PgTuple new_tuple;
};

struct PgDelete {
  std::optional<uint32_t> xid;
  uint32_t relation_oid;
  char old_kind;  // 'K' or 'O'
  PgTuple old_tuple;
};

inline constexpr uint8_t kTruncateCascade = 1;
inline constexpr uint8_t kTruncateRestartIdentity = 2;

struct PgTruncate {
  std::optional<uint32_t> xid;
  uint8_t options;
  std::vector<uint32_t> relation_oids;
};

struct PgLogicalMessage {
  std::optional<uint32_t> xid;
  bool transactional;
  Lsn lsn;
  std::string_view prefix;
  std::string_view content;
};

struct PgStreamStart {
  uint32_t xid;
  bool first_segment;
};

struct PgStreamStop {};

struct PgStreamCommit {
  uint32_t xid;
  uint8_t flags;
  Lsn commit_lsn;
  Lsn end_lsn;
  int64_t commit_ts_us;
};

struct PgStreamAbort {
  uint32_t xid;
  uint32_t subxid;
  std::optional<Lsn> abort_lsn;           // parallel streaming only
  std::optional<int64_t> abort_ts_us;     // parallel streaming only
};

struct PgBeginPrepare {
  Lsn prepare_lsn;
  Lsn end_lsn;
  int64_t prepare_ts_us;
  uint32_t xid;
  std::string_view gid;
};

// Prepare ('P') and Stream Prepare ('p') share a layout.
struct PgPrepare {
  bool streamed;
  uint8_t flags;
  Lsn prepare_lsn;
  Lsn end_lsn;
  int64_t prepare_ts_us;
  uint32_t xid;
  std::string_view gid;
};

struct PgCommitPrepared {
  uint8_t flags;
  Lsn commit_lsn;
  Lsn end_lsn;
  int64_t commit_ts_us;
  uint32_t xid;
  std::string_view gid;
};

struct PgRollbackPrepared {
  uint8_t flags;
  Lsn prepare_end_lsn;
  Lsn rollback_end_lsn;
  int64_t prepare_ts_us;
  int64_t rollback_ts_us;
  uint32_t xid;
  std::string_view gid;
};

using PgMessage =
    std::variant<PgBegin, PgCommit, PgOrigin, PgRelation, PgType, PgInsert, PgUpdate, PgDelete,
                 PgTruncate, PgLogicalMessage, PgStreamStart, PgStreamStop, PgStreamCommit,
                 PgStreamAbort, PgBeginPrepare, PgPrepare, PgCommitPrepared, PgRollbackPrepared>;

// The message's name as PostgreSQL's docs call it ("Insert", "Stream Commit").
const char* PgMessageName(char tag);

absl::StatusOr<PgMessage> DecodePgoutputMessage(std::string_view data, const DecodeContext& ctx);

}  // namespace phony::pg
