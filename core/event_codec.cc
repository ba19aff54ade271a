#include "core/event_codec.h"

#include <algorithm>
#include <cstring>
#include <string>

#include "core/status_macros.h"

namespace phony {
namespace {

// kTypeSchemaWithActions: a schema whose foreign keys carry ON DELETE / ON
// UPDATE actions (added later; schemas without actions keep kTypeSchema, so
// older encodings and their goldens stay as they were).
enum EventType : uint8_t { kTypeBegin = 1, kTypeChange = 2, kTypeCommit = 3, kTypeSchema = 4, kTypeSchemaWithActions = 5 };

bool HasFkActions(const TableSchema& s) {
  return std::any_of(s.foreign_keys.begin(), s.foreign_keys.end(), [](const ForeignKey& fk) {
    return fk.on_delete != FkAction::kNoAction || fk.on_update != FkAction::kNoAction;
  });
}

void PutString(std::string* out, std::string_view s) { PutLengthPrefixed(out, s); }

absl::StatusOr<std::string> GetString(ByteReader& r) {
  PHONY_ASSIGN_OR_RETURN(uint64_t n, r.ReadVarint64());
  PHONY_ASSIGN_OR_RETURN(std::string_view s, r.ReadBytes(n));
  return std::string(s);
}

absl::StatusOr<uint32_t> GetU32(ByteReader& r, const char* what) {
  PHONY_ASSIGN_OR_RETURN(uint64_t v, r.ReadVarint64());
  if (v > UINT32_MAX) return r.Error(std::string(what) + " out of range");
  return static_cast<uint32_t>(v);
}

absl::StatusOr<int32_t> GetI32(ByteReader& r, const char* what) {
  PHONY_ASSIGN_OR_RETURN(int64_t v, r.ReadSignedVarint64());
  if (v < INT32_MIN || v > INT32_MAX) return r.Error(std::string(what) + " out of range");
  return static_cast<int32_t>(v);
}

absl::StatusOr<bool> GetBool(ByteReader& r) {
  PHONY_ASSIGN_OR_RETURN(uint8_t b, r.ReadU8());
  if (b > 1) return r.Error("bad boolean byte " + std::to_string(b));
  return b == 1;
}

void EncodeGtid(const Gtid& g, std::string* out) {
  PutU8(out, static_cast<uint8_t>(g.flavor));
  if (g.flavor == GtidFlavor::kMariaDb) {
    PutVarint64(out, g.domain);
    PutVarint64(out, g.server_id);
    PutVarint64(out, g.sequence);
  } else {
    out->append(reinterpret_cast<const char*>(g.uuid.data()), g.uuid.size());
    PutString(out, g.tag);
    PutVarint64(out, g.gno);
  }
}

absl::StatusOr<Gtid> DecodeGtid(ByteReader& r) {
  PHONY_ASSIGN_OR_RETURN(uint8_t flavor, r.ReadU8());
  if (flavor == static_cast<uint8_t>(GtidFlavor::kMariaDb)) {
    PHONY_ASSIGN_OR_RETURN(uint32_t domain, GetU32(r, "gtid domain"));
    PHONY_ASSIGN_OR_RETURN(uint32_t server, GetU32(r, "gtid server id"));
    PHONY_ASSIGN_OR_RETURN(uint64_t seq, r.ReadVarint64());
    return Gtid::MariaDb(domain, server, seq);
  }
  if (flavor == static_cast<uint8_t>(GtidFlavor::kMySql)) {
    PHONY_ASSIGN_OR_RETURN(std::string_view u, r.ReadBytes(16));
    Uuid16 uuid;
    std::memcpy(uuid.data(), u.data(), 16);
    PHONY_ASSIGN_OR_RETURN(std::string tag, GetString(r));
    PHONY_ASSIGN_OR_RETURN(uint64_t gno, r.ReadVarint64());
    return Gtid::MySql(uuid, gno, std::move(tag));
  }
  return r.Error("unknown GTID flavor " + std::to_string(flavor));
}

void EncodeTableId(const TableId& t, std::string* out) {
  PutString(out, t.database);
  PutString(out, t.schema);
  PutString(out, t.table);
}

absl::StatusOr<TableId> DecodeTableId(ByteReader& r) {
  TableId t;
  PHONY_ASSIGN_OR_RETURN(t.database, GetString(r));
  PHONY_ASSIGN_OR_RETURN(t.schema, GetString(r));
  PHONY_ASSIGN_OR_RETURN(t.table, GetString(r));
  return t;
}

void EncodeRow(const std::optional<Row>& row, std::string* out) {
  if (!row) {
    PutU8(out, 0);
    return;
  }
  PutU8(out, 1);
  PutVarint64(out, row->size());
  for (const Value& v : *row) EncodeValue(v, out);
}

absl::StatusOr<std::optional<Row>> DecodeRow(ByteReader& r) {
  PHONY_ASSIGN_OR_RETURN(bool present, GetBool(r));
  if (!present) return std::optional<Row>();
  PHONY_ASSIGN_OR_RETURN(uint64_t n, r.ReadVarint64());
  PHONY_RETURN_IF_ERROR(r.CheckCount(n, kMaxColumns, "column count"));
  Row row;
  row.reserve(static_cast<size_t>(n));
  for (uint64_t i = 0; i < n; ++i) {
    PHONY_ASSIGN_OR_RETURN(Value v, DecodeValue(r));
    row.push_back(std::move(v));
  }
  return std::optional<Row>(std::move(row));
}

void EncodeSchema(const TableSchema& s, std::string* out) {
  EncodeTableId(s.id, out);
  PutVarint64(out, s.version);
  PutU8(out, static_cast<uint8_t>(s.replica_identity));
  PutVarint64(out, s.columns.size());
  for (const ColumnDef& c : s.columns) {
    PutString(out, c.name);
    PutString(out, c.type_name);
    PutU8(out, static_cast<uint8_t>(c.kind));
    PutVarint64(out, c.type_id);
    PutSignedVarint64(out, c.type_modifier);
    PutU8(out, c.nullable ? 1 : 0);
    PutVarint64(out, c.key_ordinal);
    PutU8(out, c.default_expr ? 1 : 0);
    if (c.default_expr) PutString(out, *c.default_expr);
  }
  PutVarint64(out, s.foreign_keys.size());
  for (const ForeignKey& fk : s.foreign_keys) {
    PutString(out, fk.name);
    PutVarint64(out, fk.columns.size());
    for (const auto& c : fk.columns) PutString(out, c);
    EncodeTableId(fk.referenced, out);
    PutVarint64(out, fk.referenced_columns.size());
    for (const auto& c : fk.referenced_columns) PutString(out, c);
  }
  if (HasFkActions(s)) {
    for (const ForeignKey& fk : s.foreign_keys) {
      PutU8(out, static_cast<uint8_t>(fk.on_delete));
      PutU8(out, static_cast<uint8_t>(fk.on_update));
    }
  }
}

absl::StatusOr<std::vector<std::string>> DecodeNames(ByteReader& r) {
  PHONY_ASSIGN_OR_RETURN(uint64_t n, r.ReadVarint64());
  PHONY_RETURN_IF_ERROR(r.CheckCount(n, kMaxColumns, "name count"));
  std::vector<std::string> out;
  out.reserve(static_cast<size_t>(n));
  for (uint64_t i = 0; i < n; ++i) {
    PHONY_ASSIGN_OR_RETURN(std::string s, GetString(r));
    out.push_back(std::move(s));
  }
  return out;
}

absl::StatusOr<TableSchema> DecodeSchema(ByteReader& r, bool with_actions) {
  TableSchema s;
  PHONY_ASSIGN_OR_RETURN(s.id, DecodeTableId(r));
  PHONY_ASSIGN_OR_RETURN(s.version, GetU32(r, "schema version"));
  PHONY_ASSIGN_OR_RETURN(uint8_t ri, r.ReadU8());
  if (ri > static_cast<uint8_t>(ReplicaIdentity::kIndex)) {
    return r.Error("unknown replica identity " + std::to_string(ri));
  }
  s.replica_identity = static_cast<ReplicaIdentity>(ri);
  PHONY_ASSIGN_OR_RETURN(uint64_t ncols, r.ReadVarint64());
  PHONY_RETURN_IF_ERROR(r.CheckCount(ncols, kMaxColumns, "column count"));
  s.columns.resize(static_cast<size_t>(ncols));
  for (ColumnDef& c : s.columns) {
    PHONY_ASSIGN_OR_RETURN(c.name, GetString(r));
    PHONY_ASSIGN_OR_RETURN(c.type_name, GetString(r));
    PHONY_ASSIGN_OR_RETURN(uint8_t kind, r.ReadU8());
    if (kind > kMaxValueKind) return r.Error("unknown value kind " + std::to_string(kind));
    c.kind = static_cast<ValueKind>(kind);
    PHONY_ASSIGN_OR_RETURN(c.type_id, GetU32(r, "type id"));
    PHONY_ASSIGN_OR_RETURN(c.type_modifier, GetI32(r, "type modifier"));
    PHONY_ASSIGN_OR_RETURN(c.nullable, GetBool(r));
    PHONY_ASSIGN_OR_RETURN(uint32_t ordinal, GetU32(r, "key ordinal"));
    if (ordinal > kMaxColumns) return r.Error("key ordinal out of range");
    c.key_ordinal = static_cast<uint16_t>(ordinal);
    PHONY_ASSIGN_OR_RETURN(bool has_default, GetBool(r));
    if (has_default) {
      PHONY_ASSIGN_OR_RETURN(std::string d, GetString(r));
      c.default_expr = std::move(d);
    }
  }
  PHONY_ASSIGN_OR_RETURN(uint64_t nfks, r.ReadVarint64());
  PHONY_RETURN_IF_ERROR(r.CheckCount(nfks, kMaxForeignKeys, "foreign key count"));
  s.foreign_keys.resize(static_cast<size_t>(nfks));
  for (ForeignKey& fk : s.foreign_keys) {
    PHONY_ASSIGN_OR_RETURN(fk.name, GetString(r));
    PHONY_ASSIGN_OR_RETURN(fk.columns, DecodeNames(r));
    PHONY_ASSIGN_OR_RETURN(fk.referenced, DecodeTableId(r));
    PHONY_ASSIGN_OR_RETURN(fk.referenced_columns, DecodeNames(r));
  }
  if (with_actions) {
    for (ForeignKey& fk : s.foreign_keys) {
      for (FkAction* a : {&fk.on_delete, &fk.on_update}) {
        PHONY_ASSIGN_OR_RETURN(uint8_t v, r.ReadU8());
        if (v > static_cast<uint8_t>(FkAction::kSetDefault)) return r.Error("unknown foreign-key action");
        *a = static_cast<FkAction>(v);
      }
    }
  }
  return s;
}

}  // namespace

void EncodeValue(const Value& v, std::string* out) {
  PutU8(out, static_cast<uint8_t>(v.kind()));
  switch (v.kind()) {
    case ValueKind::kNull:
    case ValueKind::kUnchanged:
      return;
    case ValueKind::kBool:
      PutU8(out, v.bool_value() ? 1 : 0);
      return;
    case ValueKind::kInt64:
    case ValueKind::kTime:
    case ValueKind::kTimestamp:
    case ValueKind::kTimestampTz:
      PutSignedVarint64(out, v.int64_value());
      return;
    case ValueKind::kUInt64:
      PutVarint64(out, v.uint64_value());
      return;
    case ValueKind::kDouble: {
      uint64_t bits;
      const double d = v.double_value();
      std::memcpy(&bits, &d, sizeof(bits));
      PutU64LE(out, bits);
      return;
    }
    case ValueKind::kDate:
      PutSignedVarint64(out, v.date_value());
      return;
    case ValueKind::kTimeTz:
      PutSignedVarint64(out, v.int64_value());
      PutSignedVarint64(out, v.tz_offset_seconds());
      return;
    case ValueKind::kInterval: {
      const Interval iv = v.interval_value();
      PutSignedVarint64(out, iv.months);
      PutSignedVarint64(out, iv.days);
      PutSignedVarint64(out, iv.micros);
      return;
    }
    case ValueKind::kUuid:
      out->append(v.str());
      return;
    case ValueKind::kDecimal:
    case ValueKind::kText:
    case ValueKind::kBytes:
    case ValueKind::kJson:
      PutString(out, v.str());
      return;
  }
}

absl::StatusOr<Value> DecodeValue(ByteReader& r) {
  PHONY_ASSIGN_OR_RETURN(uint8_t tag, r.ReadU8());
  if (tag > kMaxValueKind) return r.Error("unknown value kind " + std::to_string(tag));
  switch (static_cast<ValueKind>(tag)) {
    case ValueKind::kNull:
      return Value::Null();
    case ValueKind::kUnchanged:
      return Value::Unchanged();
    case ValueKind::kBool: {
      PHONY_ASSIGN_OR_RETURN(bool b, GetBool(r));
      return Value::Bool(b);
    }
    case ValueKind::kInt64: {
      PHONY_ASSIGN_OR_RETURN(int64_t i, r.ReadSignedVarint64());
      return Value::Int64(i);
    }
    case ValueKind::kTime: {
      PHONY_ASSIGN_OR_RETURN(int64_t i, r.ReadSignedVarint64());
      return Value::Time(i);
    }
    case ValueKind::kTimestamp: {
      PHONY_ASSIGN_OR_RETURN(int64_t i, r.ReadSignedVarint64());
      return Value::Timestamp(i);
    }
    case ValueKind::kTimestampTz: {
      PHONY_ASSIGN_OR_RETURN(int64_t i, r.ReadSignedVarint64());
      return Value::TimestampTz(i);
    }
    case ValueKind::kUInt64: {
      PHONY_ASSIGN_OR_RETURN(uint64_t u, r.ReadVarint64());
      return Value::UInt64(u);
    }
    case ValueKind::kDouble: {
      PHONY_ASSIGN_OR_RETURN(uint64_t bits, r.ReadU64LE());
      double d;
      std::memcpy(&d, &bits, sizeof(d));
      return Value::Double(d);
    }
    case ValueKind::kDate: {
      PHONY_ASSIGN_OR_RETURN(int32_t days, GetI32(r, "date"));
      return Value::Date(days);
    }
    case ValueKind::kTimeTz: {
      PHONY_ASSIGN_OR_RETURN(int64_t micros, r.ReadSignedVarint64());
      PHONY_ASSIGN_OR_RETURN(int32_t offset, GetI32(r, "zone offset"));
      return Value::TimeTz(micros, offset);
    }
    case ValueKind::kInterval: {
      Interval iv;
      PHONY_ASSIGN_OR_RETURN(iv.months, GetI32(r, "interval months"));
      PHONY_ASSIGN_OR_RETURN(iv.days, GetI32(r, "interval days"));
      PHONY_ASSIGN_OR_RETURN(iv.micros, r.ReadSignedVarint64());
      return Value::MakeInterval(iv);
    }
    case ValueKind::kUuid: {
      PHONY_ASSIGN_OR_RETURN(std::string_view b, r.ReadBytes(16));
      return Value::Uuid(b);
    }
    case ValueKind::kDecimal: {
      PHONY_ASSIGN_OR_RETURN(std::string s, GetString(r));
      return Value::Decimal(std::move(s));
    }
    case ValueKind::kText: {
      PHONY_ASSIGN_OR_RETURN(std::string s, GetString(r));
      return Value::Text(std::move(s));
    }
    case ValueKind::kBytes: {
      PHONY_ASSIGN_OR_RETURN(std::string s, GetString(r));
      return Value::Bytes(std::move(s));
    }
    case ValueKind::kJson: {
      PHONY_ASSIGN_OR_RETURN(std::string s, GetString(r));
      return Value::Json(std::move(s));
    }
  }
  return r.Error("unknown value kind " + std::to_string(tag));
}

void EncodePosition(const EventPosition& p, std::string* out) {
  PutU8(out, static_cast<uint8_t>(p.kind()));
  switch (p.kind()) {
    case EventPosition::Kind::kNone:
      return;
    case EventPosition::Kind::kPostgres:
      PutVarint64(out, p.commit_lsn().value());
      PutVarint64(out, p.seq());
      return;
    case EventPosition::Kind::kMySql:
      PutVarint64(out, p.file_index());
      PutVarint64(out, p.commit_offset());
      PutVarint64(out, p.event_index());
      PutVarint64(out, p.row_index());
      PutU8(out, p.gtid() ? 1 : 0);
      if (p.gtid()) EncodeGtid(*p.gtid(), out);
      return;
    case EventPosition::Kind::kSnapshot:
      PutString(out, p.snapshot_table());
      PutVarint64(out, p.chunk());
      PutVarint64(out, p.row());
      return;
  }
}

absl::StatusOr<EventPosition> DecodePosition(ByteReader& r) {
  PHONY_ASSIGN_OR_RETURN(uint8_t kind, r.ReadU8());
  switch (kind) {
    case static_cast<uint8_t>(EventPosition::Kind::kNone):
      return EventPosition();
    case static_cast<uint8_t>(EventPosition::Kind::kPostgres): {
      PHONY_ASSIGN_OR_RETURN(uint64_t lsn, r.ReadVarint64());
      PHONY_ASSIGN_OR_RETURN(uint64_t seq, r.ReadVarint64());
      return EventPosition::Postgres(Lsn(lsn), seq);
    }
    case static_cast<uint8_t>(EventPosition::Kind::kMySql): {
      PHONY_ASSIGN_OR_RETURN(uint32_t file, GetU32(r, "binlog file index"));
      PHONY_ASSIGN_OR_RETURN(uint64_t offset, r.ReadVarint64());
      PHONY_ASSIGN_OR_RETURN(uint32_t event, GetU32(r, "event index"));
      PHONY_ASSIGN_OR_RETURN(uint32_t row, GetU32(r, "row index"));
      PHONY_ASSIGN_OR_RETURN(bool has_gtid, GetBool(r));
      std::optional<Gtid> gtid;
      if (has_gtid) {
        PHONY_ASSIGN_OR_RETURN(Gtid g, DecodeGtid(r));
        gtid = std::move(g);
      }
      return EventPosition::MySql(file, offset, event, row, std::move(gtid));
    }
    case static_cast<uint8_t>(EventPosition::Kind::kSnapshot): {
      PHONY_ASSIGN_OR_RETURN(std::string table, GetString(r));
      PHONY_ASSIGN_OR_RETURN(uint64_t chunk, r.ReadVarint64());
      PHONY_ASSIGN_OR_RETURN(uint64_t row, r.ReadVarint64());
      return EventPosition::Snapshot(std::move(table), chunk, row);
    }
  }
  return r.Error("unknown position kind " + std::to_string(kind));
}

void EncodeGtidSet(const GtidSet& set, std::string* out) {
  PutU8(out, static_cast<uint8_t>(set.flavor()));
  if (set.flavor() == GtidFlavor::kMariaDb) {
    PutVarint64(out, set.mariadb_domains().size());
    for (const auto& [domain, e] : set.mariadb_domains()) {
      PutVarint64(out, domain);
      PutVarint64(out, e.server_id);
      PutVarint64(out, e.sequence);
    }
    return;
  }
  PutVarint64(out, set.mysql_sources().size());
  for (const auto& [key, intervals] : set.mysql_sources()) {
    out->append(reinterpret_cast<const char*>(key.first.data()), key.first.size());
    PutString(out, key.second);
    PutVarint64(out, intervals.size());
    for (const auto& [a, b] : intervals) {
      PutVarint64(out, a);
      PutVarint64(out, b);
    }
  }
}

absl::StatusOr<GtidSet> DecodeGtidSet(ByteReader& r) {
  PHONY_ASSIGN_OR_RETURN(uint8_t flavor, r.ReadU8());
  constexpr uint64_t kMaxEntries = 1 << 20;
  if (flavor == static_cast<uint8_t>(GtidFlavor::kMariaDb)) {
    GtidSet set(GtidFlavor::kMariaDb);
    PHONY_ASSIGN_OR_RETURN(uint64_t n, r.ReadVarint64());
    PHONY_RETURN_IF_ERROR(r.CheckCount(n, kMaxEntries, "GTID domain count"));
    for (uint64_t i = 0; i < n; ++i) {
      PHONY_ASSIGN_OR_RETURN(uint32_t domain, GetU32(r, "gtid domain"));
      PHONY_ASSIGN_OR_RETURN(uint32_t server, GetU32(r, "gtid server id"));
      PHONY_ASSIGN_OR_RETURN(uint64_t seq, r.ReadVarint64());
      PHONY_RETURN_IF_ERROR(set.Add(Gtid::MariaDb(domain, server, seq)));
    }
    return set;
  }
  if (flavor != static_cast<uint8_t>(GtidFlavor::kMySql)) {
    return r.Error("unknown GTID set flavor " + std::to_string(flavor));
  }
  GtidSet set(GtidFlavor::kMySql);
  PHONY_ASSIGN_OR_RETURN(uint64_t n, r.ReadVarint64());
  PHONY_RETURN_IF_ERROR(r.CheckCount(n, kMaxEntries, "GTID source count"));
  for (uint64_t i = 0; i < n; ++i) {
    PHONY_ASSIGN_OR_RETURN(std::string_view u, r.ReadBytes(16));
    Uuid16 uuid;
    std::memcpy(uuid.data(), u.data(), 16);
    PHONY_ASSIGN_OR_RETURN(std::string tag, GetString(r));
    PHONY_ASSIGN_OR_RETURN(uint64_t nint, r.ReadVarint64());
    PHONY_RETURN_IF_ERROR(r.CheckCount(nint, kMaxEntries, "GTID interval count"));
    for (uint64_t j = 0; j < nint; ++j) {
      PHONY_ASSIGN_OR_RETURN(uint64_t a, r.ReadVarint64());
      PHONY_ASSIGN_OR_RETURN(uint64_t b, r.ReadVarint64());
      absl::Status s = set.AddInterval(uuid, tag, a, b);
      if (!s.ok()) return r.Error(std::string(s.message()));
    }
  }
  return set;
}

void EncodeEvent(const Event& event, std::string* out) {
  PutU8(out, kEventFormatV1);
  if (const auto* b = std::get_if<TxBegin>(&event)) {
    PutU8(out, kTypeBegin);
    EncodePosition(b->position, out);
    PutVarint64(out, b->xid);
    PutSignedVarint64(out, b->commit_ts_us);
  } else if (const auto* c = std::get_if<TxCommit>(&event)) {
    PutU8(out, kTypeCommit);
    EncodePosition(c->position, out);
    PutVarint64(out, c->xid);
    PutSignedVarint64(out, c->commit_ts_us);
    PutVarint64(out, c->event_count);
  } else if (const auto* s = std::get_if<SchemaEvent>(&event)) {
    PutU8(out, HasFkActions(s->schema) ? kTypeSchemaWithActions : kTypeSchema);
    EncodePosition(s->position, out);
    EncodeSchema(s->schema, out);
  } else {
    const auto& ch = std::get<ChangeEvent>(event);
    PutU8(out, kTypeChange);
    EncodePosition(ch.position, out);
    PutU8(out, static_cast<uint8_t>(ch.op));
    PutU8(out, ch.flags);
    EncodeTableId(ch.table, out);
    PutVarint64(out, ch.truncated.size());
    for (const TableId& t : ch.truncated) EncodeTableId(t, out);
    PutVarint64(out, ch.schema_version);
    PutVarint64(out, ch.key_columns.size());
    for (uint16_t k : ch.key_columns) PutVarint64(out, k);
    PutSignedVarint64(out, ch.commit_ts_us);
    EncodeRow(ch.before, out);
    EncodeRow(ch.after, out);
  }
}

absl::StatusOr<Event> DecodeEvent(std::string_view bytes) {
  ByteReader r(bytes, "internal event");
  PHONY_ASSIGN_OR_RETURN(uint8_t format, r.ReadU8());
  if (format != kEventFormatV1) {
    return r.Error("unsupported event format " + std::to_string(format) +
                   " (this build reads format " + std::to_string(kEventFormatV1) + ")");
  }
  PHONY_ASSIGN_OR_RETURN(uint8_t type, r.ReadU8());
  PHONY_ASSIGN_OR_RETURN(EventPosition position, DecodePosition(r));
  Event out;
  switch (type) {
    case kTypeBegin: {
      TxBegin b;
      b.position = std::move(position);
      PHONY_ASSIGN_OR_RETURN(b.xid, r.ReadVarint64());
      PHONY_ASSIGN_OR_RETURN(b.commit_ts_us, r.ReadSignedVarint64());
      out = std::move(b);
      break;
    }
    case kTypeCommit: {
      TxCommit c;
      c.position = std::move(position);
      PHONY_ASSIGN_OR_RETURN(c.xid, r.ReadVarint64());
      PHONY_ASSIGN_OR_RETURN(c.commit_ts_us, r.ReadSignedVarint64());
      PHONY_ASSIGN_OR_RETURN(c.event_count, r.ReadVarint64());
      out = std::move(c);
      break;
    }
    case kTypeSchema:
    case kTypeSchemaWithActions: {
      SchemaEvent s;
      s.position = std::move(position);
      PHONY_ASSIGN_OR_RETURN(s.schema, DecodeSchema(r, type == kTypeSchemaWithActions));
      out = std::move(s);
      break;
    }
    case kTypeChange: {
      ChangeEvent c;
      c.position = std::move(position);
      PHONY_ASSIGN_OR_RETURN(uint8_t op, r.ReadU8());
      if (op < static_cast<uint8_t>(ChangeOp::kInsert) || op > static_cast<uint8_t>(ChangeOp::kRead)) {
        return r.Error("unknown change op " + std::to_string(op));
      }
      c.op = static_cast<ChangeOp>(op);
      PHONY_ASSIGN_OR_RETURN(c.flags, r.ReadU8());
      if (c.flags & ~0x07) return r.Error("unknown change flags " + std::to_string(c.flags));
      PHONY_ASSIGN_OR_RETURN(c.table, DecodeTableId(r));
      PHONY_ASSIGN_OR_RETURN(uint64_t ntrunc, r.ReadVarint64());
      PHONY_RETURN_IF_ERROR(r.CheckCount(ntrunc, kMaxTruncatedTables, "truncated table count"));
      for (uint64_t i = 0; i < ntrunc; ++i) {
        PHONY_ASSIGN_OR_RETURN(TableId t, DecodeTableId(r));
        c.truncated.push_back(std::move(t));
      }
      PHONY_ASSIGN_OR_RETURN(c.schema_version, GetU32(r, "schema version"));
      PHONY_ASSIGN_OR_RETURN(uint64_t nkeys, r.ReadVarint64());
      PHONY_RETURN_IF_ERROR(r.CheckCount(nkeys, kMaxColumns, "key column count"));
      for (uint64_t i = 0; i < nkeys; ++i) {
        PHONY_ASSIGN_OR_RETURN(uint32_t k, GetU32(r, "key column"));
        if (k >= kMaxColumns) return r.Error("key column index out of range");
        c.key_columns.push_back(static_cast<uint16_t>(k));
      }
      PHONY_ASSIGN_OR_RETURN(c.commit_ts_us, r.ReadSignedVarint64());
      PHONY_ASSIGN_OR_RETURN(c.before, DecodeRow(r));
      PHONY_ASSIGN_OR_RETURN(c.after, DecodeRow(r));
      out = std::move(c);
      break;
    }
    default:
      return r.Error("unknown event type " + std::to_string(type));
  }
  PHONY_RETURN_IF_ERROR(r.ExpectEnd());
  return out;
}

}  // namespace phony
