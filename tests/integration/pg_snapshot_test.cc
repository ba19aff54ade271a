// `phony snapshot` as users run it, against PostgreSQL 15, on the
// e-commerce database of bench/datagen (types, a domain, an enum, identity
// and serial columns, a composite key, a self-reference, an FK cycle with a
// nullable edge, a table without a key, JSON, arrays, bytea, inet):
// - a full copy: every table and row there, kept columns equal, PII columns
//   anonymized consistently across tables, indexes, constraints and
//   sequences in place, every foreign key valid;
// - a copy killed with SIGKILL mid-load resumes and ends identical to an
//   uninterrupted copy;
// - a copy taken while the source is written, with --start-cdc and the
//   Kafka pipeline replaying after it, ends identical to a copy of the final
//   source: the snapshot and CDC paths give the same fakes and converge.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
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

const std::vector<std::string> kTables = {"users",        "addresses",   "categories", "products",
                                          "orders",       "order_items", "payments",   "reviews",
                                          "support_tickets", "departments", "employees", "audit_events"};

class PgSnapshotTest : public ::testing::Test {
 protected:
  void SetUp() override {
    tag_ = "snp_" + std::to_string(getpid());
    dir_ = ::testing::TempDir() + "/" + tag_;
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    admin_ = ConnectPg("PG15", false);
    for (const std::string& db : {tag_, tag_ + "_a", tag_ + "_b"}) {
      PgQuery(admin_.get(), "DROP DATABASE IF EXISTS " + db + " WITH (FORCE)");
      PgQuery(admin_.get(), "CREATE DATABASE " + db);
    }
    const std::string psql = ServiceEnv("PHONY_PG15_BIN") + "/psql -X -q -h 127.0.0.1 -p " +
                             ServiceEnv("PHONY_PG15_PORT") + " -U postgres -v scale=0.05 -f " + PHONY_SOURCE_DIR +
                             "/bench/datagen/pg_ecommerce.sql " + tag_ + " > " + dir_ + "/datagen.log 2>&1";
    ASSERT_EQ(std::system(psql.c_str()), 0) << ReadFile(dir_ + "/datagen.log");
    setenv("PHONY_SECRET", "0123456789abcdef0123456789abcdef", 1);
  }
  void TearDown() override {
    DropDatabaseAndSlots(admin_.get(), tag_);
    for (const std::string& db : {tag_ + "_a", tag_ + "_b"}) {
      PgQuery(admin_.get(), "DROP DATABASE IF EXISTS " + db + " WITH (FORCE)");
    }
    std::filesystem::remove_all(dir_);
  }

  // The e-commerce job config, copying into database `target`.
  std::string Config(const std::string& name, const std::string& target, const json& extra = json::object()) {
    json c = json::parse(ReadFile(std::string(PHONY_SOURCE_DIR) + "/config/examples/ecommerce.json"));
    c["name"] = name;
    const int port = std::stoi(ServiceEnv("PHONY_PG15_PORT"));
    c["source"] = {{"type", "postgresql"}, {"host", "127.0.0.1"}, {"port", port}, {"database", tag_},
                   {"user", "postgres"}};
    c["target"] = {{"type", "postgresql"}, {"host", "127.0.0.1"}, {"port", port}, {"database", target},
                   {"user", "postgres"}};
    c["state"] = {{"dir", dir_ + "/state-" + name}};
    c["snapshot"] = {{"workers", 2}};
    c.merge_patch(extra);
    const std::string path = dir_ + "/" + name + ".json";
    std::ofstream(path) << c.dump(2);
    return path;
  }
  pid_t Spawn(const std::vector<std::string>& args, const std::string& log) {
    return ::phony::testing::SpawnPhony(dir_, args, log);
  }
  int Snapshot(const std::string& config, const std::string& log, std::vector<std::string> more = {}) {
    std::vector<std::string> args = {"snapshot", "--config", config, "--quiet"};
    args.insert(args.end(), more.begin(), more.end());
    return ::phony::testing::WaitForExit(Spawn(args, log), 300);
  }
  PgConn Db(const std::string& name) { return ConnectPg("PG15", false, "dbname=" + name); }
  static std::string One(PGconn* c, const std::string& sql) { return PgQuery(c, sql).at(0).at(0); }

  // The Kafka pipeline, stage after stage, until each has been idle 4 s.
  void Replay(const std::string& config, const std::string& round) {
    for (const std::string stage : {"capture", "transform", "apply"}) {
      const std::string log = stage + round + ".log";
      const pid_t pid = Spawn({stage, "--config", config, "--stop-after-idle", "4"}, log);
      ASSERT_EQ(::phony::testing::WaitForExit(pid, 240), 0) << stage << ":\n" << ReadFile(dir_ + "/" + log);
    }
  }

  // An order-independent digest of every row of every table.
  std::map<std::string, std::string> Digest(const std::string& db) {
    PgConn c = Db(db);
    std::map<std::string, std::string> out;
    for (const std::string& t : kTables) {
      out[t] = One(c.get(), "SELECT count(*) || ':' || coalesce(md5(string_agg(x, E'\\n' ORDER BY x)), '') FROM "
                            "(SELECT t::text AS x FROM " + t + " t) s");
    }
    return out;
  }

  std::string tag_;
  std::string dir_;
  PgConn admin_;
};

TEST_F(PgSnapshotTest, FullCopyIsCompleteAnonymizedAndConstrained) {
  const std::string config = Config(tag_ + "-full", tag_ + "_a");
  ASSERT_EQ(Snapshot(config, "full.log"), 0) << ReadFile(dir_ + "/full.log");
  PgConn src = Db(tag_);
  PgConn dst = Db(tag_ + "_a");

  // Every row of every table.
  for (const std::string& t : kTables) {
    EXPECT_EQ(One(dst.get(), "SELECT count(*) FROM " + t), One(src.get(), "SELECT count(*) FROM " + t)) << t;
  }
  // Kept columns equal, row by row.
  const std::string kept_orders =
      "SELECT md5(string_agg(concat_ws('|', id, user_id, shipping_address_id, status, total, placed_at, "
      "delivery_window, delivery_time), ',' ORDER BY id)) FROM orders";
  EXPECT_EQ(One(dst.get(), kept_orders), One(src.get(), kept_orders));
  const std::string kept_items = "SELECT md5(string_agg(concat_ws('|', order_id, line_no, product_id, quantity, "
                                 "unit_price), ',' ORDER BY order_id, line_no)) FROM order_items";
  EXPECT_EQ(One(dst.get(), kept_items), One(src.get(), kept_items));
  const std::string kept_products = "SELECT md5(string_agg(concat_ws('|', id, sku, name, description, price, "
                                    "weight_kg, tags, in_stock), ',' ORDER BY id)) FROM products";
  EXPECT_EQ(One(dst.get(), kept_products), One(src.get(), kept_products));
  // Every column without a rule equal to the source's, every column with
  // one (other than KEEP) changed in (almost) every row: rows matched on the
  // primary key (the keyless table on its position in time).
  const json rules = json::parse(ReadFile(config))["tables"];
  for (const std::string& t : kTables) {
    const auto cols = PgQuery(src.get(), "SELECT attname FROM pg_attribute WHERE attrelid = 'public." + t +
                                             "'::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum");
    const std::string key = One(src.get(), "SELECT coalesce((SELECT string_agg(a.attname, ', ') FROM pg_index i JOIN "
                                           "pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) "
                                           "WHERE i.indrelid = 'public." + t + "'::regclass AND i.indisprimary), "
                                           "'occurred_at, action')");
    for (const auto& col : cols) {
      const std::string c = col[0];
      const json rule = rules.contains(t) && rules[t]["columns"].contains(c) ? rules[t]["columns"][c] : json();
      const bool ruled = !rule.is_null() && (rule["transform"] != "KEEP" || rule.contains("json_paths"));
      if (!rule.is_null() && rule["transform"] == "SCRUB") continue;  // text without PII stays: checked below
      const auto a = PgQuery(src.get(), "SELECT " + c + "::text FROM " + t + " ORDER BY " + key);
      const auto b = PgQuery(dst.get(), "SELECT " + c + "::text FROM " + t + " ORDER BY " + key);
      ASSERT_EQ(a.size(), b.size()) << t << "." << c;
      size_t same = 0, present = 0;
      for (size_t i = 0; i < a.size(); ++i) {
        if (a[i][0] == "<null>") continue;
        ++present;
        same += a[i][0] == b[i][0];
      }
      if (!ruled) {
        EXPECT_EQ(same, present) << t << "." << c << " has no rule (or KEEP) and must be copied as it is";
      } else {
        EXPECT_LE(same * 20, present) << t << "." << c << " has a rule: at most 5% of its values may be unchanged";
      }
    }
  }
  // PII columns anonymized: no original email, name or card survives.
  auto originals = [&](const std::string& sql) {
    std::string list;
    for (const auto& r : PgQuery(src.get(), sql)) list += (list.empty() ? "" : ",") + ("'" + r[0] + "'");
    return list;
  };
  EXPECT_EQ(One(dst.get(), "SELECT count(*) FROM users WHERE email IN (" +
                               originals("SELECT email FROM users") + ")"), "0");
  EXPECT_EQ(One(dst.get(), "SELECT count(*) FROM users WHERE last_login_ip IS NOT NULL OR avatar IS NOT NULL"), "0");
  EXPECT_EQ(One(dst.get(), "SELECT count(*) FROM payments WHERE card_number IN (" +
                               originals("SELECT card_number FROM payments WHERE card_number IS NOT NULL") + ")"),
            "0");
  EXPECT_EQ(One(dst.get(), "SELECT count(*) FROM reviews WHERE body ~ '@(gmail|yahoo|corp)\\.com'"), "0");
  EXPECT_EQ(One(dst.get(), "SELECT count(*) FROM support_tickets WHERE details->'contact'->>'email' ~ "
                           "'@(gmail|yahoo|corp)\\.com'"),
            "0");
  // One original, one fake, in every table of the domain.
  EXPECT_EQ(One(dst.get(), "SELECT count(*) FROM orders o JOIN users u ON u.id = o.user_id WHERE o.customer_email "
                           "<> u.email"),
            "0");
  EXPECT_EQ(One(dst.get(), "SELECT count(*) FROM orders"), One(dst.get(), "SELECT count(*) FROM orders o JOIN users "
                                                                          "u ON u.email = o.customer_email"));
  // Types, indexes, constraints and sequences as at the source.
  EXPECT_EQ(One(dst.get(), "SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = "
                           "'orders'::regclass AND attname = 'status'"),
            "order_status");
  EXPECT_EQ(One(dst.get(), "SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = "
                           "'addresses'::regclass AND attname = 'postal_code'"),
            "us_postal_code");
  const std::string shape = "SELECT (SELECT count(*) FROM pg_indexes WHERE schemaname = 'public') || '/' || "
                            "(SELECT count(*) FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace "
                            "WHERE n.nspname = 'public' AND c.contype IN ('p', 'u', 'f', 'c'))";
  EXPECT_EQ(One(dst.get(), shape), One(src.get(), shape));
  EXPECT_EQ(One(dst.get(), "SELECT count(*) FROM pg_constraint WHERE contype = 'f' AND convalidated"),
            One(src.get(), "SELECT count(*) FROM pg_constraint WHERE contype = 'f'"));
  EXPECT_EQ(One(dst.get(), "SELECT nextval('users_id_seq') > (SELECT max(id) FROM users)"), "t");
  EXPECT_EQ(One(dst.get(), "SELECT nextval(pg_get_serial_sequence('addresses', 'id')) > (SELECT max(id) FROM "
                           "addresses)"),
            "t");
  // Generated and nullable-by-rule columns stay as the source declares them.
  EXPECT_EQ(One(dst.get(), "SELECT attnotnull FROM pg_attribute WHERE attrelid = 'users'::regclass AND attname = "
                           "'email'"),
            "t");
  // The report and the bookkeeping.
  const json report = json::parse(ReadFile(dir_ + "/state-" + tag_ + "-full/snapshot-0/report.json"));
  EXPECT_EQ(report["tables"].size(), kTables.size());
  EXPECT_TRUE(report["problems"].empty()) << report.dump(2);
  EXPECT_EQ(One(dst.get(), "SELECT count(*) FROM phony.snapshot_runs WHERE state = 'done'"), "1");
  EXPECT_EQ(One(dst.get(), "SELECT count(*) FROM pg_tables WHERE schemaname = 'phony_snapshot'"), "0");
  // The log names no original value.
  const std::string log = ReadFile(dir_ + "/full.log");
  EXPECT_EQ(log.find("@gmail.com"), std::string::npos);

  // A second run replaces the copy (a fresh run, same result: fakes are
  // deterministic); --tables re-copies one table alone.
  const auto before = Digest(tag_ + "_a");
  ASSERT_EQ(Snapshot(config, "again.log"), 0) << ReadFile(dir_ + "/again.log");
  EXPECT_EQ(Digest(tag_ + "_a"), before);
  ASSERT_EQ(Snapshot(config, "one.log", {"--tables", "orders"}), 0) << ReadFile(dir_ + "/one.log");
  EXPECT_EQ(Digest(tag_ + "_a"), before);
  EXPECT_EQ(One(dst.get(), "SELECT count(*) FROM pg_constraint WHERE conrelid = 'orders'::regclass AND contype = "
                           "'f'"),
            "2") << "foreign keys of the re-copied table come back";
  EXPECT_EQ(One(dst.get(), "SELECT count(*) FROM pg_constraint WHERE confrelid = 'orders'::regclass"), "2")
      << "and those of the tables referencing it";
}

TEST_F(PgSnapshotTest, KilledCopyResumesToTheSameResult) {
  ASSERT_EQ(Snapshot(Config(tag_ + "-ref", tag_ + "_a"), "ref.log"), 0) << ReadFile(dir_ + "/ref.log");
  const auto reference = Digest(tag_ + "_a");

  // Small chunks, one worker, and a slow start: kill it once chunks are in.
  const std::string config = Config(tag_ + "-kill", tag_ + "_b", {{"snapshot", {{"workers", 1}, {"chunk_mb", 1}}}});
  PgConn dst = Db(tag_ + "_b");
  const pid_t pid = Spawn({"snapshot", "--config", config, "--quiet"}, "killed.log");
  bool killed = false;
  for (int i = 0; i < 600 && !killed; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    PGresult* r = PQexec(dst.get(), "SELECT count(*) FROM phony.snapshot_chunks");
    if (PQresultStatus(r) == PGRES_TUPLES_OK && std::atoi(PQgetvalue(r, 0, 0)) >= 3) {
      kill(pid, SIGKILL);
      killed = true;
    }
    PQclear(r);
  }
  ASSERT_TRUE(killed) << ReadFile(dir_ + "/killed.log");
  EXPECT_EQ(::phony::testing::WaitForExit(pid, 30), 128 + SIGKILL);
  const int kept = std::atoi(One(dst.get(), "SELECT count(*) FROM phony.snapshot_chunks").c_str());
  EXPECT_EQ(One(dst.get(), "SELECT state FROM phony.snapshot_runs"), "running");

  ASSERT_EQ(Snapshot(config, "resumed.log"), 0) << ReadFile(dir_ + "/resumed.log");
  const json report = json::parse(ReadFile(dir_ + "/state-" + tag_ + "-kill/snapshot-0/report.json"));
  EXPECT_TRUE(report["resumed"].get<bool>());
  EXPECT_GE(kept, 3);
  // Tables read under two snapshots were checked for rows read twice; the
  // keyless table started over.
  EXPECT_EQ(Digest(tag_ + "_b"), reference);
  EXPECT_EQ(One(dst.get(), "SELECT state FROM phony.snapshot_runs ORDER BY run_id DESC LIMIT 1"), "done");
  EXPECT_EQ(One(dst.get(), "SELECT count(*) FROM phony.snapshot_chunks"), "0") << "a finished run keeps no chunk records";
}

TEST_F(PgSnapshotTest, StagingDownAtStartIsRetriedWithBackoff) {
  // A staging server of the test's own, down when the copy starts.
  const std::string port = ::phony::testing::RunScript("pg_server.sh start " + dir_ + "/staging");
  {
    PgConn c(PQconnectdb(("host=127.0.0.1 port=" + port + " user=postgres dbname=postgres").c_str()));
    ASSERT_EQ(PQstatus(c.get()), CONNECTION_OK) << PQerrorMessage(c.get());
    PgQuery(c.get(), "CREATE DATABASE staging");
  }
  ::phony::testing::RunScript("pg_server.sh stop " + dir_ + "/staging");
  const std::string config = Config(tag_ + "-down", "staging", {{"target", {{"port", std::stoi(port)}}}});
  const pid_t pid = Spawn({"snapshot", "--config", config, "--quiet"}, "down.log");
  std::this_thread::sleep_for(std::chrono::seconds(4));
  ::phony::testing::RunScript("pg_server.sh start " + dir_ + "/staging");
  const int rc = ::phony::testing::WaitForExit(pid, 120);
  const std::string log = ReadFile(dir_ + "/down.log");
  ::phony::testing::RunScript("pg_server.sh kill " + dir_ + "/staging");
  EXPECT_EQ(rc, 0) << log;
  EXPECT_NE(log.find("connecting to the staging 127.0.0.1:" + port + "/staging"), std::string::npos) << log;
  EXPECT_NE(log.find("(attempt 2 of 10); retrying in 2 s"), std::string::npos) << log;
}

TEST_F(PgSnapshotTest, SubsetsKeepEveryForeignKeyAndChooseTheSameRowsEveryRun) {
  auto subset = [](double percentage) {
    return json{{"subset",
                 {{"percentage", percentage},
                  {"seed_tables", {"users"}},
                  {"rules", {{"orders", {{"sample", "follow_fk"}, {"parent", "users"}}},
                             {"order_items", {{"sample", "follow_fk"}, {"parent", "orders"}}},
                             {"payments", {{"sample", "follow_fk"}, {"parent", "orders"}}},
                             {"reviews", {{"sample", "follow_fk"}, {"parent", "users"}}},
                             {"employees", {{"sample", "10%"}}}}}}}};
  };
  PgConn src = Db(tag_);
  for (const double pct : {10.0, 1.0}) {
    SCOPED_TRACE(pct);
    const std::string a = Config(tag_ + "-sa", tag_ + "_a", subset(pct));
    const std::string b = Config(tag_ + "-sb", tag_ + "_b", subset(pct));
    ASSERT_EQ(Snapshot(a, "subset_a.log"), 0) << ReadFile(dir_ + "/subset_a.log");
    ASSERT_EQ(Snapshot(b, "subset_b.log"), 0) << ReadFile(dir_ + "/subset_b.log");
    PgConn dst = Db(tag_ + "_a");
    // Every foreign key was created and validated: no row references a row
    // the subset left out (cycles and self-references included).
    EXPECT_EQ(One(dst.get(), "SELECT count(*) FROM pg_constraint WHERE contype = 'f' AND convalidated"),
              One(src.get(), "SELECT count(*) FROM pg_constraint WHERE contype = 'f'"));
    EXPECT_EQ(One(dst.get(), "SELECT count(*) FROM orders o LEFT JOIN users u ON u.id = o.user_id WHERE u.id IS NULL"),
              "0");
    // About the asked share of users (plus the ones referenced), and the
    // same rows (and fakes) in two runs of two jobs.
    const double users = std::stod(One(dst.get(), "SELECT count(*) FROM users"));
    const double all = std::stod(One(src.get(), "SELECT count(*) FROM users"));
    EXPECT_GT(users, 0);
    EXPECT_LT(users, all * pct / 100 * 2.5 + 3);
    EXPECT_EQ(Digest(tag_ + "_a"), Digest(tag_ + "_b"));
    // follow_fk is complete: every order of an included user is there, with
    // its items; tables nobody chose are there, empty.
    std::string ids;
    for (const auto& r : PgQuery(dst.get(), "SELECT id FROM users")) ids += (ids.empty() ? "" : ",") + r[0];
    EXPECT_EQ(One(dst.get(), "SELECT count(*) FROM orders"),
              One(src.get(), "SELECT count(*) FROM orders WHERE user_id IN (" + ids + ")"));
    EXPECT_EQ(One(dst.get(), "SELECT count(*) FROM order_items"),
              One(src.get(), "SELECT count(*) FROM order_items i JOIN orders o ON o.id = i.order_id WHERE o.user_id "
                             "IN (" + ids + ")"));
    EXPECT_EQ(One(dst.get(), "SELECT count(*) FROM support_tickets"), "0");
    // The FK cycle: employees sampled, their departments (and those
    // departments' heads) pulled in.
    EXPECT_EQ(One(dst.get(), "SELECT count(*) FROM departments d LEFT JOIN employees e ON e.id = d.head_employee_id "
                             "WHERE d.head_employee_id IS NOT NULL AND e.id IS NULL"),
              "0");
    EXPECT_NE(One(dst.get(), "SELECT count(*) FROM departments"), "0");
  }
  // Names that match no table are errors naming the key, before anything is copied.
  json bad = subset(5);
  bad["subset"]["rules"]["nosuch"] = {{"sample", "follow_fk"}};
  EXPECT_EQ(Snapshot(Config(tag_ + "-sd", tag_ + "_b", bad), "subset_bad.log"), 1);
  EXPECT_NE(ReadFile(dir_ + "/subset_bad.log").find("subset.rules.nosuch: public.nosuch is not a source table"),
            std::string::npos)
      << ReadFile(dir_ + "/subset_bad.log");
  EXPECT_EQ(Snapshot(Config(tag_ + "-sa", tag_ + "_a"), "tables_bad.log", {"--tables", "nosuch"}), 1);
  EXPECT_NE(ReadFile(dir_ + "/tables_bad.log").find("--tables: public.nosuch is not a source table"),
            std::string::npos)
      << ReadFile(dir_ + "/tables_bad.log");
  // No CDC over a subset.
  EXPECT_EQ(Snapshot(Config(tag_ + "-sc", tag_ + "_b", subset(5)), "subset_cdc.log", {"--start-cdc"}), 1);
  EXPECT_NE(ReadFile(dir_ + "/subset_cdc.log").find("continuous CDC over a subset is not supported"), std::string::npos);
}

TEST_F(PgSnapshotTest, CopyDuringWritesConvergesWithCdcReplay) {
  const std::string brokers = Broker("start", dir_ + "/broker");
  const std::string config = Config(tag_, tag_ + "_a", {{"kafka", {{"brokers", brokers}}},
                                                        {"snapshot", {{"chunk_mb", 1}}},
                                                        {"apply", {{"batch_delay_ms", 50}}}});
  // Writes across FK-related tables for the whole copy.
  std::atomic<bool> stop{false};
  std::atomic<int> writes{0};
  std::thread writer([&] {
    PgConn c = Db(tag_);
    for (int i = 0; !stop.load(); ++i) {
      const std::string id = std::to_string(1 + (i * 37) % 500);
      const std::string sql =
          i % 4 == 0 ? "INSERT INTO users (email, first_name, last_name, password_hash) VALUES ('new" +
                           std::to_string(i) + "@gmail.com', 'New', 'Person', 'x')"
          : i % 4 == 1 ? "UPDATE users SET last_name = 'Changed" + std::to_string(i) + "', phone = '+1 555 " +
                             std::to_string(1000000 + i) + "' WHERE id = " + id
          : i % 4 == 2 ? "BEGIN; INSERT INTO orders (user_id, customer_email, placed_at) SELECT id, email, now() "
                         "FROM users WHERE id = " + id + "; UPDATE order_items SET quantity = quantity + 1 WHERE "
                         "order_id = " + id + "; COMMIT"
                       : "DELETE FROM orders WHERE id = (SELECT max(id) FROM orders WHERE id > 1500)";
      PGresult* r = PQexec(c.get(), sql.c_str());
      PQclear(r);
      ++writes;
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  });
  while (writes.load() < 50) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  const int rc = Snapshot(config, "snapshot.log", {"--start-cdc"});
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  stop = true;
  writer.join();
  ASSERT_EQ(rc, 0) << ReadFile(dir_ + "/snapshot.log");
  const json report = json::parse(ReadFile(dir_ + "/state-" + tag_ + "/snapshot-0/report.json"));
  EXPECT_TRUE(report["clean_cut"].get<bool>());
  EXPECT_GT(writes.load(), 100);

  // CDC from the slot's consistent point: capture, transform, apply.
  ASSERT_NO_FATAL_FAILURE(Replay(config, ""));

  // A copy of the source as it is now, by a job without CDC.
  ASSERT_EQ(Snapshot(Config(tag_ + "-now", tag_ + "_b"), "now.log"), 0) << ReadFile(dir_ + "/now.log");
  const auto mirrored = Digest(tag_ + "_a");
  const auto now = Digest(tag_ + "_b");
  for (const std::string& t : kTables) EXPECT_EQ(mirrored.at(t), now.at(t)) << t;
  PgConn dst = Db(tag_ + "_a");
  EXPECT_EQ(One(dst.get(), "SELECT count(*) FROM pg_constraint WHERE contype = 'f' AND convalidated"),
            One(Db(tag_).get(), "SELECT count(*) FROM pg_constraint WHERE contype = 'f'"));

  // Re-copy one table with CDC set up: the applier's progress is rewound to
  // before the copy, so the changes made meanwhile replay over it; its
  // constraints wait for convergence.
  PgConn src = Db(tag_);
  PgQuery(src.get(), "UPDATE orders SET customer_email = 'moved@gmail.com' WHERE id % 10 = 3");
  const std::string progress = One(dst.get(), "SELECT string_agg(next_offset::text, ',') FROM phony.apply_progress");
  ASSERT_EQ(Snapshot(config, "resync.log", {"--tables", "orders"}), 0) << ReadFile(dir_ + "/resync.log");
  PgQuery(src.get(), "DELETE FROM orders WHERE id > 1500; UPDATE orders SET total = total + 1 WHERE id % 10 = 4");
  EXPECT_EQ(One(dst.get(), "SELECT string_agg(next_offset::text, ',') FROM phony.apply_progress"), progress)
      << "nothing to rewind to before the writes above: the mark is the progress the stages left";
  EXPECT_NE(One(dst.get(), "SELECT count(*) FROM phony.deferred_ddl WHERE done_at IS NULL"), "0");
  ASSERT_NO_FATAL_FAILURE(Replay(config, "2"));
  ASSERT_EQ(Snapshot(Config(tag_ + "-now", tag_ + "_b"), "now2.log"), 0) << ReadFile(dir_ + "/now2.log");
  const auto mirrored2 = Digest(tag_ + "_a");
  const auto now2 = Digest(tag_ + "_b");
  for (const std::string& t : kTables) EXPECT_EQ(mirrored2.at(t), now2.at(t)) << t;
  Broker("kill", dir_ + "/broker");
}

}  // namespace
}  // namespace phony
