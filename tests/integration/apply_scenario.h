// The apply tests' shared stream: table definitions, a builder of source
// transactions with PostgreSQL positions, the scenario every engine's test
// applies, and an in-memory topic partition the apply loop reads from.
#pragma once

#include <algorithm>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/event.h"
#include "src/apply/apply_loop.h"

namespace phony::apply::testing {

inline const TableId kUsers{"prod", "public", "users"};
inline const TableId kOrders{"prod", "public", "orders"};
inline const TableId kLogs{"prod", "public", "logs"};
inline const TableId kScratch{"prod", "work", "scratch"};

inline ColumnDef Col(std::string name, std::string type, ValueKind kind, uint32_t oid, uint16_t key = 0) {
  return ColumnDef{.name = std::move(name), .type_name = std::move(type), .kind = kind, .type_id = oid,
                   .nullable = key == 0, .key_ordinal = key};
}

inline TableSchema Users(uint32_t version) {
  TableSchema s{.id = kUsers, .version = version};
  s.columns = {Col("id", "integer", ValueKind::kInt64, 23, 1), Col("email", "text", ValueKind::kText, 25),
               Col("bio", "text", ValueKind::kText, 25)};
  if (version == 1) s.columns.push_back(Col("score", "numeric(10,2)", ValueKind::kDecimal, 1700));
  if (version >= 2) {
    s.columns.push_back(Col("city", "character varying(40)", ValueKind::kText, 1043));
    s.columns.back().type_modifier = 44;  // what PostgreSQL reports for varchar(40)
  }
  if (version == 3) s.columns[1] = Col("email", "integer", ValueKind::kInt64, 23);
  return s;
}
inline TableSchema Orders() {
  TableSchema s{.id = kOrders, .version = 1};
  s.columns = {Col("id", "bigint", ValueKind::kInt64, 20, 1), Col("user_id", "integer", ValueKind::kInt64, 23),
               Col("placed", "timestamp with time zone", ValueKind::kTimestampTz, 1184)};
  s.foreign_keys = {ForeignKey{.name = "orders_user_fk", .columns = {"user_id"}, .referenced = kUsers,
                               .referenced_columns = {"id"}}};
  return s;
}
inline TableSchema Logs() {
  TableSchema s{.id = kLogs, .version = 1, .replica_identity = ReplicaIdentity::kFull};
  s.columns = {Col("line", "text", ValueKind::kText, 25), Col("meta", "json", ValueKind::kJson, 114)};
  return s;
}
inline TableSchema Scratch() {
  TableSchema s{.id = kScratch, .version = 1};
  s.columns = {Col("k", "uuid", ValueKind::kUuid, 2950, 1), Col("blob", "bytea", ValueKind::kBytes, 17)};
  return s;
}

// Builds a stream of source transactions with PostgreSQL positions.
class StreamBuilder {
 public:
  void Begin() {
    lsn_ += 100;
    seq_ = 0;
    events_.push_back(TxBegin{.position = Pos(), .xid = static_cast<uint64_t>(lsn_)});
    changes_ = 0;
  }
  void Commit() { events_.push_back(TxCommit{.position = Pos(), .xid = static_cast<uint64_t>(lsn_), .event_count = changes_}); }
  void Schema(const TableSchema& s) { events_.push_back(SchemaEvent{.position = Pos(), .schema = s}); }
  void Change(ChangeOp op, const TableSchema& s, std::optional<Row> before, std::optional<Row> after) {
    ChangeEvent e;
    e.op = op;
    e.table = s.id;
    e.schema_version = s.version;
    e.key_columns = s.KeyColumns();
    e.before = std::move(before);
    e.after = std::move(after);
    e.position = Pos();
    events_.push_back(std::move(e));
    ++changes_;
  }
  void Truncate(std::vector<TableId> tables) {
    ChangeEvent e;
    e.op = ChangeOp::kTruncate;
    e.table = tables.front();
    e.truncated = std::move(tables);
    e.position = Pos();
    events_.push_back(std::move(e));
    ++changes_;
  }
  std::vector<Event>& events() { return events_; }
  void Skip() { lsn_ += 100; }  // positions start later

 private:
  EventPosition Pos() { return EventPosition::Postgres(Lsn(static_cast<uint64_t>(lsn_)), seq_++); }
  int64_t lsn_ = 0;
  uint64_t seq_ = 0;
  uint64_t changes_ = 0;
  std::vector<Event> events_;
};

inline Value Int(int64_t v) { return Value::Int64(v); }
inline Value Txt(std::string s) { return Value::Text(std::move(s)); }

// The scenario every test starts from. Final source state:
//   users  1 (mail-1b, bio-1, city null)  4  5 (city Izmir)  20 (moved from 2, bio-2)
//   orders 10 -> 1, 12 -> 4
//   logs   "a", "c"
//   work.scratch empty (truncated)
inline std::vector<Event> Scenario() {
  StreamBuilder b;
  const TableSchema u1 = Users(1), u2 = Users(2), o = Orders(), l = Logs(), w = Scratch();
  b.Begin();
  b.Schema(u1);
  b.Schema(o);
  for (int i = 1; i <= 3; ++i) {
    b.Change(ChangeOp::kInsert, u1, std::nullopt,
             Row{Int(i), Txt("mail-" + std::to_string(i)), Txt("bio-" + std::to_string(i)), Value::Decimal("1.50")});
  }
  b.Commit();
  b.Begin();  // an order placed before its user arrives (cross-table order scrambled)
  b.Change(ChangeOp::kInsert, o, std::nullopt, Row{Int(10), Int(1), Value::TimestampTz(1700000000000000)});
  b.Change(ChangeOp::kInsert, o, std::nullopt, Row{Int(11), Int(2), Value::TimestampTz(1700000001000000)});
  b.Change(ChangeOp::kInsert, o, std::nullopt, Row{Int(12), Int(4), Value::TimestampTz(1700000002000000)});
  b.Change(ChangeOp::kInsert, u1, std::nullopt, Row{Int(4), Txt("mail-4"), Txt("bio-4"), Value::Null()});
  b.Commit();
  b.Begin();  // bio is a TOAST value the update did not carry
  b.Change(ChangeOp::kUpdate, u1, std::nullopt, Row{Int(1), Txt("mail-1b"), Value::Unchanged(), Value::Decimal("2")});
  b.Commit();
  b.Begin();  // a primary-key change keeps the unchanged columns
  b.Change(ChangeOp::kUpdate, u1, Row{Int(2), Value::Null(), Value::Null(), Value::Null()},
           Row{Int(20), Txt("mail-2"), Value::Unchanged(), Value::Decimal("3")});
  b.Commit();
  b.Begin();
  b.Change(ChangeOp::kDelete, o, Row{Int(11), Value::Null(), Value::Null()}, std::nullopt);
  b.Change(ChangeOp::kDelete, u1, Row{Int(3), Value::Null(), Value::Null(), Value::Null()}, std::nullopt);
  b.Commit();
  b.Begin();  // ALTER TABLE users ADD city, DROP score
  b.Schema(u2);
  b.Change(ChangeOp::kInsert, u2, std::nullopt, Row{Int(5), Txt("mail-5"), Txt("bio-5"), Txt("Izmir")});
  b.Commit();
  b.Begin();  // no key, REPLICA IDENTITY FULL: duplicates are real rows
  b.Schema(l);
  b.Change(ChangeOp::kInsert, l, std::nullopt, Row{Txt("a"), Value::Json("{\"n\":1}")});
  b.Change(ChangeOp::kInsert, l, std::nullopt, Row{Txt("a"), Value::Json("{\"n\":1}")});
  b.Change(ChangeOp::kInsert, l, std::nullopt, Row{Txt("b"), Value::Null()});
  b.Commit();
  b.Begin();
  b.Change(ChangeOp::kUpdate, l, Row{Txt("a"), Value::Json("{\"n\":1}")}, Row{Txt("c"), Value::Json("{\"n\":2}")});
  b.Change(ChangeOp::kDelete, l, Row{Txt("b"), Value::Null()}, std::nullopt);
  b.Commit();
  b.Begin();
  b.Schema(w);
  std::string k1, k2;
  ParseUuid("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", &k1);
  ParseUuid("b0eebc99-9c0b-4ef8-bb6d-6bb9bd380a12", &k2);
  b.Change(ChangeOp::kInsert, w, std::nullopt, Row{Value::Uuid(k1), Value::Bytes(std::string("\x00\x01\\", 3))});
  b.Change(ChangeOp::kInsert, w, std::nullopt, Row{Value::Uuid(k2), Value::Null()});
  b.Commit();
  b.Begin();
  b.Truncate({kScratch});
  b.Commit();
  return std::move(b.events());
}

// An in-memory topic partition: message i at offset i, handed out `per`
// messages at a time, optionally re-delivering from `again_from` once
// after offset `again_at` (what a consumer sees after a rebalance).
class LogSource : public ApplySource {
 public:
  LogSource(std::vector<Event> events, size_t per, std::string topic = "anon")
      : events_(std::move(events)), per_(per), topic_(std::move(topic)) {}
  std::function<void(int64_t last_offset)> after_delivery;
  int64_t again_at = -1, again_from = 0;

  absl::StatusOr<std::optional<Delivery>> Poll(absl::Duration) override {
    if (next_ >= events_.size()) return std::nullopt;
    Delivery d;
    d.offset = {topic_, 0, 0};
    const size_t end = std::min(events_.size(), next_ + per_);
    for (size_t i = next_; i < end; ++i) d.batch.events.push_back(events_[i]);
    d.offset.offset = static_cast<int64_t>(end - 1);
    next_ = end;
    if (again_at >= 0 && d.offset.offset >= again_at) {
      next_ = static_cast<size_t>(again_from);
      again_at = -1;
    }
    if (after_delivery) after_delivery(d.offset.offset);
    return d;
  }
  absl::Status Ack(const KafkaOffset& offset) override {
    acked.push_back(offset.offset);
    return absl::OkStatus();
  }
  absl::Status Rewind(const std::function<int64_t(const StreamPartition&)>& start) override {
    const int64_t at = start({topic_, 0});
    next_ = at < 0 ? 0 : static_cast<size_t>(at);
    ++rewinds;
    return absl::OkStatus();
  }
  std::vector<int64_t> acked;
  int rewinds = 0;

 private:
  std::vector<Event> events_;
  size_t per_;
  std::string topic_;
  size_t next_ = 0;
};

}  // namespace phony::apply::testing

namespace phony::apply::testing {

// Values a bulk load must carry exactly: tabs, newlines, backslashes, the
// text "\N", quotes, non-ASCII, empty strings and nulls.
inline std::string TrickyText(int i) {
  static const char* kTexts[] = {"tab\there", "line\nbreak", "back\\slash", "\\N", "it's \"quoted\"",
                                 "Çağrı Öztürk", "", "carriage\rreturn", "plain"};
  return std::string(kTexts[i % 9]) + "#" + std::to_string(i);
}

// `count` inserts into users (version 2) in transactions of 50, with
// `tag` in every email; a second call with another tag and later `first_lsn`
// re-inserts the same keys (what a replay after a snapshot looks like).
inline std::vector<Event> BulkInserts(int count, const std::string& tag, int64_t first_lsn) {
  StreamBuilder b;
  for (int64_t l = 0; l < first_lsn; l += 100) b.Skip();
  const TableSchema u = Users(2);
  b.Begin();
  b.Schema(u);
  for (int i = 1; i <= count; ++i) {
    b.Change(ChangeOp::kInsert, u, std::nullopt,
             Row{Int(i), Txt(tag + std::to_string(i)), i % 7 == 0 ? Value::Null() : Txt(TrickyText(i)), Txt("c")});
    if (i % 50 == 0 && i < count) {
      b.Commit();
      b.Begin();
    }
  }
  b.Commit();
  return std::move(b.events());
}

}  // namespace phony::apply::testing

namespace phony::apply::testing {

// A stream split into partitions as capture writes an N-partition topic:
// transaction markers on partition 0, schema events and truncates on every
// partition, rows by key (here: the first key column's parity).
inline std::vector<std::vector<Event>> SplitIntoPartitions(const std::vector<Event>& events, int partitions) {
  std::vector<std::vector<Event>> out(static_cast<size_t>(partitions));
  for (const Event& e : events) {
    if (std::holds_alternative<SchemaEvent>(e)) {
      for (auto& p : out) p.push_back(e);
    } else if (std::holds_alternative<ChangeEvent>(e)) {
      const ChangeEvent& c = std::get<ChangeEvent>(e);
      if (c.op == ChangeOp::kTruncate) {
        for (auto& p : out) p.push_back(e);
        continue;
      }
      const Row& row = c.after ? *c.after : *c.before;
      out[static_cast<size_t>(row[c.key_columns.front()].int64_value() % partitions)].push_back(e);
    } else {
      out[0].push_back(e);
    }
  }
  return out;
}

// N in-memory partitions of one topic. Deliveries come from the highest
// partition that is not paused and has messages left (so later partitions
// run ahead of earlier ones), `per` messages at a time.
class PartitionedSource : public ApplySource {
 public:
  PartitionedSource(std::vector<std::vector<Event>> partitions, size_t per, std::string topic)
      : parts_(std::move(partitions)), next_(parts_.size(), 0), paused_(parts_.size(), false), per_(per),
        topic_(std::move(topic)) {}
  absl::StatusOr<std::optional<Delivery>> Poll(absl::Duration) override {
    for (size_t p = parts_.size(); p-- > 0;) {
      if (paused_[p] || next_[p] >= parts_[p].size()) continue;
      Delivery d;
      const size_t end = std::min(parts_[p].size(), next_[p] + per_);
      for (size_t i = next_[p]; i < end; ++i) d.batch.events.push_back(parts_[p][i]);
      d.offset = {topic_, static_cast<int32_t>(p), static_cast<int64_t>(end - 1)};
      d.batch.partition = static_cast<int32_t>(p);
      next_[p] = end;
      return d;
    }
    return std::nullopt;
  }
  absl::Status Ack(const KafkaOffset&) override { return absl::OkStatus(); }
  absl::Status Rewind(const std::function<int64_t(const StreamPartition&)>& start) override {
    for (size_t p = 0; p < parts_.size(); ++p) {
      const int64_t at = start({topic_, static_cast<int32_t>(p)});
      next_[p] = at < 0 ? 0 : static_cast<size_t>(at);
      paused_[p] = false;
    }
    return absl::OkStatus();
  }
  absl::Status Flow(const StreamPartition& p, bool on) override {
    paused_.at(static_cast<size_t>(p.second)) = !on;
    ++flow_changes;
    return absl::OkStatus();
  }
  int flow_changes = 0;

 private:
  std::vector<std::vector<Event>> parts_;
  std::vector<size_t> next_;
  std::vector<bool> paused_;
  size_t per_;
  std::string topic_;
};

// Rows on both sides of two truncates of users, in transactions of 3.
inline std::vector<Event> TruncateStream() {
  StreamBuilder b;
  const TableSchema u = Users(2);
  b.Begin();
  b.Schema(u);
  b.Commit();
  int id = 0;
  auto rows = [&](int n) {
    for (int i = 0; i < n; i += 3) {
      b.Begin();
      for (int j = 0; j < 3; ++j) {
        ++id;
        b.Change(ChangeOp::kInsert, u, std::nullopt,
                 Row{Int(id), Txt("m" + std::to_string(id)), Txt("b"), Txt("c")});
      }
      b.Commit();
    }
  };
  rows(12);
  b.Begin();
  b.Truncate({kUsers});
  b.Commit();
  rows(9);
  b.Begin();
  b.Change(ChangeOp::kUpdate, u, std::nullopt, Row{Int(14), Txt("changed"), Value::Unchanged(), Txt("c")});
  b.Commit();
  b.Begin();
  b.Truncate({kUsers});
  b.Change(ChangeOp::kInsert, u, std::nullopt, Row{Int(100), Txt("after"), Txt("b"), Txt("c")});
  b.Commit();
  rows(6);
  return std::move(b.events());
}

}  // namespace phony::apply::testing
