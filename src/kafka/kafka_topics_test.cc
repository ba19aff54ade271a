#include "src/kafka/kafka_topics.h"

#include <fstream>
#include <sstream>
#include <string>

#include "gtest/gtest.h"

namespace phony::kafka {
namespace {

std::string FromHex(const std::string& hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) out.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  return out;
}

// Goldens computed by Java's kafka-clients (tests/golden/murmur2/README.md).
TEST(KafkaTopicsTest, Murmur2AgreesWithJava) {
  std::ifstream in(PHONY_SOURCE_DIR "/tests/golden/murmur2/java_murmur2.txt");
  ASSERT_TRUE(in.good());
  std::string line;
  int checked = 0;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string hex;
    int32_t hash, p6, p100;
    if (line[0] == ' ') {  // the empty key
      hex.clear();
      fields >> hash >> p6 >> p100;
    } else {
      fields >> hex >> hash >> p6 >> p100;
    }
    const std::string key = FromHex(hex);
    EXPECT_EQ(Murmur2(key), hash) << "key " << hex;
    EXPECT_EQ(PartitionForKey(key, 6), p6) << "key " << hex;
    EXPECT_EQ(PartitionForKey(key, 100), p100) << "key " << hex;
    ++checked;
  }
  EXPECT_EQ(checked, 12);
}

TEST(KafkaTopicsTest, NamesAndKeys) {
  KafkaConfig k;
  k.topic_prefix = "shop";
  const TopicNames t = TopicsFor(k, "orders staging");
  EXPECT_EQ(t.raw, "phony_internal.orders_staging.raw");
  EXPECT_EQ(t.schemas, "phony_internal.orders_staging.schemas");
  EXPECT_EQ(t.transactions, "shop.transaction");
  EXPECT_EQ(PublicTopic("shop", TableId{"db", "public", "üsers"}), "shop.public.__sers");

  ChangeEvent e;
  e.table = TableId{"db", "public", "users"};
  e.key_columns = {1};
  e.after = Row{Value::Text("x"), Value::Int64(7)};
  ChangeEvent same = e;
  same.after = Row{Value::Text("y"), Value::Int64(7)};
  EXPECT_EQ(EventKey(e), EventKey(same)) << "only key columns count";
  same.after = Row{Value::Text("x"), Value::Int64(8)};
  EXPECT_NE(EventKey(e), EventKey(same));
  ChangeEvent del;
  del.op = ChangeOp::kDelete;
  del.table = e.table;
  del.key_columns = {1};
  del.before = Row{Value::Null(), Value::Int64(7)};
  EXPECT_EQ(EventKey(del), EventKey(e)) << "a delete goes where its key's inserts went";
  ChangeEvent nokey = e;
  nokey.key_columns.clear();
  EXPECT_EQ(EventKey(nokey), "");
}

}  // namespace
}  // namespace phony::kafka
