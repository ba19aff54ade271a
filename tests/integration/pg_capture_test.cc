// `phony capture --sink jsonl` end to end against PostgreSQL 15 and 17, run
// as a user runs it: envelopes for every change, the slot confirmed up to
// the end, a table without a replica identity left out without ever making
// an UPDATE on the source fail, nothing lost across kill -9, and a vanished
// slot reported instead of silently starting from "now".
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "core/event_codec.h"
#include "core/position.h"
#include "core/state_store.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/integration/capture_process.h"
#include "tests/integration/pg_test_util.h"

namespace phony {
namespace {

using ::phony::testing::ConnectPg;
using ::phony::testing::DropDatabaseAndSlots;
using ::phony::testing::PgConn;
using ::phony::testing::PgQuery;
using ::phony::testing::ReadFile;
using ::phony::testing::ServiceEnv;
using json = nlohmann::json;
using ::phony::testing::CaptureProcess;
using ::phony::testing::ReadJsonl;

class PgCaptureTest : public ::testing::TestWithParam<const char*> {
 protected:
  void SetUp() override {
    server_ = GetParam();
    tag_ = "cap_" + std::to_string(getpid()) + "_" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name();
    for (char& c : tag_) c = std::isalnum(static_cast<unsigned char>(c)) ? std::tolower(c) : '_';
    tag_ = tag_.substr(0, 40);
    dir_ = ::testing::TempDir() + "/" + tag_;
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    admin_ = ConnectPg(server_, false);
    PgQuery(admin_.get(), "CREATE DATABASE " + tag_);
    db_ = ConnectPg(server_, false, "dbname=" + tag_);
    config_ = dir_ + "/job.json";
    std::ofstream(config_) << json{
        {"name", tag_},
        {"source", {{"type", "postgresql"}, {"host", "127.0.0.1"},
                    {"port", std::stoi(ServiceEnv("PHONY_" + server_ + "_PORT"))},
                    {"database", tag_}, {"user", "postgres"}}},
        {"target", {{"type", "postgresql"}, {"database", tag_ + "_staging"}, {"user", "postgres"}}},
        {"state", {{"dir", dir_ + "/state"}}},
        {"anonymization", {{"secret_ref", "env://PHONY_TEST_SECRET"}}}}.dump();
    setenv("PHONY_TEST_SECRET", "0123456789abcdef0123456789abcdef", 1);
  }
  void TearDown() override {
    db_.reset();
    DropDatabaseAndSlots(admin_.get(), tag_);
    std::filesystem::remove_all(dir_);
  }
  std::string Slot() const { return "phony_" + tag_; }

  std::string server_, tag_, dir_, config_;
  PgConn admin_, db_;
};

TEST_P(PgCaptureTest, JsonlEnvelopesConfirmationAndNoPkSafety) {
  PgQuery(db_.get(), "CREATE TABLE users (id int PRIMARY KEY, email text, born date, score numeric(6,2))");
  PgQuery(db_.get(), "CREATE TABLE nopk (a int)");
  CaptureProcess capture(config_, dir_ + "/out.jsonl", dir_ + "/err.log", {"--stop-after-idle", "3"});
  // Wait until the slot exists, then write.
  for (int i = 0; i < 100; ++i) {
    if (!PgQuery(admin_.get(), "SELECT 1 FROM pg_replication_slots WHERE slot_name = '" + Slot() + "'").empty()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  PgQuery(db_.get(), "INSERT INTO users VALUES (1, 'a@x', '1990-05-01', 12.5), (2, 'b@x', NULL, -1)");
  PgQuery(db_.get(), "UPDATE users SET score = 99 WHERE id = 1");
  PgQuery(db_.get(), "DELETE FROM users WHERE id = 2");
  // A table without a replica identity: writes on the source keep working.
  PgQuery(db_.get(), "INSERT INTO nopk VALUES (1)");
  PgQuery(db_.get(), "UPDATE nopk SET a = 2");
  PgQuery(db_.get(), "DELETE FROM nopk");
  const std::string lsn_after = PgQuery(db_.get(), "SELECT pg_current_wal_lsn()")[0][0];
  ASSERT_EQ(capture.Wait(), 0) << ReadFile(dir_ + "/err.log");

  const auto lines = ReadJsonl(dir_ + "/out.jsonl");
  ASSERT_EQ(lines.size(), 4u) << ReadFile(dir_ + "/out.jsonl");
  EXPECT_EQ(lines[0]["op"], "c");
  EXPECT_EQ(lines[0]["after"], (json{{"id", 1}, {"email", "a@x"}, {"born", 7425}, {"score", "12.50"}}));
  EXPECT_EQ(lines[1]["after"]["born"], nullptr);
  EXPECT_EQ(lines[2]["op"], "u");
  EXPECT_EQ(lines[2]["after"]["score"], "99.00");
  EXPECT_EQ(lines[3]["op"], "d");
  EXPECT_EQ(lines[3]["before"]["id"], 2);
  EXPECT_EQ(lines[3]["source"]["table"], "users");
  EXPECT_EQ(lines[0]["source"]["txId"], lines[1]["source"]["txId"]) << "one source transaction";

  // Nothing in flight at stop: the slot is confirmed at least to the end of the workload.
  const std::string confirmed =
      PgQuery(admin_.get(), "SELECT confirmed_flush_lsn FROM pg_replication_slots WHERE slot_name = '" + Slot() + "'")[0][0];
  EXPECT_GE(Lsn::Parse(confirmed).value(), Lsn::Parse(lsn_after).value());
  const auto published = PgQuery(db_.get(), "SELECT tablename FROM pg_publication_tables ORDER BY 1");
  ASSERT_EQ(published.size(), 1u);
  EXPECT_EQ(published[0][0], "users");
  EXPECT_NE(ReadFile(dir_ + "/err.log").find("public.nopk has no usable replica identity"), std::string::npos);
  EXPECT_EQ(ReadFile(dir_ + "/err.log").find("a@x"), std::string::npos) << "logs carry no row values";
}

// The wire format is an option, never a difference in values: the same
// changes captured through a text slot and a binary slot give the same
// envelopes, catalog-defined types included (a domain is its base type; an
// enum, array, range or composite is the server's text either way). A column
// type without a binary reader turns binary off for the run, with a warning.
TEST_P(PgCaptureTest, BinaryAndTextFormatsGiveTheSameEnvelopes) {
  PgQuery(db_.get(), "CREATE TYPE mood AS ENUM ('sad', 'so so')");
  PgQuery(db_.get(), "CREATE DOMAIN posint AS int CHECK (VALUE > 0)");
  PgQuery(db_.get(), "CREATE TYPE pair AS (a int, b text)");
  PgQuery(db_.get(),
          "CREATE TABLE t (id int PRIMARY KEY, d posint, m mood, ms mood[], p pair, r int8range, "
          "a text[], ts timestamptz[], mo money, pt point, f float8, n numeric, iv interval, j jsonb)");
  const std::vector<std::string> text_flags = {"--slot", "text_" + tag_, "--stop-after-idle", "2"};
  const std::vector<std::string> binary_flags = {"--slot", "binary_" + tag_, "--stop-after-idle", "2",
                                                 "--binary"};
  // First runs create the slots; the second runs stream what was written.
  ASSERT_EQ(CaptureProcess(config_, dir_ + "/t0", dir_ + "/terr", text_flags).Wait(), 0) << ReadFile(dir_ + "/terr");
  ASSERT_EQ(CaptureProcess(config_, dir_ + "/b0", dir_ + "/berr", binary_flags).Wait(), 0) << ReadFile(dir_ + "/berr");
  PgQuery(db_.get(),
          "INSERT INTO t VALUES (1, 7, 'so so', '{sad,\"so so\"}', ROW(1, 'x y'), '[3,9)', "
          "'{\"a b\",NULL,\"\"}', '{\"2024-02-29 13:45:06.5+00\",infinity}', '-12.5', '(1e20,-0.5)', "
          "0.1, 1.50, '1 day -00:00:01.5', '{\"k\": [1, null]}'), "
          "(2, NULL, NULL, '{}', ROW(NULL, ''), 'empty', NULL, NULL, NULL, NULL, 'NaN', 'NaN', NULL, NULL)");
  PgQuery(db_.get(), "UPDATE t SET d = 8, ms = array_append(ms, 'sad') WHERE id = 1");
  ASSERT_EQ(CaptureProcess(config_, dir_ + "/t1", dir_ + "/terr", text_flags).Wait(), 0) << ReadFile(dir_ + "/terr");
  ASSERT_EQ(CaptureProcess(config_, dir_ + "/b1", dir_ + "/berr", binary_flags).Wait(), 0) << ReadFile(dir_ + "/berr");
  const auto text = ReadJsonl(dir_ + "/t1"), binary = ReadJsonl(dir_ + "/b1");
  ASSERT_EQ(text.size(), 3u);
  ASSERT_EQ(binary.size(), 3u);
  for (size_t i = 0; i < text.size(); ++i) {
    EXPECT_EQ(text[i]["after"], binary[i]["after"]) << "change " << i;
    EXPECT_EQ(text[i]["op"], binary[i]["op"]);
  }
  EXPECT_EQ(binary[0]["after"]["d"], 7) << "a domain over int is an int";
  EXPECT_EQ(binary[0]["after"]["ms"], "{sad,\"so so\"}");
  EXPECT_EQ(binary[0]["after"]["p"], "(1,\"x y\")");
  EXPECT_EQ(binary[0]["after"]["mo"], "-$12.50");
  EXPECT_EQ(binary[2]["after"]["d"], 8);
  EXPECT_EQ(ReadFile(dir_ + "/berr").find("text format instead"), std::string::npos) << ReadFile(dir_ + "/berr");

  // macaddr8 has no binary reader: the binary run falls back to text.
  PgQuery(db_.get(), "CREATE TABLE later (id int PRIMARY KEY, mac macaddr8)");
  PgQuery(db_.get(), "ALTER PUBLICATION phony_" + tag_ + "_pub ADD TABLE later");  // rows after this count
  PgQuery(db_.get(), "INSERT INTO later VALUES (1, '08:00:2b:01:02:03:04:05')");
  ASSERT_EQ(CaptureProcess(config_, dir_ + "/b2", dir_ + "/berr2", binary_flags).Wait(), 0)
      << ReadFile(dir_ + "/berr2");
  const auto fallback = ReadJsonl(dir_ + "/b2");
  ASSERT_EQ(fallback.size(), 1u) << ReadFile(dir_ + "/berr2");
  EXPECT_EQ(fallback[0]["after"]["mac"], "08:00:2b:01:02:03:04:05");
  EXPECT_NE(ReadFile(dir_ + "/berr2").find("type macaddr8 have no binary reader"), std::string::npos)
      << ReadFile(dir_ + "/berr2");
}

TEST_P(PgCaptureTest, KillNineLosesNoCommittedChange) {
  PgQuery(db_.get(), "CREATE TABLE items (id int PRIMARY KEY, tx int)");
  const std::string out1 = dir_ + "/run1.jsonl", out2 = dir_ + "/run2.jsonl";
  auto first = std::make_unique<CaptureProcess>(config_, out1, dir_ + "/err1.log", std::vector<std::string>{});
  for (int i = 0; i < 100; ++i) {
    if (!PgQuery(admin_.get(), "SELECT 1 FROM pg_replication_slots WHERE slot_name = '" + Slot() + "'").empty()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  constexpr int kTx = 300, kRows = 5;
  std::thread writer([&] {
    PgConn w = ConnectPg(server_, false, "dbname=" + tag_);
    for (int t = 0; t < kTx; ++t) {
      std::string sql = "INSERT INTO items VALUES ";
      for (int r = 0; r < kRows; ++r) {
        sql += (r ? ", (" : "(") + std::to_string(t * kRows + r) + ", " + std::to_string(t) + ")";
      }
      PgQuery(w.get(), sql);
    }
  });
  // Kill once the first run has written part of the stream.
  for (int i = 0; i < 200; ++i) {
    const std::string partial = ReadFile(out1);
    if (std::count(partial.begin(), partial.end(), '\n') > 300) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  first->Kill9();
  writer.join();
  CaptureProcess second(config_, out2, dir_ + "/err2.log", {"--stop-after-idle", "3"});
  ASSERT_EQ(second.Wait(), 0) << ReadFile(dir_ + "/err2.log");

  std::set<int> seen;
  for (const auto& path : {out1, out2}) {
    int last_tx = -1;
    for (const json& line : ReadJsonl(path, /*allow_torn_tail=*/path == out1)) {
      const int id = line["after"]["id"];
      const int tx = line["after"]["tx"];
      EXPECT_GE(tx, last_tx) << "transactions arrive in commit order";
      last_tx = tx;
      seen.insert(id);
    }
  }
  EXPECT_EQ(seen.size(), static_cast<size_t>(kTx * kRows)) << "every committed row arrives (at least once)";
  EXPECT_EQ(*seen.begin(), 0);
  EXPECT_EQ(*seen.rbegin(), kTx * kRows - 1);
  const size_t run1 = ReadJsonl(out1, true).size(), run2 = ReadJsonl(out2).size();
  EXPECT_GT(run1, 0u) << "the first run must have streamed before the kill";
  EXPECT_GT(run2, 0u) << "the second run must have resumed work the first left";
  EXPECT_GE(run1 + run2, static_cast<size_t>(kTx * kRows));
}

TEST_P(PgCaptureTest, VanishedSlotIsAnErrorNotANewStart) {
  PgQuery(db_.get(), "CREATE TABLE t (id int PRIMARY KEY)");
  CaptureProcess first(config_, dir_ + "/out.jsonl", dir_ + "/err1.log", {"--stop-after-idle", "1"});
  ASSERT_EQ(first.Wait(), 0) << ReadFile(dir_ + "/err1.log");
  ::phony::testing::DropSlot(admin_.get(), Slot());
  PgQuery(db_.get(), "INSERT INTO t VALUES (1)");
  CaptureProcess second(config_, dir_ + "/out.jsonl", dir_ + "/err2.log", {"--stop-after-idle", "1"});
  EXPECT_EQ(second.Wait(), 4);
  EXPECT_NE(ReadFile(dir_ + "/err2.log").find("replication slot " + Slot() + " is gone"), std::string::npos)
      << ReadFile(dir_ + "/err2.log");
  EXPECT_TRUE(PgQuery(admin_.get(), "SELECT 1 FROM pg_replication_slots WHERE slot_name = '" + Slot() + "'").empty())
      << "no new slot may be created silently";
}

TEST_P(PgCaptureTest, TablesCreatedLaterArePublishedAndStreamed) {
  PgQuery(db_.get(), "CREATE TABLE early (id int PRIMARY KEY)");
  CaptureProcess capture(config_, dir_ + "/out.jsonl", dir_ + "/err.log",
                         {"--stop-after-idle", "4", "--table-refresh-interval", "0.5"});
  for (int i = 0; i < 100; ++i) {
    if (!PgQuery(admin_.get(), "SELECT 1 FROM pg_replication_slots WHERE slot_name = '" + Slot() + "'").empty()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  PgQuery(db_.get(), "CREATE TABLE late (id int PRIMARY KEY, v text)");
  bool published = false;
  for (int i = 0; i < 100 && !published; ++i) {
    published = !PgQuery(db_.get(), "SELECT 1 FROM pg_publication_tables WHERE tablename = 'late'").empty();
    if (!published) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_TRUE(published) << "a new table matching include must be added to the publication";
  PgQuery(db_.get(), "INSERT INTO late VALUES (1, 'new')");
  ASSERT_EQ(capture.Wait(), 0) << ReadFile(dir_ + "/err.log");
  const auto lines = ReadJsonl(dir_ + "/out.jsonl");
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0]["source"]["table"], "late");
  EXPECT_EQ(lines[0]["after"]["v"], "new");
  EXPECT_NE(ReadFile(dir_ + "/err.log").find("new table public.late matches the job"), std::string::npos);
}

TEST_P(PgCaptureTest, HeartbeatsAreWrittenWhileQuiet) {
  PgQuery(db_.get(), "CREATE TABLE quiet (id int PRIMARY KEY)");
  CaptureProcess capture(config_, dir_ + "/out.jsonl", dir_ + "/err.log",
                         {"--stop-after-idle", "2", "--heartbeat-interval", "0.3"}, "debug");
  ASSERT_EQ(capture.Wait(), 0) << ReadFile(dir_ + "/err.log");
  EXPECT_NE(ReadFile(dir_ + "/err.log").find("heartbeat written to " + tag_), std::string::npos)
      << ReadFile(dir_ + "/err.log");
  EXPECT_TRUE(ReadJsonl(dir_ + "/out.jsonl").empty()) << "heartbeats never reach the stream";
}

// An idle slot in a quiet database must not hold back WAL that another
// database on the server writes: with nothing in flight, capture confirms
// the server's WAL end, so the slot's retained WAL shrinks once the server
// logs its next running-transactions record.
TEST_P(PgCaptureTest, IdleSlotDoesNotPileUpWal) {
  PgQuery(db_.get(), "CREATE TABLE quiet (id int PRIMARY KEY)");
  CaptureProcess capture(config_, dir_ + "/out.jsonl", dir_ + "/err.log", {});
  for (int i = 0; i < 100; ++i) {
    if (!PgQuery(admin_.get(), "SELECT 1 FROM pg_replication_slots WHERE slot_name = '" + Slot() + "' AND active").empty()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  const std::string busy = tag_ + "_busy";
  PgQuery(admin_.get(), "CREATE DATABASE " + busy);
  auto retained_mb = [&] {
    return std::stod(PgQuery(admin_.get(), "SELECT (pg_current_wal_lsn() - restart_lsn) / 1048576.0 "
                                           "FROM pg_replication_slots WHERE slot_name = '" + Slot() + "'")[0][0]);
  };
  auto wal_mb = [&] {
    return std::stod(PgQuery(admin_.get(), "SELECT pg_current_wal_lsn() - '0/0'::pg_lsn")[0][0]) / 1048576.0;
  };
  // 500 MB of WAL in another database at a steady 5 MB/s (100 s), while the
  // published table stays quiet. Without idle confirmation the slot would
  // retain all of it; with it, the slot trails by the interval between the
  // server's running-transactions records (15 s) plus capture's idle
  // confirmation, so never more than a minute of writes.
  constexpr double kTargetMb = 500, kRateMbPerSecond = 5;
  double max_retained = 0, written = 0;
  const auto started = std::chrono::steady_clock::now();
  {
    PgConn w = ConnectPg(server_, false, "dbname=" + busy);
    PgQuery(w.get(), "CREATE TABLE w (v text)");
    const double wal_start = wal_mb();
    int tick = 0;
    while (written < kTargetMb) {
      // Keep to the schedule: write only when behind it (about 1 MB a time).
      const double due = kRateMbPerSecond * std::chrono::duration<double>(
                                                std::chrono::steady_clock::now() - started).count();
      if (written < due) {
        PgQuery(w.get(), "INSERT INTO w SELECT repeat(md5(g::text), 8) FROM generate_series(1, 3000) g");
        if (++tick % 50 == 0) PgQuery(w.get(), "TRUNCATE w");
        written = wal_mb() - wal_start;
      } else {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
      max_retained = std::max(max_retained, retained_mb());
    }
    PgQuery(w.get(), "TRUNCATE w");
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  const double rate = written / seconds;
  EXPECT_LT(max_retained, rate * 60 + 16)
      << "the slot retained " << max_retained << " MB while " << written << " MB were written at " << rate
      << " MB/s: more than a minute of writes";
  EXPECT_GT(rate * 60 + 16, 64) << "the writes were too slow to test anything";
  const double after_writes = retained_mb();
  // The restart point moves at the next running-transactions record (the
  // server logs one at most every 15 s) once capture has confirmed.
  double retained = after_writes;
  for (int i = 0; i < 60 && retained >= 64; ++i) {
    std::this_thread::sleep_for(std::chrono::seconds(1));
    retained = retained_mb();
  }
  EXPECT_LT(retained, 64) << "retained WAL a minute after the writes stopped: " << retained
                          << " MB (right after the writes: " << after_writes << " MB)";
  std::printf("idle slot: %.0f MB written in %.0f s (%.1f MB/s); at most %.0f MB retained during the writes, "
              "%.0f MB once they stopped\n", written, seconds, rate, max_retained, retained);
  capture.Terminate();
  EXPECT_EQ(capture.Wait(), 0) << ReadFile(dir_ + "/err.log");
  PgQuery(admin_.get(), "DROP DATABASE " + busy);
}

// A dead source is retried with exponential backoff and reported, not
// treated as fatal; SIGTERM stops the waiting capture cleanly.
TEST_P(PgCaptureTest, DeadServerIsRetriedWithBackoff) {
  const std::string dead_config = dir_ + "/dead.json";
  auto j = json::parse(ReadFile(config_));
  j["source"]["port"] = 1;  // nothing listens there
  std::ofstream(dead_config) << j.dump();
  CaptureProcess capture(dead_config, dir_ + "/out.jsonl", dir_ + "/err.log", {});
  std::this_thread::sleep_for(std::chrono::milliseconds(3500));
  capture.Terminate();
  EXPECT_EQ(capture.Wait(), 0);
  const std::string err = ReadFile(dir_ + "/err.log");
  EXPECT_NE(err.find("source unavailable"), std::string::npos) << err;
  EXPECT_NE(err.find("retry 1 in 1s"), std::string::npos) << err;
  EXPECT_NE(err.find("retry 2 in 2s"), std::string::npos) << err;
}

// A sink that cannot write (stdout on a full disk) stops the capture with
// an error, and the change it could not write is not confirmed.
TEST_P(PgCaptureTest, FailingSinkStopsCaptureAndConfirmsNothingUnwritten) {
  PgQuery(db_.get(), "CREATE TABLE t (id int PRIMARY KEY)");
  CaptureProcess capture(config_, "/dev/full", dir_ + "/err.log", {"--stop-after-idle", "30"});
  for (int i = 0; i < 100; ++i) {
    if (!PgQuery(admin_.get(), "SELECT 1 FROM pg_replication_slots WHERE slot_name = '" + Slot() + "' AND active").empty()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  PgQuery(db_.get(), "INSERT INTO t VALUES (1)");
  EXPECT_EQ(capture.Wait(std::chrono::seconds(20)), 4) << ReadFile(dir_ + "/err.log");
  EXPECT_NE(ReadFile(dir_ + "/err.log").find("writing to stdout failed"), std::string::npos);
  // The slot may have moved with other databases' WAL, but never past the
  // unwritten insert: the next run delivers it.
  CaptureProcess again(config_, dir_ + "/out.jsonl", dir_ + "/err2.log", {"--stop-after-idle", "2"});
  ASSERT_EQ(again.Wait(), 0) << ReadFile(dir_ + "/err2.log");
  const auto lines = ReadJsonl(dir_ + "/out.jsonl");
  ASSERT_EQ(lines.size(), 1u) << "the unwritten insert must be delivered again on the next run";
  EXPECT_EQ(lines[0]["after"]["id"], 1);
}

// Reads the schema history the capture keeps in its state directory.
std::map<std::string, TableSchema> SchemaHistory(const std::string& state_dir, const std::string& job) {
  std::map<std::string, TableSchema> out;
  auto store = StateStore::Open(StageStateDir(state_dir, "capture", 0), {.job_name = job, .stage = "capture"});
  EXPECT_TRUE(store.ok()) << store.status();
  if (!store.ok()) return out;
  EXPECT_TRUE((*store)->Scan(StateFamily::kSchemaHistory, "pg/rel/", [&](std::string_view, std::string_view v) {
    auto e = DecodeEvent(v);
    EXPECT_TRUE(e.ok());
    const TableSchema& s = std::get<SchemaEvent>(*e).schema;
    out[s.id.table] = s;
    return true;
  }).ok());
  return out;
}

TEST_P(PgCaptureTest, SchemaEventsCarryCatalogDefinitionsAndVersionsSurviveRestarts) {
  PgQuery(db_.get(), "CREATE TABLE parent (id bigint PRIMARY KEY)");
  PgQuery(db_.get(), "CREATE TABLE child (id int PRIMARY KEY, parent_id bigint NOT NULL "
                     "CONSTRAINT child_parent_fk REFERENCES parent(id), name varchar(64) DEFAULT 'x')");
  CaptureProcess first(config_, dir_ + "/out.jsonl", dir_ + "/err1.log", {"--stop-after-idle", "2"});
  for (int i = 0; i < 100; ++i) {
    if (!PgQuery(admin_.get(), "SELECT 1 FROM pg_replication_slots WHERE slot_name = '" + Slot() + "'").empty()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  PgQuery(db_.get(), "INSERT INTO parent VALUES (1)");
  PgQuery(db_.get(), "INSERT INTO child VALUES (1, 1, 'n')");
  ASSERT_EQ(first.Wait(), 0) << ReadFile(dir_ + "/err1.log");

  auto history = SchemaHistory(dir_ + "/state", tag_);
  ASSERT_EQ(history.count("child"), 1u);
  const TableSchema& child = history["child"];
  EXPECT_EQ(child.version, 1u);
  ASSERT_EQ(child.columns.size(), 3u);
  EXPECT_FALSE(child.columns[0].nullable);
  EXPECT_EQ(child.columns[0].key_ordinal, 1);
  EXPECT_FALSE(child.columns[1].nullable);
  EXPECT_EQ(child.columns[1].type_name, "bigint");
  EXPECT_TRUE(child.columns[2].nullable);
  EXPECT_EQ(child.columns[2].type_name, "character varying(64)");
  EXPECT_EQ(child.columns[2].default_expr, "'x'::character varying");
  ASSERT_EQ(child.foreign_keys.size(), 1u);
  EXPECT_EQ(child.foreign_keys[0].name, "child_parent_fk");
  EXPECT_EQ(child.foreign_keys[0].columns, std::vector<std::string>{"parent_id"});
  EXPECT_EQ(child.foreign_keys[0].referenced.table, "parent");
  EXPECT_EQ(child.foreign_keys[0].referenced_columns, std::vector<std::string>{"id"});

  PgQuery(db_.get(), "ALTER TABLE child ADD COLUMN extra int");
  PgQuery(db_.get(), "INSERT INTO child VALUES (2, 1, 'm', 7)");
  CaptureProcess second(config_, dir_ + "/out2.jsonl", dir_ + "/err2.log", {"--stop-after-idle", "2"});
  ASSERT_EQ(second.Wait(), 0) << ReadFile(dir_ + "/err2.log");
  history = SchemaHistory(dir_ + "/state", tag_);
  EXPECT_GT(history["child"].version, 1u) << "versions keep growing across restarts";
  EXPECT_EQ(history["child"].columns.size(), 4u);
  const auto lines = ReadJsonl(dir_ + "/out2.jsonl");
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0]["after"]["extra"], 7);
}

INSTANTIATE_TEST_SUITE_P(Servers, PgCaptureTest, ::testing::Values("PG15", "PG17"));

}  // namespace
}  // namespace phony
