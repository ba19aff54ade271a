// Public topics on a real broker, read back with kcat as another team's
// consumer would: Debezium envelopes per table keyed by the key columns on
// the partition Java's murmur2 picks, a tombstone after each delete, a key
// change as delete + tombstone + create, and BEGIN/END transaction records
// with per-table counts.
#include <unistd.h>

#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "core/testing/status_matchers.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "src/kafka/kafka_public.h"
#include "src/kafka/kafka_topics.h"
#include "tests/integration/services_env.h"

namespace phony::kafka {
namespace {

using ::phony::testing::ServiceEnv;
using json = nlohmann::json;

struct Record {
  int partition;
  std::string key;
  std::string value;  // "NULL" for a tombstone (kcat -Z)
};

std::vector<Record> ReadTopic(const std::string& brokers, const std::string& topic) {
  const std::string cmd = "kcat -C -b " + brokers + " -t " + topic + " -e -Z -q -f '%p\\t%k\\t%s\\n' 2>/dev/null";
  FILE* p = popen(cmd.c_str(), "r");
  std::vector<Record> out;
  char* line = nullptr;
  size_t cap = 0;
  ssize_t n;
  while (p && (n = getline(&line, &cap, p)) > 0) {
    std::string l(line, static_cast<size_t>(n));
    if (!l.empty() && l.back() == '\n') l.pop_back();
    const size_t a = l.find('\t'), b = l.find('\t', a + 1);
    if (a == std::string::npos || b == std::string::npos) continue;
    out.push_back({std::stoi(l.substr(0, a)), l.substr(a + 1, b - a - 1), l.substr(b + 1)});
  }
  free(line);
  if (p) pclose(p);
  return out;
}

TableSchema Users() {
  TableSchema s;
  s.id = TableId{"shop", "public", "users"};
  s.version = 1;
  s.columns = {ColumnDef{.name = "id", .type_name = "integer", .kind = ValueKind::kInt64, .nullable = false, .key_ordinal = 1},
               ColumnDef{.name = "email", .type_name = "text", .kind = ValueKind::kText},
               ColumnDef{.name = "score", .type_name = "numeric(6,2)", .kind = ValueKind::kDecimal,
                         .type_modifier = (6 << 16 | 2) + 4}};
  return s;
}

ChangeEvent Change(ChangeOp op, std::optional<Row> before, std::optional<Row> after, uint32_t seq) {
  ChangeEvent c;
  c.op = op;
  c.table = TableId{"shop", "public", "users"};
  c.schema_version = 1;
  c.key_columns = {0};
  c.before = std::move(before);
  c.after = std::move(after);
  c.commit_ts_us = 1709214306000000;
  c.position = EventPosition::Postgres(Lsn(0x5000), seq);
  return c;
}

Row U(int64_t id, const char* email) { return Row{Value::Int64(id), Value::Text(email), Value::Decimal("12.50")}; }

TEST(KafkaPublicTest, DebeziumEnvelopesKeysTombstonesAndTransactions) {
  KafkaConfig k;
  k.brokers = ServiceEnv("PHONY_KAFKA_BROKERS");
  k.topic_prefix = "pub" + std::to_string(getpid());
  k.public_partitions = 3;
  int acks = 0;
  auto writer = PublicTopicWriter::Create({.kafka = k}, [&](uint64_t) { ++acks; }, nullptr);
  ASSERT_OK(writer.status());
  EventBatch batch{.id = 1};
  batch.events = {
      SchemaEvent{EventPosition::Postgres(Lsn(0x5000), 0), Users()},
      TxBegin{EventPosition::Postgres(Lsn(0x5000), 1), 747, 1709214306000000},
      Change(ChangeOp::kInsert, std::nullopt, U(1, "a@x"), 2),
      Change(ChangeOp::kInsert, std::nullopt, U(2, "b@x"), 3),
      Change(ChangeOp::kUpdate, std::nullopt, U(1, "c@x"), 4),
      Change(ChangeOp::kUpdate, U(2, "b@x"), U(3, "b@x"), 5),  // key change
      Change(ChangeOp::kDelete, Row{Value::Int64(1), Value::Null(), Value::Null()}, std::nullopt, 6),
      TxCommit{EventPosition::Postgres(Lsn(0x5000), 7), 747, 1709214306000000, 5},
  };
  ASSERT_OK((*writer)->Publish(std::move(batch), absl::Seconds(30)));
  ASSERT_OK((*writer)->Flush(absl::Seconds(30)));
  EXPECT_EQ(acks, 1);

  const auto records = ReadTopic(k.brokers, k.topic_prefix + ".public.users");
  ASSERT_EQ(records.size(), 8u);
  std::map<int64_t, std::vector<std::string>> ops_by_key;
  for (const Record& r : records) {
    EXPECT_EQ(r.partition, PartitionForKey(r.key, 3)) << "the partition a Java producer picks for " << r.key;
    const json key = json::parse(r.key);
    EXPECT_EQ(key["schema"]["name"], k.topic_prefix + ".public.users.Key");
    const int64_t id = key["payload"]["id"];
    if (r.value == "NULL") {
      ops_by_key[id].push_back("tombstone");
      continue;
    }
    const json v = json::parse(r.value);
    EXPECT_EQ(v["schema"]["name"], k.topic_prefix + ".public.users.Envelope");
    const json& payload = v["payload"];
    ops_by_key[id].push_back(payload["op"]);
    EXPECT_EQ(payload["source"]["table"], "users");
    EXPECT_EQ(payload["transaction"]["id"], "747:20480");
    if (payload["op"] == "c") {
      EXPECT_EQ(payload["after"]["score"], "BOI=") << "12.50 as Connect Decimal";
    }
  }
  EXPECT_EQ(ops_by_key[1], (std::vector<std::string>{"c", "u", "d", "tombstone"}));
  EXPECT_EQ(ops_by_key[2], (std::vector<std::string>{"c", "d", "tombstone"}));
  EXPECT_EQ(ops_by_key[3], (std::vector<std::string>{"c"}));

  const auto tx = ReadTopic(k.brokers, k.topic_prefix + ".transaction");
  ASSERT_EQ(tx.size(), 2u);
  EXPECT_EQ(json::parse(tx[0].value)["payload"]["status"], "BEGIN");
  const json end = json::parse(tx[1].value)["payload"];
  EXPECT_EQ(end["status"], "END");
  EXPECT_EQ(end["event_count"], 6);
  EXPECT_EQ(end["data_collections"][0]["data_collection"], "public.users");
}

TEST(KafkaPublicTest, ChangeBeforeItsSchemaIsRefusedAndTheBatchKept) {
  KafkaConfig k;
  k.brokers = ServiceEnv("PHONY_KAFKA_BROKERS");
  k.topic_prefix = "pubx" + std::to_string(getpid());
  auto writer = PublicTopicWriter::Create({.kafka = k}, [](uint64_t) {}, nullptr);
  ASSERT_OK(writer.status());
  EventBatch batch{.id = 1, .events = {Change(ChangeOp::kInsert, std::nullopt, U(1, "a@x"), 1)}};
  EXPECT_THAT((*writer)->Publish(std::move(batch), absl::Seconds(5)),
              ::phony::testing::StatusIs(absl::StatusCode::kFailedPrecondition, ::testing::HasSubstr("no schema version 1")));
  EXPECT_EQ(batch.events.size(), 1u);  // NOLINT(bugprone-use-after-move): refused batches stay intact
}

}  // namespace
}  // namespace phony::kafka
