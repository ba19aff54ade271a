// `phony snapshot` and `phony run` from MariaDB into MariaDB staging, as a
// user runs them against the MariaDB the scripts start: the copy keeps the
// source's schema (keys, indexes, foreign keys, checks, defaults), its
// anonymized values are the ones CDC produces for the same source values
// (every transformed type), CDC continues exactly at the cut, and a rule
// that breaks a unique index is reported by name.
#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include "gtest/gtest.h"
#include "tests/integration/capture_process.h"
#include "tests/integration/mariadb_cli.h"

namespace phony {
namespace {

using ::phony::testing::CaptureProcess;
using ::phony::testing::ReadFile;
using ::phony::testing::ServiceEnv;

std::string Sql(const std::string& statements) { return ::phony::testing::MariaDbCli(statements); }

// Every column a rule transforms, one per value kind the decoder yields.
constexpr const char* kColumns =
    "id INT PRIMARY KEY, email VARCHAR(64) NOT NULL, name VARCHAR(40) CHARACTER SET latin1, bio TEXT, "
    "born DATE, seen DATETIME(6), ts TIMESTAMP(3) NULL, dur TIME(2), amount DECIMAL(12,3), ratio DOUBLE, "
    "small FLOAT, big BIGINT UNSIGNED, tiny TINYINT, yr YEAR, code CHAR(8), raw VARBINARY(16), flag BIT(1), "
    "kind ENUM('red','green','blue'), tags SET('a','b','c'), doc JSON, kept VARCHAR(20) DEFAULT 'k'";

class MariaDbSnapshotTest : public ::testing::Test {
 protected:
  void SetUp() override {
    tag_ = "snap_" + std::to_string(getpid()) + "_" +
           std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()).substr(0, 10);
    for (char& c : tag_) c = std::isalnum(static_cast<unsigned char>(c)) ? std::tolower(c) : '_';
    ASSERT_EQ(Sql("CREATE DATABASE " + tag_ + " DEFAULT CHARSET utf8mb4; USE " + tag_ +
                  "; CREATE TABLE people (" + kColumns + ", UNIQUE KEY (email), KEY by_name (name, born)); "
                  "CREATE TABLE orders (id BIGINT AUTO_INCREMENT PRIMARY KEY, person INT NOT NULL, total DECIMAL(9,2) "
                  "CHECK (total >= 0), CONSTRAINT orders_person FOREIGN KEY (person) REFERENCES people (id) ON "
                  "DELETE CASCADE)"),
              "");
    dir_ = ::testing::TempDir() + "/" + tag_;
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    setenv("PHONY_SECRET", "0123456789abcdef0123456789abcdef", 1);
    WriteConfig(R"("email": {"transform": "ANONYMIZE", "generator": "email", "unique": true})");
  }
  void TearDown() override { (void)Sql("DROP DATABASE " + tag_ + "; DROP DATABASE IF EXISTS " + tag_ + "_staging"); }

  void WriteConfig(const std::string& email_rule, const std::string& extra = "") {
    config_ = dir_ + "/job.json";
    std::ofstream f(config_);
    const std::string port = ServiceEnv("PHONY_MARIADB_PORT");
    const std::string endpoint = "\"host\": \"127.0.0.1\", \"port\": " + port + ", \"user\": \"" +
                                 ServiceEnv("PHONY_MARIADB_USER") + "\", \"password_ref\": \"env://PHONY_MARIADB_PASSWORD\"";
    f << "{\"name\": \"" << tag_ << "\", \"source\": {\"type\": \"mariadb\", " << endpoint << ", \"database\": \""
      << tag_ << "\"}, \"target\": {\"type\": \"mariadb\", " << endpoint << ", \"database\": \"" << tag_
      << "_staging\"}, \"state\": {\"dir\": \"" << dir_ << "/state\"}, \"snapshot\": {\"workers\": 2, \"chunk_mb\": 1}, "
      << extra
      << "\"anonymization\": {\"secret_ref\": \"env://PHONY_SECRET\", \"unlisted_columns\": \"keep\"}, "
      << "\"tables\": {\"people\": {\"columns\": {" << email_rule << ", "
      << R"("name": {"transform": "HASH", "length": 10}, "bio": {"transform": "SCRUB"},
          "born": {"transform": "DATE_SHIFT", "days": 100}, "seen": {"transform": "DATE_SHIFT", "days": 10},
          "ts": {"transform": "DATE_SHIFT", "days": 10}, "dur": {"transform": "NULL"},
          "amount": {"transform": "ANONYMIZE", "generator": "noise", "min": -10, "max": 10},
          "ratio": {"transform": "ANONYMIZE", "generator": "noise", "min": -1, "max": 1},
          "small": {"transform": "ANONYMIZE", "generator": "noise", "min": -1, "max": 1},
          "big": {"transform": "TOKENIZE"}, "tiny": {"transform": "ANONYMIZE", "generator": "noise", "min": -5, "max": 5},
          "yr": {"transform": "ANONYMIZE", "generator": "noise", "min": -1, "max": 1},
          "code": {"transform": "MASK", "pattern": "##{last2}"}, "raw": {"transform": "HASH", "length": 8},
          "doc": {"transform": "KEEP", "json_paths": {"$.contact.email": {"transform": "ANONYMIZE", "generator": "email"}}}
          }}}})";
  }

  // One row's values; `id` and `email` vary, the rest is the same for every
  // `variant`.
  std::string Values(int id, const std::string& email, int variant) {
    const std::string v = std::to_string(variant);
    return "(" + std::to_string(id) + ", '" + email + "', 'Jose " + v + "', 'write to a" + v +
           "@corp.example or call +1 212 555 0100', '1980-02-2" + v + "', '2024-03-04 05:06:07.12345" + v +
           "', '2023-01-01 00:00:0" + v + ".5', '-100:00:01.25', '1234.56" + v + "', 2.5e" + v + ", 0.62611634, 1844674407370955" +
           v + "00, -7, 199" + v + ", 'AB-12-3" + v + "', UNHEX('00FF0" + v + "'), b'1', 'green', 'a,c', " +
           "'{\\\"contact\\\": {\\\"email\\\": \\\"p" + v + "@corp.example\\\"}, \\\"n\\\": [1, 2.5, null]}', 'kv')";
  }
  std::string Cols(const std::string& db, const std::string& where) {
    return Sql("SELECT email, name, bio, born, seen, ts, dur, amount, ratio, small, big, tiny, yr, code, HEX(raw), "
               "flag + 0, kind, tags, doc, kept FROM " + db + ".people WHERE " + where);
  }
  int Phony(const std::vector<std::string>& args, const std::string& name) {
    std::vector<std::string> command{args.begin(), args.end()};
    CaptureProcess p(CaptureProcess::Command{command.front(), "--config", config_}, dir_ + "/" + name + ".out",
                     dir_ + "/" + name + ".log", std::vector<std::string>(command.begin() + 1, command.end()));
    return p.Wait();
  }
  std::string Output(const std::string& name) { return ReadFile(dir_ + "/" + name + ".out") + ReadFile(dir_ + "/" + name + ".log"); }

  std::string tag_, dir_, config_;
};

TEST_F(MariaDbSnapshotTest, SnapshotThenCdcAnonymizeAlikeAndKeepTheSchema) {
  // Rows 1-3 and 2999 more like them (a command line holds ~128 KB).
  ASSERT_EQ(Sql("USE " + tag_ + "; INSERT INTO " + tag_ + ".people VALUES " + Values(1, "p1@corp.example", 1) + ", " +
                Values(2, "p2@corp.example", 2) + ", " + Values(3, "p3@corp.example", 0) + "; INSERT INTO " + tag_ +
                ".people SELECT seq, CONCAT('p', seq, '@corp.example'), name, bio, born, seen, ts, dur, amount, ratio, "
                "small, big, tiny, yr, code, raw, flag, kind, tags, doc, kept FROM " + tag_ +
                ".people JOIN seq_4_to_3000 ON id = 1 + seq % 3; INSERT INTO " + tag_ +
                ".orders (person, total) SELECT 1 + seq % 3000, seq / 100 FROM seq_1_to_9000"),
            "");
  ASSERT_EQ(Sql("SELECT COUNT(*) FROM " + tag_ + ".people"), "3000\n");
  ASSERT_EQ(Phony({"snapshot", "--start-cdc", "--quiet"}, "snap"), 0) << Output("snap");
  const std::string staging = tag_ + "_staging";
  EXPECT_NE(Output("snap").find("(clean cut)"), std::string::npos) << Output("snap");
  EXPECT_EQ(Sql("SELECT COUNT(*) FROM " + staging + ".people; SELECT COUNT(*) FROM " + staging + ".orders"),
            "3000\n9000\n");
  // The schema came along: keys, indexes, the foreign key, the check, defaults.
  const std::string people = Sql("SHOW CREATE TABLE " + staging + ".people");
  EXPECT_NE(people.find("UNIQUE KEY `email`"), std::string::npos) << people;
  EXPECT_NE(people.find("KEY `by_name` (`name`,`born`)"), std::string::npos) << people;
  EXPECT_NE(people.find("DEFAULT 'k'"), std::string::npos) << people;
  const std::string orders = Sql("SHOW CREATE TABLE " + staging + ".orders");
  EXPECT_NE(orders.find("CONSTRAINT `orders_person` FOREIGN KEY (`person`) REFERENCES `people` (`id`) ON DELETE CASCADE"),
            std::string::npos) << orders;
  EXPECT_NE(orders.find("CHECK (`total` >= 0)"), std::string::npos) << orders;
  // Anonymized: no email, name or date is the source's; KEEP columns are.
  EXPECT_EQ(Sql("SELECT COUNT(*) FROM " + staging + ".people s JOIN " + tag_ +
                ".people o USING (id) WHERE s.email = o.email OR s.name = o.name OR s.born = o.born OR s.big = o.big"),
            "0\n");
  EXPECT_EQ(Sql("SELECT COUNT(*) FROM " + staging + ".people s JOIN " + tag_ + ".people o USING (id) WHERE s.kept = "
                "o.kept AND s.flag = o.flag AND s.dur IS NULL AND s.doc NOT LIKE '%@corp.example%'"),
            "3000\n");

  const std::string before_update = Cols(staging, "id = 4");
  // Changes after the cut: the same values under new ids, an update and a
  // delete that cascades.
  ASSERT_EQ(Sql("INSERT INTO " + tag_ + ".people VALUES " + Values(5001, "p1@corp.example.new", 1) + ", " +
                Values(5002, "p2@corp.example.new", 2) + ", " + Values(5003, "p3@corp.example.new", 0) +
                "; UPDATE " + tag_ + ".people SET email = 'p4@corp.example.changed' WHERE id = 4; DELETE FROM " + tag_ +
                ".people WHERE id = 7"),
            "");
  ASSERT_EQ(Phony({"run", "--stop-after-idle", "3"}, "run"), 0) << Output("run");
  EXPECT_EQ(Output("run").find("taking the snapshot first"), std::string::npos) << Output("run");
  // CDC anonymized every column of the new rows exactly as the snapshot
  // did the same values (the emails differ in their source, so they do here).
  for (int k = 1; k <= 3; ++k) {
    const std::string old_row = Cols(staging, "id = " + std::to_string(k));
    const std::string new_row = Cols(staging, "id = " + std::to_string(5000 + k));
    ASSERT_FALSE(old_row.empty());
    EXPECT_EQ(old_row.substr(old_row.find('\t')), new_row.substr(new_row.find('\t'))) << k;
  }
  EXPECT_NE(Cols(staging, "id = 4"), before_update);
  EXPECT_EQ(Sql("SELECT COUNT(*) FROM " + staging + ".people; SELECT COUNT(*) FROM " + staging + ".orders"),
            Sql("SELECT COUNT(*) FROM " + tag_ + ".people; SELECT COUNT(*) FROM " + tag_ + ".orders"));
  EXPECT_EQ(Sql("SELECT COUNT(*) FROM " + staging + ".orders WHERE person = 7"), "0\n");
  // The foreign key outlived the stream's schema events.
  EXPECT_NE(Sql("SHOW CREATE TABLE " + staging + ".orders").find("CONSTRAINT `orders_person`"), std::string::npos);
  // And phony verify agrees, and sees a change made behind its back.
  EXPECT_EQ(Phony({"verify"}, "verify"), 0) << Output("verify");
  EXPECT_NE(Output("verify").find("staging equals the anonymized source (2 tables, 1 foreign keys checked"),
            std::string::npos) << Output("verify");
  ASSERT_EQ(Sql("UPDATE " + staging + ".people SET kept = 'tampered' WHERE id = 10; DELETE FROM " + staging +
                ".orders WHERE id = 20"),
            "");
  EXPECT_EQ(Phony({"verify"}, "verify2"), 3) << Output("verify2");
  EXPECT_NE(Output("verify2").find("differing keys: 10"), std::string::npos) << Output("verify2");
  EXPECT_NE(Output("verify2").find("missing keys: 20"), std::string::npos) << Output("verify2");
}

// The run issue's crash test for MariaDB: phony run killed with -9 while it
// copies, started again, killed with -9 while it streams a workload, and
// started again: staging is the anonymized source, as phony verify sees it.
TEST_F(MariaDbSnapshotTest, Kill9DuringTheCopyAndTheStreamLosesNothing) {
  ASSERT_EQ(Sql("USE " + tag_ + "; INSERT INTO people VALUES " + Values(1, "p1@corp.example", 1) +
                "; INSERT INTO people SELECT seq, CONCAT('p', seq, '@corp.example'), name, bio, born, seen, ts, dur, "
                "amount, ratio, small, big, tiny, yr, code, raw, flag, kind, tags, doc, kept FROM people JOIN "
                "seq_2_to_150000 ON id = 1; INSERT INTO orders (person, total) SELECT 1 + seq % 150000, seq / 100 FROM "
                "seq_1_to_150000"),
            "");
  auto start = [&](const std::string& name, const std::string& wait_for, std::vector<std::string> extra = {}) {
    auto p = std::make_unique<CaptureProcess>(CaptureProcess::Command{"run", "--config", config_},
                                              dir_ + "/" + name + ".out", dir_ + "/" + name + ".log", extra);
    for (int i = 0; i < 600 && ReadFile(dir_ + "/" + name + ".log").find(wait_for) == std::string::npos; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return p;
  };
  auto copying = start("run1", "consistent at");
  copying->Kill9();
  auto streaming = start("run2", "capture: streaming the binlog");
  std::thread writer([&] {
    for (int i = 0; i < 60; ++i) {
      const std::string id = std::to_string(200000 + i);
      Sql("USE " + tag_ + "; INSERT INTO people SELECT " + id + ", CONCAT('n', " + id + ", '@corp.example'), name, "
          "bio, born, seen, ts, dur, amount, ratio, small, big, tiny, yr, code, raw, flag, kind, tags, doc, kept FROM "
          "people WHERE id = 1; UPDATE people SET kept = 'u" + id + "' WHERE id = " + std::to_string(i * 100 + 2) +
          "; DELETE FROM people WHERE id = " + std::to_string(i * 100 + 3) + "; INSERT INTO orders (person, total) "
          "VALUES (" + id + ", 1)");
      std::this_thread::sleep_for(std::chrono::milliseconds(30));
    }
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(800));
  streaming->Kill9();
  writer.join();
  auto last = start("run3", "capture: streaming the binlog", {"--stop-after-idle", "4"});
  EXPECT_EQ(last->Wait(), 0) << ReadFile(dir_ + "/run3.log");
  EXPECT_EQ(Phony({"verify"}, "verify"), 0) << Output("verify") << ReadFile(dir_ + "/run2.log")
                                            << ReadFile(dir_ + "/run3.log");
}

TEST_F(MariaDbSnapshotTest, RunTakesTheSnapshotFirstAndStreamsFromItsCut) {
  ASSERT_EQ(Sql("INSERT INTO " + tag_ + ".people VALUES " + Values(1, "a@corp.example", 1) + ", " +
                Values(2, "b@corp.example", 2)),
            "");
  CaptureProcess run(CaptureProcess::Command{"run", "--config", config_}, dir_ + "/run.out", dir_ + "/run.log",
                     {"--stop-after-idle", "4"});
  for (int i = 0; i < 300 && ReadFile(dir_ + "/run.log").find("capture: streaming the binlog") == std::string::npos;
       ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_EQ(Sql("INSERT INTO " + tag_ + ".people VALUES " + Values(3, "c@corp.example", 0) + "; UPDATE " + tag_ +
                ".people SET kept = 'changed' WHERE id = 1"),
            "");
  EXPECT_EQ(run.Wait(), 0) << ReadFile(dir_ + "/run.log");
  EXPECT_NE(ReadFile(dir_ + "/run.log").find("taking the snapshot first"), std::string::npos);
  EXPECT_EQ(Sql("SELECT id, kept FROM " + tag_ + "_staging.people ORDER BY id"), "1\tchanged\n2\tkv\n3\tkv\n");
  // phony status shows the snapshot's cut and where the applier is.
  EXPECT_EQ(Phony({"status"}, "status"), 0) << Output("status");
  EXPECT_NE(Output("status").find("  snapshot: run "), std::string::npos) << Output("status");
  EXPECT_NE(Output("status").find("  applier: embedded." + tag_ + "[0] at mysql:"), std::string::npos)
      << Output("status");
  EXPECT_NE(Output("status").find("  binlog at mariadb-bin."), std::string::npos) << Output("status");
}

// A plain full copy records where CDC continues: a `phony run` started
// later streams from the copy's cut, so a change made in between is not
// lost.
TEST_F(MariaDbSnapshotTest, ARunAfterAPlainCopyContinuesAtItsCut) {
  ASSERT_EQ(Sql("INSERT INTO " + tag_ + ".people VALUES " + Values(1, "a@corp.example", 1)), "");
  ASSERT_EQ(Phony({"snapshot", "--quiet"}, "snap"), 0) << Output("snap");
  EXPECT_NE(Output("snap").find("snapshot: CDC continues from"), std::string::npos) << Output("snap");
  ASSERT_EQ(Sql("UPDATE " + tag_ + ".people SET kept = 'between' WHERE id = 1"), "");
  ASSERT_EQ(Phony({"run", "--stop-after-idle", "3"}, "run"), 0) << Output("run");
  EXPECT_EQ(Sql("SELECT kept FROM " + tag_ + "_staging.people"), "between\n") << Output("run");
}

// A copy killed half way keeps the tables it had swapped in: the next run
// copies only the others, under a new cut, and CDC continues from the older
// cut, so the kept tables get their changes from there (each table skips
// what its own copy holds).
TEST_F(MariaDbSnapshotTest, AnInterruptedCopyKeepsTheTablesItFinished) {
  std::string ddl = "USE " + tag_ + "; INSERT INTO people VALUES " + Values(1, "a@corp.example", 1) + ";";
  for (int i = 0; i < 6; ++i) {
    const std::string n = std::to_string(i);
    ddl += " CREATE TABLE big" + n + " (id INT PRIMARY KEY, v VARCHAR(40)); INSERT INTO big" + n +
           " SELECT seq, CONCAT('value ', seq) FROM seq_1_to_150000;";
  }
  ASSERT_EQ(Sql(ddl), "");
  const std::string staging = tag_ + "_staging";
  auto finished = [&]() -> std::string {
    if (Sql("SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'phony' AND TABLE_NAME = "
            "'table_cuts'") != "1\n") {
      return "";
    }
    // Swapped in (a cut whose table is not swapped in yet has a negative run id).
    return Sql("SELECT table_name, copied_at FROM phony.table_cuts WHERE run_id > 0 AND staging_schema = '" + staging +
               "' ORDER BY table_name");
  };
  {
    CaptureProcess first(CaptureProcess::Command{"snapshot", "--config", config_}, dir_ + "/first.out",
                         dir_ + "/first.log", {"--start-cdc", "--quiet"});
    for (int i = 0; i < 1500 && finished().empty(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    first.Kill9();
  }
  const std::string kept = finished();
  const size_t kept_tables = static_cast<size_t>(std::count(kept.begin(), kept.end(), '\n'));
  ASSERT_GE(kept_tables, 1u) << ReadFile(dir_ + "/first.log");
  ASSERT_LT(kept_tables, 8u) << "the copy finished before it was killed: nothing to resume";
  // Changes after the first cut, to every table, kept or not.
  std::string changes = "USE " + tag_ + "; UPDATE people SET kept = 'changed';";
  for (int i = 0; i < 6; ++i) changes += " UPDATE big" + std::to_string(i) + " SET v = 'changed' WHERE id % 1000 = 7;";
  ASSERT_EQ(Sql(changes), "");
  ASSERT_EQ(Phony({"snapshot", "--quiet"}, "second"), 0) << Output("second");
  EXPECT_NE(Output("second").find(": " + std::to_string(kept_tables) + " tables it finished are kept"),
            std::string::npos)
      << Output("second");
  // The kept tables were not copied again.
  const std::string after = finished();
  for (size_t at = 0, end; (end = kept.find('\n', at)) != std::string::npos; at = end + 1) {
    EXPECT_NE(after.find(kept.substr(at, end - at)), std::string::npos) << kept << "\n---\n" << after;
  }
  ASSERT_EQ(Sql("USE " + tag_ + "; UPDATE big0 SET v = 'later' WHERE id = 1"), "");
  ASSERT_EQ(Phony({"run", "--stop-after-idle", "4"}, "run"), 0) << Output("run");
  EXPECT_EQ(Phony({"verify"}, "verify"), 0) << Output("verify") << Output("run");
}

// `phony snapshot --tables` while CDC is set up: the copied table takes the
// binlog from its copy on, the others from where CDC stood. Changes to the
// copied table from before its copy are skipped (and counted), not replayed
// onto it: older row images written over a newer copy can break a unique
// index on the way (below, id 2 takes the email id 1 had first).
TEST_F(MariaDbSnapshotTest, ReCopyingOneTableWhileCdcIsSetUpSkipsItsOlderChanges) {
  ASSERT_EQ(Sql("INSERT INTO " + tag_ + ".people VALUES " + Values(1, "a1@corp.example", 1) + ", " +
                Values(2, "a2@corp.example", 2) + ", " + Values(3, "a3@corp.example", 0) + "; INSERT INTO " + tag_ +
                ".orders (person, total) VALUES (1, 5)"),
            "");
  ASSERT_EQ(Phony({"run", "--stop-after-idle", "3"}, "run1"), 0) << Output("run1");
  const std::string staging = tag_ + "_staging";
  // While the job is stopped: changes CDC has not read yet, and a drift.
  ASSERT_EQ(Sql("USE " + tag_ + "; UPDATE people SET email = 'c@corp.example' WHERE id = 1; UPDATE people SET email = "
                "'e@corp.example' WHERE id = 1; UPDATE people SET email = 'c@corp.example' WHERE id = 2; INSERT INTO "
                "orders (person, total) VALUES (2, 9); UPDATE people SET kept = 'before' WHERE id = 3; UPDATE " +
                staging + ".people SET kept = 'drift'"),
            "");
  ASSERT_EQ(Phony({"snapshot", "--tables", "people", "--quiet"}, "copy"), 0) << Output("copy");
  EXPECT_NE(Output("copy").find("--tables: the job's capture continues from"), std::string::npos) << Output("copy");
  ASSERT_EQ(Sql("USE " + tag_ + "; UPDATE people SET kept = 'after' WHERE id = 2; INSERT INTO orders (person, total) "
                "VALUES (3, 1)"),
            "");
  ASSERT_EQ(Phony({"run", "--stop-after-idle", "4"}, "run2"), 0) << Output("run2");
  EXPECT_NE(Output("run2").find(" 4 rows older than their table's copy skipped, 0 dead letters"), std::string::npos)
      << Output("run2");
  EXPECT_EQ(Sql("SELECT id, kept FROM " + staging + ".people ORDER BY id; SELECT person, total FROM " + staging +
                ".orders ORDER BY id"),
            "1\tkv\n2\tafter\n3\tbefore\n1\t5.00\n2\t9.00\n3\t1.00\n");
  EXPECT_EQ(Sql("SELECT COUNT(*) FROM phony.dead_letters WHERE stream LIKE '%" + tag_ + "%'"), "0\n");
  EXPECT_EQ(Phony({"verify"}, "verify"), 0) << Output("verify");
  // A table CDC creates was never copied: a cut left by an earlier table of
  // that name (another job, a binlog reset) does not hide its rows.
  ASSERT_EQ(Sql("REPLACE INTO phony.table_cuts (staging_schema, table_name, source_schema, binlog_file, "
                "binlog_position, gtids, run_id) VALUES ('" + staging + "', 'fresh', '" + tag_ + "', "
                "'mariadb-bin.999999', 4, '', 0); USE " + tag_ + "; CREATE TABLE fresh (id INT PRIMARY KEY); "
                "INSERT INTO fresh VALUES (1), (2)"),
            "");
  ASSERT_EQ(Phony({"run", "--stop-after-idle", "3"}, "run3"), 0) << Output("run3");
  EXPECT_EQ(Sql("SELECT COUNT(*) FROM " + staging + ".fresh"), "2\n") << Output("run3");
  // A cut that is no binlog position stops the applier, naming the table,
  // before it writes anything.
  ASSERT_EQ(Sql("UPDATE phony.table_cuts SET binlog_file = 'garbage' WHERE staging_schema = '" + staging +
                "' AND table_name = 'people'; UPDATE " + tag_ + ".people SET kept = 'never' WHERE id = 3"),
            "");
  EXPECT_NE(Phony({"run", "--stop-after-idle", "3"}, "run4"), 0) << Output("run4");
  EXPECT_NE(Output("run4").find("phony.table_cuts: the cut of " + tag_ + ".people is no binlog position"),
            std::string::npos)
      << Output("run4");
  EXPECT_EQ(Sql("SELECT kept FROM " + staging + ".people WHERE id = 3"), "before\n");
}

// The same with the pipeline split into processes over Kafka: capture stops
// for `phony snapshot --tables people` while transform and apply keep
// running through the copy with a backlog, and the source takes writes all
// along. The applier learns the copy's cut under a lock that orders it with
// the swap; staging ends equal to the anonymized source, no dead letter.
TEST_F(MariaDbSnapshotTest, ReCopyWhileASplitPipelineAppliesLosesNothing) {
  WriteConfig(R"("email": {"transform": "ANONYMIZE", "generator": "email", "unique": true})",
              "\"kafka\": {\"brokers\": \"" + ServiceEnv("PHONY_KAFKA_BROKERS") + "\", \"transactions\": true}, ");
  ASSERT_EQ(Sql("USE " + tag_ + "; INSERT INTO people VALUES " + Values(1, "p1@corp.example", 1) +
                "; INSERT INTO people SELECT seq, CONCAT('p', seq, '@corp.example'), name, bio, born, seen, ts, dur, "
                "amount, ratio, small, big, tiny, yr, code, raw, flag, kind, tags, doc, kept FROM people JOIN "
                "seq_2_to_300 ON id = 1; INSERT INTO orders (person, total) SELECT seq, 1 FROM seq_1_to_300"),
            "");
  ASSERT_EQ(Phony({"snapshot", "--start-cdc", "--quiet"}, "snap"), 0) << Output("snap");
  auto stage = [&](const std::string& name, std::vector<std::string> command) {
    command.insert(command.end(), {"--config", config_});
    return std::make_unique<CaptureProcess>(command, dir_ + "/" + name + ".out", dir_ + "/" + name + ".log",
                                            std::vector<std::string>{});
  };
  auto transform = stage("transform", {"transform"});
  auto apply = stage("apply", {"apply"});
  auto capture = stage("capture1", {"capture", "--sink", "kafka"});
  std::atomic<bool> stop{false};
  std::thread writer([&] {
    for (int i = 0; !stop.load(); ++i) {
      const std::string n = std::to_string(i);
      Sql("USE " + tag_ + "; UPDATE people SET kept = 'w" + n + "' WHERE id = " + std::to_string(1 + i * 7 % 300) +
          "; UPDATE people SET email = 'x" + n + "@corp.example' WHERE id = " + std::to_string(1 + i * 13 % 300) +
          "; INSERT INTO orders (person, total) VALUES (" + std::to_string(1 + i % 300) + ", 2)");
    }
  });
  std::this_thread::sleep_for(std::chrono::seconds(3));
  capture->Terminate();
  EXPECT_EQ(capture->Wait(), 0) << ReadFile(dir_ + "/capture1.log");
  EXPECT_EQ(Phony({"snapshot", "--tables", "people", "--quiet"}, "copy"), 0) << Output("copy");
  capture = stage("capture2", {"capture", "--sink", "kafka"});
  std::this_thread::sleep_for(std::chrono::seconds(2));
  stop = true;
  writer.join();
  // Until staging has caught up.
  int verified = -1;
  for (int i = 0; i < 30 && verified != 0; ++i) {
    std::this_thread::sleep_for(std::chrono::seconds(1));
    verified = Phony({"verify"}, "verify");
  }
  EXPECT_EQ(verified, 0) << Output("verify") << ReadFile(dir_ + "/apply.log");
  EXPECT_EQ(Sql("SELECT COUNT(*) FROM phony.dead_letters WHERE stream LIKE '%" + tag_ + "%'"), "0\n");
  for (auto* p : {capture.get(), apply.get(), transform.get()}) p->Terminate();
  for (auto* p : {capture.get(), apply.get(), transform.get()}) EXPECT_EQ(p->Wait(), 0);
  EXPECT_NE(ReadFile(dir_ + "/apply.log").find("rows older than their table's copy skipped"), std::string::npos)
      << ReadFile(dir_ + "/apply.log");
}

// The same job with a kafka section: capture, transform and apply connected
// by Kafka (exactly once), the snapshot first, then two runs of changes.
TEST_F(MariaDbSnapshotTest, OverKafkaTheMirrorIsTheSame) {
  WriteConfig(R"("email": {"transform": "ANONYMIZE", "generator": "email", "unique": true})",
              "\"kafka\": {\"brokers\": \"" + ServiceEnv("PHONY_KAFKA_BROKERS") + "\", \"transactions\": true}, ");
  ASSERT_EQ(Sql("INSERT INTO " + tag_ + ".people VALUES " + Values(1, "a@corp.example", 1) + ", " +
                Values(2, "b@corp.example", 2) + "; INSERT INTO " + tag_ + ".orders (person, total) VALUES (1, 5), (2, 6)"),
            "");
  ASSERT_EQ(Phony({"run", "--stop-after-idle", "5"}, "run1"), 0) << Output("run1");
  EXPECT_NE(Output("run1").find("connected by Kafka"), std::string::npos) << Output("run1");
  ASSERT_EQ(Sql("INSERT INTO " + tag_ + ".people VALUES " + Values(3, "c@corp.example", 0) + "; UPDATE " + tag_ +
                ".people SET kept = 'k2' WHERE id = 1; DELETE FROM " + tag_ + ".people WHERE id = 2"),
            "");
  ASSERT_EQ(Phony({"run", "--stop-after-idle", "5"}, "run2"), 0) << Output("run2");
  EXPECT_EQ(Output("run2").find("taking the snapshot first"), std::string::npos) << Output("run2");
  EXPECT_EQ(Sql("SELECT id, kept FROM " + tag_ + "_staging.people ORDER BY id; SELECT COUNT(*) FROM " + tag_ +
                "_staging.orders"),
            "1\tk2\n3\tkv\n1\n");
  EXPECT_EQ(Phony({"verify"}, "verify"), 0) << Output("verify") << Output("run2");
  // A new full copy moves CDC to its newer cut, ahead of the positions
  // topic's record; the next run streams from the cut.
  ASSERT_EQ(Phony({"snapshot", "--quiet"}, "snap2"), 0) << Output("snap2");
  ASSERT_EQ(Sql("UPDATE " + tag_ + ".people SET kept = 'k3' WHERE id = 3"), "");
  ASSERT_EQ(Phony({"run", "--stop-after-idle", "5"}, "run3"), 0) << Output("run3");
  EXPECT_EQ(Output("run3").find("the positions topic says"), std::string::npos) << Output("run3");
  EXPECT_EQ(Sql("SELECT id, kept FROM " + tag_ + "_staging.people ORDER BY id"), "1\tk2\n3\tk3\n");
  EXPECT_EQ(Phony({"verify"}, "verify2"), 0) << Output("verify2") << Output("run3");
}

// A second full copy replaces staging tables that foreign keys tie
// together. InnoDB fails a DROP at once (error 1205) when another DROP holds
// a parent or child of its table, so two workers swapping related tables at
// the same moment collided (seen in CI); swaps now take turns.
TEST_F(MariaDbSnapshotTest, ASecondFullCopyReplacesTablesTiedByForeignKeys) {
  // A chain: link0 -> people, link<n> -> link<n-1>; any two tables next to
  // each other in the copy's order are parent and child.
  std::string ddl = "USE " + tag_ + "; INSERT INTO people VALUES " + Values(1, "a@corp.example", 1) + ";";
  for (int i = 0; i < 16; ++i) {
    const std::string n = std::to_string(i);
    const std::string parent = i == 0 ? "people" : "link" + std::to_string(i - 1);
    ddl += " CREATE TABLE link" + n + " (id INT PRIMARY KEY, up INT, CONSTRAINT link" + n + "_up FOREIGN KEY (up) "
           "REFERENCES " + parent + " (id)); INSERT INTO link" + n + " VALUES (1, 1);";
  }
  ASSERT_EQ(Sql(ddl), "");
  for (int copy = 1; copy <= 4; ++copy) {
    ASSERT_EQ(Phony({"snapshot", "--quiet"}, "snap" + std::to_string(copy)), 0) << Output("snap" + std::to_string(copy));
  }
  EXPECT_EQ(Sql("SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = '" + tag_ + "_staging'"), "18\n");
  EXPECT_EQ(Phony({"verify"}, "verify"), 0) << Output("verify");
}

// A subset: 5% of people (a keyed sample), their orders and the orders'
// items (a composite key with text in it), their notes (no primary key),
// 30% of the staff and, through a foreign-key cycle, the departments they
// belong to and those departments' heads. Every foreign key is created and
// holds, the follow_fk tables are complete, the same rows come every run,
// and a table nobody chose is there, empty.
TEST_F(MariaDbSnapshotTest, SubsetsKeepEveryForeignKeyAndChooseTheSameRowsEveryRun) {
  ASSERT_EQ(Sql("USE " + tag_ + "; INSERT INTO people VALUES " + Values(1, "p1@corp.example", 1) +
                "; INSERT INTO people SELECT seq, CONCAT('p', seq, '@corp.example'), name, bio, born, seen, ts, dur, "
                "amount, ratio, small, big, tiny, yr, code, raw, flag, kind, tags, doc, kept FROM people JOIN "
                "seq_2_to_3000 ON id = 1; INSERT INTO orders (person, total) SELECT 1 + seq % 3000, seq / 100 FROM "
                "seq_1_to_9000; CREATE TABLE items (order_id BIGINT, sku VARCHAR(10), qty INT, PRIMARY KEY (order_id, "
                "sku), CONSTRAINT items_order FOREIGN KEY (order_id) REFERENCES orders (id)); INSERT INTO items SELECT "
                "id, 'a', 1 FROM orders; INSERT INTO items SELECT id, 'b\\'z', 2 FROM orders WHERE id % 2 = 0; "
                "CREATE TABLE notes (person INT, txt TEXT, CONSTRAINT notes_person FOREIGN KEY (person) REFERENCES "
                "people (id)); INSERT INTO notes SELECT 1 + seq % 3000, CONCAT('note ', seq) FROM seq_1_to_1500; "
                "CREATE TABLE depts (code VARCHAR(8) PRIMARY KEY, head INT NULL); CREATE TABLE staff (id INT "
                "PRIMARY KEY, dept VARCHAR(8) NOT NULL, CONSTRAINT staff_dept FOREIGN KEY (dept) REFERENCES depts "
                "(code)); INSERT INTO depts SELECT CONCAT('d', seq), NULL FROM seq_0_to_19; INSERT INTO staff SELECT "
                "seq, CONCAT('d', seq % 20) FROM seq_1_to_200; UPDATE depts SET head = 1 + CAST(SUBSTRING(code, 2) "
                "AS UNSIGNED) * 7; ALTER TABLE depts ADD CONSTRAINT depts_head FOREIGN KEY (head) REFERENCES staff "
                "(id); CREATE TABLE untouched (id INT PRIMARY KEY); INSERT INTO untouched VALUES (1)"),
            "");
  const std::string subset =
      R"("subset": {"percentage": 5, "seed_tables": ["people"], "rules": {
           "orders": {"sample": "follow_fk", "parent": "people"},
           "items": {"sample": "follow_fk", "parent": "orders"},
           "notes": {"sample": "follow_fk", "parent": "people"},
           "staff": {"sample": "30%"}}}, )";
  WriteConfig(R"("email": {"transform": "ANONYMIZE", "generator": "email", "unique": true})", subset);
  const std::string staging = tag_ + "_staging";
  auto digest = [&] {
    return Sql("SELECT COUNT(*), MD5(GROUP_CONCAT(id, email ORDER BY id)) FROM " + staging + ".people; SELECT "
               "MD5(GROUP_CONCAT(order_id, sku ORDER BY order_id, sku)) FROM " + staging + ".items; SELECT "
               "MD5(GROUP_CONCAT(id ORDER BY id)) FROM " + staging + ".staff");
  };
  ASSERT_EQ(Phony({"snapshot", "--quiet"}, "subset1"), 0) << Output("subset1");
  const std::string first = digest();
  ASSERT_EQ(Phony({"snapshot", "--quiet"}, "subset2"), 0) << Output("subset2");
  EXPECT_EQ(digest(), first) << "the same rows (and fakes) every run";
  EXPECT_NE(Output("subset2").find("subset " + tag_ + ".items: follows " + tag_ + ".orders"), std::string::npos)
      << Output("subset2");

  // Every foreign key is in staging (the copy checked each for orphans).
  auto fks = [&](const std::string& db) {
    return Sql("SELECT COUNT(*) FROM information_schema.REFERENTIAL_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = '" + db + "'");
  };
  EXPECT_EQ(fks(staging), fks(tag_));
  EXPECT_EQ(fks(staging), "5\n");
  // About 5% of people (plus those referenced), and the follow_fk tables
  // complete for them.
  const int people = std::stoi(Sql("SELECT COUNT(*) FROM " + staging + ".people"));
  EXPECT_GT(people, 50);
  EXPECT_LT(people, 3000 * 5 / 100 * 2);
  const std::string ids = Sql("SELECT GROUP_CONCAT(id) FROM " + staging + ".people");
  const std::string in = "(" + ids.substr(0, ids.size() - 1) + ")";
  EXPECT_EQ(Sql("SELECT COUNT(*) FROM " + staging + ".orders"),
            Sql("SELECT COUNT(*) FROM " + tag_ + ".orders WHERE person IN " + in));
  EXPECT_EQ(Sql("SELECT COUNT(*), SUM(qty) FROM " + staging + ".items"),
            Sql("SELECT COUNT(*), SUM(qty) FROM " + tag_ + ".items i JOIN " + tag_ + ".orders o ON o.id = i.order_id "
                "WHERE o.person IN " + in));
  EXPECT_EQ(Sql("SELECT COUNT(*) FROM " + staging + ".notes"),
            Sql("SELECT COUNT(*) FROM " + tag_ + ".notes WHERE person IN " + in));
  // The cycle: sampled staff, their departments, the departments' heads.
  const int staff = std::stoi(Sql("SELECT COUNT(*) FROM " + staging + ".staff"));
  EXPECT_GT(staff, 30);
  EXPECT_LT(staff, 120);
  EXPECT_EQ(Sql("SELECT COUNT(*) FROM " + staging + ".depts d LEFT JOIN " + staging + ".staff s ON s.id = d.head "
                "WHERE d.head IS NOT NULL AND s.id IS NULL"),
            "0\n");
  EXPECT_EQ(Sql("SELECT COUNT(*) FROM " + staging + ".untouched"), "0\n");

  // other_tables "none" leaves the table out; a rule naming no table is an
  // error naming the key; no CDC over a subset.
  WriteConfig(R"("email": {"transform": "ANONYMIZE", "generator": "email", "unique": true})",
              R"("subset": {"percentage": 5, "seed_tables": ["people"], "other_tables": "none"}, )");
  ASSERT_EQ(Sql("DROP DATABASE " + staging), "");
  ASSERT_EQ(Phony({"snapshot", "--quiet"}, "none"), 0) << Output("none");
  EXPECT_EQ(Sql("SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = '" + staging +
                "' AND TABLE_NAME = 'untouched'"),
            "0\n");
  WriteConfig(R"("email": {"transform": "ANONYMIZE", "generator": "email", "unique": true})",
              R"("subset": {"percentage": 5, "seed_tables": ["people"], "rules": {"nosuch": {"sample": "follow_fk"}}}, )");
  EXPECT_EQ(Phony({"snapshot", "--quiet"}, "bad"), 1) << Output("bad");
  EXPECT_NE(Output("bad").find("subset.rules.nosuch: " + tag_ + ".nosuch is not a source table"), std::string::npos)
      << Output("bad");
}

// Tables of other shapes: no primary key, generated columns (computed by
// staging, never loaded), latin1 and binary text with the bytes LOAD DATA
// escapes, a 3 MB blob, a composite key; CDC after the copy, verify equal.
TEST_F(MariaDbSnapshotTest, KeylessGeneratedAndEscapedTablesCopyExactly) {
  ASSERT_EQ(Sql("USE " + tag_ + "; CREATE TABLE logbook (at DATETIME(6), note TEXT CHARACTER SET latin1, raw BLOB, "
                "n INT, twice INT AS (n * 2) VIRTUAL, label VARCHAR(40) AS (CONCAT('#', n)) PERSISTENT) "
                "DEFAULT CHARSET utf8mb4; CREATE TABLE pairs (a INT, b VARCHAR(10), v LONGBLOB, PRIMARY KEY (a, b)); "
                "INSERT INTO logbook (at, note, raw, n) VALUES ('2024-01-01 00:00:00', CONCAT('tab', CHAR(9), "
                "'nl', CHAR(10), 'bs', CHAR(92), 'caf', CHAR(233)), UNHEX('00095C0A0D'), 1), ('2024-01-01 00:00:00', "
                "CONCAT('tab', CHAR(9), 'nl', CHAR(10), 'bs', CHAR(92), 'caf', CHAR(233)), UNHEX('00095C0A0D'), 1), "
                "(NULL, NULL, NULL, NULL); INSERT INTO pairs VALUES (1, 'x', REPEAT(UNHEX('5C000A09'), 800000)), "
                "(1, 'y', NULL)"),
            "");
  ASSERT_EQ(Phony({"snapshot", "--start-cdc", "--quiet"}, "snap"), 0) << Output("snap");
  const std::string staging = tag_ + "_staging";
  EXPECT_EQ(Sql("SELECT HEX(note), HEX(raw), twice, label FROM " + staging + ".logbook ORDER BY n DESC"),
            Sql("SELECT HEX(note), HEX(raw), twice, label FROM " + tag_ + ".logbook ORDER BY n DESC"));
  EXPECT_EQ(Sql("SELECT a, b, MD5(v) FROM " + staging + ".pairs ORDER BY a, b"),
            Sql("SELECT a, b, MD5(v) FROM " + tag_ + ".pairs ORDER BY a, b"));
  ASSERT_EQ(Sql("USE " + tag_ + "; INSERT INTO logbook (n) VALUES (5); UPDATE pairs SET v = 'z' WHERE b = 'y'"), "");
  ASSERT_EQ(Phony({"run", "--stop-after-idle", "3"}, "run"), 0) << Output("run");
  EXPECT_EQ(Phony({"verify"}, "verify"), 0) << Output("verify");
  EXPECT_NE(Output("verify").find("staging equals the anonymized source (4 tables"), std::string::npos)
      << Output("verify");
}

TEST_F(MariaDbSnapshotTest, ARuleThatBreaksAUniqueIndexIsAProblemByName) {
  WriteConfig(R"("email": {"transform": "MASK", "pattern": "x{last4}"})");
  ASSERT_EQ(Sql("INSERT INTO " + tag_ + ".people VALUES " + Values(1, "a@corp.example", 1) + ", " +
                Values(2, "b@corp.example", 2)),
            "");
  EXPECT_EQ(Phony({"snapshot", "--quiet"}, "snap"), 3) << Output("snap");
  EXPECT_NE(Output("snap").find("problem: " + tag_ + ".people: UNIQUE KEY `email`"), std::string::npos)
      << Output("snap");
  EXPECT_EQ(Sql("SELECT COUNT(*) FROM " + tag_ + "_staging.people"), "2\n");  // the data stays
}

}  // namespace
}  // namespace phony
