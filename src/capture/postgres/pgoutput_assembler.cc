#include "src/capture/postgres/pgoutput_assembler.h"

#include <string>
#include <utility>

#include "core/status_macros.h"
#include "src/capture/postgres/pg_values.h"

namespace phony::pg {
namespace {

// format_type()'s names for the built-in types we map; other types take the
// name from a Type message, or "oid:N" until the catalog names them.
const char* BuiltinTypeName(uint32_t oid) {
  switch (oid) {
    case kBoolOid: return "boolean";
    case kByteaOid: return "bytea";
    case kCharOid: return "\"char\"";
    case kNameOid: return "name";
    case kInt8Oid: return "bigint";
    case kInt2Oid: return "smallint";
    case kInt4Oid: return "integer";
    case kTextOid: return "text";
    case kOidOid: return "oid";
    case kJsonOid: return "json";
    case kXmlOid: return "xml";
    case kPointOid: return "point";
    case kFloat4Oid: return "real";
    case kFloat8Oid: return "double precision";
    case kMoneyOid: return "money";
    case kBpcharOid: return "character";
    case kVarcharOid: return "character varying";
    case kDateOid: return "date";
    case kTimeOid: return "time without time zone";
    case kTimestampOid: return "timestamp without time zone";
    case kTimestampTzOid: return "timestamp with time zone";
    case kIntervalOid: return "interval";
    case kTimeTzOid: return "time with time zone";
    case kNumericOid: return "numeric";
    case kUuidOid: return "uuid";
    case kJsonbOid: return "jsonb";
    case 650: return "cidr";
    case 869: return "inet";
    case 829: return "macaddr";
    case 774: return "macaddr8";
    case 1560: return "bit";
    case 1562: return "bit varying";
    default: return nullptr;
  }
}

bool SameShape(const TableSchema& a, const TableSchema& b) {
  return a.id == b.id && a.columns == b.columns && a.replica_identity == b.replica_identity;
}

ReplicaIdentity IdentityFromChar(char c) {
  switch (c) {
    case 'n': return ReplicaIdentity::kNothing;
    case 'f': return ReplicaIdentity::kFull;
    case 'i': return ReplicaIdentity::kIndex;
    default: return ReplicaIdentity::kDefault;
  }
}

}  // namespace

PgoutputAssembler::PgoutputAssembler(Options options)
    : options_(std::move(options)), types_(options_.describe_type) {}

void PgoutputAssembler::SeedSchema(uint32_t relation_oid, TableSchema schema) {
  std::vector<uint32_t> oids;
  for (const auto& c : schema.columns) {
    auto effective = types_.Effective(c.type_id);  // the Relation message will say again
    oids.push_back(effective.ok() ? *effective : c.type_id);
  }
  type_oids_[relation_oid] = std::move(oids);
  key_columns_[relation_oid] = schema.KeyColumns();
  schemas_[relation_oid] = std::move(schema);
}

void PgoutputAssembler::ResetStream() {
  // Schema events of the dropped transactions (and of batches the caller
  // could not publish) may be lost: announce every table again.
  for (const auto& [oid, schema] : schemas_) reannounce_.insert(oid);
  in_stream_ = false;
  stream_xid_ = 0;
  current_.reset();
  streams_.clear();
  completed_.clear();
  buffered_bytes_ = 0;
}

PgoutputAssembler::OpenTx* PgoutputAssembler::StreamTx(std::optional<uint32_t>) {
  auto it = streams_.find(stream_xid_);
  return it == streams_.end() ? nullptr : &it->second;
}

absl::StatusOr<Row> PgoutputAssembler::ParseTuple(const PgTuple& tuple, const TableSchema& schema,
                                                  const std::vector<uint32_t>& type_oids,
                                                  const char* what) {
  if (tuple.size() != schema.columns.size()) {
    return absl::DataLossError(std::string("pgoutput ") + what + " for " +
                               schema.id.QualifiedName() + " has " + std::to_string(tuple.size()) +
                               " columns; its Relation message has " +
                               std::to_string(schema.columns.size()));
  }
  Row row;
  row.reserve(tuple.size());
  for (size_t i = 0; i < tuple.size(); ++i) {
    switch (tuple[i].kind) {
      case TupleColumnKind::kNull:
        row.push_back(Value::Null());
        break;
      case TupleColumnKind::kUnchanged:
        row.push_back(Value::Unchanged());
        break;
      case TupleColumnKind::kBinary:
      case TupleColumnKind::kText: {
        auto v = tuple[i].kind == TupleColumnKind::kText
                     ? ParseTextValue(type_oids[i], tuple[i].data)
                     : ParseBinaryValue(type_oids[i], tuple[i].data, &types_);
        if (!v.ok()) {
          return absl::Status(v.status().code() == absl::StatusCode::kUnimplemented
                                  ? absl::StatusCode::kUnimplemented
                                  : absl::StatusCode::kDataLoss,
                              std::string("pgoutput ") + what + " for " +
                                     schema.id.QualifiedName() + " column " +
                                     schema.columns[i].name + ": " +
                                     std::string(v.status().message()));
        }
        row.push_back(std::move(*v));
        break;
      }
    }
  }
  return row;
}

absl::Status PgoutputAssembler::OnRelation(const PgRelation& rel, OpenTx* tx, uint32_t) {
  TableSchema s;
  s.id = TableId{options_.database, rel.nspname.empty() ? "pg_catalog" : std::string(rel.nspname),
                 std::string(rel.relname)};
  s.replica_identity = IdentityFromChar(rel.replica_identity);
  std::vector<uint32_t> oids;
  uint16_t key_ordinal = 0;
  for (const PgRelationColumn& c : rel.columns) {
    ColumnDef col;
    col.name = std::string(c.name);
    if (const char* builtin = BuiltinTypeName(c.type_oid)) {
      col.type_name = builtin;
    } else if (auto it = type_names_.find(c.type_oid); it != type_names_.end()) {
      col.type_name = it->second;
    } else {
      col.type_name = "oid:" + std::to_string(c.type_oid);
    }
    // A domain's values are its base type's (the catalog says which).
    PHONY_ASSIGN_OR_RETURN(const uint32_t effective, types_.Effective(c.type_oid));
    col.kind = KindForType(effective);
    col.type_id = c.type_oid;
    col.type_modifier = c.type_modifier;
    col.key_ordinal = c.is_key ? ++key_ordinal : 0;
    s.columns.push_back(std::move(col));
    oids.push_back(effective);
  }
  // Compare with what the previous Relation message said (the emitted schema
  // is enriched from the catalog and differs in type names and nullability).
  if (auto shape = shapes_.find(rel.oid); shape != shapes_.end() && SameShape(shape->second, s)) {
    // Re-sent after a reconnect or cache invalidation: nothing new, unless
    // the last announcement may have been lost.
    return Reannounce(rel.oid, tx);
  }
  const TableSchema shape = s;
  auto it = schemas_.find(rel.oid);
  s.version = it == schemas_.end() ? 1 : it->second.version + 1;
  if (options_.enrich) PHONY_RETURN_IF_ERROR(options_.enrich(rel.oid, &s));
  // Only now, with the event about to exist, is the shape known: a failed
  // enrichment leaves the next identical Relation message to try again.
  shapes_[rel.oid] = shape;
  key_columns_[rel.oid] = s.KeyColumns();
  schemas_[rel.oid] = s;
  type_oids_[rel.oid] = std::move(oids);
  reannounce_.erase(rel.oid);
  tx->schema_oids.insert(rel.oid);
  SchemaEvent event;
  event.schema = std::move(s);
  // Schema events are never discarded with an aborted subtransaction: the
  // cache already holds the new shape.
  return Push(tx, std::move(event), 0);
}

absl::Status PgoutputAssembler::Reannounce(uint32_t oid, OpenTx* tx) {
  if (reannounce_.erase(oid) == 0) return absl::OkStatus();
  tx->schema_oids.insert(oid);
  return Push(tx, SchemaEvent{EventPosition(), schemas_.at(oid)}, 0);
}

absl::Status PgoutputAssembler::OnChange(const PgMessage& m, OpenTx* tx, uint32_t subxid) {
  auto lookup = [&](uint32_t oid) -> absl::StatusOr<uint32_t> {
    if (schemas_.count(oid) == 0) {
      return absl::DataLossError("pgoutput change for relation OID " + std::to_string(oid) +
                                 " without a preceding Relation message");
    }
    return oid;
  };
  ChangeEvent c;
  // Insert, Update and Delete name one relation: fills the event's table
  // fields and returns its OID.
  auto start_row_change = [&](uint32_t relation_oid, ChangeOp op) -> absl::StatusOr<uint32_t> {
    PHONY_ASSIGN_OR_RETURN(uint32_t oid, lookup(relation_oid));
    PHONY_RETURN_IF_ERROR(Reannounce(oid, tx));
    const TableSchema& s = schemas_[oid];
    c.op = op;
    c.table = s.id;
    c.schema_version = s.version;
    c.key_columns = key_columns_[oid];
    return oid;
  };
  if (const auto* ins = std::get_if<PgInsert>(&m)) {
    PHONY_ASSIGN_OR_RETURN(uint32_t oid, start_row_change(ins->relation_oid, ChangeOp::kInsert));
    PHONY_ASSIGN_OR_RETURN(Row after, ParseTuple(ins->new_tuple, schemas_[oid], type_oids_[oid], "Insert"));
    c.after = std::move(after);
  } else if (const auto* upd = std::get_if<PgUpdate>(&m)) {
    PHONY_ASSIGN_OR_RETURN(uint32_t oid, start_row_change(upd->relation_oid, ChangeOp::kUpdate));
    if (upd->old_kind != 0) {
      PHONY_ASSIGN_OR_RETURN(Row before, ParseTuple(upd->old_tuple, schemas_[oid], type_oids_[oid], "Update"));
      c.before = std::move(before);
    }
    PHONY_ASSIGN_OR_RETURN(Row after, ParseTuple(upd->new_tuple, schemas_[oid], type_oids_[oid], "Update"));
    c.after = std::move(after);
  } else if (const auto* del = std::get_if<PgDelete>(&m)) {
    PHONY_ASSIGN_OR_RETURN(uint32_t oid, start_row_change(del->relation_oid, ChangeOp::kDelete));
    PHONY_ASSIGN_OR_RETURN(Row before, ParseTuple(del->old_tuple, schemas_[oid], type_oids_[oid], "Delete"));
    c.before = std::move(before);
  } else if (const auto* tr = std::get_if<PgTruncate>(&m)) {
    if (tr->relation_oids.empty()) return absl::DataLossError("pgoutput Truncate of no relations");
    c.op = ChangeOp::kTruncate;
    for (uint32_t oid : tr->relation_oids) {
      PHONY_RETURN_IF_ERROR(lookup(oid).status());
      PHONY_RETURN_IF_ERROR(Reannounce(oid, tx));
      c.truncated.push_back(schemas_[oid].id);
    }
    c.table = c.truncated.front();
    c.schema_version = schemas_[tr->relation_oids.front()].version;
    if (tr->options & kTruncateCascade) c.flags |= kFlagTruncateCascade;
    if (tr->options & kTruncateRestartIdentity) c.flags |= kFlagTruncateRestartIdentity;
  }
  if (subxid != 0 && tx->first_index.count(subxid) == 0) {
    tx->first_index[subxid] = tx->total();
  }
  ++tx->change_count;
  return Push(tx, std::move(c), subxid);
}

absl::Status PgoutputAssembler::Push(OpenTx* tx, Event event, uint32_t subxid) {
  const size_t bytes = ApproximateSize(event);
  buffered_bytes_ += bytes;
  tx->events.push_back(Pending{std::move(event), subxid, bytes});
  if (buffered_bytes_ > options_.spill_threshold_bytes) return Spill(tx);
  return absl::OkStatus();
}

absl::Status PgoutputAssembler::Spill(OpenTx* tx) {
  if (!tx->spill) {
    PHONY_ASSIGN_OR_RETURN(tx->spill, SpillFile::Create(options_.spill_dir));
  }
  const uint64_t base = tx->spill->count();
  // Subtransactions starting in the part being spilled: remember where.
  std::unordered_map<uint64_t, uint32_t> starts;
  for (const auto& [subxid, index] : tx->first_index) {
    if (index >= base && index < base + tx->events.size()) starts[index] = subxid;
  }
  for (size_t i = 0; i < tx->events.size(); ++i) {
    if (auto it = starts.find(base + i); it != starts.end()) {
      tx->first_spill_pos[it->second] = {tx->spill->size(), tx->spill->count()};
    }
    PHONY_RETURN_IF_ERROR(tx->spill->Append(tx->events[i].subxid, tx->events[i].event));
    buffered_bytes_ -= tx->events[i].bytes;
  }
  spilled_events_ += tx->events.size();
  tx->events.clear();
  return absl::OkStatus();
}

absl::Status PgoutputAssembler::AbortSubtransaction(OpenTx* tx, uint32_t subxid) {
  auto first = tx->first_index.find(subxid);
  if (first == tx->first_index.end()) return absl::OkStatus();  // it changed nothing we hold
  // Everything from the subtransaction's first change on belongs to it or
  // to its children: a backend makes no other change while a subtransaction
  // is open, and later changes are streamed after the abort. Schema events
  // stay (the relation cache already moved on).
  const uint64_t k = first->second;
  const uint64_t spilled = tx->spill ? tx->spill->count() : 0;
  std::vector<Pending> kept;
  size_t discard_from = 0;
  if (k < spilled) {
    const auto pos = tx->first_spill_pos.at(subxid);
    PHONY_ASSIGN_OR_RETURN(SpillFile::Truncated cut, tx->spill->TruncateTo(pos.first, pos.second));
    tx->change_count -= cut.removed - cut.schema_events.size();
    for (Event& e : cut.schema_events) {
      const size_t bytes = ApproximateSize(e);
      buffered_bytes_ += bytes;
      kept.push_back(Pending{std::move(e), 0, bytes});
    }
  } else {
    discard_from = static_cast<size_t>(k - spilled);
    for (size_t i = 0; i < discard_from; ++i) kept.push_back(std::move(tx->events[i]));
  }
  for (size_t i = discard_from; i < tx->events.size(); ++i) {
    Pending& p = tx->events[i];
    if (std::holds_alternative<SchemaEvent>(p.event)) {
      kept.push_back(std::move(p));
    } else {
      buffered_bytes_ -= p.bytes;
      --tx->change_count;
    }
  }
  tx->events = std::move(kept);
  for (auto it = tx->first_index.begin(); it != tx->first_index.end();) {
    if (it->second >= k) {
      tx->first_spill_pos.erase(it->first);
      it = tx->first_index.erase(it);
    } else {
      ++it;
    }
  }
  return absl::OkStatus();
}

void PgoutputAssembler::Complete(OpenTx tx, Lsn commit_end, FeedResult* result) {
  if (tx.total() == 0) {
    result->empty_commit_end = commit_end;
    return;
  }
  completed_.push_back(Completed{std::move(tx), commit_end});
}

namespace {
void Place(Event& e, Lsn end, uint64_t seq, int64_t ts) {
  if (auto* c = std::get_if<ChangeEvent>(&e)) {
    c->position = EventPosition::Postgres(end, seq);
    c->commit_ts_us = ts;
  } else if (auto* s = std::get_if<SchemaEvent>(&e)) {
    s->position = EventPosition::Postgres(end, seq);
  }
}
}  // namespace

absl::Status PgoutputAssembler::Drain(std::vector<Event>* out) {
  size_t emitted = 0;
  while (!completed_.empty() && emitted < options_.max_emit_events) {
    Completed& d = completed_.front();
    OpenTx& tx = d.tx;
    ++emitted;
    if (!d.begun) {
      d.begun = true;
      out->push_back(TxBegin{EventPosition::Postgres(d.commit_end, d.seq++), tx.xid, tx.commit_ts_us});
      continue;
    }
    if (tx.spill) {
      PHONY_ASSIGN_OR_RETURN(auto rec, tx.spill->ReadNext());
      if (rec) {
        Place(rec->second, d.commit_end, d.seq++, tx.commit_ts_us);
        out->push_back(std::move(rec->second));
        continue;
      }
      tx.spill.reset();  // read to the end: close (and so delete) it
    }
    if (d.mem_index < tx.events.size()) {
      Pending& p = tx.events[d.mem_index++];
      buffered_bytes_ -= p.bytes;
      Place(p.event, d.commit_end, d.seq++, tx.commit_ts_us);
      out->push_back(std::move(p.event));
      continue;
    }
    out->push_back(TxCommit{EventPosition::Postgres(d.commit_end, d.seq), tx.xid, tx.commit_ts_us,
                            tx.change_count});
    completed_.pop_front();
  }
  return absl::OkStatus();
}

absl::StatusOr<PgoutputAssembler::FeedResult> PgoutputAssembler::Feed(std::string_view message,
                                                                      std::vector<Event>* out) {
  const DecodeContext ctx{options_.protocol_version, in_stream_, options_.parallel_streaming};
  PHONY_ASSIGN_OR_RETURN(PgMessage m, DecodePgoutputMessage(message, ctx));
  FeedResult result;
  auto protocol_error = [](const std::string& what) {
    return absl::DataLossError("pgoutput protocol: " + what);
  };
  // The transaction a data message belongs to.
  auto target = [&](std::optional<uint32_t> xid) -> OpenTx* {
    if (in_stream_) return xid ? StreamTx(xid) : nullptr;
    return current_ ? &*current_ : nullptr;
  };

  if (const auto* b = std::get_if<PgBegin>(&m)) {
    if (current_ || in_stream_) return protocol_error("Begin inside an open transaction");
    current_ = OpenTx{};
    current_->xid = b->xid;
    current_->commit_ts_us = b->commit_ts_us;
  } else if (const auto* c = std::get_if<PgCommit>(&m)) {
    if (!current_) return protocol_error("Commit without Begin");
    current_->commit_ts_us = c->commit_ts_us;
    Complete(std::move(*current_), c->end_lsn, &result);
    current_.reset();
  } else if (const auto* rel = std::get_if<PgRelation>(&m)) {
    OpenTx* tx = target(rel->xid);
    if (tx == nullptr) return protocol_error("Relation outside a transaction");
    PHONY_RETURN_IF_ERROR(OnRelation(*rel, tx, rel->xid.value_or(0)));
  } else if (const auto* ty = std::get_if<PgType>(&m)) {
    type_names_[ty->oid] = (ty->nspname.empty() ? std::string() : std::string(ty->nspname) + ".") +
                           std::string(ty->name);
  } else if (std::holds_alternative<PgInsert>(m) || std::holds_alternative<PgUpdate>(m) ||
             std::holds_alternative<PgDelete>(m) || std::holds_alternative<PgTruncate>(m)) {
    std::optional<uint32_t> xid = std::visit(
        [](const auto& x) -> std::optional<uint32_t> {
          if constexpr (requires { x.xid; }) return x.xid;
          return std::nullopt;
        },
        m);
    OpenTx* tx = target(xid);
    if (tx == nullptr) return protocol_error("change outside a transaction");
    PHONY_RETURN_IF_ERROR(OnChange(m, tx, xid.value_or(0)));
  } else if (const auto* ss = std::get_if<PgStreamStart>(&m)) {
    if (current_) return protocol_error("Stream Start inside a non-streamed transaction");
    const bool known = streams_.count(ss->xid) != 0;
    if (ss->first_segment && known) {
      return protocol_error("first Stream Start for transaction " + std::to_string(ss->xid) +
                            ", which is already streaming");
    }
    if (!ss->first_segment && !known) {
      return protocol_error("Stream Start continues unknown transaction " + std::to_string(ss->xid));
    }
    if (!known) streams_[ss->xid].xid = ss->xid;
    in_stream_ = true;
    stream_xid_ = ss->xid;
  } else if (std::holds_alternative<PgStreamStop>(m)) {
    in_stream_ = false;
  } else if (const auto* sc = std::get_if<PgStreamCommit>(&m)) {
    if (in_stream_) return protocol_error("Stream Commit inside a stream block");
    auto it = streams_.find(sc->xid);
    if (it == streams_.end()) {
      return protocol_error("Stream Commit for unknown transaction " + std::to_string(sc->xid));
    }
    it->second.commit_ts_us = sc->commit_ts_us;
    Complete(std::move(it->second), sc->end_lsn, &result);
    streams_.erase(it);
  } else if (const auto* sa = std::get_if<PgStreamAbort>(&m)) {
    auto it = streams_.find(sa->xid);
    if (it != streams_.end()) {
      if (sa->subxid == sa->xid) {
        for (const Pending& p : it->second.events) buffered_bytes_ -= p.bytes;
        // Its schema events go with it, but the caches already hold them.
        reannounce_.insert(it->second.schema_oids.begin(), it->second.schema_oids.end());
        streams_.erase(it);  // closes (and so deletes) its spill file
      } else {
        PHONY_RETURN_IF_ERROR(AbortSubtransaction(&it->second, sa->subxid));
      }
    }
    // An abort for a transaction we hold nothing of is fine: it may have
    // streamed nothing for the published tables.
  } else if (std::holds_alternative<PgBeginPrepare>(m) || std::holds_alternative<PgPrepare>(m) ||
             std::holds_alternative<PgCommitPrepared>(m) ||
             std::holds_alternative<PgRollbackPrepared>(m)) {
    return absl::FailedPreconditionError(
        "pgoutput sent a two-phase message: the slot decodes prepared transactions (two_phase "
        "on); Phony Sync needs a slot with two_phase off so prepared transactions arrive at "
        "COMMIT PREPARED");
  }
  // Origin and logical messages carry nothing for the change stream:
  // message payloads never reach it (DESIGN.md "Anonymization").
  PHONY_RETURN_IF_ERROR(Drain(out));
  return result;
}

}  // namespace phony::pg
