// The whole Kafka pipeline as users run it, process by process: `phony
// capture` from PostgreSQL 15, `phony transform`, `phony apply` into a
// staging PostgreSQL of the test's own. Staging ends equal to the
// anonymized source — keys, kept columns, TOAST values the updates did not
// carry, primary-key changes, cascaded deletes, a truncate, an ALTER TABLE,
// duplicate rows of a table without a key — although the applier is killed
// with SIGKILL mid-stream and the staging server crashes and comes back
// while it runs. Joins across tables still join on the fakes; no original
// email reaches staging or the applier's log.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include <mysql.h>

#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/integration/pg_test_util.h"

namespace phony {
namespace {

using ::phony::testing::Broker;
using ::phony::testing::ConnectPg;
using ::phony::testing::DropDatabaseAndSlots;
using ::phony::testing::PgConn;
using ::phony::testing::PgQuery;
using ::phony::testing::ReadFile;
using ::phony::testing::ServiceEnv;
using json = nlohmann::json;
using Rows = std::vector<std::vector<std::string>>;

class PgApplyKafkaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    tag_ = "apk_" + std::to_string(getpid());
    dir_ = ::testing::TempDir() + "/" + tag_;
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_ + "/broker");
    brokers_ = Broker("start", dir_ + "/broker");
    staging_port_ = Staging("start");
    {
      PgConn c(PQconnectdb(("host=127.0.0.1 port=" + staging_port_ + " user=postgres dbname=postgres").c_str()));
      ASSERT_EQ(PQstatus(c.get()), CONNECTION_OK) << PQerrorMessage(c.get());
      PgQuery(c.get(), "CREATE DATABASE staging");
    }
    admin_ = ConnectPg("PG15", false);
    PgQuery(admin_.get(), "CREATE DATABASE " + tag_);
    src_ = ConnectPg("PG15", false, "dbname=" + tag_);
    setenv("PHONY_TEST_SECRET", "0123456789abcdef0123456789abcdef", 1);
    const json keep = {{"transform", "KEEP"}};
    const json fake_email = {{"transform", "ANONYMIZE"}, {"generator", "email"}, {"unique", true}};
    json config{
        {"name", tag_},
        {"source", {{"type", "postgresql"}, {"host", "127.0.0.1"},
                    {"port", std::stoi(ServiceEnv("PHONY_PG15_PORT"))}, {"database", tag_}, {"user", "postgres"}}},
        {"target", {{"type", "postgresql"}, {"host", "127.0.0.1"}, {"port", std::stoi(staging_port_)},
                    {"database", "staging"}, {"user", "postgres"}}},
        {"kafka", {{"brokers", brokers_}, {"transactions", true}}},
        {"apply", {{"batch_transactions", 7}, {"batch_delay_ms", 50}}},
        {"state", {{"dir", dir_ + "/state"}}},
        {"anonymization", {{"secret_ref", "env://PHONY_TEST_SECRET"}, {"locale", "tr_TR"}}},
        {"tables",
         {{"users", {{"columns", {{"id", keep}, {"email", fake_email},
                                  {"name", {{"transform", "ANONYMIZE"}, {"generator", "full_name"}}},
                                  {"bio", keep}, {"city", keep}}}}},
          {"orders", {{"columns", {{"id", keep}, {"user_id", keep}, {"customer_email", fake_email}, {"note", keep}}}}},
          {"events", {{"columns", {{"kind", keep}, {"payload", keep}}}}},
          {"audit", {{"columns", {{"id", keep}, {"note", keep}}}}}}}};
    config_ = dir_ + "/job.json";
    std::ofstream(config_) << config.dump();
    PgQuery(src_.get(),
            "CREATE TABLE users (id int PRIMARY KEY, email text NOT NULL UNIQUE, name text, bio text);"
            "CREATE TABLE orders (id bigint PRIMARY KEY, user_id int REFERENCES users(id) ON DELETE CASCADE, "
            "customer_email text, note text);"
            "CREATE TABLE events (kind text, payload jsonb); ALTER TABLE events REPLICA IDENTITY FULL;"
            "CREATE TABLE audit (id int PRIMARY KEY, note text); ALTER TABLE audit REPLICA IDENTITY FULL;");
  }
  void TearDown() override {
    if (apply_pid_ > 0) {
      kill(apply_pid_, SIGKILL);
      waitpid(apply_pid_, nullptr, 0);
    }
    Broker("kill", dir_ + "/broker");
    Staging("kill");
    src_.reset();
    DropDatabaseAndSlots(admin_.get(), tag_);
    std::filesystem::remove_all(dir_);
  }
  std::string Staging(const std::string& cmd) {
    return ::phony::testing::RunScript("pg_server.sh " + cmd + " " + dir_ + "/staging");
  }
  PgConn StagingConn() {
    PgConn c(PQconnectdb(("host=127.0.0.1 port=" + staging_port_ + " user=postgres dbname=staging").c_str()));
    EXPECT_EQ(PQstatus(c.get()), CONNECTION_OK) << PQerrorMessage(c.get());
    return c;
  }
  pid_t Spawn(const std::vector<std::string>& args, const std::string& log) {
    return ::phony::testing::SpawnPhony(dir_, args, log);
  }
  static int Wait(pid_t pid, int seconds) { return ::phony::testing::WaitForExit(pid, seconds); }
  void Stage(const std::string& name, const std::string& idle) {
    const pid_t pid = Spawn({name, "--config", config_, "--stop-after-idle", idle}, name + ".log");
    ASSERT_EQ(Wait(pid, 180), 0) << ReadFile(dir_ + "/" + name + ".log");
  }
  int64_t StagingCount(const std::string& table) {
    PgConn c(PQconnectdb(("host=127.0.0.1 port=" + staging_port_ + " user=postgres dbname=staging "
                          "connect_timeout=2").c_str()));
    if (PQstatus(c.get()) != CONNECTION_OK) return -1;
    PGresult* r = PQexec(c.get(), ("SELECT count(*) FROM " + table).c_str());
    const int64_t n = PQresultStatus(r) == PGRES_TUPLES_OK ? std::atoll(PQgetvalue(r, 0, 0)) : -1;
    PQclear(r);
    return n;
  }
  // Staging equals the source in every kept column, anonymized ones differ.
  void ExpectStagingMatchesSource(bool later_tables) {
    PgConn st = StagingConn();
    std::vector<std::string> queries = {"SELECT id, bio FROM users ORDER BY id",
                                        "SELECT id, user_id, note FROM orders ORDER BY id",
                                        "SELECT kind, payload::text FROM events ORDER BY 1, 2"};
    if (later_tables) {
      queries.push_back("SELECT id, city FROM users ORDER BY id");
      queries.push_back("SELECT id, note FROM audit ORDER BY 1");
    }
    for (const std::string& q : queries) {
      const Rows want = PgQuery(src_.get(), q);
      const Rows got = PgQuery(st.get(), q);
      EXPECT_EQ(got.size(), want.size()) << q;
      EXPECT_TRUE(got == want) << q;
    }
    EXPECT_EQ(PgQuery(st.get(), "SELECT count(*) FROM users WHERE email LIKE '%realcorp%' OR name LIKE 'Real%'"),
              (Rows{{"0"}}));
    EXPECT_EQ(PgQuery(st.get(), "SELECT count(DISTINCT email) = count(*) FROM users"), (Rows{{"t"}}));
    // Joins on the fakes still join.
    EXPECT_EQ(PgQuery(st.get(), "SELECT count(*) FROM orders o JOIN users u ON u.id = o.user_id "
                                "WHERE o.customer_email <> u.email"),
              (Rows{{"0"}}));
    EXPECT_EQ(PgQuery(st.get(), "SELECT count(*) FROM phony.dead_letters"), (Rows{{"0"}}));
    PgQuery(st.get(), "ALTER TABLE orders VALIDATE CONSTRAINT orders_user_id_fkey");  // no orphans
  }

  std::string tag_, dir_, brokers_, staging_port_, config_;
  PgConn admin_, src_;
  pid_t apply_pid_ = -1;
};

TEST_F(PgApplyKafkaTest, StagingEqualsTheAnonymizedSourceThroughCrashes) {
  Stage("capture", "2");  // creates the slot: what follows is streamed
  // 4000 users in 200 transactions, each with an order; a long bio (TOAST)
  // on every tenth; duplicate rows in a table without a key.
  for (int t = 0; t < 200; ++t) {
    std::string sql = "BEGIN;";
    for (int i = t * 20; i < t * 20 + 20; ++i) {
      const std::string id = std::to_string(i), email = "'person" + id + "@realcorp.test'";
      sql += "INSERT INTO users VALUES (" + id + ", " + email + ", 'Real Person " + id + "', " +
             (i % 10 == 0 ? "repeat(md5('" + id + "'), 200)" : "'short bio " + id + "'") + ");";
      sql += "INSERT INTO orders VALUES (" + std::to_string(100000 + i) + ", " + id + ", " + email + ", 'n" + id + "');";
    }
    sql += "INSERT INTO events VALUES ('tick', '{\"t\": " + std::to_string(t % 3) + "}');COMMIT;";
    PgQuery(src_.get(), sql);
  }
  Stage("capture", "3");
  Stage("transform", "4");

  // The applier is killed mid-stream, restarted, and then its staging
  // server crashes and comes back while it runs.
  apply_pid_ = Spawn({"apply", "--config", config_, "--stop-after-idle", "8"}, "apply.log");
  int64_t at_kill = -1;
  for (int i = 0; i < 600 && at_kill <= 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    at_kill = StagingCount("users");
  }
  kill(apply_pid_, SIGKILL);
  waitpid(apply_pid_, nullptr, 0);
  std::cerr << "applier killed with " << at_kill << " of 4000 users in staging\n";
  ASSERT_GT(at_kill, 0) << ReadFile(dir_ + "/apply.log");
  apply_pid_ = Spawn({"apply", "--config", config_, "--stop-after-idle", "8"}, "apply.log");
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  Staging("kill");
  std::this_thread::sleep_for(std::chrono::seconds(2));
  Staging("start");
  ASSERT_EQ(Wait(apply_pid_, 180), 0) << ReadFile(dir_ + "/apply.log");
  apply_pid_ = -1;
  ExpectStagingMatchesSource(false);

  // Then: updates that leave the TOAST bio out, primary-key changes,
  // cascaded deletes, an ALTER TABLE, a truncate, one of two equal rows deleted.
  PgQuery(src_.get(), "UPDATE users SET name = 'Real Renamed ' || id WHERE id % 5 = 0");
  PgQuery(src_.get(), "DELETE FROM orders WHERE user_id % 50 = 1");
  PgQuery(src_.get(), "UPDATE users SET id = id + 900000 WHERE id % 50 = 1");
  PgQuery(src_.get(), "DELETE FROM users WHERE id % 7 = 0");  // cascades to orders
  PgQuery(src_.get(), "ALTER TABLE users ADD COLUMN city text");
  PgQuery(src_.get(), "UPDATE users SET city = 'Izmir' WHERE id % 3 = 0");
  PgQuery(src_.get(), "INSERT INTO users VALUES (5000000, 'late@realcorp.test', 'Real Late', 'b', 'Van')");
  PgQuery(src_.get(), "TRUNCATE events");
  PgQuery(src_.get(), "INSERT INTO events VALUES ('a', '{}'), ('a', '{}'), ('b', NULL)");
  PgQuery(src_.get(), "DELETE FROM events WHERE ctid = (SELECT min(ctid) FROM events WHERE kind = 'a')");
  PgQuery(src_.get(), "INSERT INTO audit SELECT g, 'n' || g FROM generate_series(1, 30) g");
  PgQuery(src_.get(), "UPDATE audit SET note = 'changed' WHERE id % 4 = 0");
  PgQuery(src_.get(), "UPDATE audit SET id = id + 1000 WHERE id % 5 = 0");
  PgQuery(src_.get(), "DELETE FROM audit WHERE id % 3 = 0");
  Stage("capture", "3");
  Stage("transform", "4");
  Stage("apply", "5");
  ExpectStagingMatchesSource(true);
  PgConn st = StagingConn();
  EXPECT_EQ(PgQuery(st.get(), "SELECT count(*) FROM users WHERE id > 900000"),
            PgQuery(src_.get(), "SELECT count(*) FROM users WHERE id > 900000"));
  EXPECT_EQ(PgQuery(st.get(), "SELECT count(*) FROM users WHERE id % 10 = 0 AND length(bio) = 6400"),
            PgQuery(src_.get(), "SELECT count(*) FROM users WHERE id % 10 = 0 AND length(bio) = 6400"));
  // A table with REPLICA IDENTITY FULL keeps its primary key; one without a
  // key has none (its duplicates are real rows).
  EXPECT_EQ(PgQuery(st.get(), "SELECT conrelid::regclass::text FROM pg_constraint WHERE contype = 'p' AND "
                              "connamespace = 'public'::regnamespace ORDER BY 1"),
            (Rows{{"audit"}, {"orders"}, {"users"}}));
  // The applier's log holds no original value.
  const std::string log = ReadFile(dir_ + "/apply.log");
  EXPECT_EQ(log.find("realcorp"), std::string::npos);
  EXPECT_EQ(log.find("Real Person"), std::string::npos);
  EXPECT_NE(log.find("resuming from the progress staging holds"), std::string::npos) << log;
}

// kafka.partitions = 2: rows spread by key, and a truncate in the middle is
// a barrier the applier holds both partitions at.
TEST_F(PgApplyKafkaTest, TwoPartitionsWithATruncateEndEqualToTheSource) {
  json config = json::parse(ReadFile(config_));
  config["kafka"]["partitions"] = 2;
  std::ofstream(config_) << config.dump();
  Stage("capture", "2");
  for (int t = 0; t < 40; ++t) {
    std::string sql = "BEGIN;";
    for (int i = t * 25; i < t * 25 + 25; ++i) {
      sql += "INSERT INTO users VALUES (" + std::to_string(i) + ", 'p" + std::to_string(i) + "@realcorp.test', 'Real', 'b');";
    }
    PgQuery(src_.get(), sql + "COMMIT;");
    if (t == 19) PgQuery(src_.get(), "TRUNCATE users CASCADE");
  }
  PgQuery(src_.get(), "UPDATE users SET bio = 'changed' WHERE id % 3 = 0");
  Stage("capture", "3");
  Stage("transform", "4");
  Stage("apply", "5");
  PgConn st = StagingConn();
  const std::string q = "SELECT id, bio FROM users ORDER BY id";
  const Rows want = PgQuery(src_.get(), q);
  ASSERT_EQ(want.size(), 500u);
  EXPECT_TRUE(PgQuery(st.get(), q) == want);
  EXPECT_NE(ReadFile(dir_ + "/apply.log").find("barrier"), std::string::npos);
}

// The same pipeline into MariaDB staging (`target.type` mariadb).
TEST_F(PgApplyKafkaTest, IntoMariaDbStaging) {
  // A schema of this test's own: MariaDB staging names its database after it.
  const std::string schema = "apkm" + std::to_string(getpid());
  PgQuery(src_.get(), "CREATE SCHEMA " + schema + "; CREATE TABLE " + schema +
                          ".people (id int PRIMARY KEY, email text NOT NULL, bio text, born date)");
  json config = json::parse(ReadFile(config_));
  config["include"] = {schema + ".*"};
  config["target"] = {{"type", "mariadb"}, {"host", ServiceEnv("PHONY_MARIADB_HOST")},
                      {"port", std::stoi(ServiceEnv("PHONY_MARIADB_PORT"))}, {"database", "phony"},
                      {"user", ServiceEnv("PHONY_MARIADB_USER")}, {"password_ref", "env://PHONY_MARIADB_PASSWORD"}};
  config["tables"] = {{schema + ".people",
                       {{"columns",
                         {{"id", {{"transform", "KEEP"}}},
                          {"email", {{"transform", "ANONYMIZE"}, {"generator", "email"}, {"unique", true}}},
                          {"bio", {{"transform", "KEEP"}}},
                          {"born", {{"transform", "KEEP"}}}}}}}};
  std::ofstream(config_) << config.dump();
  Stage("capture", "2");
  PgQuery(src_.get(), "INSERT INTO " + schema + ".people SELECT g, 'p' || g || '@realcorp.test', "
                      "CASE WHEN g % 10 = 0 THEN repeat('x', 5000) ELSE 'bio ' || g END, date '1980-01-01' + g "
                      "FROM generate_series(1, 400) g");
  PgQuery(src_.get(), "UPDATE " + schema + ".people SET email = 'new' || id || '@realcorp.test' WHERE id % 4 = 0");
  PgQuery(src_.get(), "UPDATE " + schema + ".people SET id = id + 1000 WHERE id % 9 = 0");
  PgQuery(src_.get(), "DELETE FROM " + schema + ".people WHERE id % 5 = 0");
  Stage("capture", "3");
  Stage("transform", "4");
  Stage("apply", "5");
  MYSQL* m = mysql_init(nullptr);
  ASSERT_TRUE(mysql_real_connect(m, ServiceEnv("PHONY_MARIADB_HOST").c_str(), ServiceEnv("PHONY_MARIADB_USER").c_str(),
                                 ServiceEnv("PHONY_MARIADB_PASSWORD").c_str(), nullptr,
                                 std::stoi(ServiceEnv("PHONY_MARIADB_PORT")), nullptr, 0))
      << mysql_error(m);
  auto query = [&](const std::string& sql) {
    Rows out;
    EXPECT_EQ(mysql_query(m, sql.c_str()), 0) << mysql_error(m);
    if (MYSQL_RES* r = mysql_store_result(m)) {
      while (MYSQL_ROW row = mysql_fetch_row(r)) {
        std::vector<std::string> v;
        for (unsigned i = 0; i < mysql_num_fields(r); ++i) v.push_back(row[i] ? row[i] : "<null>");
        out.push_back(std::move(v));
      }
      mysql_free_result(r);
    }
    return out;
  };
  const Rows want = PgQuery(src_.get(), "SELECT id, md5(bio), born FROM " + schema + ".people ORDER BY id");
  ASSERT_EQ(want.size(), 320u);
  EXPECT_TRUE(query("SELECT id, md5(bio), born FROM `" + schema + "`.people ORDER BY id") == want);
  EXPECT_EQ(query("SELECT count(*) FROM `" + schema + "`.people WHERE email LIKE '%realcorp%'"), (Rows{{"0"}}));
  EXPECT_EQ(query("SELECT count(DISTINCT email) FROM `" + schema + "`.people"), (Rows{{"320"}}));
  query("DROP DATABASE `" + schema + "`");
  mysql_close(m);
}

TEST_F(PgApplyKafkaTest, AStagingUserWithoutReplicationRoleRightsIsToldWhatToGrant) {
  {
    PgConn c = StagingConn();
    PgQuery(c.get(), "CREATE ROLE weak LOGIN; GRANT ALL ON DATABASE staging TO weak; GRANT ALL ON SCHEMA public TO weak");
  }
  json config = json::parse(ReadFile(config_));
  config["target"]["user"] = "weak";
  std::ofstream(config_) << config.dump();
  const pid_t pid = Spawn({"apply", "--config", config_, "--stop-after-idle", "2"}, "apply.log");
  EXPECT_EQ(Wait(pid, 60), 4);
  const std::string log = ReadFile(dir_ + "/apply.log");
  EXPECT_NE(log.find("GRANT SET ON PARAMETER session_replication_role TO weak"), std::string::npos) << log;
}

}  // namespace
}  // namespace phony
