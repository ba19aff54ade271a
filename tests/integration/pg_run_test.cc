// `phony run` and `phony verify` as users run them, against PostgreSQL 15,
// on the e-commerce database of bench/datagen with the live traffic of
// bench/datagen/pg_ecommerce_workload.sql (inserts, updates and cascading
// deletes across FK-related tables, one source transaction per tick):
// - embedded: the run is killed with SIGKILL at random moments (the first
//   during its snapshot) while the traffic runs, and restarted each time; a
//   table created meanwhile is picked up, snapshotted and streamed. At the
//   end `phony verify` finds staging equal to the transform of the source
//   (nothing lost, nothing twice, no orphan), the snapshot's deferred
//   unique indexes exist, and verify reports a difference made by hand;
// - embedded, with the source and the staging server each restarted once;
// - on Kafka: capture, transform and apply as separate processes, a random
//   one killed with SIGKILL five times and restarted, then the broker
//   restarted; `phony verify` agrees; status and teardown;
// - scale-out: two transform and two apply processes on a 2-partition
//   stream, one of each killed, the survivors take over.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <thread>
#include <vector>

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

class PgRunTest : public ::testing::Test {
 protected:
  void SetUp() override {
    tag_ = "run_" + std::to_string(getpid());
    dir_ = ::testing::TempDir() + "/" + tag_;
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    admin_ = ConnectPg("PG15", false);
    for (const std::string& db : {tag_, tag_ + "_staging"}) {
      PgQuery(admin_.get(), "DROP DATABASE IF EXISTS " + db + " WITH (FORCE)");
      PgQuery(admin_.get(), "CREATE DATABASE " + db);
    }
    const std::string psql = ServiceEnv("PHONY_PG15_BIN") + "/psql -X -q -h 127.0.0.1 -p " +
                             ServiceEnv("PHONY_PG15_PORT") + " -U postgres";
    const std::string load = psql + " -v scale=0.05 -f " + PHONY_SOURCE_DIR + "/bench/datagen/pg_ecommerce.sql " +
                             tag_ + " > " + dir_ + "/datagen.log 2>&1 && " + psql + " -f " + PHONY_SOURCE_DIR +
                             "/bench/datagen/pg_ecommerce_workload.sql " + tag_ + " >> " + dir_ + "/datagen.log 2>&1";
    ASSERT_EQ(std::system(load.c_str()), 0) << ReadFile(dir_ + "/datagen.log");
    setenv("PHONY_SECRET", "0123456789abcdef0123456789abcdef", 1);
  }
  void TearDown() override {
    StopTraffic();
    for (pid_t pid : children_) Kill(pid);  // a failed assertion leaves stages running
    if (std::filesystem::exists(dir_ + "/broker")) {  // ... and a test's private broker
      (void)std::system((std::string(PHONY_SOURCE_DIR) + "/scripts/kafka_broker.sh kill " + dir_ +
                         "/broker >/dev/null 2>&1").c_str());
    }
    for (const std::string& d : servers_) {
      (void)std::system((std::string(PHONY_SOURCE_DIR) + "/scripts/pg_server.sh kill " + d + " >/dev/null 2>&1").c_str());
    }
    DropDatabaseAndSlots(admin_.get(), tag_);
    PgQuery(admin_.get(), "DROP DATABASE IF EXISTS " + tag_ + "_staging WITH (FORCE)");
    // PHONY_KEEP_TEST_LOGS=1 keeps the stages' logs of a passing test too.
    if (!HasFailure() && std::getenv("PHONY_KEEP_TEST_LOGS") == nullptr) std::filesystem::remove_all(dir_);
  }

  std::string Config(const json& extra = json::object()) {
    json c = json::parse(ReadFile(std::string(PHONY_SOURCE_DIR) + "/config/examples/ecommerce.json"));
    c["name"] = tag_;
    const int port = std::stoi(ServiceEnv("PHONY_PG15_PORT"));
    c["source"] = {{"type", "postgresql"}, {"host", "127.0.0.1"}, {"port", port}, {"database", tag_},
                   {"user", "postgres"}};
    c["target"] = {{"type", "postgresql"}, {"host", "127.0.0.1"}, {"port", port}, {"database", tag_ + "_staging"},
                   {"user", "postgres"}};
    c["state"] = {{"dir", dir_ + "/state"}};
    c["snapshot"] = {{"workers", 2}, {"chunk_mb", 1}};
    c["apply"] = {{"batch_delay_ms", 100}};
    c.merge_patch(extra);
    const std::string path = dir_ + "/job.json";
    std::ofstream(path) << c.dump(2);
    return path;
  }
  pid_t Spawn(const std::vector<std::string>& args, const std::string& log) {
    const pid_t pid = ::phony::testing::SpawnPhony(dir_, args, log);
    children_.push_back(pid);
    return pid;
  }
  int Wait(pid_t pid, int seconds = 240) { return ::phony::testing::WaitForExit(pid, seconds); }
  void Kill(pid_t pid) {
    if (kill(pid, SIGKILL) == 0) waitpid(pid, nullptr, 0);
  }
  // Whether a spawned process still runs ("" then), or how it ended.
  static std::string Ended(pid_t pid) {
    int status = 0;
    if (waitpid(pid, &status, WNOHANG) != pid) return "";
    return WIFEXITED(status) ? "exit " + std::to_string(WEXITSTATUS(status))
                             : "signal " + std::to_string(WTERMSIG(status));
  }
  PgConn Db(const std::string& name) { return ConnectPg("PG15", false, "dbname=" + name); }
  static std::string One(PGconn* c, const std::string& sql) { return PgQuery(c, sql).at(0).at(0); }

  // One source transaction per tick, until StopTraffic; through a source
  // restart it reconnects and goes on.
  void StartTraffic(const std::string& conninfo = "") {
    const std::string info = conninfo.empty() ? "host=127.0.0.1 port=" + ServiceEnv("PHONY_PG15_PORT") +
                                                    " user=postgres dbname=" + tag_
                                              : conninfo;
    traffic_ = std::thread([this, info] {
      PgConn c(PQconnectdb(info.c_str()));
      for (int i = 1; !stop_traffic_.load(); ++i) {
        if (PQstatus(c.get()) != CONNECTION_OK) {
          std::this_thread::sleep_for(std::chrono::milliseconds(200));
          PQreset(c.get());
          continue;
        }
        PGresult* r = PQexec(c.get(), ("SELECT phony_shop_tick(" + std::to_string(i) + ")").c_str());
        if (PQresultStatus(r) == PGRES_TUPLES_OK) ++ticks_;
        PQclear(r);
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
      }
    });
  }
  void StopTraffic() {
    stop_traffic_ = true;
    if (traffic_.joinable()) traffic_.join();
  }

  // `phony verify`: its exit code, the report in *out.
  int Verify(const std::string& config, std::string* out, std::vector<std::string> more = {}) {
    std::vector<std::string> args = {"verify", "--config", config};
    args.insert(args.end(), more.begin(), more.end());
    return Phony(args, out);
  }
  // What a GET of `path` on the endpoint of the phony run logging to `log`
  // answers ("" when it cannot be reached).
  std::string Endpoint(const std::string& log, const std::string& path) {
    const std::string text = ReadFile(dir_ + "/" + log);
    const size_t at = text.find("/healthz on 127.0.0.1:");
    if (at == std::string::npos) {
      ADD_FAILURE() << "no endpoint in " << log << ":\n" << text;
      return "";
    }
    const std::string port = text.substr(at + 22, text.find_first_not_of("0123456789", at + 22) - at - 22);
    const std::string file = dir_ + "/endpoint.txt";
    std::filesystem::remove(file);
    if (std::system(("curl -s -f http://127.0.0.1:" + port + path + " > " + file).c_str()) != 0) return "";
    return ReadFile(file);
  }
  // `phony ARGS`: its exit code, what it printed (stdout and stderr) in *out.
  int Phony(const std::vector<std::string>& args, std::string* out) {
    const std::string log = "phony" + std::to_string(++verifies_) + ".log";
    const pid_t pid = fork();
    if (pid == 0) {
      FILE* o = std::freopen((dir_ + "/" + log).c_str(), "w", stdout);
      (void)o;
      dup2(STDOUT_FILENO, STDERR_FILENO);  // one file offset: nothing overwrites
      std::vector<char*> argv{const_cast<char*>(PHONY_BINARY)};
      for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
      argv.push_back(nullptr);
      execv(PHONY_BINARY, argv.data());
      _exit(127);
    }
    const int rc = Wait(pid, 300);
    *out = ReadFile(dir_ + "/" + log);
    return rc;
  }

  std::string tag_;
  std::string dir_;
  PgConn admin_;
  std::thread traffic_;
  std::atomic<bool> stop_traffic_{false};
  std::atomic<int> ticks_{0};
  int verifies_ = 0;
  std::vector<pid_t> children_;
  std::vector<std::string> servers_;  // private servers (scripts/pg_server.sh) to stop
};

TEST_F(PgRunTest, EmbeddedRunSurvivesKillsAndEndsEqualToTheSource) {
  const std::string config = Config();
  StartTraffic();
  std::mt19937 rng(static_cast<uint32_t>(getpid()));
  // The first kill lands in the snapshot (scale 0.05 takes about half a
  // second); the others anywhere in the streaming.
  const std::vector<std::string> run = {"run", "--config", config, "--quiet", "--table-refresh-interval", "1",
                                        "--metrics-address", "127.0.0.1:0"};
  for (int round = 0; round < 6; ++round) {
    const std::string log = "run" + std::to_string(round) + ".log";
    const pid_t pid = Spawn(run, log);
    const int ms = round == 0 ? 250 : 1000 + static_cast<int>(rng() % 2000);
    std::this_thread::sleep_for(std::chrono::milliseconds(ms));
    if (round == 2) {
      // A table created while the job runs: rows before the capture sees it
      // come from its snapshot, rows after from the stream.
      PgConn src = Db(tag_);
      PgQuery(src.get(), "CREATE TABLE newsletter (id int PRIMARY KEY, user_id bigint REFERENCES users(id), "
                         "topic text NOT NULL UNIQUE); INSERT INTO newsletter SELECT g, g, 'topic ' || g FROM "
                         "generate_series(1, 40) g");
      std::this_thread::sleep_for(std::chrono::milliseconds(2500));
      PgQuery(src.get(), "INSERT INTO newsletter SELECT g, g, 'topic ' || g FROM generate_series(41, 60) g; "
                         "DELETE FROM newsletter WHERE id % 10 = 0; UPDATE newsletter SET topic = topic || '!' "
                         "WHERE id % 10 = 1");
    }
    ASSERT_EQ(Ended(pid), "") << "phony run ended early:\n" << ReadFile(dir_ + "/" + log);
    if (round == 5) {
      // The endpoint: healthy, streaming, counting.
      EXPECT_EQ(Endpoint(log, "/healthz"), "ok\n");
      const std::string metrics = Endpoint(log, "/metrics");
      EXPECT_NE(metrics.find("phony_phase{job=\"" + tag_ + "\"} 2"), std::string::npos) << metrics;
      EXPECT_NE(metrics.find("phony_slot_retained_wal_bytes{"), std::string::npos) << metrics;
      EXPECT_NE(metrics.find("phony_rows_applied_total{"), std::string::npos) << metrics;
      EXPECT_EQ(metrics.find("phony_rows_applied_total{job=\"" + tag_ + "\"} 0\n"), std::string::npos) << metrics;
    }
    Kill(pid);
  }
  StopTraffic();
  EXPECT_GT(ticks_.load(), 50);
  // The last run catches up and stops once the source is quiet.
  ASSERT_EQ(Wait(Spawn({"run", "--config", config, "--quiet", "--stop-after-idle", "3"}, "run.log")), 0)
      << ReadFile(dir_ + "/run.log");

  std::string report;
  ASSERT_EQ(Verify(config, &report), 0) << report << "\n" << ReadFile(dir_ + "/run.log");
  EXPECT_NE(report.find("public.newsletter"), std::string::npos) << report;
  PgConn dst = Db(tag_ + "_staging");
  EXPECT_EQ(One(dst.get(), "SELECT count(*) FROM newsletter"), "54");
  // Sequences follow the source (logical replication does not carry them).
  EXPECT_EQ(One(dst.get(), "SELECT last_value FROM users_id_seq"), One(Db(tag_).get(), "SELECT last_value FROM users_id_seq"));
  EXPECT_EQ(One(dst.get(), "SELECT last_value FROM orders_id_seq"), One(Db(tag_).get(), "SELECT last_value FROM orders_id_seq"));
  // Unique indexes wait for convergence when a copy is resumed: here they exist.
  EXPECT_EQ(One(dst.get(), "SELECT count(*) FROM phony.deferred_ddl WHERE done_at IS NULL"), "0")
      << One(dst.get(), "SELECT coalesce(string_agg(statement || ': ' || coalesce(error, ''), E'\\n'), '') "
                        "FROM phony.deferred_ddl WHERE done_at IS NULL");
  EXPECT_EQ(One(dst.get(), "SELECT count(*) FROM pg_indexes WHERE tablename = 'users' AND indexdef LIKE "
                           "'CREATE UNIQUE INDEX % (email)'"),
            "1");
  // No original email reached staging.
  PgConn src = Db(tag_);
  const auto originals = PgQuery(src.get(), "SELECT email FROM users ORDER BY id LIMIT 50");
  for (const auto& row : originals) {
    EXPECT_EQ(One(dst.get(), "SELECT count(*) FROM users WHERE email = '" + row[0] + "'"), "0");
  }

  // verify sees what it must: a changed row, a lost row, a row too many, an orphan.
  PgQuery(dst.get(), "SET session_replication_role = replica; UPDATE users SET last_name = 'Tampered' WHERE id = 3; "
                     "DELETE FROM orders WHERE id = (SELECT min(id) FROM orders); INSERT INTO categories (id, name) "
                     "VALUES (100000, 'extra')");
  ASSERT_EQ(Verify(config, &report), 3) << report;
  EXPECT_NE(report.find("differing keys: 3"), std::string::npos) << report;
  EXPECT_NE(report.find("extra keys: 100000"), std::string::npos) << report;
  EXPECT_NE(report.find("foreign key public.order_items"), std::string::npos) << report;
  EXPECT_NE(report.find("staging DIFFERS"), std::string::npos) << report;
}

// The source server and the staging server each restarted once (the
// staging one crashed: immediate shutdown) while the embedded run streams
// the traffic: it waits for each with backoff and ends equal to the source.
TEST_F(PgRunTest, EmbeddedRunRidesOutSourceAndStagingRestarts) {
  const std::string src_dir = dir_ + "/src", stg_dir = dir_ + "/stg";
  const std::string src_port = ::phony::testing::RunScript("pg_server.sh start " + src_dir);
  servers_.push_back(src_dir);
  std::ofstream(src_dir + "/data/postgresql.conf", std::ios::app)
      << "wal_level = logical\nmax_replication_slots = 8\nmax_wal_senders = 8\n";
  ::phony::testing::RunScript("pg_server.sh stop " + src_dir);
  ::phony::testing::RunScript("pg_server.sh start " + src_dir);
  const std::string stg_port = ::phony::testing::RunScript("pg_server.sh start " + stg_dir);
  servers_.push_back(stg_dir);
  const std::string psql = ServiceEnv("PHONY_PG15_BIN") + "/psql -X -q -h 127.0.0.1 -U postgres -p ";
  const std::string load = psql + src_port + " -c 'CREATE DATABASE shop' postgres > " + dir_ + "/load.log 2>&1 && " +
                           psql + stg_port + " -c 'CREATE DATABASE staging' postgres >> " + dir_ + "/load.log 2>&1 && " +
                           psql + src_port + " -v scale=0.05 -f " + PHONY_SOURCE_DIR +
                           "/bench/datagen/pg_ecommerce.sql shop >> " + dir_ + "/load.log 2>&1 && " + psql + src_port +
                           " -f " + PHONY_SOURCE_DIR + "/bench/datagen/pg_ecommerce_workload.sql shop >> " + dir_ +
                           "/load.log 2>&1";
  ASSERT_EQ(std::system(load.c_str()), 0) << ReadFile(dir_ + "/load.log");
  const std::string config = Config({{"source", {{"port", std::stoi(src_port)}, {"database", "shop"}}},
                                     {"target", {{"port", std::stoi(stg_port)}, {"database", "staging"}}}});
  const pid_t run = Spawn({"run", "--config", config, "--quiet"}, "run.log");
  for (int i = 0; i < 600 && ReadFile(dir_ + "/run.log").find("capture: streaming") == std::string::npos; ++i) {
    ASSERT_EQ(Ended(run), "") << ReadFile(dir_ + "/run.log");
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  StartTraffic("host=127.0.0.1 port=" + src_port + " user=postgres dbname=shop");
  std::this_thread::sleep_for(std::chrono::seconds(2));
  ::phony::testing::RunScript("pg_server.sh stop " + src_dir);
  std::this_thread::sleep_for(std::chrono::seconds(2));
  ::phony::testing::RunScript("pg_server.sh start " + src_dir);
  std::this_thread::sleep_for(std::chrono::seconds(3));
  ::phony::testing::RunScript("pg_server.sh kill " + stg_dir);
  std::this_thread::sleep_for(std::chrono::seconds(2));
  ::phony::testing::RunScript("pg_server.sh start " + stg_dir);
  std::this_thread::sleep_for(std::chrono::seconds(4));
  StopTraffic();
  EXPECT_GT(ticks_.load(), 50);
  ASSERT_EQ(Ended(run), "") << "phony run gave up:\n" << ReadFile(dir_ + "/run.log");
  kill(run, SIGTERM);
  ASSERT_EQ(Wait(run), 0) << ReadFile(dir_ + "/run.log");
  const std::string log = ReadFile(dir_ + "/run.log");
  EXPECT_NE(log.find("retry"), std::string::npos) << "the outages were waited out, with backoff:\n" << log;
  // What the clean stop left unconfirmed (none, normally) is caught up here.
  ASSERT_EQ(Wait(Spawn({"run", "--config", config, "--quiet", "--stop-after-idle", "3"}, "run2.log")), 0)
      << ReadFile(dir_ + "/run2.log");
  std::string report;
  EXPECT_EQ(Verify(config, &report), 0) << report << "\n" << log;
}

TEST_F(PgRunTest, KafkaStagesSurviveKillsAndEndEqualToTheSource) {
  const std::string brokers = Broker("start", dir_ + "/broker");
  const std::string config = Config({{"kafka", {{"brokers", brokers}}}});
  ASSERT_EQ(Wait(Spawn({"snapshot", "--config", config, "--quiet", "--start-cdc"}, "snapshot.log")), 0)
      << ReadFile(dir_ + "/snapshot.log");
  StartTraffic();
  const std::vector<std::string> stages = {"capture", "transform", "apply"};
  std::vector<pid_t> pids;
  for (const std::string& s : stages) pids.push_back(Spawn({s, "--config", config}, s + ".log"));
  std::mt19937 rng(static_cast<uint32_t>(getpid()));
  for (int round = 0; round < 5; ++round) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1000 + rng() % 2000));
    const size_t victim = rng() % stages.size();
    ASSERT_EQ(Ended(pids[victim]), "")
        << stages[victim] << " ended early:\n" << ReadFile(dir_ + "/" + stages[victim] + ".log");
    Kill(pids[victim]);
    pids[victim] = Spawn({stages[victim], "--config", config}, stages[victim] + ".log");
  }
  // The broker restarted once under the running stages: they wait for it.
  Broker("stop", dir_ + "/broker");
  std::this_thread::sleep_for(std::chrono::seconds(3));
  EXPECT_EQ(Broker("start", dir_ + "/broker"), brokers);
  std::this_thread::sleep_for(std::chrono::seconds(3));
  for (size_t i = 0; i < stages.size(); ++i) {
    ASSERT_EQ(Ended(pids[i]), "") << stages[i] << " gave up on the broker:\n"
                                  << ReadFile(dir_ + "/" + stages[i] + ".log");
  }
  StopTraffic();
  // Each stage stops once it has been idle (capture first: the rest drain).
  for (size_t i = 0; i < stages.size(); ++i) {
    kill(pids[i], SIGTERM);
    EXPECT_EQ(Wait(pids[i]), 0) << ReadFile(dir_ + "/" + stages[i] + ".log");
    ASSERT_EQ(Wait(Spawn({stages[i], "--config", config, "--stop-after-idle", "4"}, stages[i] + ".log")), 0)
        << ReadFile(dir_ + "/" + stages[i] + ".log");
  }
  std::string report;
  EXPECT_EQ(Verify(config, &report), 0) << report;
  EXPECT_GT(ticks_.load(), 50);

  // Where the job stands, then retiring it.
  std::string status;
  ASSERT_EQ(Phony({"status", "--config", config, "--format", "json"}, &status), 0) << status;
  const json st = json::parse(status.substr(status.find('{')));
  EXPECT_TRUE(st["source"]["slot_exists"].get<bool>()) << status;
  EXPECT_EQ(st["staging"]["dead_letters"], 0) << status;
  EXPECT_EQ(st["staging"]["progress"].size(), 1u) << status;
  std::string plan;
  ASSERT_EQ(Phony({"teardown", "--config", config}, &plan), 0) << plan;
  EXPECT_NE(plan.find("would drop"), std::string::npos) << plan;
  EXPECT_EQ(One(admin_.get(), "SELECT count(*) FROM pg_replication_slots WHERE slot_name = 'phony_" + tag_ + "'"), "1")
      << "without --yes nothing is dropped";
  std::string dropped;
  ASSERT_EQ(Phony({"teardown", "--config", config, "--yes"}, &dropped), 0) << dropped;
  for (const char* what : {"replication slot", "publication", "capture-0", "transform-0", ".raw", ".anonymized"}) {
    EXPECT_NE(dropped.find(what), std::string::npos) << what << " in:\n" << dropped;
  }
  EXPECT_EQ(One(admin_.get(), "SELECT count(*) FROM pg_replication_slots WHERE slot_name = 'phony_" + tag_ + "'"), "0");
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/state/capture-0"));
  Broker("kill", dir_ + "/broker");
}

// Scale-out on one machine: a 2-partition stream, two transform and two
// apply processes in the same consumer groups. One of each is killed; the
// survivors take its partitions over (static members: after the session
// timeout, 6 s here) and staging catches up with no loss and no duplicate.
TEST_F(PgRunTest, TwoTransformsAndTwoAppliersSplitThePartitionsAndTakeOver) {
  const std::string brokers = Broker("start", dir_ + "/broker");
  // Long Kafka transactions: the kill below lands inside an open one.
  const std::string config = Config({{"kafka", {{"brokers", brokers}, {"partitions", 2},
                                                {"transaction_interval_ms", 3000},
                                                {"properties", {{"session.timeout.ms", "6000"},
                                                                {"heartbeat.interval.ms", "1000"}}}}}});
  ASSERT_EQ(Wait(Spawn({"snapshot", "--config", config, "--quiet", "--start-cdc"}, "snapshot.log")), 0)
      << ReadFile(dir_ + "/snapshot.log");
  StartTraffic();
  const pid_t capture = Spawn({"capture", "--config", config}, "capture.log");
  const pid_t t0 = Spawn({"transform", "--config", config, "--instance", "0"}, "transform0.log");
  const pid_t t1 = Spawn({"transform", "--config", config, "--instance", "1"}, "transform1.log");
  const pid_t a0 = Spawn({"apply", "--config", config, "--instance", "0"}, "apply0.log");
  const pid_t a1 = Spawn({"apply", "--config", config, "--instance", "1"}, "apply1.log");
  // Each instance owns one partition and works on it before the second
  // ones die.
  auto log_has = [&](const std::string& log, const std::string& what) {
    return ReadFile(dir_ + "/" + log + ".log").find(what) != std::string::npos;
  };
  for (int i = 0; i < 600 && !(log_has("transform1", "assigned 1 partition") && log_has("apply1", "1 partitions assigned"));
       ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  std::this_thread::sleep_for(std::chrono::seconds(4));
  for (const auto& [pid, log] : std::vector<std::pair<pid_t, std::string>>{
           {capture, "capture"}, {t0, "transform0"}, {t1, "transform1"}, {a0, "apply0"}, {a1, "apply1"}}) {
    ASSERT_EQ(Ended(pid), "") << log << ":\n" << ReadFile(dir_ + "/" + log + ".log");
  }
  ASSERT_TRUE(log_has("transform1", "assigned 1 partition")) << ReadFile(dir_ + "/transform1.log");
  ASSERT_TRUE(log_has("apply1", "1 partitions assigned")) << ReadFile(dir_ + "/apply1.log");
  Kill(t1);
  Kill(a1);
  std::this_thread::sleep_for(std::chrono::seconds(5));
  StopTraffic();
  EXPECT_GT(ticks_.load(), 50);
  // The survivors alone, without a restart of the dead ones, bring staging
  // to the source: rows of both partitions. The dead transform's open
  // Kafka transaction must not hold back the partition it wrote to.
  PgConn src = Db(tag_);
  PgConn dst = Db(tag_ + "_staging");
  const std::string fingerprint =
      "SELECT (SELECT count(*) || ':' || coalesce(sum(id), 0) FROM users) || ' ' || "
      "(SELECT count(*) || ':' || coalesce(sum(id), 0) FROM orders) || ' ' || "
      "(SELECT count(*) || ':' || coalesce(sum(id), 0) FROM reviews)";
  const std::string want = One(src.get(), fingerprint);
  std::string got;
  for (int i = 0; i < 600 && got != want; ++i) {
    got = One(dst.get(), fingerprint);
    if (got != want) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_EQ(got, want) << ReadFile(dir_ + "/transform0.log") << ReadFile(dir_ + "/apply0.log");
  EXPECT_TRUE(log_has("transform0", "assigned 2 partition")) << ReadFile(dir_ + "/transform0.log");
  EXPECT_TRUE(log_has("apply0", "2 partitions assigned")) << ReadFile(dir_ + "/apply0.log");
  for (pid_t pid : {capture, t0, a0}) {
    kill(pid, SIGTERM);
    EXPECT_EQ(Wait(pid), 0);
  }
  for (const std::string stage : {"capture", "transform", "apply"}) {
    ASSERT_EQ(Wait(Spawn({stage, "--config", config, "--stop-after-idle", "4"}, stage + "-drain.log")), 0)
        << ReadFile(dir_ + "/" + stage + "-drain.log");
  }
  std::string report;
  EXPECT_EQ(Verify(config, &report), 0) << report;
  Broker("kill", dir_ + "/broker");
}

// `phony run` with a kafka section: the snapshot, then the three stages in
// one process over the broker; a table created meanwhile is copied while
// they stream; --stop-after-idle drains and stops.
TEST_F(PgRunTest, KafkaModeRunSnapshotsStreamsAndCopiesNewTables) {
  const std::string brokers = Broker("start", dir_ + "/broker");
  const std::string config = Config({{"kafka", {{"brokers", brokers}}}});
  StartTraffic();
  const pid_t run = Spawn({"run", "--config", config, "--quiet", "--table-refresh-interval", "1", "--metrics-address",
                           "127.0.0.1:0"},
                          "run.log");
  for (int i = 0; i < 600 && ReadFile(dir_ + "/run.log").find("apply: phony_internal") == std::string::npos; ++i) {
    ASSERT_EQ(Ended(run), "") << ReadFile(dir_ + "/run.log");
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  std::this_thread::sleep_for(std::chrono::seconds(2));
  PgConn src = Db(tag_);
  PgQuery(src.get(), "CREATE TABLE newsletter (id int PRIMARY KEY, topic text NOT NULL); INSERT INTO newsletter "
                     "SELECT g, 'topic ' || g FROM generate_series(1, 30) g");
  std::this_thread::sleep_for(std::chrono::seconds(4));
  PgQuery(src.get(), "INSERT INTO newsletter SELECT g, 'topic ' || g FROM generate_series(31, 40) g; "
                     "UPDATE newsletter SET topic = 'changed' WHERE id = 5");
  std::this_thread::sleep_for(std::chrono::seconds(2));
  StopTraffic();
  EXPECT_GT(ticks_.load(), 50);
  ASSERT_EQ(Ended(run), "") << ReadFile(dir_ + "/run.log");
  // The stages in their threads count for /metrics as the embedded ones do.
  const std::string metrics = Endpoint("run.log", "/metrics");
  EXPECT_NE(metrics.find("phony_phase{job=\"" + tag_ + "\"} 2"), std::string::npos) << metrics;
  for (const std::string& counter :
       std::vector<std::string>{"phony_rows_applied_total{job=\"" + tag_ + "\"} ",
                                "phony_events_total{job=\"" + tag_ + "\",stage=\"transform\"} "}) {
    const size_t at = metrics.find(counter);
    ASSERT_NE(at, std::string::npos) << counter << "\n" << metrics;
    EXPECT_GT(std::stod(metrics.substr(at + counter.size())), 0) << counter << "\n" << metrics;
  }
  kill(run, SIGTERM);
  ASSERT_EQ(Wait(run), 0) << ReadFile(dir_ + "/run.log");
  EXPECT_NE(ReadFile(dir_ + "/run.log").find("new tables public.newsletter"), std::string::npos)
      << ReadFile(dir_ + "/run.log");
  ASSERT_EQ(Wait(Spawn({"run", "--config", config, "--quiet", "--stop-after-idle", "3"}, "run2.log")), 0)
      << ReadFile(dir_ + "/run2.log");
  std::string report;
  EXPECT_EQ(Verify(config, &report), 0) << report << ReadFile(dir_ + "/run.log");
  EXPECT_EQ(One(Db(tag_ + "_staging").get(), "SELECT count(*) FROM newsletter"), "40");
  Broker("kill", dir_ + "/broker");
}

}  // namespace
}  // namespace phony
