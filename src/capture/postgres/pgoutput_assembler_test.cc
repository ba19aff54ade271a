#include "src/capture/postgres/pgoutput_assembler.h"

#include <string>
#include <vector>

#include "core/testing/status_matchers.h"
#include "gtest/gtest.h"
#include "src/capture/postgres/pg_values.h"
#include "src/capture/postgres/testing/pgoutput_builder.h"

namespace phony::pg {
namespace {

using ::phony::pg::testing::Msg;
using ::phony::testing::StatusIs;
using ::testing::HasSubstr;

constexpr int64_t kPgTs = 754833600000000;
constexpr int64_t kUnixTs = kPgTs + kPgEpochOffsetMicros;
constexpr uint32_t kUsers = 16385;
constexpr uint32_t kOrders = 16390;

std::string Begin(uint32_t xid) { return Msg('B').U64(0x1000).U64(kPgTs).U32(xid).str(); }
std::string Commit(uint64_t end) { return Msg('C').U8(0).U64(end - 8).U64(end).U64(kPgTs).str(); }
std::string UsersRelation(std::optional<uint32_t> xid = std::nullopt, bool with_email = true) {
  Msg m('R');
  if (xid) m.U32(*xid);
  m.U32(kUsers).Str("public").Str("users").U8('d').U16(with_email ? 3 : 2)
      .U8(1).Str("id").U32(kInt8Oid).U32(0xFFFFFFFF)
      .U8(0).Str("name").U32(kTextOid).U32(0xFFFFFFFF);
  if (with_email) m.U8(0).Str("email").U32(kVarcharOid).U32(68);
  return std::move(m).str();
}
std::string OrdersRelation(std::optional<uint32_t> xid = std::nullopt) {
  Msg m('R');
  if (xid) m.U32(*xid);
  return std::move(m.U32(kOrders).Str("sales").Str("orders").U8('f').U16(1)
      .U8(1).Str("id").U32(kInt4Oid).U32(0xFFFFFFFF)).str();
}
std::string InsertUser(int id, std::optional<uint32_t> xid = std::nullopt) {
  Msg m('I');
  if (xid) m.U32(*xid);
  return std::move(m.U32(kUsers).U8('N').U16(3).Col('t', std::to_string(id)).Col('t', "Ada").Col('n')).str();
}

class AssemblerTest : public ::testing::Test {
 protected:
  PgoutputAssembler asm_{{.database = "shop", .protocol_version = 4}};
  std::vector<Event> out_;

  PgoutputAssembler::FeedResult Feed(const std::string& m) {
    auto r = asm_.Feed(m, &out_);
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? *r : PgoutputAssembler::FeedResult{};
  }
};

TEST_F(AssemblerTest, TransactionBecomesPositionedEvents) {
  Feed(Begin(700));
  Feed(UsersRelation());
  Feed(InsertUser(1));
  Feed(Msg('U').U32(kUsers).U8('K').U16(3).Col('t', "1").Col('n').Col('n')
           .U8('N').U16(3).Col('t', "2").Col('t', "Ada").Col('u').str());
  Feed(Msg('D').U32(kUsers).U8('K').U16(3).Col('t', "2").Col('n').Col('n').str());
  EXPECT_TRUE(out_.empty()) << "nothing is emitted before the commit";
  EXPECT_GT(asm_.buffered_bytes(), 0u);
  Feed(Commit(0x2000));
  EXPECT_EQ(asm_.buffered_bytes(), 0u);
  ASSERT_EQ(out_.size(), 6u);
  const Lsn end(0x2000);
  const auto& begin = std::get<TxBegin>(out_[0]);
  EXPECT_EQ(begin.position, EventPosition::Postgres(end, 0));
  EXPECT_EQ(begin.xid, 700u);
  EXPECT_EQ(begin.commit_ts_us, kUnixTs);
  const auto& schema = std::get<SchemaEvent>(out_[1]);
  EXPECT_EQ(schema.position, EventPosition::Postgres(end, 1));
  EXPECT_EQ(schema.schema.id, (TableId{"shop", "public", "users"}));
  EXPECT_EQ(schema.schema.version, 1u);
  ASSERT_EQ(schema.schema.columns.size(), 3u);
  EXPECT_EQ(schema.schema.columns[0].type_name, "bigint");
  EXPECT_EQ(schema.schema.columns[0].key_ordinal, 1);
  EXPECT_EQ(schema.schema.columns[2].type_name, "character varying");
  EXPECT_EQ(schema.schema.columns[2].type_modifier, 68);
  const auto& ins = std::get<ChangeEvent>(out_[2]);
  EXPECT_EQ(ins.op, ChangeOp::kInsert);
  EXPECT_EQ(ins.position, EventPosition::Postgres(end, 2));
  EXPECT_EQ(ins.commit_ts_us, kUnixTs);
  EXPECT_EQ(ins.key_columns, (std::vector<uint16_t>{0}));
  EXPECT_EQ(*ins.after, (Row{Value::Int64(1), Value::Text("Ada"), Value::Null()}));
  const auto& upd = std::get<ChangeEvent>(out_[3]);
  EXPECT_EQ(upd.op, ChangeOp::kUpdate);
  ASSERT_TRUE(upd.before.has_value()) << "a key change carries the old key";
  EXPECT_EQ(upd.before->at(0), Value::Int64(1));
  EXPECT_TRUE(upd.after->at(2).is_unchanged());
  const auto& del = std::get<ChangeEvent>(out_[4]);
  EXPECT_EQ(del.op, ChangeOp::kDelete);
  EXPECT_EQ(del.before->at(0), Value::Int64(2));
  const auto& commit = std::get<TxCommit>(out_[5]);
  EXPECT_EQ(commit.position, EventPosition::Postgres(end, 5));
  EXPECT_EQ(commit.event_count, 3u);
}

TEST_F(AssemblerTest, SchemaVersionsFollowTheRelationShape) {
  Feed(Begin(1));
  Feed(UsersRelation(std::nullopt, /*with_email=*/false));
  Feed(Msg('I').U32(kUsers).U8('N').U16(2).Col('t', "1").Col('t', "a").str());
  Feed(Commit(0x100));
  // Re-sent with the same shape (after a reconnect): no schema event.
  Feed(Begin(2));
  Feed(UsersRelation(std::nullopt, false));
  Feed(Msg('I').U32(kUsers).U8('N').U16(2).Col('t', "2").Col('t', "b").str());
  Feed(Commit(0x200));
  // ALTER TABLE ADD COLUMN: version 2, and later events carry it.
  Feed(Begin(3));
  Feed(UsersRelation(std::nullopt, true));
  Feed(InsertUser(3));
  Feed(Commit(0x300));
  std::vector<uint32_t> schema_versions, change_versions;
  for (const Event& e : out_) {
    if (const auto* s = std::get_if<SchemaEvent>(&e)) schema_versions.push_back(s->schema.version);
    if (const auto* c = std::get_if<ChangeEvent>(&e)) change_versions.push_back(c->schema_version);
  }
  EXPECT_EQ(schema_versions, (std::vector<uint32_t>{1, 2}));
  EXPECT_EQ(change_versions, (std::vector<uint32_t>{1, 1, 2}));
  EXPECT_EQ(asm_.schemas().at(kUsers).columns.size(), 3u);
}

TEST_F(AssemblerTest, SeededVersionsKeepGrowing) {
  TableSchema seeded;
  seeded.id = TableId{"shop", "public", "users"};
  seeded.version = 7;
  asm_.SeedSchema(kUsers, seeded);
  Feed(Begin(1));
  Feed(UsersRelation());
  Feed(InsertUser(1));
  Feed(Commit(0x100));
  EXPECT_EQ(std::get<SchemaEvent>(out_[1]).schema.version, 8u);
}

TEST_F(AssemblerTest, EmptyTransactionReportsItsEnd) {
  Feed(Begin(9));
  auto r = Feed(Commit(0x500));
  EXPECT_TRUE(out_.empty());
  EXPECT_EQ(r.empty_commit_end, Lsn(0x500));
}

TEST_F(AssemblerTest, MultiTableTruncateIsOneEvent) {
  Feed(Begin(1));
  Feed(UsersRelation());
  Feed(OrdersRelation());
  Feed(Msg('T').U32(2).U8(kTruncateCascade).U32(kUsers).U32(kOrders).str());
  Feed(Commit(0x100));
  const auto& t = std::get<ChangeEvent>(out_[3]);
  EXPECT_EQ(t.op, ChangeOp::kTruncate);
  EXPECT_EQ(t.truncated, (std::vector<TableId>{{"shop", "public", "users"}, {"shop", "sales", "orders"}}));
  EXPECT_EQ(t.flags, kFlagTruncateCascade);
  EXPECT_EQ(std::get<SchemaEvent>(out_[2]).schema.replica_identity, ReplicaIdentity::kFull);
}

TEST_F(AssemblerTest, StreamedTransactionEmitsOnlyCommittedWorkAtCommit) {
  Feed(Msg('S').U32(100).U8(1).str());
  Feed(UsersRelation(100));
  Feed(InsertUser(1, 100));
  Feed(InsertUser(2, 101));  // subtransaction 101
  Feed(InsertUser(3, 102));  // subtransaction 102, child of 101
  Feed(Msg('E').str());
  EXPECT_EQ(asm_.streamed_transactions(), 1u);
  Feed(Msg('A').U32(100).U32(101).str());  // ROLLBACK TO SAVEPOINT: 101 and its child go
  // A non-streamed transaction commits between the blocks: it comes out first.
  Feed(Begin(200));
  Feed(InsertUser(50));
  Feed(Commit(0x150));
  ASSERT_EQ(out_.size(), 3u);
  EXPECT_EQ(std::get<TxBegin>(out_[0]).xid, 200u);
  Feed(Msg('S').U32(100).U8(0).str());
  Feed(InsertUser(4, 100));
  Feed(Msg('E').str());
  EXPECT_TRUE(out_.size() == 3u);
  Feed(Msg('c').U32(100).U8(0).U64(0x1F8).U64(0x200).U64(kPgTs).str());
  EXPECT_EQ(asm_.streamed_transactions(), 0u);
  EXPECT_EQ(asm_.buffered_bytes(), 0u);
  std::vector<int64_t> ids;
  for (size_t i = 3; i < out_.size(); ++i) {
    if (const auto* c = std::get_if<ChangeEvent>(&out_[i])) {
      ids.push_back(c->after->at(0).int64_value());
      EXPECT_EQ(c->position.commit_lsn(), Lsn(0x200));
    }
  }
  EXPECT_EQ(ids, (std::vector<int64_t>{1, 4}));
  EXPECT_EQ(std::get<TxCommit>(out_.back()).event_count, 2u);
  EXPECT_EQ(std::get<TxCommit>(out_.back()).xid, 100u);
}

TEST_F(AssemblerTest, StreamedAbortDiscardsEverything) {
  Feed(Msg('S').U32(100).U8(1).str());
  Feed(UsersRelation(100));
  Feed(InsertUser(1, 100));
  Feed(Msg('E').str());
  Feed(Msg('A').U32(100).U32(100).str());
  EXPECT_EQ(asm_.streamed_transactions(), 0u);
  EXPECT_EQ(asm_.buffered_bytes(), 0u);
  EXPECT_TRUE(out_.empty());
  // The relation cache survives: a later transaction needs no new Relation,
  // and the schema event that went down with the aborted transaction is
  // announced again (same version) before the table's next change.
  Feed(Begin(5));
  Feed(InsertUser(9));
  Feed(Commit(0x900));
  ASSERT_EQ(out_.size(), 4u);
  const auto& schema = std::get<SchemaEvent>(out_[1]);
  EXPECT_EQ(schema.schema.id.table, "users");
  EXPECT_EQ(schema.schema.version, 1u);
  EXPECT_EQ(std::get<ChangeEvent>(out_[2]).schema_version, 1u);
}

TEST_F(AssemblerTest, ReconnectAnnouncesSchemasAgainWithoutNewVersions) {
  Feed(Begin(1));
  Feed(UsersRelation());
  Feed(InsertUser(1));
  Feed(Commit(0x100));
  out_.clear();  // as if this batch never reached the bus before the connection dropped
  asm_.ResetStream();
  Feed(Begin(1));
  Feed(UsersRelation());  // the server re-sends it in the new session: same shape
  Feed(InsertUser(1));
  Feed(Commit(0x100));
  ASSERT_EQ(out_.size(), 4u);
  EXPECT_EQ(std::get<SchemaEvent>(out_[1]).schema.version, 1u) << "same shape, same version";
  out_.clear();
  Feed(Begin(2));
  Feed(InsertUser(2));
  Feed(Commit(0x200));
  EXPECT_EQ(out_.size(), 3u) << "announced once, not before every change";
}

TEST(AssemblerEnrichTest, FailedEnrichmentIsRetriedOnTheNextRelationMessage) {
  int calls = 0;
  PgoutputAssembler a({.database = "shop", .protocol_version = 1,
                       .enrich = [&](uint32_t, TableSchema* s) -> absl::Status {
                         if (++calls == 1) return absl::UnavailableError("catalog connection lost");
                         s->columns[1].nullable = false;
                         return absl::OkStatus();
                       }});
  std::vector<Event> out;
  ASSERT_OK(a.Feed(Begin(1), &out).status());
  EXPECT_THAT(a.Feed(UsersRelation(), &out).status(), StatusIs(absl::StatusCode::kUnavailable));
  a.ResetStream();  // the capture reconnects
  ASSERT_OK(a.Feed(Begin(1), &out).status());
  ASSERT_OK(a.Feed(UsersRelation(), &out).status());
  ASSERT_OK(a.Feed(InsertUser(1), &out).status());
  ASSERT_OK(a.Feed(Commit(0x100), &out).status());
  ASSERT_EQ(out.size(), 4u);
  const auto& schema = std::get<SchemaEvent>(out[1]).schema;
  EXPECT_EQ(schema.version, 1u);
  EXPECT_FALSE(schema.columns[1].nullable) << "the enriched schema, not a stale one";
}

TEST_F(AssemblerTest, ProtocolViolationsStopTheStream) {
  EXPECT_THAT(asm_.Feed(Commit(0x10), &out_).status(),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("Commit without Begin")));
  Feed(Begin(1));
  EXPECT_THAT(asm_.Feed(Begin(2), &out_).status(),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("Begin inside an open transaction")));
  EXPECT_THAT(asm_.Feed(InsertUser(1), &out_).status(),
              StatusIs(absl::StatusCode::kDataLoss,
                       HasSubstr("relation OID 16385 without a preceding Relation message")));
  Feed(UsersRelation());
  EXPECT_THAT(asm_.Feed(Msg('I').U32(kUsers).U8('N').U16(2).Col('t', "1").Col('t', "x").str(), &out_).status(),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("has 2 columns; its Relation message has 3")));
  auto bad = asm_.Feed(Msg('I').U32(kUsers).U8('N').U16(3).Col('t', "secret-42").Col('n').Col('n').str(), &out_);
  EXPECT_THAT(bad.status(), StatusIs(absl::StatusCode::kDataLoss, HasSubstr("public.users column id")));
  EXPECT_EQ(std::string(bad.status().message()).find("secret-42"), std::string::npos)
      << "errors never carry row values";
  EXPECT_THAT(asm_.Feed(Msg('S').U32(5).U8(0).str(), &out_).status(),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("inside a non-streamed transaction")));
}

TEST_F(AssemblerTest, StreamContinuationOfUnknownTransaction) {
  EXPECT_THAT(asm_.Feed(Msg('S').U32(5).U8(0).str(), &out_).status(),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("continues unknown transaction 5")));
}

TEST_F(AssemblerTest, TwoPhaseSlotsAreRefused) {
  EXPECT_THAT(asm_.Feed(Msg('b').U64(0x500).U64(0x530).U64(kPgTs).U32(77).Str("g").str(), &out_).status(),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("two_phase off")));
}

TEST_F(AssemblerTest, LogicalMessagesNeverReachTheStream) {
  Feed(Begin(1));
  Feed(Msg('M').U8(1).U64(0x10).Str("app").U32(6).Bytes("secret").str());
  auto r = Feed(Commit(0x100));
  EXPECT_TRUE(out_.empty());
  EXPECT_EQ(r.empty_commit_end, Lsn(0x100));
}

// The same streamed workload with every event spilled to disk (threshold 1
// byte) and handed out a few events per call: the same result.
TEST(AssemblerSpillTest, SpilledTransactionsMatchInMemoryOnes) {
  for (size_t threshold : {SIZE_MAX, size_t{1}, size_t{600}}) {
    PgoutputAssembler a({.database = "shop", .protocol_version = 4,
                         .spill_threshold_bytes = threshold, .spill_dir = ::testing::TempDir(),
                         .max_emit_events = 2});
    std::vector<Event> out;
    auto feed = [&](const std::string& m) { ASSERT_OK(a.Feed(m, &out).status()); };
    feed(Msg('S').U32(100).U8(1).str());
    feed(UsersRelation(100));
    feed(InsertUser(1, 100));
    feed(InsertUser(2, 100));
    feed(InsertUser(3, 101));                   // subtransaction 101 starts
    feed(OrdersRelation(101));                   // first seen inside 101: must survive its abort
    feed(Msg('I').U32(101).U32(kOrders).U8('N').U16(1).Col('t', "9").str());
    feed(InsertUser(4, 102));                    // child of 101
    feed(Msg('E').str());
    feed(Msg('A').U32(100).U32(101).str());
    feed(Msg('S').U32(100).U8(0).str());
    feed(InsertUser(5, 100));
    feed(Msg('I').U32(100).U32(kOrders).U8('N').U16(1).Col('t', "10").str());
    feed(Msg('E').str());
    feed(Msg('c').U32(100).U8(0).U64(0x1F8).U64(0x200).U64(kPgTs).str());
    while (a.draining()) ASSERT_OK(a.Drain(&out));
    std::vector<std::string> seen;
    for (const Event& e : out) {
      if (const auto* c = std::get_if<ChangeEvent>(&e)) {
        seen.push_back(c->table.table + ":" + std::to_string(c->after->at(0).int64_value()));
      } else if (const auto* sch = std::get_if<SchemaEvent>(&e)) {
        seen.push_back("schema:" + sch->schema.id.table);
      }
    }
    EXPECT_EQ(seen, (std::vector<std::string>{"schema:users", "users:1", "users:2", "schema:orders",
                                              "users:5", "orders:10"}))
        << "threshold " << threshold;
    EXPECT_EQ(std::get<TxCommit>(out.back()).event_count, 4u);
    EventPosition last;
    for (const Event& e : out) {
      EXPECT_LT(last, PositionOf(e));
      last = PositionOf(e);
    }
    if (threshold == 1) {
      EXPECT_GT(a.spilled_events(), 0u);
    }
    EXPECT_EQ(a.buffered_bytes(), 0u);
  }
}

TEST(AssemblerSpillTest, LargeNonStreamedTransactionIsBoundedAndDrainedInPieces) {
  PgoutputAssembler a({.database = "shop", .protocol_version = 1,
                       .spill_threshold_bytes = 64 << 10, .spill_dir = ::testing::TempDir(),
                       .max_emit_events = 1000});
  std::vector<Event> out;
  ASSERT_OK(a.Feed(Begin(1), &out).status());
  ASSERT_OK(a.Feed(UsersRelation(), &out).status());
  size_t peak = 0;
  for (int i = 0; i < 20000; ++i) {
    ASSERT_OK(a.Feed(InsertUser(i), &out).status());
    peak = std::max(peak, a.buffered_bytes());
  }
  EXPECT_LE(peak, size_t{64 << 10}) << "memory stays under the spill threshold";
  ASSERT_OK(a.Feed(Commit(0x9000), &out).status());
  EXPECT_EQ(out.size(), 1000u) << "at most max_emit_events per call";
  size_t rows = 0;
  int64_t expect = 0;
  while (true) {
    for (const Event& e : out) {
      if (const auto* c = std::get_if<ChangeEvent>(&e)) {
        EXPECT_EQ(c->after->at(0).int64_value(), expect++);
        ++rows;
      }
    }
    out.clear();
    if (!a.draining()) break;
    ASSERT_OK(a.Drain(&out));
    EXPECT_LE(out.size(), 1000u);
  }
  EXPECT_EQ(rows, 20000u);
  EXPECT_GT(a.spilled_events(), 19000u);
}

}  // namespace
}  // namespace phony::pg
