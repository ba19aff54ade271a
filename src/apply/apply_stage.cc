#include "src/apply/apply_stage.h"

#include <deque>
#include <utility>
#include <variant>

#include "absl/container/flat_hash_map.h"
#include "absl/time/clock.h"
#include "core/event_codec.h"
#include "core/status_macros.h"
#include "src/apply/apply_util.h"
#include "spdlog/spdlog.h"

namespace phony::apply {

struct ApplyStage::Part {
  std::optional<EventPosition> committed_pos;
  int64_t committed_next = -1;
  // Highest position processed, including the open staging transaction.
  std::optional<EventPosition> applied_pos;
  std::optional<EventPosition> prev_pos;  // before the event being applied
  // One past the last offset of the last delivery fully processed.
  int64_t processed_next = -1;
  // Deliveries fully processed since the last commit: durable at the next.
  std::vector<KafkaOffset> processed;
  bool in_tx = false;
  std::optional<EventPosition> tx_begin;  // of the source transaction being read
  bool dirty = false;
  // After a bulk failure: events up to here are applied one at a time.
  std::optional<EventPosition> exact_until;
  // N partitions: waiting at a truncate's barrier (its position), with what
  // was delivered from the truncate on, to apply once every partition is there.
  std::optional<EventPosition> waiting_at;
  std::deque<Delivery> held;
};

struct ApplyStage::Chunk {
  enum class Kind : uint8_t { kUpsert, kDelete, kPartial, kAppend };
  struct Entry {
    Kind kind;
    bool from_insert = false;
    Row row;
  };
  struct Table {
    const TableSchema* schema = nullptr;
    std::vector<Entry> entries;
    absl::flat_hash_map<std::string, size_t> by_key;
  };
  std::map<TableId, Table> tables;
  size_t rows = 0;
};

namespace {

std::string KeyBytes(const Row& row, const std::vector<uint16_t>& key_columns) {
  std::string out;
  for (uint16_t i : key_columns) EncodeValue(row[i], &out);
  return out;
}

// A row aligned with `from` re-aligned with `to` by column name; columns
// `to` has and `from` lacks are kUnchanged (left as staging has them).
Row Project(const Row& row, const TableSchema& from, const TableSchema& to) {
  Row out;
  out.reserve(to.columns.size());
  for (const ColumnDef& c : to.columns) {
    const int i = from.ColumnIndex(c.name);
    out.push_back(i >= 0 && static_cast<size_t>(i) < row.size() ? row[static_cast<size_t>(i)] : Value::Unchanged());
  }
  return out;
}

// Key-only row: the key columns of `row`, null elsewhere.
Row KeyOnly(const Row& row, const std::vector<uint16_t>& key_columns) {
  Row out(row.size());
  for (uint16_t i : key_columns) out[i] = row[i];
  return out;
}

}  // namespace

ApplyStage::ApplyStage(StagingWriter* writer, ApplyOptions options)
    : writer_(writer), options_(std::move(options)), chunk_(std::make_unique<Chunk>()) {}

ApplyStage::~ApplyStage() = default;

absl::Status ApplyStage::Start() { return Rewind(); }

absl::Status ApplyStage::Rewind() {
  writer_->Rollback();
  open_ = false;
  chunk_ = std::make_unique<Chunk>();
  tx_in_batch_ = rows_in_batch_ = 0;
  PHONY_RETURN_IF_ERROR(writer_->Connect());
  PHONY_ASSIGN_OR_RETURN(ProgressMap stored, writer_->LoadProgress());
  PHONY_ASSIGN_OR_RETURN(std::vector<TableSchema> tables, writer_->LoadAppliedSchemas());
  for (auto& [sp, part] : parts_) {
    std::optional<EventPosition> exact = part->exact_until;
    if (part->waiting_at) flow_.push_back({sp, true});
    *part = Part();
    part->exact_until = std::move(exact);
  }
  for (const auto& [sp, progress] : stored) {
    auto& part = parts_[sp];
    if (!part) part = std::make_unique<Part>();
    part->committed_pos = part->applied_pos = progress.position;
    part->committed_next = part->processed_next = progress.next_offset;
  }
  applied_.clear();
  for (TableSchema& t : tables) {
    schemas_.try_emplace({t.id, t.version}, t);
    applied_[t.id] = std::move(t);
  }
  return absl::OkStatus();
}

void ApplyStage::LearnSchema(const TableSchema& schema) { schemas_.insert_or_assign({schema.id, schema.version}, schema); }

int64_t ApplyStage::StartOffset(const StreamPartition& stream) const {
  auto it = parts_.find(stream);
  return it == parts_.end() ? -1 : it->second->committed_next;
}

const TableSchema* ApplyStage::FindSchema(const TableId& table, uint32_t version) const {
  auto it = schemas_.find({table, version});
  return it == schemas_.end() ? nullptr : &it->second;
}

std::vector<std::pair<StreamPartition, bool>> ApplyStage::TakeFlowChanges() {
  std::vector<std::pair<StreamPartition, bool>> out;
  out.swap(flow_);
  return out;
}

bool ApplyStage::waiting_at_barrier() const {
  for (const auto& [sp, part] : parts_) {
    if (part->waiting_at) return true;
  }
  return false;
}

bool ApplyStage::AtBoundary() const {
  for (const auto& [sp, part] : parts_) {
    if (part->in_tx) return false;
  }
  return true;
}

absl::Status ApplyStage::Fail(absl::Status s) {
  if (!absl::IsInvalidArgument(s)) return s;
  // The bulk path met data staging refuses. Re-read everything of the open
  // transaction one event at a time to find the culprit.
  for (auto& [sp, part] : parts_) {
    if (part->dirty && part->applied_pos) part->exact_until = part->applied_pos;
  }
  spdlog::warn("apply: a bulk write failed ({}); re-reading the transaction one event at a time",
               std::string(s.message()));
  return absl::AbortedError("bulk write failed: " + std::string(s.message()));
}

absl::Status ApplyStage::HaltAt(absl::Status why, const DeadLetter* letter) {
  {
    const Part& p = *parts_.at(current_);
    const auto& part = &p;
    Halt h{.stream = current_, .at = part->in_tx && part->tx_begin ? *part->tx_begin : *part->applied_pos,
           .status = why};
    if (letter != nullptr) {
      h.event = *letter->event;
      h.schema = *letter->schema;
      h.offset = letter->offset;
      h.error = letter->error;
    }
    halt_ = std::move(h);
  }
  spdlog::error("apply: {}", std::string(why.message()));
  return absl::AbortedError("committing what comes before it, then stopping");
}

absl::Status ApplyStage::EnsureOpen() {
  if (open_) return absl::OkStatus();
  PHONY_RETURN_IF_ERROR(writer_->Begin());
  open_ = true;
  opened_at_ = absl::Now();
  return absl::OkStatus();
}

absl::Status ApplyStage::ApplySchema(const TableSchema& schema) {
  PHONY_RETURN_IF_ERROR(FlushChunk());
  if (writer_->DdlCommits() && open_) {
    // The DDL will commit whatever is open: commit it first, with the
    // progress up to the event before this one.
    Part& cur = *parts_.at(current_);
    const std::optional<EventPosition> now = cur.applied_pos;
    cur.applied_pos = cur.prev_pos;
    absl::Status s = Commit(durable_);
    cur.applied_pos = now;
    cur.dirty = true;
    PHONY_RETURN_IF_ERROR(s);
  }
  PHONY_RETURN_IF_ERROR(EnsureOpen());
  auto it = applied_.find(schema.id);
  const TableSchema* prior = it == applied_.end() ? nullptr : &it->second;
  absl::Status s = writer_->ApplySchema(schema, prior);
  if (!s.ok()) {
    if (absl::IsUnavailable(s) || absl::IsAborted(s)) return s;
    // Staging cannot follow: commit everything before this source
    // transaction, then stop there.
    return HaltAt(absl::FailedPreconditionError("staging cannot take version " + std::to_string(schema.version) +
                                                " of " + schema.id.QualifiedName() + ": " + std::string(s.message())),
                  nullptr);
  }
  applied_.insert_or_assign(schema.id, schema);
  ++stats_.schema_changes;
  spdlog::info("apply: staging table {} is now at version {}", schema.id.QualifiedName(), schema.version);
  return absl::OkStatus();
}

absl::Status ApplyStage::EnsureTable(const TableId& table, uint32_t version) {
  auto it = applied_.find(table);
  if (it != applied_.end() && it->second.version >= version) return absl::OkStatus();
  const TableSchema* schema = FindSchema(table, version);
  if (schema == nullptr) {
    return absl::DataLossError("the stream names version " + std::to_string(version) + " of " +
                               table.QualifiedName() + ", which no schema event described");
  }
  return ApplySchema(*schema);
}

absl::Status ApplyStage::FlushChunk() {
  if (chunk_->rows == 0) return absl::OkStatus();
  for (auto& [id, table] : chunk_->tables) {
    TableChanges changes;
    changes.schema = table.schema;
    for (Chunk::Entry& e : table.entries) {
      switch (e.kind) {
        case Chunk::Kind::kUpsert:
          changes.inserts_only = changes.inserts_only && e.from_insert;
          changes.upserts.push_back(std::move(e.row));
          break;
        case Chunk::Kind::kDelete:
          changes.deletes.push_back(std::move(e.row));
          break;
        case Chunk::Kind::kPartial:
          changes.partial_updates.push_back(std::move(e.row));
          break;
        case Chunk::Kind::kAppend:
          changes.appends.push_back(std::move(e.row));
          break;
      }
    }
    if (changes.size() == 0) continue;
    if (absl::Status s = writer_->WriteChanges(changes); !s.ok()) {
      chunk_ = std::make_unique<Chunk>();
      return Fail(std::move(s));
    }
  }
  chunk_ = std::make_unique<Chunk>();
  return absl::OkStatus();
}

absl::Status ApplyStage::ApplyOne(const ChangeEvent& event, const TableSchema& applied, bool exact,
                                  const StreamPartition& sp, const Delivery& delivery) {
  PHONY_RETURN_IF_ERROR(FlushChunk());
  if (!exact) {
    absl::Status s = writer_->ApplyEvent(event, applied);
    return s.ok() ? s : Fail(std::move(s));
  }
  ++stats_.exact_events;
  PHONY_RETURN_IF_ERROR(writer_->Mark());
  absl::Status s = writer_->ApplyEvent(event, applied);
  if (s.ok()) return writer_->Release();
  if (!absl::IsInvalidArgument(s)) return s;
  PHONY_RETURN_IF_ERROR(writer_->Undo());
  DeadLetter letter{.stream = sp, .offset = delivery.offset.offset, .event = &event, .schema = &applied,
                    .error = FullErrorText(s)};
  ++stats_.dead_letters;
  const std::string what = std::string(ChangeOpName(event.op)) + " of " + event.table.QualifiedName() + " at " +
                           event.position.ToString() + " (" + delivery.offset.ToString() + ")";
  if (options_.stop_on_dead_letter) {
    // Everything before its source transaction is committed, then the
    // dead letter, and the stage stops there.
    return HaltAt(absl::FailedPreconditionError("the " + what + " can never be applied (" + std::string(s.message()) +
                                                "); it is in phony.dead_letters and the stage stops there "
                                                "(apply.on_dead_letter is \"stop\")"),
                  &letter);
  }
  spdlog::error("apply: the {} can never be applied ({}); recorded in phony.dead_letters, going on", what,
                std::string(s.message()));
  return writer_->RecordDeadLetter(letter);
}

absl::Status ApplyStage::ProcessChange(const StreamPartition& sp, ChangeEvent& event, bool exact,
                                       const Delivery& delivery) {
  ++stats_.events;
  ++rows_in_batch_;
  if (event.op == ChangeOp::kTruncate) {
    ChangeEvent t = event;
    t.truncated.clear();
    for (const TableId& id : event.truncated.empty() ? std::vector<TableId>{event.table} : event.truncated) {
      if (applied_.count(id)) t.truncated.push_back(id);  // a table staging never had holds nothing
    }
    if (t.truncated.empty()) return absl::OkStatus();
    t.table = t.truncated.front();
    return ApplyOne(t, applied_.at(t.table), exact, sp, delivery);
  }
  PHONY_RETURN_IF_ERROR(EnsureTable(event.table, event.schema_version));
  const TableSchema& applied = applied_.at(event.table);
  const TableSchema* source = FindSchema(event.table, event.schema_version);
  if (source == nullptr) {
    return absl::DataLossError("the event at " + event.position.ToString() + " names version " +
                               std::to_string(event.schema_version) + " of " + event.table.QualifiedName() +
                               ", which no schema event described");
  }
  // Rows in the staging table's column order.
  std::optional<Row> before, after;
  const bool same_shape = source->version == applied.version;
  // The delivery's rows are not needed after this: move them.
  if (event.before) before = same_shape ? std::move(*event.before) : Project(*event.before, *source, applied);
  if (event.after) after = same_shape ? std::move(*event.after) : Project(*event.after, *source, applied);
  const size_t width = applied.columns.size();
  if ((before && before->size() != width) || (after && after->size() != width)) {
    return absl::DataLossError("the event at " + event.position.ToString() + " has rows of another width than " +
                               "version " + std::to_string(event.schema_version) + " of " +
                               event.table.QualifiedName());
  }
  const std::vector<uint16_t> keys = applied.KeyColumns();
  const bool key_change = event.op == ChangeOp::kUpdate && before && after && !keys.empty() &&
                          KeyBytes(*before, keys) != KeyBytes(*after, keys);
  const bool keyless_change = keys.empty() && (event.op == ChangeOp::kUpdate || event.op == ChangeOp::kDelete);
  if (exact || key_change || keyless_change) {
    ChangeEvent aligned = event;
    aligned.before = std::move(before);
    aligned.after = std::move(after);
    return ApplyOne(aligned, applied, exact, sp, delivery);
  }

  if (writer_->KeepsTableOrder() && chunk_->rows > 0 && chunk_->tables.count(event.table) == 0) {
    // Foreign keys are checked as rows arrive: keep the source's table order.
    PHONY_RETURN_IF_ERROR(FlushChunk());
  }
  Chunk::Table& table = chunk_->tables[event.table];
  table.schema = &applied;
  auto add = [&](Chunk::Kind kind, Row row, bool from_insert) {
    table.entries.push_back({kind, from_insert, std::move(row)});
    ++chunk_->rows;
    return table.entries.size() - 1;
  };
  if (keys.empty()) {  // insert or read into a table without a key
    add(Chunk::Kind::kAppend, std::move(*after), true);
  } else if (event.op == ChangeOp::kDelete) {
    if (!before) return absl::DataLossError("the delete at " + event.position.ToString() + " has no old row");
    std::string key = KeyBytes(*before, keys);
    Row row = KeyOnly(*before, keys);
    auto it = table.by_key.find(key);
    if (it == table.by_key.end()) {
      table.by_key.emplace(std::move(key), add(Chunk::Kind::kDelete, std::move(row), false));
    } else {
      table.entries[it->second] = {Chunk::Kind::kDelete, false, std::move(row)};
    }
  } else {
    if (!after) return absl::DataLossError("the change at " + event.position.ToString() + " has no new row");
    std::string key = KeyBytes(*after, keys);
    const bool partial = !IsComplete(*after);
    const bool from_insert = event.op != ChangeOp::kUpdate;
    auto it = table.by_key.find(key);
    if (it != table.by_key.end() && table.entries[it->second].kind == Chunk::Kind::kDelete &&
        writer_->KeepsTableOrder()) {
      // Staging cascades (InnoDB): the delete must run, and cascade, before
      // the key comes back; an upsert would keep the children the source lost.
      PHONY_RETURN_IF_ERROR(FlushChunk());
      Chunk::Table& fresh = chunk_->tables[event.table];
      fresh.schema = &applied;
      fresh.entries.push_back({partial ? Chunk::Kind::kPartial : Chunk::Kind::kUpsert, from_insert, std::move(*after)});
      fresh.by_key.emplace(std::move(key), 0);
      ++chunk_->rows;
      return absl::OkStatus();
    }
    if (it == table.by_key.end()) {
      table.by_key.emplace(std::move(key), add(partial ? Chunk::Kind::kPartial : Chunk::Kind::kUpsert,
                                               std::move(*after), from_insert));
    } else {
      Chunk::Entry& e = table.entries[it->second];
      if (!partial) {
        // A delete then an insert of the same key is an upsert, not an insert.
        e = {Chunk::Kind::kUpsert, from_insert && e.kind != Chunk::Kind::kDelete && e.from_insert,
             std::move(*after)};
      } else if (e.kind == Chunk::Kind::kDelete) {
        // An update of a deleted row cannot happen at the source: the
        // delete stands.
      } else {
        for (size_t i = 0; i < width; ++i) {
          if (!(*after)[i].is_unchanged()) e.row[i] = std::move((*after)[i]);
        }
        e.from_insert = false;  // kUpsert stays complete; kPartial stays partial
      }
    }
  }
  if (chunk_->rows >= options_.chunk_rows) return FlushChunk();
  return absl::OkStatus();
}

absl::Status ApplyStage::Process(const StreamPartition& sp, Part& part, Event& event, const Delivery& delivery) {
  const EventPosition& pos = PositionOf(event);
  if (part.applied_pos && pos <= *part.applied_pos) {
    // A re-delivered schema event still describes its version: later
    // events (past the stored position) may use it.
    if (const auto* s = std::get_if<SchemaEvent>(&event)) LearnSchema(s->schema);
    ++stats_.skipped;
    return absl::OkStatus();
  }
  bool exact = false;
  if (part.exact_until) {
    if (pos <= *part.exact_until) {
      exact = true;
    } else {
      part.exact_until.reset();
      spdlog::info("apply: past the failed batch; back to bulk writes");
    }
  }
  part.prev_pos = part.applied_pos;
  part.applied_pos = pos;
  part.dirty = true;
  PHONY_RETURN_IF_ERROR(EnsureOpen());
  if (std::holds_alternative<TxBegin>(event)) {
    part.in_tx = true;
    part.tx_begin = pos;
  } else if (std::holds_alternative<TxCommit>(event)) {
    part.in_tx = false;
    ++tx_in_batch_;
    ++stats_.transactions;
  } else if (const auto* s = std::get_if<SchemaEvent>(&event)) {
    LearnSchema(s->schema);
    auto it = applied_.find(s->schema.id);
    if (it == applied_.end() || it->second.version < s->schema.version) {
      PHONY_RETURN_IF_ERROR(ApplySchema(s->schema));
    }
  } else {
    ChangeEvent& change = std::get<ChangeEvent>(event);
    if (const std::map<TableId, EventPosition>* cuts = writer_->TableCuts()) {
      auto cut = cuts->find(change.table);
      // (A cut of another source family never orders against this one.)
      if (cut != cuts->end() && pos.kind() == cut->second.kind() && pos <= cut->second) {
        ++stats_.before_copy;  // the table's copy already holds it
        return absl::OkStatus();
      }
    }
    PHONY_RETURN_IF_ERROR(ProcessChange(sp, change, exact, delivery));
  }
  return absl::OkStatus();
}

namespace {
bool IsTruncate(const Event& e) {
  const auto* c = std::get_if<ChangeEvent>(&e);
  return c != nullptr && c->op == ChangeOp::kTruncate;
}
}  // namespace

absl::Status ApplyStage::Add(Delivery& delivery, std::vector<KafkaOffset>* durable) {
  const StreamPartition sp{delivery.offset.topic, delivery.offset.partition};
  auto& slot = parts_[sp];
  if (!slot) slot = std::make_unique<Part>();
  Part& part = *slot;
  current_ = sp;
  durable_ = durable;
  if (part.waiting_at) {  // held at a barrier: keep it for after
    part.held.push_back(std::move(delivery));
    return absl::OkStatus();
  }
  for (size_t i = 0; i < delivery.batch.events.size(); ++i) {
    Event& event = delivery.batch.events[i];
    if (halt_ && halt_->stream == sp && PositionOf(event) >= halt_->at) return Stop(durable);
    if (options_.partitions > 1 && IsTruncate(event) &&
        !(part.applied_pos && PositionOf(event) <= *part.applied_pos)) {
      // Every partition carries the truncate: it is applied once all of
      // them reached it, so no row of any partition crosses it.
      Delivery rest;
      rest.offset = delivery.offset;
      rest.batch.partition = delivery.batch.partition;
      rest.batch.events.assign(std::make_move_iterator(delivery.batch.events.begin() + static_cast<ptrdiff_t>(i)),
                               std::make_move_iterator(delivery.batch.events.end()));
      part.waiting_at = PositionOf(rest.batch.events.front());
      part.held.push_front(std::move(rest));
      flow_.push_back({sp, false});
      return TryBarrier(sp.first, durable);
    }
    PHONY_RETURN_IF_ERROR(Process(sp, part, event, delivery));
    if (!part.in_tx) PHONY_RETURN_IF_ERROR(MaybeCommit(false, durable));
  }
  part.processed_next = delivery.offset.offset + 1;
  if (open_) {
    part.processed.push_back(delivery.offset);
  } else {
    durable->push_back(delivery.offset);  // committed already, or nothing new in it
  }
  return MaybeCommit(false, durable);
}

absl::Status ApplyStage::TryBarrier(const std::string& topic, std::vector<KafkaOffset>* durable) {
  std::vector<StreamPartition> members;
  std::optional<EventPosition> at;
  for (const auto& [sp, part] : parts_) {
    if (sp.first != topic || !part->waiting_at) continue;
    if (at && *at != *part->waiting_at) {
      return absl::DataLossError("partitions of " + topic + " wait at two different truncates (" + at->ToString() +
                                 ", " + part->waiting_at->ToString() + "): the stream is not what capture writes");
    }
    at = part->waiting_at;
    members.push_back(sp);
  }
  if (members.size() < options_.partitions) return absl::OkStatus();  // the others are not there yet
  // Everyone is here: apply the truncate once (from the first partition's
  // copy), then go on with what each partition held back.
  {
    Part& first = *parts_.at(members.front());
    Delivery& d = first.held.front();
    current_ = members.front();
    PHONY_RETURN_IF_ERROR(Process(members.front(), first, d.batch.events.front(), d));
  }
  for (const StreamPartition& sp : members) {
    Part& part = *parts_.at(sp);
    if (sp != members.front()) {  // their copies of the truncate count as applied
      part.prev_pos = part.applied_pos;
      part.applied_pos = *at;
      part.dirty = true;
    }
    part.waiting_at.reset();
    Delivery& d = part.held.front();
    d.batch.events.erase(d.batch.events.begin());
    flow_.push_back({sp, true});
  }
  ++barriers_;
  spdlog::info("apply: the truncate at {} passed its barrier across {} partitions", at->ToString(), members.size());
  for (const StreamPartition& sp : members) {
    Part& part = *parts_.at(sp);
    while (!part.waiting_at && !part.held.empty()) {
      Delivery d = std::move(part.held.front());
      part.held.pop_front();
      PHONY_RETURN_IF_ERROR(Add(d, durable));
    }
  }
  return absl::OkStatus();
}

absl::Status ApplyStage::Stop(std::vector<KafkaOffset>* durable) {
  if (open_) PHONY_RETURN_IF_ERROR(Commit(durable));
  if (halt_->event) {
    DeadLetter letter{.stream = halt_->stream, .offset = halt_->offset, .event = &*halt_->event,
                      .schema = &halt_->schema, .error = halt_->error};
    PHONY_RETURN_IF_ERROR(writer_->Begin());
    PHONY_RETURN_IF_ERROR(writer_->RecordDeadLetter(letter));
    PHONY_RETURN_IF_ERROR(writer_->Commit({}));
  }
  absl::Status why = halt_->status;
  halt_.reset();
  return why;
}

absl::Status ApplyStage::MaybeCommit(bool force, std::vector<KafkaOffset>* durable) {
  if (!open_ || !AtBoundary()) return absl::OkStatus();
  if (force || tx_in_batch_ >= options_.batch_transactions || rows_in_batch_ >= options_.batch_rows ||
      absl::Now() - opened_at_ >= options_.batch_delay) {
    return Commit(durable);
  }
  return absl::OkStatus();
}

absl::Status ApplyStage::Idle(std::vector<KafkaOffset>* durable) {
  durable_ = durable;
  return MaybeCommit(true, durable);
}

absl::Status ApplyStage::Finish(std::vector<KafkaOffset>* durable) {
  PHONY_RETURN_IF_ERROR(MaybeCommit(true, durable));
  if (open_) {
    // Stopped inside a source transaction: its first part is not kept.
    writer_->Rollback();
    open_ = false;
  }
  return absl::OkStatus();
}

absl::Status ApplyStage::Commit(std::vector<KafkaOffset>* durable) {
  PHONY_RETURN_IF_ERROR(FlushChunk());
  std::vector<ProgressUpdate> updates;
  for (auto& [sp, part] : parts_) {
    if (!part->dirty || !part->applied_pos) continue;
    updates.push_back({.stream = sp,
                       .expected = part->committed_pos,
                       .progress = {.next_offset = part->processed_next, .position = *part->applied_pos}});
  }
  if (absl::Status s = writer_->Commit(updates); !s.ok()) return Fail(std::move(s));
  open_ = false;
  for (auto& [sp, part] : parts_) {
    if (!part->dirty) continue;
    part->committed_pos = part->applied_pos;
    part->committed_next = part->processed_next;
    for (KafkaOffset& o : part->processed) durable->push_back(std::move(o));
    part->processed.clear();
    part->dirty = false;
  }
  ++stats_.commits;
  tx_in_batch_ = rows_in_batch_ = 0;
  return absl::OkStatus();
}

}  // namespace phony::apply
