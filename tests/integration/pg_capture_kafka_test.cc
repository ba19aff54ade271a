// `phony capture` into Kafka, against PostgreSQL 15 and 17 and a private
// broker this test stops and restarts: while the broker is down the slot's
// confirmed_flush_lsn never passes an undelivered change; afterwards every
// committed change is on the raw topic, in commit order. With a short
// message timeout the producer gives batches up during the outage (nacks):
// capture then resumes from its confirmed position and still loses nothing.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "core/position.h"
#include "core/testing/status_matchers.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "src/kafka/kafka_bus.h"
#include "src/kafka/kafka_topics.h"
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

struct KafkaCase {
  const char* server;
  bool short_timeout;  // message.timeout.ms below the outage: batches are nacked
  bool exactly_once = false;  // kafka.transactions
};

class PgCaptureKafkaTest : public ::testing::TestWithParam<KafkaCase> {
 protected:
  void SetUp() override {
    server_ = GetParam().server;
    tag_ = "capk_" + std::to_string(getpid()) + "_" + server_ + (GetParam().short_timeout ? "_nack" : "") +
           (GetParam().exactly_once ? "_eos" : "");
    for (char& c : tag_) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    dir_ = ::testing::TempDir() + "/" + tag_;
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_ + "/broker");
    brokers_ = Broker("start", dir_ + "/broker");
    admin_ = ConnectPg(server_, false);
    PgQuery(admin_.get(), "CREATE DATABASE " + tag_);
    db_ = ConnectPg(server_, false, "dbname=" + tag_);
    json kafka = {{"brokers", brokers_}};
    if (GetParam().short_timeout) kafka["properties"] = {{"message.timeout.ms", "4000"}};
    if (GetParam().exactly_once) kafka["transactions"] = true;
    config_ = dir_ + "/job.json";
    std::ofstream(config_) << json{
        {"name", tag_},
        {"source", {{"type", "postgresql"}, {"host", "127.0.0.1"},
                    {"port", std::stoi(ServiceEnv("PHONY_" + server_ + "_PORT"))},
                    {"database", tag_}, {"user", "postgres"}}},
        {"target", {{"type", "postgresql"}, {"database", tag_ + "_staging"}, {"user", "postgres"}}},
        {"kafka", kafka},
        {"state", {{"dir", dir_ + "/state"}}},
        {"anonymization", {{"secret_ref", "env://PHONY_TEST_SECRET"}}}}.dump();
    setenv("PHONY_TEST_SECRET", "0123456789abcdef0123456789abcdef", 1);
  }
  void TearDown() override {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    Broker("kill", dir_ + "/broker");
    db_.reset();
    DropDatabaseAndSlots(admin_.get(), tag_);
    std::filesystem::remove_all(dir_);
  }
  void StartCapture() {
    pid_ = fork();
    if (pid_ == 0) {
      FILE* e = std::freopen((dir_ + "/err.log").c_str(), "a", stderr);
      (void)e;
      execl(PHONY_BINARY, PHONY_BINARY, "capture", "--config", config_.c_str(), static_cast<char*>(nullptr));
      _exit(127);
    }
  }
  int StopCapture() {
    kill(pid_, SIGTERM);
    int status = 0;
    for (int i = 0; i < 600 && waitpid(pid_, &status, WNOHANG) == 0; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
  Lsn Confirmed() {
    auto rows = PgQuery(admin_.get(), "SELECT confirmed_flush_lsn FROM pg_replication_slots WHERE slot_name = 'phony_" + tag_ + "'");
    if (rows.empty() || rows[0][0] == "<null>") return Lsn();
    return Lsn::Parse(rows[0][0]).value();
  }
  // The insert position: with the test servers' synchronous_commit=off the
  // write position can still be behind the last commit.
  Lsn CurrentLsn() { return Lsn::Parse(PgQuery(db_.get(), "SELECT pg_current_wal_insert_lsn()")[0][0]).value(); }
  bool WaitConfirmed(Lsn at_least, int seconds) {
    for (int i = 0; i < seconds * 10; ++i) {
      if (Confirmed() >= at_least) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return false;
  }
  // Waits until the capture log shows `n` starts of streaming: a restarted
  // capture is past its startup (and handles SIGTERM) only then.
  void WaitStreamingStarts(size_t n, int seconds = 60) {
    for (int i = 0; i < seconds * 10; ++i) {
      const std::string log = ReadFile(dir_ + "/err.log");
      size_t count = 0;
      for (size_t at = log.find("capture: streaming slot"); at != std::string::npos;
           at = log.find("capture: streaming slot", at + 1)) {
        ++count;
      }
      if (count >= n) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    ADD_FAILURE() << "capture did not start streaming " << n << " times within " << seconds << " s\n"
                  << ReadFile(dir_ + "/err.log");
  }
  void WaitSlotActive(int seconds = 15) {
    for (int i = 0; i < seconds * 10; ++i) {
      if (!PgQuery(admin_.get(), "SELECT 1 FROM pg_replication_slots WHERE slot_name = 'phony_" + tag_ + "' AND active")
               .empty()) {
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    ADD_FAILURE() << "capture's slot did not become active within " << seconds << " s\n" << ReadFile(dir_ + "/err.log");
  }
  // Every row change on the raw topic (read_committed), in topic order,
  // until `distinct` ids were seen and the topic went quiet.
  struct RawRow {
    int id, tx;
    Lsn commit_lsn;
  };
  std::vector<RawRow> ReadRawRows(size_t distinct) {
    KafkaConfig k;
    k.brokers = brokers_;
    auto consumer = kafka::KafkaBusConsumer::Create(
        {.kafka = k, .group_id = tag_ + "_check", .topics = {kafka::TopicsFor(k, tag_).raw}});
    EXPECT_OK(consumer.status());
    std::vector<RawRow> rows;
    if (!consumer.ok()) return rows;
    std::set<int> ids;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (std::chrono::steady_clock::now() < deadline) {
      auto d = (*consumer)->Poll(absl::Milliseconds(1000));
      EXPECT_OK(d.status());
      if (!d.ok()) break;
      if (!d->has_value()) {
        if (ids.size() >= distinct) break;
        continue;
      }
      for (const Event& e : (*d)->batch.events) {
        const auto* c = std::get_if<ChangeEvent>(&e);
        if (c == nullptr) continue;
        const int id = static_cast<int>(c->after->at(0).int64_value());
        rows.push_back({id, static_cast<int>(c->after->at(1).int64_value()), c->position.commit_lsn()});
        ids.insert(id);
      }
      EXPECT_OK((*consumer)->Ack((*d)->offset));
    }
    return rows;
  }
  void WriteTransactions(int from, int count) {
    for (int t = from; t < from + count; ++t) {
      PgQuery(db_.get(), "INSERT INTO items VALUES (" + std::to_string(2 * t) + ", " + std::to_string(t) + "), (" +
                             std::to_string(2 * t + 1) + ", " + std::to_string(t) + ")");
    }
  }

  std::string server_, tag_, dir_, config_, brokers_;
  PgConn admin_, db_;
  pid_t pid_ = -1;
};

TEST_P(PgCaptureKafkaTest, BrokerOutageLosesNothingAndConfirmsNothingUndelivered) {
  PgQuery(db_.get(), "CREATE TABLE items (id int PRIMARY KEY, tx int)");
  StartCapture();
  WaitSlotActive();
  constexpr int kTx = 100;
  WriteTransactions(0, kTx);
  ASSERT_TRUE(WaitConfirmed(CurrentLsn(), 60)) << ReadFile(dir_ + "/err.log");

  // The broker dies; changes keep coming.
  Broker("kill", dir_ + "/broker");
  const Lsn before_outage_writes = CurrentLsn();
  WriteTransactions(kTx, kTx);
  const Lsn after_outage_writes = CurrentLsn();
  Lsn max_confirmed;
  for (int i = 0; i < 80; ++i) {  // 8 s: past the short message timeout
    max_confirmed = std::max(max_confirmed, Confirmed());
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }

  Broker("start", dir_ + "/broker");
  EXPECT_TRUE(WaitConfirmed(after_outage_writes, 120)) << ReadFile(dir_ + "/err.log");
  EXPECT_EQ(StopCapture(), 0) << ReadFile(dir_ + "/err.log");

  // Everything committed is on the raw topic, in commit order (re-sent
  // transactions may repeat: at-least-once).
  std::set<int> ids;
  int last_tx = -1;
  bool ordered = true;
  Lsn first_outage_commit;  // commit end LSN of the first transaction written during the outage
  const auto rows = ReadRawRows(4 * kTx);
  for (const auto& [id, tx, commit_lsn] : rows) {
    if (tx >= kTx && (!first_outage_commit.is_valid() || commit_lsn < first_outage_commit)) {
      first_outage_commit = commit_lsn;
    }
    // Re-sent stretches repeat earlier rows; rows seen for the first time
    // must come in commit order.
    if (ids.insert(id).second) {
      if (tx < last_tx) ordered = false;
      last_tx = std::max(last_tx, tx);
    }
  }
  std::string missing;
  for (int id = 0; id < 4 * kTx && ids.size() != static_cast<size_t>(4 * kTx); ++id) {
    if (!ids.count(id)) missing += " " + std::to_string(id);
  }
  // (Seen once in CI under load, 398 of 400: the missing ids and the
  // capture's log say where to look.)
  auto tail = [](const std::string& text) { return text.size() > 20000 ? text.substr(text.size() - 20000) : text; };
  EXPECT_EQ(ids.size(), static_cast<size_t>(4 * kTx))
      << "every committed row is on the topic; missing ids:" << missing << "; " << rows.size()
      << " rows read; capture log:\n" << ReadFile(dir_ + "/err.log") << "\nbroker log:\n"
      << tail(ReadFile(dir_ + "/broker/server.log")) << "\nbroker stdout:\n"
      << tail(ReadFile(dir_ + "/broker/stdout.log"));
  // While the broker was down the slot may move inside WAL the walsender
  // read (even into an open transaction), never to the commit of a change
  // the broker had not acknowledged.
  ASSERT_TRUE(first_outage_commit.is_valid());
  EXPECT_GT(first_outage_commit, before_outage_writes);
  EXPECT_LT(max_confirmed, first_outage_commit)
      << "the slot was confirmed past a change the broker never acknowledged";
  EXPECT_TRUE(ordered) << "new rows arrive in commit order";
  if (GetParam().short_timeout) {
    EXPECT_NE(ReadFile(dir_ + "/err.log").find("could not deliver"), std::string::npos)
        << "the outage outlasted the message timeout: batches must have been given up and re-sent\n"
        << ReadFile(dir_ + "/err.log");
  }
}

// A broker that is down when capture starts is retried with backoff (and
// reported); once it is back, capture streams and loses nothing.
class PgCaptureBrokerDownAtStartTest : public PgCaptureKafkaTest {};

TEST_P(PgCaptureBrokerDownAtStartTest, RetriedUntilTheBrokerIsBack) {
  PgQuery(db_.get(), "CREATE TABLE items (id int PRIMARY KEY, tx int)");
  Broker("kill", dir_ + "/broker");
  StartCapture();
  bool reported = false;
  for (int i = 0; i < 300 && !reported; ++i) {
    reported = ReadFile(dir_ + "/err.log").find("kafka unavailable while preparing topics") != std::string::npos;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_TRUE(reported) << ReadFile(dir_ + "/err.log");
  WriteTransactions(0, 20);  // committed while capture cannot run yet
  Broker("start", dir_ + "/broker");
  // The next retry (backoff up to 30 s) finds the broker; rows count from
  // when capture streams (a slot still being created has not reached its
  // consistent point: what commits before that belongs to the snapshot).
  bool streaming = false;
  for (int i = 0; i < 900 && !streaming; ++i) {
    streaming = ReadFile(dir_ + "/err.log").find("capture: streaming slot") != std::string::npos;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_TRUE(streaming) << ReadFile(dir_ + "/err.log");
  WriteTransactions(20, 20);
  EXPECT_TRUE(WaitConfirmed(CurrentLsn(), 120)) << ReadFile(dir_ + "/err.log");
  EXPECT_EQ(StopCapture(), 0) << ReadFile(dir_ + "/err.log");
  std::set<int> ids;
  for (const auto& row : ReadRawRows(40)) ids.insert(row.id);
  // The slot is created once the broker answers: rows committed before
  // that belong to the snapshot (issue #7), the rest must all be here.
  size_t missing = 0;
  for (int id = 40; id < 80; ++id) missing += ids.count(id) == 0;
  EXPECT_EQ(missing, 0u) << "rows committed after the slot was active are missing\n" << ReadFile(dir_ + "/err.log");
}

INSTANTIATE_TEST_SUITE_P(Servers, PgCaptureBrokerDownAtStartTest,
                         ::testing::Values(KafkaCase{"PG15", false}, KafkaCase{"PG17", false, true}),
                         [](const auto& param_info) {
                           return std::string(param_info.param.server) +
                                  (param_info.param.exactly_once ? "_transactional" : "");
                         });

// Exactly-once raw stream: capture killed with -9 while it streams, then
// restarted; the raw topic read with read_committed holds every committed
// row exactly once, in commit order. (Without kafka.transactions the same
// run leaves hundreds of duplicates: capture alone is at-least-once.)
class PgCaptureExactlyOnceTest : public PgCaptureKafkaTest {};

TEST_P(PgCaptureExactlyOnceTest, KillNineLeavesEveryRowExactlyOnce) {
  PgQuery(db_.get(), "CREATE TABLE items (id int PRIMARY KEY, tx int)");
  StartCapture();
  WaitSlotActive();
  constexpr int kTx = 600;
  std::thread writer([&] {
    PgConn w = ConnectPg(server_, false, "dbname=" + tag_);
    for (int t = 0; t < kTx; ++t) {
      PgQuery(w.get(), "INSERT INTO items VALUES (" + std::to_string(2 * t) + ", " + std::to_string(t) + "), (" +
                           std::to_string(2 * t + 1) + ", " + std::to_string(t) + ")");
      if (t % 50 == 0) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  });
  // Kill it in the middle of the stream, twice, each time once a Kafka
  // transaction has committed (the slot moves only then), so a position
  // record exists to resume from.
  for (int round = 0; round < 2; ++round) {
    const Lsn before = Confirmed();
    for (int i = 0; i < 300 && Confirmed() <= before; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
    StartCapture();
  }
  writer.join();
  // The last capture streams (the slot's position may already be where the
  // killed one left it: stopping a capture still starting up is not the test).
  WaitStreamingStarts(3);
  ASSERT_TRUE(WaitConfirmed(CurrentLsn(), 120)) << ReadFile(dir_ + "/err.log");
  EXPECT_EQ(StopCapture(), 0) << ReadFile(dir_ + "/err.log");

  std::map<int, int> seen;
  int last_tx = -1;
  bool ordered = true;
  const auto rows = ReadRawRows(2 * kTx);
  for (const auto& [id, tx, commit_lsn] : rows) {
    if (tx < last_tx) ordered = false;
    last_tx = tx;
    ++seen[id];
  }
  EXPECT_EQ(seen.size(), static_cast<size_t>(2 * kTx)) << "every committed row is on the topic";
  EXPECT_EQ(rows.size(), static_cast<size_t>(2 * kTx)) << "and none twice";
  EXPECT_TRUE(ordered) << "in commit order";
  EXPECT_NE(ReadFile(dir_ + "/err.log").find("resuming after it"), std::string::npos)
      << "the restarts resumed from the positions topic\n" << ReadFile(dir_ + "/err.log");
}

INSTANTIATE_TEST_SUITE_P(Servers, PgCaptureExactlyOnceTest,
                         ::testing::Values(KafkaCase{"PG15", false, true}, KafkaCase{"PG17", false, true}),
                         [](const auto& param_info) { return std::string(param_info.param.server); });

INSTANTIATE_TEST_SUITE_P(Servers, PgCaptureKafkaTest,
                         ::testing::Values(KafkaCase{"PG15", false}, KafkaCase{"PG17", false},
                                           KafkaCase{"PG17", true}, KafkaCase{"PG17", false, true}),
                         [](const auto& param_info) {
                           return std::string(param_info.param.server) +
                                  (param_info.param.short_timeout ? "_nacked" : "_waits") +
                                  (param_info.param.exactly_once ? "_transactional" : "");
                         });

}  // namespace
}  // namespace phony
