#include "src/capture/postgres/pgoutput_decoder.h"

#include <string>

#include "core/byte_reader.h"
#include "core/status_macros.h"

namespace phony::pg {
namespace {

// Each message body is decoded by one function; `r` is positioned after the
// tag byte.

absl::StatusOr<Lsn> ReadLsn(ByteReader& r) {
  PHONY_ASSIGN_OR_RETURN(uint64_t v, r.ReadU64BE());
  return Lsn(v);
}

absl::StatusOr<Lsn> ReadValidLsn(ByteReader& r, const char* field) {
  PHONY_ASSIGN_OR_RETURN(Lsn lsn, ReadLsn(r));
  if (!lsn.is_valid()) return r.Error(std::string(field) + " is not set");
  return lsn;
}

absl::StatusOr<int64_t> ReadTimestamp(ByteReader& r) {
  PHONY_ASSIGN_OR_RETURN(int64_t pg_us, r.ReadI64BE());
  // PostgreSQL's ±infinity and out-of-range values would overflow the shift;
  // a commit time is never near them, so they are corruption.
  if (pg_us > INT64_MAX - kPgEpochOffsetMicros || pg_us < INT64_MIN + kPgEpochOffsetMicros) {
    return r.Error("timestamp out of range");
  }
  return pg_us + kPgEpochOffsetMicros;
}

absl::Status ExpectZeroFlags(ByteReader& r, uint8_t* out) {
  PHONY_ASSIGN_OR_RETURN(*out, r.ReadU8());
  if (*out != 0) return r.Error("unrecognized flags " + std::to_string(*out));
  return absl::OkStatus();
}

absl::StatusOr<std::optional<uint32_t>> ReadStreamXid(ByteReader& r, const DecodeContext& ctx) {
  if (!ctx.in_stream) return std::optional<uint32_t>();
  PHONY_ASSIGN_OR_RETURN(uint32_t xid, r.ReadU32BE());
  if (xid == 0) return r.Error("invalid transaction ID 0 in streamed change");
  return std::optional<uint32_t>(xid);
}

absl::Status ReadTuple(ByteReader& r, PgTuple* tuple) {
  PHONY_ASSIGN_OR_RETURN(uint16_t natts, r.ReadU16BE());
  PHONY_RETURN_IF_ERROR(r.CheckCount(natts, kMaxPgColumns, "tuple column count"));
  tuple->clear();
  tuple->reserve(natts);
  for (uint16_t i = 0; i < natts; ++i) {
    PHONY_ASSIGN_OR_RETURN(uint8_t kind, r.ReadU8());
    switch (kind) {
      case 'n':
        tuple->push_back(PgTupleColumn{TupleColumnKind::kNull, {}});
        break;
      case 'u':
        tuple->push_back(PgTupleColumn{TupleColumnKind::kUnchanged, {}});
        break;
      case 't':
      case 'b': {
        PHONY_ASSIGN_OR_RETURN(uint32_t len, r.ReadU32BE());
        PHONY_ASSIGN_OR_RETURN(std::string_view data, r.ReadBytes(len));
        tuple->push_back(PgTupleColumn{kind == 't' ? TupleColumnKind::kText : TupleColumnKind::kBinary, data});
        break;
      }
      default:
        return r.Error("unrecognized data representation type '" +
                       std::string(1, static_cast<char>(kind)) + "' (0x" +
                       std::to_string(kind) + ") in column " + std::to_string(i));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<PgMessage> DecodeBegin(ByteReader& r) {
  PgBegin m;
  PHONY_ASSIGN_OR_RETURN(m.final_lsn, ReadValidLsn(r, "final_lsn"));
  PHONY_ASSIGN_OR_RETURN(m.commit_ts_us, ReadTimestamp(r));
  PHONY_ASSIGN_OR_RETURN(m.xid, r.ReadU32BE());
  return m;
}

absl::StatusOr<PgMessage> DecodeCommit(ByteReader& r) {
  PgCommit m;
  PHONY_RETURN_IF_ERROR(ExpectZeroFlags(r, &m.flags));
  PHONY_ASSIGN_OR_RETURN(m.commit_lsn, ReadValidLsn(r, "commit_lsn"));
  PHONY_ASSIGN_OR_RETURN(m.end_lsn, ReadValidLsn(r, "end_lsn"));
  PHONY_ASSIGN_OR_RETURN(m.commit_ts_us, ReadTimestamp(r));
  if (m.end_lsn < m.commit_lsn) return r.Error("end_lsn before commit_lsn");
  return m;
}

absl::StatusOr<PgMessage> DecodeOrigin(ByteReader& r) {
  PgOrigin m;
  PHONY_ASSIGN_OR_RETURN(m.origin_lsn, ReadLsn(r));
  PHONY_ASSIGN_OR_RETURN(m.name, r.ReadCString());
  return m;
}

absl::StatusOr<PgMessage> DecodeRelation(ByteReader& r, const DecodeContext& ctx) {
  PgRelation m;
  PHONY_ASSIGN_OR_RETURN(m.xid, ReadStreamXid(r, ctx));
  PHONY_ASSIGN_OR_RETURN(m.oid, r.ReadU32BE());
  if (m.oid == 0) return r.Error("relation OID 0");
  PHONY_ASSIGN_OR_RETURN(m.nspname, r.ReadCString());
  PHONY_ASSIGN_OR_RETURN(m.relname, r.ReadCString());
  if (m.relname.empty()) return r.Error("empty relation name");
  PHONY_ASSIGN_OR_RETURN(uint8_t ident, r.ReadU8());
  if (ident != 'd' && ident != 'n' && ident != 'f' && ident != 'i') {
    return r.Error("unknown replica identity '" + std::string(1, static_cast<char>(ident)) + "'");
  }
  m.replica_identity = static_cast<char>(ident);
  PHONY_ASSIGN_OR_RETURN(uint16_t natts, r.ReadU16BE());
  PHONY_RETURN_IF_ERROR(r.CheckCount(natts, kMaxPgColumns, "relation column count"));
  m.columns.reserve(natts);
  for (uint16_t i = 0; i < natts; ++i) {
    PgRelationColumn c;
    PHONY_ASSIGN_OR_RETURN(uint8_t flags, r.ReadU8());
    if (flags & ~1u) return r.Error("unrecognized column flags " + std::to_string(flags));
    c.is_key = (flags & 1) != 0;
    PHONY_ASSIGN_OR_RETURN(c.name, r.ReadCString());
    PHONY_ASSIGN_OR_RETURN(c.type_oid, r.ReadU32BE());
    PHONY_ASSIGN_OR_RETURN(c.type_modifier, r.ReadI32BE());
    m.columns.push_back(c);
  }
  return m;
}

absl::StatusOr<PgMessage> DecodeType(ByteReader& r, const DecodeContext& ctx) {
  PgType m;
  PHONY_ASSIGN_OR_RETURN(m.xid, ReadStreamXid(r, ctx));
  PHONY_ASSIGN_OR_RETURN(m.oid, r.ReadU32BE());
  PHONY_ASSIGN_OR_RETURN(m.nspname, r.ReadCString());
  PHONY_ASSIGN_OR_RETURN(m.name, r.ReadCString());
  return m;
}

absl::StatusOr<PgMessage> DecodeInsert(ByteReader& r, const DecodeContext& ctx) {
  PgInsert m;
  PHONY_ASSIGN_OR_RETURN(m.xid, ReadStreamXid(r, ctx));
  PHONY_ASSIGN_OR_RETURN(m.relation_oid, r.ReadU32BE());
  PHONY_ASSIGN_OR_RETURN(uint8_t action, r.ReadU8());
  if (action != 'N') return r.Error("expected new tuple 'N', got " + std::to_string(action));
  PHONY_RETURN_IF_ERROR(ReadTuple(r, &m.new_tuple));
  return m;
}

absl::StatusOr<PgMessage> DecodeUpdate(ByteReader& r, const DecodeContext& ctx) {
  PgUpdate m;
  PHONY_ASSIGN_OR_RETURN(m.xid, ReadStreamXid(r, ctx));
  PHONY_ASSIGN_OR_RETURN(m.relation_oid, r.ReadU32BE());
  PHONY_ASSIGN_OR_RETURN(uint8_t action, r.ReadU8());
  m.old_kind = 0;
  if (action == 'K' || action == 'O') {
    m.old_kind = static_cast<char>(action);
    PHONY_RETURN_IF_ERROR(ReadTuple(r, &m.old_tuple));
    PHONY_ASSIGN_OR_RETURN(action, r.ReadU8());
  }
  if (action != 'N') {
    return r.Error("expected action 'N'" + std::string(m.old_kind ? "" : ", 'O' or 'K'") +
                   ", got " + std::to_string(action));
  }
  PHONY_RETURN_IF_ERROR(ReadTuple(r, &m.new_tuple));
  return m;
}

absl::StatusOr<PgMessage> DecodeDelete(ByteReader& r, const DecodeContext& ctx) {
  PgDelete m;
  PHONY_ASSIGN_OR_RETURN(m.xid, ReadStreamXid(r, ctx));
  PHONY_ASSIGN_OR_RETURN(m.relation_oid, r.ReadU32BE());
  PHONY_ASSIGN_OR_RETURN(uint8_t action, r.ReadU8());
  if (action != 'K' && action != 'O') {
    return r.Error("expected action 'O' or 'K', got " + std::to_string(action));
  }
  m.old_kind = static_cast<char>(action);
  PHONY_RETURN_IF_ERROR(ReadTuple(r, &m.old_tuple));
  return m;
}

absl::StatusOr<PgMessage> DecodeTruncate(ByteReader& r, const DecodeContext& ctx) {
  PgTruncate m;
  PHONY_ASSIGN_OR_RETURN(m.xid, ReadStreamXid(r, ctx));
  PHONY_ASSIGN_OR_RETURN(uint32_t n, r.ReadU32BE());
  PHONY_RETURN_IF_ERROR(r.CheckCount(n, kMaxTruncateRelations, "truncated relation count"));
  PHONY_ASSIGN_OR_RETURN(m.options, r.ReadU8());
  if (m.options & ~(kTruncateCascade | kTruncateRestartIdentity)) {
    return r.Error("unrecognized truncate flags " + std::to_string(m.options));
  }
  if (static_cast<uint64_t>(n) * 4 > r.remaining()) {
    return r.Error("truncate lists " + std::to_string(n) + " relations but only " +
                   std::to_string(r.remaining()) + " bytes remain");
  }
  m.relation_oids.reserve(n);
  for (uint32_t i = 0; i < n; ++i) {
    PHONY_ASSIGN_OR_RETURN(uint32_t oid, r.ReadU32BE());
    m.relation_oids.push_back(oid);
  }
  return m;
}

absl::StatusOr<PgMessage> DecodeLogicalMessage(ByteReader& r, const DecodeContext& ctx) {
  PgLogicalMessage m;
  PHONY_ASSIGN_OR_RETURN(m.xid, ReadStreamXid(r, ctx));
  PHONY_ASSIGN_OR_RETURN(uint8_t flags, r.ReadU8());
  if (flags & ~1u) return r.Error("unrecognized message flags " + std::to_string(flags));
  m.transactional = (flags & 1) != 0;
  PHONY_ASSIGN_OR_RETURN(m.lsn, ReadLsn(r));
  PHONY_ASSIGN_OR_RETURN(m.prefix, r.ReadCString());
  PHONY_ASSIGN_OR_RETURN(uint32_t len, r.ReadU32BE());
  PHONY_ASSIGN_OR_RETURN(m.content, r.ReadBytes(len));
  return m;
}

absl::StatusOr<PgMessage> DecodeStreamStart(ByteReader& r) {
  PgStreamStart m;
  PHONY_ASSIGN_OR_RETURN(m.xid, r.ReadU32BE());
  if (m.xid == 0) return r.Error("invalid transaction ID 0 in stream start");
  PHONY_ASSIGN_OR_RETURN(uint8_t first, r.ReadU8());
  if (first > 1) return r.Error("bad first-segment flag " + std::to_string(first));
  m.first_segment = first == 1;
  return m;
}

absl::StatusOr<PgMessage> DecodeStreamCommit(ByteReader& r) {
  PgStreamCommit m;
  PHONY_ASSIGN_OR_RETURN(m.xid, r.ReadU32BE());
  if (m.xid == 0) return r.Error("invalid transaction ID 0 in stream commit");
  PHONY_RETURN_IF_ERROR(ExpectZeroFlags(r, &m.flags));
  PHONY_ASSIGN_OR_RETURN(m.commit_lsn, ReadValidLsn(r, "commit_lsn"));
  PHONY_ASSIGN_OR_RETURN(m.end_lsn, ReadValidLsn(r, "end_lsn"));
  PHONY_ASSIGN_OR_RETURN(m.commit_ts_us, ReadTimestamp(r));
  return m;
}

absl::StatusOr<PgMessage> DecodeStreamAbort(ByteReader& r, const DecodeContext& ctx) {
  PgStreamAbort m;
  PHONY_ASSIGN_OR_RETURN(m.xid, r.ReadU32BE());
  PHONY_ASSIGN_OR_RETURN(m.subxid, r.ReadU32BE());
  if (m.xid == 0 || m.subxid == 0) return r.Error("invalid transaction ID 0 in stream abort");
  if (ctx.parallel_streaming) {
    PHONY_ASSIGN_OR_RETURN(Lsn lsn, ReadLsn(r));
    PHONY_ASSIGN_OR_RETURN(int64_t ts, ReadTimestamp(r));
    m.abort_lsn = lsn;
    m.abort_ts_us = ts;
  }
  return m;
}

// The layout Begin Prepare, Prepare, Stream Prepare and Commit Prepared
// share (after their flags, where they have them): two LSNs that must be
// set, a time, the xid and the GID.
absl::Status ReadPreparedFields(ByteReader& r, const char* first_lsn_name, Lsn* first_lsn,
                                Lsn* end_lsn, int64_t* ts, uint32_t* xid, std::string_view* gid) {
  PHONY_ASSIGN_OR_RETURN(*first_lsn, ReadValidLsn(r, first_lsn_name));
  PHONY_ASSIGN_OR_RETURN(*end_lsn, ReadValidLsn(r, "end_lsn"));
  PHONY_ASSIGN_OR_RETURN(*ts, ReadTimestamp(r));
  PHONY_ASSIGN_OR_RETURN(*xid, r.ReadU32BE());
  PHONY_ASSIGN_OR_RETURN(*gid, r.ReadCString());
  return absl::OkStatus();
}

absl::StatusOr<PgMessage> DecodeBeginPrepare(ByteReader& r) {
  PgBeginPrepare m;
  PHONY_RETURN_IF_ERROR(
      ReadPreparedFields(r, "prepare_lsn", &m.prepare_lsn, &m.end_lsn, &m.prepare_ts_us, &m.xid, &m.gid));
  return m;
}

absl::StatusOr<PgMessage> DecodePrepare(ByteReader& r, bool streamed) {
  PgPrepare m;
  m.streamed = streamed;
  PHONY_RETURN_IF_ERROR(ExpectZeroFlags(r, &m.flags));
  PHONY_RETURN_IF_ERROR(
      ReadPreparedFields(r, "prepare_lsn", &m.prepare_lsn, &m.end_lsn, &m.prepare_ts_us, &m.xid, &m.gid));
  return m;
}

absl::StatusOr<PgMessage> DecodeCommitPrepared(ByteReader& r) {
  PgCommitPrepared m;
  PHONY_RETURN_IF_ERROR(ExpectZeroFlags(r, &m.flags));
  PHONY_RETURN_IF_ERROR(
      ReadPreparedFields(r, "commit_lsn", &m.commit_lsn, &m.end_lsn, &m.commit_ts_us, &m.xid, &m.gid));
  return m;
}

absl::StatusOr<PgMessage> DecodeRollbackPrepared(ByteReader& r) {
  PgRollbackPrepared m;
  PHONY_RETURN_IF_ERROR(ExpectZeroFlags(r, &m.flags));
  PHONY_ASSIGN_OR_RETURN(m.prepare_end_lsn, ReadValidLsn(r, "prepare_end_lsn"));
  PHONY_ASSIGN_OR_RETURN(m.rollback_end_lsn, ReadValidLsn(r, "rollback_end_lsn"));
  PHONY_ASSIGN_OR_RETURN(m.prepare_ts_us, ReadTimestamp(r));
  PHONY_ASSIGN_OR_RETURN(m.rollback_ts_us, ReadTimestamp(r));
  PHONY_ASSIGN_OR_RETURN(m.xid, r.ReadU32BE());
  PHONY_ASSIGN_OR_RETURN(m.gid, r.ReadCString());
  return m;
}

}  // namespace

const char* PgMessageName(char tag) {
  switch (tag) {
    case 'B': return "pgoutput Begin";
    case 'C': return "pgoutput Commit";
    case 'O': return "pgoutput Origin";
    case 'R': return "pgoutput Relation";
    case 'Y': return "pgoutput Type";
    case 'I': return "pgoutput Insert";
    case 'U': return "pgoutput Update";
    case 'D': return "pgoutput Delete";
    case 'T': return "pgoutput Truncate";
    case 'M': return "pgoutput Message";
    case 'S': return "pgoutput Stream Start";
    case 'E': return "pgoutput Stream Stop";
    case 'c': return "pgoutput Stream Commit";
    case 'A': return "pgoutput Stream Abort";
    case 'b': return "pgoutput Begin Prepare";
    case 'P': return "pgoutput Prepare";
    case 'K': return "pgoutput Commit Prepared";
    case 'r': return "pgoutput Rollback Prepared";
    case 'p': return "pgoutput Stream Prepare";
  }
  return "pgoutput message";
}

absl::StatusOr<PgMessage> DecodePgoutputMessage(std::string_view data, const DecodeContext& ctx) {
  if (data.empty()) return absl::DataLossError("pgoutput: empty message");
  const char tag = data[0];
  ByteReader r(data, PgMessageName(tag));
  PHONY_RETURN_IF_ERROR(r.Skip(1));
  absl::StatusOr<PgMessage> m;
  switch (tag) {
    case 'B': m = DecodeBegin(r); break;
    case 'C': m = DecodeCommit(r); break;
    case 'O': m = DecodeOrigin(r); break;
    case 'R': m = DecodeRelation(r, ctx); break;
    case 'Y': m = DecodeType(r, ctx); break;
    case 'I': m = DecodeInsert(r, ctx); break;
    case 'U': m = DecodeUpdate(r, ctx); break;
    case 'D': m = DecodeDelete(r, ctx); break;
    case 'T': m = DecodeTruncate(r, ctx); break;
    case 'M': m = DecodeLogicalMessage(r, ctx); break;
    case 'S':
      if (ctx.protocol_version < 2) return r.Error("stream message under protocol version 1");
      if (ctx.in_stream) return r.Error("Stream Start inside a streamed block");
      m = DecodeStreamStart(r);
      break;
    case 'E':
      if (!ctx.in_stream) return r.Error("Stream Stop outside a streamed block");
      m = PgStreamStop{};
      break;
    case 'c':
      if (ctx.protocol_version < 2) return r.Error("stream message under protocol version 1");
      m = DecodeStreamCommit(r);
      break;
    case 'A':
      if (ctx.protocol_version < 2) return r.Error("stream message under protocol version 1");
      m = DecodeStreamAbort(r, ctx);
      break;
    case 'b': m = DecodeBeginPrepare(r); break;
    case 'P': m = DecodePrepare(r, /*streamed=*/false); break;
    case 'K': m = DecodeCommitPrepared(r); break;
    case 'r': m = DecodeRollbackPrepared(r); break;
    case 'p': m = DecodePrepare(r, /*streamed=*/true); break;
    default:
      return absl::DataLossError("pgoutput: unknown message type '" +
                                 std::string(1, tag) + "' (byte " +
                                 std::to_string(static_cast<uint8_t>(tag)) + ") at offset 0");
  }
  if (!m.ok()) return m.status();
  PHONY_RETURN_IF_ERROR(r.ExpectEnd());
  return m;
}

}  // namespace phony::pg
