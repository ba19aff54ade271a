// The MariaDB/MySQL applier against the real MariaDB 10.11 the scripts
// start: the shared scenario (TOAST-unchanged columns, a key change, a table
// without a key, a truncate, an ALTER mid-stream) from a PostgreSQL source,
// InnoDB cascades that the binlog does not carry (a deleted parent leaves no
// orphans in staging; a changed parent key reaches its children), replays
// and re-deliveries, and a connection killed mid-stream.
#include <mysql.h>

#include <map>
#include <set>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "src/apply/apply_loop.h"
#include "src/apply/apply_stage.h"
#include "src/apply/mysql/my_writer.h"
#include "tests/integration/apply_scenario.h"
#include "tests/integration/services_env.h"

namespace phony::apply {
namespace {

using namespace ::phony::apply::testing;  // NOLINT: the shared scenario
using ::phony::testing::ServiceEnv;
using Rows = std::vector<std::vector<std::string>>;

struct MysqlCloser {
  void operator()(MYSQL* m) const { mysql_close(m); }
};

// Every schema name prefixed, so tests share the server without meeting.
void Rename(TableId& t, const std::string& prefix) { t.schema = prefix + t.schema; }
std::vector<Event> Prefixed(std::vector<Event> events, const std::string& prefix) {
  for (Event& e : events) {
    if (auto* s = std::get_if<SchemaEvent>(&e)) {
      Rename(s->schema.id, prefix);
      for (ForeignKey& fk : s->schema.foreign_keys) Rename(fk.referenced, prefix);
    } else if (auto* c = std::get_if<ChangeEvent>(&e)) {
      Rename(c->table, prefix);
      for (TableId& t : c->truncated) Rename(t, prefix);
    }
  }
  return events;
}

class MariaDbApplyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    prefix_ = "ma" + std::to_string(getpid()) + "_" + std::to_string(counter_++) + "_";
    conn_.reset(mysql_init(nullptr));
    ASSERT_TRUE(mysql_real_connect(conn_.get(), ServiceEnv("PHONY_MARIADB_HOST").c_str(),
                                   ServiceEnv("PHONY_MARIADB_USER").c_str(), ServiceEnv("PHONY_MARIADB_PASSWORD").c_str(),
                                   nullptr, std::stoi(ServiceEnv("PHONY_MARIADB_PORT")), nullptr, 0))
        << mysql_error(conn_.get());
  }
  void TearDown() override {
    for (const auto& db : Query("SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME LIKE '" +
                                prefix_ + "%'")) {
      Exec("DROP DATABASE `" + db[0] + "`");
    }
  }
  void Exec(const std::string& sql) {
    ASSERT_EQ(mysql_query(conn_.get(), sql.c_str()), 0) << sql << ": " << mysql_error(conn_.get());
    if (MYSQL_RES* r = mysql_store_result(conn_.get())) mysql_free_result(r);
  }
  Rows Query(const std::string& sql) {
    Rows out;
    if (mysql_query(conn_.get(), sql.c_str()) != 0) {
      ADD_FAILURE() << sql << ": " << mysql_error(conn_.get());
      return out;
    }
    MYSQL_RES* r = mysql_store_result(conn_.get());
    if (r == nullptr) return out;
    while (MYSQL_ROW row = mysql_fetch_row(r)) {
      std::vector<std::string> v;
      for (unsigned i = 0; i < mysql_num_fields(r); ++i) v.push_back(row[i] ? row[i] : "<null>");
      out.push_back(std::move(v));
    }
    mysql_free_result(r);
    return out;
  }
  MyWriterOptions Options(bool source_is_postgres) {
    return {.host = ServiceEnv("PHONY_MARIADB_HOST"), .port = std::stoi(ServiceEnv("PHONY_MARIADB_PORT")),
            .user = ServiceEnv("PHONY_MARIADB_USER"), .password = ServiceEnv("PHONY_MARIADB_PASSWORD"),
            .source_is_postgres = source_is_postgres};
  }
  absl::Status Apply(LogSource& source, bool source_is_postgres, ApplyOptions options = {},
                     ApplyStats* stats = nullptr, WriterCounters* counters = nullptr) {
    MyWriter writer(Options(source_is_postgres));
    ApplyStage stage(&writer, options);
    absl::Status s = stage.Start();
    if (!s.ok()) return s;
    s = RunApplyLoop(stage, source, {.stop_after_idle = absl::Milliseconds(300), .poll_timeout = absl::Milliseconds(5),
                                     .max_backoff = absl::Milliseconds(200)});
    if (stats) *stats = stage.stats();
    if (counters) *counters = writer.counters();
    return s;
  }
  std::string T(const std::string& schema, const std::string& table) {
    return "`" + prefix_ + schema + "`.`" + table + "`";
  }

  std::string prefix_;
  std::unique_ptr<MYSQL, MysqlCloser> conn_;
  static inline int counter_ = 0;
};

TEST_F(MariaDbApplyTest, AppliesTheScenarioFromAPostgresSource) {
  LogSource source(Prefixed(Scenario(), prefix_), 4, prefix_ + "anon");
  ApplyStats stats;
  ASSERT_TRUE(Apply(source, true, {}, &stats).ok());
  EXPECT_EQ(Query("SELECT id, email, bio, city FROM " + T("public", "users") + " ORDER BY id"),
            (Rows{{"1", "mail-1b", "bio-1", "<null>"},
                  {"4", "mail-4", "bio-4", "<null>"},
                  {"5", "mail-5", "bio-5", "Izmir"},
                  {"20", "mail-2", "bio-2", "<null>"}}));
  EXPECT_EQ(Query("SELECT id, user_id, placed FROM " + T("public", "orders") + " ORDER BY id"),
            (Rows{{"10", "1", "2023-11-14 22:13:20.000000"}, {"12", "4", "2023-11-14 22:13:22.000000"}}));
  EXPECT_EQ(Query("SELECT line, meta FROM " + T("public", "logs") + " ORDER BY 1"),
            (Rows{{"a", "{\"n\":1}"}, {"c", "{\"n\":2}"}}));
  EXPECT_EQ(Query("SELECT count(*) FROM " + T("work", "scratch")), (Rows{{"0"}}));
  EXPECT_EQ(Query("SELECT COLUMN_NAME, COLUMN_TYPE FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = '" + prefix_ +
                  "public' AND TABLE_NAME = 'users' ORDER BY ORDINAL_POSITION"),
            (Rows{{"id", "bigint(20)"}, {"email", "longtext"}, {"bio", "longtext"}, {"city", "varchar(40)"}}));
  EXPECT_EQ(Query("SELECT position_text FROM phony.apply_progress WHERE stream = '" + prefix_ + "anon'"),
            (Rows{{PositionOf(Scenario().back()).ToString()}}));
  EXPECT_EQ(stats.dead_letters, 0u);
}

// InnoDB's cascades are not in the binlog: staging must cascade itself.
TEST_F(MariaDbApplyTest, StagingCascadesAsTheSourceDid) {
  const TableId parents{"shop", prefix_ + "shop", "parents"}, kids{"shop", prefix_ + "shop", "kids"};
  TableSchema p{.id = parents, .version = 1};
  p.columns = {Col("id", "int", ValueKind::kInt64, 3, 1), Col("name", "varchar(20)", ValueKind::kText, 15)};
  TableSchema k{.id = kids, .version = 1};
  k.columns = {Col("id", "int", ValueKind::kInt64, 3, 1), Col("parent_id", "int", ValueKind::kInt64, 3)};
  k.foreign_keys = {ForeignKey{.name = "kids_parent", .columns = {"parent_id"}, .referenced = parents,
                               .referenced_columns = {"id"}, .on_delete = FkAction::kCascade,
                               .on_update = FkAction::kCascade}};
  StreamBuilder b;
  b.Begin();
  b.Schema(k);  // the child first: its key names a table not there yet
  b.Schema(p);
  b.Change(ChangeOp::kInsert, p, std::nullopt, Row{Int(1), Txt("one")});
  b.Change(ChangeOp::kInsert, p, std::nullopt, Row{Int(2), Txt("two")});
  b.Change(ChangeOp::kInsert, k, std::nullopt, Row{Int(10), Int(1)});
  b.Change(ChangeOp::kInsert, k, std::nullopt, Row{Int(11), Int(1)});
  b.Change(ChangeOp::kInsert, k, std::nullopt, Row{Int(12), Int(2)});
  b.Change(ChangeOp::kInsert, p, std::nullopt, Row{Int(3), Txt("three")});
  b.Change(ChangeOp::kInsert, k, std::nullopt, Row{Int(13), Int(3)});
  b.Commit();
  b.Begin();  // deleted (its kid cascades) and inserted again in one transaction
  b.Change(ChangeOp::kDelete, p, Row{Int(3), Txt("three")}, std::nullopt);
  b.Change(ChangeOp::kInsert, p, std::nullopt, Row{Int(3), Txt("three again")});
  b.Commit();
  b.Begin();  // the binlog holds only the parent's delete
  b.Change(ChangeOp::kDelete, p, Row{Int(1), Txt("one")}, std::nullopt);
  b.Commit();
  b.Begin();  // and only the parent's key change
  b.Change(ChangeOp::kUpdate, p, Row{Int(2), Txt("two")}, Row{Int(20), Txt("two")});
  b.Commit();
  LogSource source(b.events(), 3, prefix_ + "anon");
  ASSERT_TRUE(Apply(source, false).ok());
  const std::string kt = "`" + kids.schema + "`.`kids`", pt = "`" + parents.schema + "`.`parents`";
  EXPECT_EQ(Query("SELECT id, parent_id FROM " + kt + " ORDER BY id"), (Rows{{"12", "20"}}));
  EXPECT_EQ(Query("SELECT id FROM " + pt + " ORDER BY id"), (Rows{{"3"}, {"20"}}));
  EXPECT_EQ(Query("SELECT DELETE_RULE, UPDATE_RULE FROM information_schema.REFERENTIAL_CONSTRAINTS WHERE "
                  "CONSTRAINT_SCHEMA = '" + kids.schema + "'"),
            (Rows{{"CASCADE", "CASCADE"}}));
}

// Insert-only chunks go in with LOAD DATA LOCAL from memory; when the keys
// are already there (a replay after a snapshot) the chunk is upserted.
TEST_F(MariaDbApplyTest, BulkLoadsKeepEveryValueAndFallBackWhenKeysExist) {
  LogSource first(Prefixed(BulkInserts(300, "first", 0), prefix_), 1000, prefix_ + "bulk");
  ApplyStats stats;
  WriterCounters counters;
  ASSERT_TRUE(Apply(first, true, {}, &stats, &counters).ok());
  EXPECT_EQ(stats.events, 300u);
  EXPECT_GE(counters.bulk_loads, 1u);
  EXPECT_EQ(counters.bulk_fallbacks, 0u);
  const Rows rows = Query("SELECT id, email, bio FROM " + T("public", "users") + " ORDER BY id");
  ASSERT_EQ(rows.size(), 300u);
  for (int i = 1; i <= 300; ++i) {
    EXPECT_EQ(rows[i - 1][1], "first" + std::to_string(i));
    EXPECT_EQ(rows[i - 1][2], i % 7 == 0 ? "<null>" : TrickyText(i)) << i;
  }
  LogSource again(Prefixed(BulkInserts(300, "second", 100000), prefix_), 1000, prefix_ + "bulk");
  ASSERT_TRUE(Apply(again, true, {}, &stats, &counters).ok());
  EXPECT_EQ(stats.events, 300u);
  EXPECT_GE(counters.bulk_fallbacks, 1u);
  EXPECT_EQ(Query("SELECT count(*), sum(email LIKE 'second%') FROM " + T("public", "users")), (Rows{{"300", "300"}}));
}

// A value staging refuses (strict mode: no silent truncation) goes to the
// dead letters and the rest applies.
TEST_F(MariaDbApplyTest, RowsStagingRefusesGoToDeadLettersAndTheRestApplies) {
  const TableId narrow{"shop", prefix_ + "shop", "narrow"};
  TableSchema t{.id = narrow, .version = 1};
  t.columns = {Col("id", "int", ValueKind::kInt64, 3, 1), Col("code", "varchar(4)", ValueKind::kText, 15)};
  StreamBuilder b;
  b.Begin();
  b.Schema(t);
  for (int i = 1; i <= 100; ++i) {
    b.Change(ChangeOp::kInsert, t, std::nullopt, Row{Int(i), Txt(i == 42 ? "far too long" : "ok")});
  }
  b.Commit();
  b.Begin();
  b.Change(ChangeOp::kUpdate, t, std::nullopt, Row{Int(7), Txt("new")});
  b.Commit();
  LogSource source(b.events(), 30, prefix_ + "dl");
  ApplyStats stats;
  ASSERT_TRUE(Apply(source, false, {}, &stats).ok());
  EXPECT_EQ(stats.dead_letters, 1u);
  const std::string table = "`" + narrow.schema + "`.`narrow`";
  EXPECT_EQ(Query("SELECT count(*), sum(code = 'ok') FROM " + table), (Rows{{"99", "98"}}));
  EXPECT_EQ(Query("SELECT code FROM " + table + " WHERE id = 7"), (Rows{{"new"}}));
  const Rows letters = Query("SELECT table_name, op, error FROM phony.dead_letters WHERE stream = '" + prefix_ + "dl'");
  ASSERT_EQ(letters.size(), 1u);
  EXPECT_EQ(letters[0][0], narrow.schema + ".narrow");
  EXPECT_EQ(letters[0][1], "insert");
  EXPECT_NE(letters[0][2].find("1406"), std::string::npos) << letters[0][2];  // ER_DATA_TOO_LONG
  Exec("DELETE FROM phony.dead_letters WHERE stream = '" + prefix_ + "dl'");
}

TEST_F(MariaDbApplyTest, ReplaysReDeliveriesAndALostConnectionConvergeToTheSameStaging) {
  const std::string ref_prefix = prefix_ + "ref_";
  LogSource once(Prefixed(Scenario(), ref_prefix), 1000, prefix_ + "ref");
  ASSERT_TRUE(Apply(once, true).ok());
  auto dump = [&](const std::string& p) {
    std::map<std::string, Rows> out;
    for (const auto& [schema, table] : std::vector<std::pair<std::string, std::string>>{
             {"public", "users"}, {"public", "orders"}, {"public", "logs"}, {"work", "scratch"}}) {
      out[schema + "." + table] = Query("SELECT * FROM `" + p + schema + "`.`" + table + "` ORDER BY 1, 2");
    }
    return out;
  };
  const auto expected = dump(ref_prefix);

  const std::string p2 = prefix_ + "b_";
  LogSource replaying(Prefixed(Scenario(), p2), 2, prefix_ + "b");
  replaying.again_at = 20;
  replaying.again_from = 3;
  std::set<int64_t> cut;
  replaying.after_delivery = [&](int64_t offset) {
    if ((offset == 9 || offset == 31) && cut.insert(offset).second) {
      for (const auto& row : Query("SELECT ID FROM information_schema.PROCESSLIST WHERE DB = 'phony'")) {
        mysql_query(conn_.get(), ("KILL " + row[0]).c_str());
      }
    }
  };
  ApplyStats stats;
  ASSERT_TRUE(Apply(replaying, true, {.batch_transactions = 1, .chunk_rows = 2}, &stats).ok());
  EXPECT_GT(stats.skipped, 5u);
  EXPECT_GE(replaying.rewinds, 1);
  EXPECT_EQ(dump(p2), expected);

  // The whole stream again into the same staging: nothing applies twice.
  LogSource again(Prefixed(Scenario(), p2), 5, prefix_ + "b");
  ASSERT_TRUE(Apply(again, true, {}, &stats).ok());
  EXPECT_EQ(stats.events, 0u);
  EXPECT_EQ(dump(p2), expected);
}

}  // namespace
}  // namespace phony::apply
