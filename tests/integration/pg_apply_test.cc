// The PostgreSQL applier against the real PostgreSQL 15 the scripts start:
// a hand-built anonymized stream (schema events, TOAST-unchanged columns, a
// key change, a table without a key, a truncate, an ALTER mid-stream,
// cross-table order scrambled) applied through the real loop, replayed,
// re-delivered, cut off mid-stream, and with rows staging refuses.
#include <libpq-fe.h>

#include <algorithm>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "core/event.h"
#include "gtest/gtest.h"
#include "src/apply/apply_loop.h"
#include "src/apply/apply_stage.h"
#include "src/apply/postgres/pg_writer.h"
#include "tests/integration/apply_scenario.h"
#include "tests/integration/pg_test_util.h"

namespace phony::apply {
namespace {

using ::phony::testing::ConnectPg;
using ::phony::testing::PgConn;
using ::phony::testing::PgQuery;
using ::phony::testing::ServiceEnv;
using Rows = std::vector<std::vector<std::string>>;

using namespace ::phony::apply::testing;  // NOLINT: the shared scenario

class PgApplyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    admin_ = ConnectPg("PG15", false);
    db_ = "phony_apply_" + std::to_string(getpid()) + "_" + std::to_string(counter_++);
    Fresh(db_);
  }
  void TearDown() override {
    for (const auto& d : dbs_) PgQuery(admin_.get(), "DROP DATABASE IF EXISTS " + d + " WITH (FORCE)");
  }
  void Fresh(const std::string& db) {
    PgQuery(admin_.get(), "DROP DATABASE IF EXISTS " + db + " WITH (FORCE)");
    PgQuery(admin_.get(), "CREATE DATABASE " + db);
    dbs_.push_back(db);
  }
  PgWriterOptions Options(const std::string& db) {
    return {.host = ServiceEnv("PHONY_PG15_HOST"), .port = std::stoi(ServiceEnv("PHONY_PG15_PORT")),
            .database = db, .user = ServiceEnv("PHONY_PG15_USER")};
  }
  PgConn Staging(const std::string& db) { return ConnectPg("PG15", false, "dbname=" + db); }

  // Applies `events` through the real loop until the source is drained.
  absl::Status Apply(const std::string& db, ApplySource& source, ApplyOptions options = {}, ApplyStats* stats = nullptr, WriterCounters* counters = nullptr) {
    PgWriter writer(Options(db));
    ApplyStage stage(&writer, options);
    absl::Status s = stage.Start();
    if (!s.ok()) return s;
    s = RunApplyLoop(stage, source, {.stop_after_idle = absl::Milliseconds(300), .poll_timeout = absl::Milliseconds(5),
                                     .max_backoff = absl::Milliseconds(200), .partitions = options.partitions});
    if (stats) *stats = stage.stats();
    if (counters) *counters = writer.counters();
    return s;
  }

  // Every user table, sorted, as text.
  std::map<std::string, Rows> Dump(const std::string& db) {
    PgConn c = Staging(db);
    std::map<std::string, Rows> out;
    for (const auto& t : PgQuery(c.get(), "SELECT schemaname || '.' || tablename FROM pg_tables WHERE schemaname "
                                          "NOT IN ('pg_catalog', 'information_schema', 'phony') ORDER BY 1")) {
      out[t[0]] = PgQuery(c.get(), "SELECT x::text FROM " + t[0] + " x ORDER BY 1");
    }
    return out;
  }

  PgConn admin_;
  std::string db_;
  std::vector<std::string> dbs_;
  static inline int counter_ = 0;
};

TEST_F(PgApplyTest, AppliesTheStreamAsTheSourceDidIt) {
  LogSource source(Scenario(), 4);
  ApplyStats stats;
  ASSERT_TRUE(Apply(db_, source, {}, &stats).ok());
  PgConn c = Staging(db_);
  EXPECT_EQ(PgQuery(c.get(), "SELECT id, email, bio, city FROM public.users ORDER BY id"),
            (Rows{{"1", "mail-1b", "bio-1", "<null>"},
                  {"4", "mail-4", "bio-4", "<null>"},
                  {"5", "mail-5", "bio-5", "Izmir"},
                  {"20", "mail-2", "bio-2", "<null>"}}));
  // score was dropped by the ALTER.
  EXPECT_EQ(PgQuery(c.get(), "SELECT count(*) FROM information_schema.columns WHERE table_name = 'users' AND "
                             "column_name = 'score'"),
            (Rows{{"0"}}));
  EXPECT_EQ(PgQuery(c.get(), "SELECT id, user_id, placed FROM public.orders ORDER BY id"),
            (Rows{{"10", "1", "2023-11-14 22:13:20+00"}, {"12", "4", "2023-11-14 22:13:22+00"}}));
  EXPECT_EQ(PgQuery(c.get(), "SELECT line, meta::text FROM public.logs ORDER BY 1"),
            (Rows{{"a", "{\"n\":1}"}, {"c", "{\"n\":2}"}}));
  EXPECT_EQ(PgQuery(c.get(), "SELECT count(*) FROM work.scratch"), (Rows{{"0"}}));
  // The foreign key exists (NOT VALID while staging converges) and the data satisfies it.
  EXPECT_EQ(PgQuery(c.get(), "SELECT conname, convalidated FROM pg_constraint WHERE contype = 'f'"),
            (Rows{{"orders_user_fk", "f"}}));
  PgQuery(c.get(), "ALTER TABLE public.orders VALIDATE CONSTRAINT orders_user_fk");
  // Progress: the last event's position, with the stream's next offset.
  const auto progress = PgQuery(c.get(), "SELECT stream, partition, next_offset, position_text FROM phony.apply_progress");
  ASSERT_EQ(progress.size(), 1u);
  EXPECT_EQ(progress[0][0], "anon");
  EXPECT_EQ(progress[0][2], std::to_string(Scenario().size()));
  EXPECT_EQ(progress[0][3], PositionOf(Scenario().back()).ToString());
  EXPECT_EQ(PgQuery(c.get(), "SELECT schema_name, table_name, version FROM phony.schemas ORDER BY 1, 2"),
            (Rows{{"public", "logs", "1"}, {"public", "orders", "1"}, {"public", "users", "2"}, {"work", "scratch", "1"}}));
  EXPECT_EQ(stats.transactions, 10u);
  EXPECT_EQ(stats.dead_letters, 0u);
  EXPECT_EQ(source.acked.back(), static_cast<int64_t>(Scenario().size() - 1));
}

TEST_F(PgApplyTest, ReplaysReDeliveriesAndBatchSizesConvergeToTheSameStaging) {
  LogSource once(Scenario(), 1000);
  ASSERT_TRUE(Apply(db_, once).ok());
  const auto expected = Dump(db_);
  ASSERT_EQ(expected.size(), 4u);

  // The same stream again into the same staging: every event is a re-delivery.
  LogSource again(Scenario(), 3);
  ApplyStats stats;
  ASSERT_TRUE(Apply(db_, again, {}, &stats).ok());
  EXPECT_EQ(stats.skipped, Scenario().size());
  EXPECT_EQ(stats.events, 0u);
  EXPECT_EQ(Dump(db_), expected);

  // One staging transaction per source transaction, tiny chunks, and a
  // consumer that re-reads a stretch of the topic mid-way.
  const std::string other = db_ + "_b";
  Fresh(other);
  LogSource replaying(Scenario(), 2);
  replaying.again_at = 20;
  replaying.again_from = 3;
  ASSERT_TRUE(Apply(other, replaying, {.batch_transactions = 1, .chunk_rows = 2}, &stats).ok());
  EXPECT_GT(stats.skipped, 10u);
  EXPECT_EQ(Dump(other), expected);
}

TEST_F(PgApplyTest, StagingConnectionLostMidStreamLosesNothing) {
  LogSource expected_source(Scenario(), 1000);
  const std::string reference = db_ + "_ref";
  Fresh(reference);
  ASSERT_TRUE(Apply(reference, expected_source).ok());

  LogSource source(Scenario(), 3);
  int cuts = 0;
  std::set<int64_t> cut;
  source.after_delivery = [&](int64_t offset) {
    if ((offset == 8 || offset == 26) && cut.insert(offset).second) {
      ++cuts;
      PgQuery(admin_.get(), "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '" + db_ +
                                "' AND application_name = 'phony-apply'");
    }
  };
  ApplyStats stats;
  ASSERT_TRUE(Apply(db_, source, {.batch_transactions = 2}, &stats).ok());
  EXPECT_EQ(cuts, 2);
  EXPECT_GE(source.rewinds, 1);
  EXPECT_EQ(Dump(db_), Dump(reference));
}

TEST_F(PgApplyTest, RowsStagingRefusesGoToDeadLettersAndTheRestApplies) {
  // Staging has a constraint the source does not: emails up to 6 characters.
  std::vector<Event> events = Scenario();
  LogSource first(std::vector<Event>(events.begin(), events.begin() + 7), 100);  // the first transaction
  ASSERT_TRUE(Apply(db_, first).ok());
  PgConn c = Staging(db_);
  PgQuery(c.get(), "ALTER TABLE public.users ADD CONSTRAINT short_mail CHECK (length(email) <= 6)");

  LogSource rest(events, 5);
  ApplyStats stats;
  ASSERT_TRUE(Apply(db_, rest, {}, &stats).ok());
  EXPECT_EQ(stats.dead_letters, 1u);  // mail-1b
  EXPECT_GT(stats.exact_events, 0u);
  EXPECT_EQ(PgQuery(c.get(), "SELECT id, email FROM public.users ORDER BY id"),
            (Rows{{"1", "mail-1"}, {"4", "mail-4"}, {"5", "mail-5"}, {"20", "mail-2"}}));
  const auto letters = PgQuery(c.get(), "SELECT table_name, op, error, event->'after'->>'email' FROM phony.dead_letters");
  ASSERT_EQ(letters.size(), 1u);
  EXPECT_EQ(letters[0][0], "public.users");
  EXPECT_EQ(letters[0][1], "update");
  EXPECT_NE(letters[0][2].find("23514"), std::string::npos) << letters[0][2];
  EXPECT_NE(letters[0][2].find("short_mail"), std::string::npos) << letters[0][2];
  EXPECT_EQ(letters[0][3], "mail-1b");

  // In stop mode the stage stops at that event, records it, and keeps
  // nothing after it.
  const std::string strict = db_ + "_strict";
  Fresh(strict);
  LogSource head(std::vector<Event>(events.begin(), events.begin() + 7), 100);
  ASSERT_TRUE(Apply(strict, head).ok());
  PgConn s = Staging(strict);
  PgQuery(s.get(), "ALTER TABLE public.users ADD CONSTRAINT short_mail CHECK (length(email) <= 6)");
  LogSource all(events, 5);
  absl::Status stopped = Apply(strict, all, {.stop_on_dead_letter = true});
  EXPECT_TRUE(absl::IsFailedPrecondition(stopped)) << stopped;
  EXPECT_NE(stopped.message().find("update of public.users"), std::string_view::npos) << stopped;
  EXPECT_EQ(stopped.message().find("mail-1b"), std::string_view::npos) << "no row values in errors: " << stopped;
  EXPECT_EQ(PgQuery(s.get(), "SELECT count(*) FROM phony.dead_letters"), (Rows{{"1"}}));
  EXPECT_EQ(PgQuery(s.get(), "SELECT count(*) FROM public.users WHERE id = 20"), (Rows{{"0"}}));
}

// A stream whose rows name a table version no schema event described is
// not what the pipeline writes: the stage stops (exit 5 in phony apply),
// naming the table and version, and keeps nothing of that transaction.
TEST_F(PgApplyTest, RowsOfAnUndescribedTableVersionStopTheStage) {
  StreamBuilder b;
  b.Begin();
  b.Change(ChangeOp::kInsert, Users(2), std::nullopt, Row{Int(1), Txt("m"), Txt("b"), Txt("c")});
  b.Commit();
  LogSource source(b.events(), 10);
  absl::Status s = Apply(db_, source);
  EXPECT_TRUE(absl::IsDataLoss(s)) << s;
  EXPECT_NE(s.message().find("version 2 of public.users"), std::string_view::npos) << s;
  PgConn c = Staging(db_);
  EXPECT_EQ(PgQuery(c.get(), "SELECT count(*) FROM phony.apply_progress"), (Rows{{"0"}}));
}

TEST_F(PgApplyTest, ATypeChangeStagingCannotMakeStopsWithTheColumn) {
  StreamBuilder b;
  b.Begin();
  b.Schema(Users(2));
  b.Change(ChangeOp::kInsert, Users(2), std::nullopt, Row{Int(1), Txt("not a number"), Txt("b"), Txt("c")});
  b.Commit();
  b.Begin();
  b.Schema(Users(3));  // email: text -> integer
  b.Commit();
  LogSource source(b.events(), 10);
  absl::Status s = Apply(db_, source);
  EXPECT_TRUE(absl::IsFailedPrecondition(s)) << s;
  EXPECT_NE(s.message().find("public.users.email from text to integer"), std::string_view::npos) << s;
  PgConn c = Staging(db_);
  EXPECT_EQ(PgQuery(c.get(), "SELECT version FROM phony.schemas"), (Rows{{"2"}}));
}

// Insert-only chunks go straight into the table with COPY; when the keys
// are already there (a replay after a snapshot) the chunk is upserted.
TEST_F(PgApplyTest, BulkLoadsKeepEveryValueAndFallBackWhenKeysExist) {
  LogSource first(BulkInserts(300, "first", 0), 1000);
  ApplyStats stats;
  WriterCounters counters;
  ASSERT_TRUE(Apply(db_, first, {}, &stats, &counters).ok());
  EXPECT_EQ(stats.events, 300u);
  EXPECT_GE(counters.bulk_loads, 1u);
  EXPECT_EQ(counters.bulk_fallbacks, 0u);
  PgConn c = Staging(db_);
  const Rows rows = PgQuery(c.get(), "SELECT id, email, bio FROM public.users ORDER BY id");
  ASSERT_EQ(rows.size(), 300u);
  for (int i = 1; i <= 300; ++i) {
    EXPECT_EQ(rows[i - 1][1], "first" + std::to_string(i));
    EXPECT_EQ(rows[i - 1][2], i % 7 == 0 ? "<null>" : TrickyText(i)) << i;
  }
  LogSource again(BulkInserts(300, "second", 100000), 1000);
  ASSERT_TRUE(Apply(db_, again, {}, &stats, &counters).ok());
  EXPECT_EQ(stats.events, 300u);
  EXPECT_GE(counters.bulk_fallbacks, 1u);
  EXPECT_EQ(PgQuery(c.get(), "SELECT count(*), count(*) FILTER (WHERE email LIKE 'second%') FROM public.users"),
            (Rows{{"300", "300"}}));
}

// With N partitions a truncate is in every partition and is a barrier: a
// partition that runs ahead waits (paused) at it until all reached it, so no
// row of any partition crosses it in either direction.
TEST_F(PgApplyTest, ATruncateIsABarrierAcrossPartitions) {
  const std::string reference = db_ + "_ref";
  Fresh(reference);
  LogSource single(TruncateStream(), 7);
  ASSERT_TRUE(Apply(reference, single).ok());
  PgConn r = Staging(reference);
  ASSERT_EQ(PgQuery(r.get(), "SELECT id FROM public.users ORDER BY id"),
            (Rows{{"22"}, {"23"}, {"24"}, {"25"}, {"26"}, {"27"}, {"100"}}));

  for (size_t per : {1, 4, 100}) {
    const std::string db = db_ + "_p" + std::to_string(per);
    Fresh(db);
    PartitionedSource parts(SplitIntoPartitions(TruncateStream(), 3), per, "anon");
    ASSERT_TRUE(Apply(db, parts, {.partitions = 3}).ok());
    EXPECT_EQ(Dump(db), Dump(reference)) << per << " per delivery";
    EXPECT_GE(parts.flow_changes, 2) << "partitions ahead were paused at the truncates";
  }
}

// Random single-table histories (inserts, full and partial updates, key
// changes, deletes, re-inserts of deleted keys) applied with random batch
// and chunk sizes end equal to a model of the source.
TEST_F(PgApplyTest, RandomHistoriesEndEqualToTheSource) {
  std::mt19937 rng(20261128);
  for (int round = 0; round < 4; ++round) {
    StreamBuilder b;
    const TableSchema u = Users(2);
    std::map<int64_t, Row> model;
    b.Begin();
    b.Schema(u);
    b.Commit();
    int serial = 0;
    for (int tx = 0; tx < 150; ++tx) {
      b.Begin();
      const int n = 1 + static_cast<int>(rng() % 6);
      for (int i = 0; i < n; ++i) {
        const int64_t key = 1 + rng() % 25;
        const std::string tag = std::to_string(++serial);
        auto it = model.find(key);
        if (it == model.end()) {
          Row row{Int(key), Txt("m" + tag), Txt("b" + tag), rng() % 3 ? Txt("c" + tag) : Value::Null()};
          b.Change(ChangeOp::kInsert, u, std::nullopt, row);
          model[key] = row;
          continue;
        }
        switch (rng() % 4) {
          case 0: {  // full update
            Row row{Int(key), Txt("m" + tag), Txt("b" + tag), Txt("c" + tag)};
            b.Change(ChangeOp::kUpdate, u, std::nullopt, row);
            it->second = row;
            break;
          }
          case 1: {  // bio unchanged (TOAST)
            Row row{Int(key), Txt("m" + tag), Value::Unchanged(), Txt("c" + tag)};
            b.Change(ChangeOp::kUpdate, u, std::nullopt, row);
            it->second[1] = row[1];
            it->second[3] = row[3];
            break;
          }
          case 2: {  // key change to a free key, bio unchanged
            const int64_t to = 100 + rng() % 25;
            if (model.count(to)) break;
            Row row{Int(to), Txt("m" + tag), Value::Unchanged(), Txt("c" + tag)};
            b.Change(ChangeOp::kUpdate, u, Row{Int(key), Value::Null(), Value::Null(), Value::Null()}, row);
            Row moved = it->second;
            model.erase(it);
            moved[0] = row[0];
            moved[1] = row[1];
            moved[3] = row[3];
            model[to] = moved;
            break;
          }
          default:
            b.Change(ChangeOp::kDelete, u, Row{Int(key), Value::Null(), Value::Null(), Value::Null()}, std::nullopt);
            model.erase(it);
        }
      }
      b.Commit();
    }
    const std::string db = db_ + "_r" + std::to_string(round);
    Fresh(db);
    LogSource source(b.events(), 1 + rng() % 40);
    const size_t batch = 1 + rng() % 30, chunk = 1 + rng() % 50;
    ASSERT_TRUE(Apply(db, source, {.batch_transactions = batch, .chunk_rows = chunk}).ok());
    Rows want;
    for (const auto& [key, row] : model) {
      std::vector<std::string> r;
      for (const Value& v : row) r.push_back(v.is_null() ? "<null>" : v.kind() == ValueKind::kInt64 ? std::to_string(v.int64_value()) : v.str());
      want.push_back(r);
    }
    PgConn c = Staging(db);
    EXPECT_EQ(PgQuery(c.get(), "SELECT id, email, bio, city FROM public.users ORDER BY id"), want)
        << "round " << round << " batch " << batch << " chunk " << chunk;
  }
}

}  // namespace
}  // namespace phony::apply
