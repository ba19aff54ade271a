// `phony transform` between real Kafka topics, fed by `phony capture` from
// PostgreSQL 15 through a private broker: the anonymized topic holds, for a
// read_committed reader, exactly the raw topic's events anonymized — each
// once, in its partition and order, byte for byte what an in-process
// Transformer makes of them (so the process and the library agree) — even
// when the transformer is killed with SIGKILL mid-transaction and
// restarted. No raw PII reaches the anonymized or public topics; a column
// added by DDL mid-stream is redacted; a malformed raw record stops the
// stage naming its offset.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "core/event_codec.h"
#include "core/testing/status_matchers.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "src/kafka/kafka_bus.h"
#include "src/kafka/kafka_eos.h"
#include "src/kafka/kafka_topics.h"
#include "src/transform/transformer.h"
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

constexpr char kSecret[] = "0123456789abcdef0123456789abcdef";

struct Record {
  int32_t partition;
  int64_t offset;
  std::string key, value;
};

class PgTransformKafkaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    tag_ = "xfk_" + std::to_string(getpid()) + "_" +
           std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()).substr(0, 12);
    for (char& c : tag_) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    dir_ = ::testing::TempDir() + "/" + tag_;
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_ + "/broker");
    brokers_ = Broker("start", dir_ + "/broker");
    admin_ = ConnectPg("PG15", false);
    PgQuery(admin_.get(), "CREATE DATABASE " + tag_);
    db_ = ConnectPg("PG15", false, "dbname=" + tag_);
    setenv("PHONY_TEST_SECRET", kSecret, 1);
    config_json_ = json{
        {"name", tag_},
        {"source", {{"type", "postgresql"}, {"host", "127.0.0.1"},
                    {"port", std::stoi(ServiceEnv("PHONY_PG15_PORT"))}, {"database", tag_}, {"user", "postgres"}}},
        {"target", {{"type", "postgresql"}, {"database", tag_ + "_staging"}, {"user", "postgres"}}},
        {"kafka", {{"brokers", brokers_}, {"transactions", true}}},
        {"state", {{"dir", dir_ + "/state"}}},
        {"anonymization", {{"secret_ref", "env://PHONY_TEST_SECRET"}, {"locale", "tr_TR"}}},
        {"tables",
         {{"users",
           {{"columns",
             {{"id", {{"transform", "TOKENIZE"}}},
              {"email", {{"transform", "ANONYMIZE"}, {"generator", "email"}, {"unique", true}}},
              {"name", {{"transform", "ANONYMIZE"}, {"generator", "full_name"}}},
              {"phone", {{"transform", "MASK"}, {"pattern", "+90 5** *** **{last2}"}}}}}}}}}};
    WriteConfig();
    kafka_.brokers = brokers_;
    topics_ = kafka::TopicsFor(kafka_, tag_);
  }
  void TearDown() override {
    for (pid_t pid : {capture_pid_, transform_pid_}) {
      if (pid > 0) {
        kill(pid, SIGKILL);
        waitpid(pid, nullptr, 0);
      }
    }
    Broker("kill", dir_ + "/broker");
    db_.reset();
    DropDatabaseAndSlots(admin_.get(), tag_);
    std::filesystem::remove_all(dir_);
  }
  void WriteConfig() {
    config_ = dir_ + "/job.json";
    std::ofstream(config_) << config_json_.dump();
  }

  pid_t Spawn(const std::vector<std::string>& args, const std::string& log) {
    return ::phony::testing::SpawnPhony(dir_, args, log);
  }
  static int Wait(pid_t pid, int seconds) { return ::phony::testing::WaitForExit(pid, seconds); }
  // Captures everything written so far into the raw topic.
  void Capture() {
    capture_pid_ = Spawn({"capture", "--config", config_, "--stop-after-idle", "3"}, "capture.log");
    ASSERT_EQ(Wait(capture_pid_, 120), 0) << ReadFile(dir_ + "/capture.log");
    capture_pid_ = -1;
  }
  int Transform(int seconds = 180) {
    transform_pid_ = Spawn({"transform", "--config", config_, "--stop-after-idle", "4"}, "transform.log");
    const int rc = Wait(transform_pid_, seconds);
    transform_pid_ = -1;
    return rc;
  }
  std::vector<Record> ReadTopic(const std::string& topic) {
    std::vector<Record> out;
    EXPECT_OK(kafka::ReadWholeTopic(kafka_, topic, absl::Seconds(60),
                                    [&](int32_t p, int64_t o, std::string_view k, std::string_view v) {
                                      out.push_back({p, o, std::string(k), std::string(v)});
                                      return absl::OkStatus();
                                    }));
    return out;
  }
  // The operator override the test sets with `phony mapping`, as a ledger
  // for the in-process Transformer.
  class OverrideLedger : public transform::MappingLedger {
   public:
    std::map<std::string, std::string> overrides;  // original -> fake (domain anonymize:email:v1)
    bool HasOverrides(std::string_view domain) const override {
      return !overrides.empty() && domain == "anonymize:email:v1";
    }
    absl::StatusOr<std::optional<std::string>> Override(std::string_view, std::string_view original) override {
      const auto it = overrides.find(std::string(original));
      return it == overrides.end() ? std::optional<std::string>() : std::optional<std::string>(it->second);
    }
    absl::Status Record(std::string_view, std::string_view, std::string_view) override { return absl::OkStatus(); }
  };
  OverrideLedger ledger_;

  // What an in-process Transformer with the same config and secret makes
  // of the raw topic, event by event.
  std::vector<std::string> ExpectedAnonymized() {
    auto config = LoadJobConfigText(config_json_.dump());
    EXPECT_OK(config.status());
    auto t = transform::Transformer::Create(*config, kSecret, {.ledger = &ledger_});
    EXPECT_OK(t.status());
    for (const Record& r : ReadTopic(topics_.schemas)) {
      auto e = DecodeEvent(r.value);
      EXPECT_OK(e.status());
      EXPECT_OK((*t)->Transform(&*e));
    }
    std::vector<std::string> out;
    for (const Record& r : ReadTopic(topics_.raw)) {
      auto e = DecodeEvent(r.value);
      EXPECT_OK(e.status());
      EXPECT_OK((*t)->Transform(&*e));
      std::string bytes;
      EncodeEvent(*e, &bytes);
      out.push_back(std::move(bytes));
    }
    return out;
  }
  std::vector<std::string> Values(const std::vector<Record>& records) {
    std::vector<std::string> out;
    for (const Record& r : records) out.push_back(r.value);
    return out;
  }
  void InsertUsers(int from, int count, int per_tx) {
    for (int i = from; i < from + count; i += per_tx) {
      std::string sql = "INSERT INTO users (id, email, name, phone) VALUES ";
      for (int j = i; j < i + per_tx && j < from + count; ++j) {
        if (j > i) sql += ",";
        sql += "(" + std::to_string(100000 + j) + ", 'person" + std::to_string(j) + "@realcorp.test', 'Real Person" +
               std::to_string(j) + "', '+90 532 " + std::to_string(1000000 + j) + "')";
      }
      PgQuery(db_.get(), sql);
    }
  }

  std::string tag_, dir_, config_, brokers_;
  json config_json_;
  KafkaConfig kafka_;
  kafka::TopicNames topics_;
  PgConn admin_, db_;
  pid_t capture_pid_ = -1, transform_pid_ = -1;
};

TEST_F(PgTransformKafkaTest, AnonymizedTopicIsTheRawTopicTransformedAndNoPiiLeaks) {
  PgQuery(db_.get(), "CREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL, name text, phone text)");
  Capture();  // creates the slot (and the topics): what follows is streamed
  InsertUsers(0, 200, 50);
  PgQuery(db_.get(), "UPDATE users SET email = 'changed' || id || '@realcorp.test' WHERE id % 10 = 0");
  PgQuery(db_.get(), "DELETE FROM users WHERE id % 7 = 0");
  // A column nobody reviewed, added mid-stream.
  PgQuery(db_.get(), "ALTER TABLE users ADD COLUMN secret_note text");
  PgQuery(db_.get(), "INSERT INTO users VALUES (999999, 'late@realcorp.test', 'Late Person', '+90 532 0000000', "
                     "'raw secret text')");
  Capture();
  // A test account gets a fixed fake (the original read from stdin).
  const pid_t set = Spawn({"mapping", "--config", config_, "--domain", "anonymize:email", "--unique", "--original",
                           "person7@realcorp.test", "--fake", "qa.account@example.com"},
                          "mapping.log");
  ASSERT_EQ(Wait(set, 60), 0) << ReadFile(dir_ + "/mapping.log");
  ledger_.overrides["person7@realcorp.test"] = "qa.account@example.com";
  ASSERT_EQ(Transform(), 0) << ReadFile(dir_ + "/transform.log");

  const std::vector<Record> anonymized = ReadTopic(topics_.anonymized);
  const std::vector<std::string> expected = ExpectedAnonymized();
  ASSERT_GT(expected.size(), 200u);
  EXPECT_EQ(Values(anonymized), expected) << "the process and the library disagree, or events were lost or repeated";
  for (const Record& r : anonymized) EXPECT_EQ(r.partition, 0);

  // No original value on any topic the transformer wrote.
  const std::string public_topic = kafka::PublicTopic(kafka_.topic_prefix, TableId{tag_, "public", "users"});
  const std::vector<Record> published = ReadTopic(public_topic);
  EXPECT_GT(published.size(), 200u);
  for (const auto* records : {&anonymized, &published}) {
    for (const Record& r : *records) {
      for (const char* raw : {"realcorp", "Real Person", "532 10", "raw secret text", "100001"}) {
        ASSERT_EQ(r.value.find(raw), std::string::npos) << raw << " leaked: " << r.value;
        ASSERT_EQ(r.key.find(raw), std::string::npos) << raw << " leaked in a key";
      }
    }
  }
  // The public envelopes carry the fakes, and BEGIN/END frame them.
  bool saw_fake_email = false;
  for (const Record& r : published) {
    if (r.value.empty()) continue;  // tombstone
    const json env = json::parse(r.value);
    const json& payload = env.contains("payload") ? env["payload"] : env;
    if (payload["op"] == "c" && payload["after"]["email"].get<std::string>().find("@example.") != std::string::npos) {
      saw_fake_email = true;
    }
  }
  EXPECT_TRUE(saw_fake_email);
  bool saw_override = false;
  for (const Record& r : published) saw_override = saw_override || r.value.find("qa.account@example.com") != std::string::npos;
  EXPECT_TRUE(saw_override) << "the operator override did not win";
  // No original in the transform's state directory (the mapping store keeps
  // keyed hashes of originals; its WAL is uncompressed).
  size_t state_bytes = 0;
  for (const auto& f : std::filesystem::recursive_directory_iterator(dir_ + "/state/transform-0")) {
    if (!f.is_regular_file()) continue;
    const std::string bytes = ReadFile(f.path().string());
    state_bytes += bytes.size();
    for (const char* raw : {"realcorp", "Real Person", "person7@"}) {
      EXPECT_EQ(bytes.find(raw), std::string::npos) << raw << " in " << f.path();
    }
  }
  EXPECT_GT(state_bytes, 0u);
  EXPECT_FALSE(ReadTopic(topics_.transactions).empty());
  EXPECT_NE(ReadFile(dir_ + "/transform.log").find("public.users.secret_note has no rule"), std::string::npos)
      << ReadFile(dir_ + "/transform.log");
}

TEST_F(PgTransformKafkaTest, KilledMidTransactionEveryEventAppearsExactlyOnce) {
  PgQuery(db_.get(), "CREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL, name text, phone text)");
  Capture();  // creates the slot (and the topics): what follows is streamed
  InsertUsers(0, 150000, 1000);
  Capture();
  const std::vector<std::string> expected = ExpectedAnonymized();
  ASSERT_GT(expected.size(), 150000u);

  size_t before = 0;
  for (int kill_round = 0; kill_round < 2; ++kill_round) {
    const std::string log = "transform" + std::to_string(kill_round) + ".log";
    transform_pid_ = Spawn({"transform", "--config", config_}, log);
    // Kill it mid-stream, once it has written (not necessarily committed)
    // another 30 000 records: a Kafka transaction is open then.
    const int64_t target = static_cast<int64_t>(kill_round + 1) * 30000;
    for (int i = 0; i < 3000; ++i) {
      auto hw = kafka::HighWatermarks(kafka_, topics_.anonymized, absl::Seconds(5));
      if (hw.ok() && !hw->empty() && (*hw)[0] >= target) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    kill(transform_pid_, SIGKILL);
    waitpid(transform_pid_, nullptr, 0);
    transform_pid_ = -1;
    const size_t seen = ReadTopic(topics_.anonymized).size();
    ASSERT_LT(seen, expected.size()) << "the stream finished before the kill: make it longer";
    EXPECT_GE(seen, before);
    std::cerr << "kill -9 #" << (kill_round + 1) << ": " << seen << " of " << expected.size()
              << " events committed on the anonymized topic\n";
    before = seen;
  }
  ASSERT_EQ(Transform(), 0) << ReadFile(dir_ + "/transform.log");
  const std::vector<Record> anonymized = ReadTopic(topics_.anonymized);
  EXPECT_EQ(anonymized.size(), expected.size());
  EXPECT_TRUE(Values(anonymized) == expected) << "events lost, repeated or reordered across the kills";
}

TEST_F(PgTransformKafkaTest, AMalformedRawRecordStopsTheStageNamingItsOffset) {
  PgQuery(db_.get(), "CREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL, name text, phone text)");
  Capture();  // creates the slot (and the topics): what follows is streamed
  InsertUsers(0, 10, 10);
  Capture();
  const size_t good = ReadTopic(topics_.raw).size();  // records (transaction markers take offsets too)
  // A record no capture wrote.
  std::atomic<int> acked{0};
  auto producer = kafka::KafkaBusProducer::Create({.kafka = kafka_}, [&](uint64_t) { ++acked; }, nullptr);
  ASSERT_OK(producer.status());
  ASSERT_OK((*producer)->PublishRecords(1, {{topics_.raw, "", "\xff\xfegarbage"}}, absl::Seconds(10)));
  ASSERT_OK((*producer)->Flush(absl::Seconds(30)));
  const int rc = Transform();
  EXPECT_EQ(rc, 5) << ReadFile(dir_ + "/transform.log");
  const int64_t bad_offset = ReadTopic(topics_.raw).back().offset;
  EXPECT_NE(ReadFile(dir_ + "/transform.log").find("does not decode"), std::string::npos);
  EXPECT_NE(ReadFile(dir_ + "/transform.log").find(topics_.raw + "[0]@" + std::to_string(bad_offset)), std::string::npos)
      << ReadFile(dir_ + "/transform.log");
  // Everything before it was transformed and committed (it ended between
  // source transactions); nothing after.
  EXPECT_EQ(ReadTopic(topics_.anonymized).size(), good);
}

TEST_F(PgTransformKafkaTest, ABrokerDownAtStartIsRetriedAndNothingIsLost) {
  PgQuery(db_.get(), "CREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL, name text, phone text)");
  Capture();
  InsertUsers(0, 100, 50);
  Capture();
  Broker("stop", dir_ + "/broker");
  transform_pid_ = Spawn({"transform", "--config", config_, "--stop-after-idle", "4"}, "transform.log");
  bool reported = false;
  for (int i = 0; i < 300 && !reported; ++i) {
    reported = ReadFile(dir_ + "/transform.log").find("transform: kafka unavailable while") != std::string::npos;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_TRUE(reported) << ReadFile(dir_ + "/transform.log");
  Broker("start", dir_ + "/broker");
  ASSERT_EQ(Wait(transform_pid_, 180), 0) << ReadFile(dir_ + "/transform.log");
  transform_pid_ = -1;
  EXPECT_EQ(Values(ReadTopic(topics_.anonymized)), ExpectedAnonymized());
}

TEST_F(PgTransformKafkaTest, PreviewPrintsSampledRowsBeforeAndAfterTheRules) {
  PgQuery(db_.get(), "CREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL, name text, phone text, "
                     "notes text)");
  InsertUsers(0, 20, 20);
  const std::string out = dir_ + "/preview.out";
  const std::string cmd = std::string(PHONY_BINARY) + " preview --config " + config_ + " --table users --rows 5 >" +
                          out + " 2>" + dir_ + "/preview.err";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << ReadFile(dir_ + "/preview.err");
  const std::string text = ReadFile(out);
  EXPECT_NE(text.find("public.users: 5 sampled row(s)"), std::string::npos) << text;
  EXPECT_NE(text.find("email  ANONYMIZE (domain anonymize:email, unique)"), std::string::npos) << text;
  EXPECT_NE(text.find("notes  no rule: redacted (unlisted_columns=null)"), std::string::npos) << text;
  EXPECT_NE(text.find("row 5"), std::string::npos) << text;
  EXPECT_NE(text.find("@realcorp.test  ->  "), std::string::npos) << "the before side shows the original\n" << text;
  EXPECT_NE(text.find("@example."), std::string::npos) << text;
  // Nothing of it goes to the log.
  EXPECT_EQ(ReadFile(dir_ + "/preview.err").find("realcorp"), std::string::npos);
  // A table that does not exist is a clear error.
  const std::string bad = std::string(PHONY_BINARY) + " preview --config " + config_ + " --table nope 2>" + dir_ +
                          "/preview.err";
  EXPECT_NE(std::system(bad.c_str()), 0);
  EXPECT_NE(ReadFile(dir_ + "/preview.err").find("table public.nope does not exist"), std::string::npos);
}

}  // namespace
}  // namespace phony
