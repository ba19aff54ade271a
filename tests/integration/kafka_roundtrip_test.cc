// Kafka: create a topic through the admin API (the broker has auto-creation
// off), produce with idempotence on, and consume everything back in order
// with keys, values and headers intact.
#include <librdkafka/rdkafka.h>
#include <unistd.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "core/event_codec.h"
#include "core/testing/status_matchers.h"
#include "gtest/gtest.h"
#include "tests/integration/services_env.h"

namespace phony {
namespace {

using ::phony::testing::ServiceEnv;

rd_kafka_conf_t* Conf(const std::vector<std::pair<std::string, std::string>>& settings) {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  char err[512];
  for (const auto& [k, v] : settings) {
    EXPECT_EQ(rd_kafka_conf_set(conf, k.c_str(), v.c_str(), err, sizeof(err)), RD_KAFKA_CONF_OK)
        << k << ": " << err;
  }
  return conf;
}

struct KafkaDeleter {
  void operator()(rd_kafka_t* rk) const { rd_kafka_destroy(rk); }
};
using Kafka = std::unique_ptr<rd_kafka_t, KafkaDeleter>;

void CreateTopic(rd_kafka_t* rk, const std::string& topic, int partitions) {
  char err[512];
  rd_kafka_NewTopic_t* nt = rd_kafka_NewTopic_new(topic.c_str(), partitions, 1, err, sizeof(err));
  ASSERT_NE(nt, nullptr) << err;
  rd_kafka_queue_t* q = rd_kafka_queue_new(rk);
  rd_kafka_CreateTopics(rk, &nt, 1, nullptr, q);
  rd_kafka_event_t* ev = rd_kafka_queue_poll(q, 30000);
  ASSERT_NE(ev, nullptr) << "no CreateTopics result within 30 s";
  const rd_kafka_CreateTopics_result_t* res = rd_kafka_event_CreateTopics_result(ev);
  ASSERT_NE(res, nullptr) << rd_kafka_event_error_string(ev);
  size_t n = 0;
  const rd_kafka_topic_result_t** results = rd_kafka_CreateTopics_result_topics(res, &n);
  ASSERT_EQ(n, 1u);
  EXPECT_EQ(rd_kafka_topic_result_error(results[0]), RD_KAFKA_RESP_ERR_NO_ERROR)
      << rd_kafka_topic_result_error_string(results[0]);
  rd_kafka_event_destroy(ev);
  rd_kafka_queue_destroy(q);
  rd_kafka_NewTopic_destroy(nt);
}

struct DeliveryCounts {
  int ok = 0;
  int failed = 0;
};

void OnDelivery(rd_kafka_t*, const rd_kafka_message_t* m, void* opaque) {
  auto* counts = static_cast<DeliveryCounts*>(opaque);
  if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
    ++counts->ok;
  } else {
    ++counts->failed;
  }
}

TEST(KafkaRoundTripTest, IdempotentProduceThenConsumeInOrder) {
  const std::string brokers = ServiceEnv("PHONY_KAFKA_BROKERS");
  ASSERT_FALSE(brokers.empty());
  const std::string topic = "phony_harness_" + std::to_string(getpid());
  constexpr int kMessages = 500;

  char err[512];
  DeliveryCounts counts;
  rd_kafka_conf_t* pconf = Conf({{"bootstrap.servers", brokers},
                                 {"enable.idempotence", "true"},
                                 {"acks", "all"},
                                 {"compression.type", "lz4"},
                                 {"linger.ms", "5"}});
  rd_kafka_conf_set_dr_msg_cb(pconf, OnDelivery);
  rd_kafka_conf_set_opaque(pconf, &counts);
  Kafka producer(rd_kafka_new(RD_KAFKA_PRODUCER, pconf, err, sizeof(err)));
  ASSERT_NE(producer, nullptr) << err;
  CreateTopic(producer.get(), topic, 1);

  // The payloads are real internal-encoding events, as the raw stream holds.
  std::vector<std::string> sent;
  for (int i = 0; i < kMessages; ++i) {
    ChangeEvent c;
    c.table = TableId{"db", "public", "t"};
    c.after = Row{Value::Int64(i), Value::Text("row-" + std::to_string(i))};
    c.position = EventPosition::Postgres(Lsn(1000 + static_cast<uint64_t>(i)), 0);
    std::string value;
    EncodeEvent(c, &value);
    const std::string key = "k" + std::to_string(i % 7);
    rd_kafka_resp_err_t e = rd_kafka_producev(
        producer.get(), RD_KAFKA_V_TOPIC(topic.c_str()),
        RD_KAFKA_V_KEY(key.data(), key.size()),
        RD_KAFKA_V_VALUE(value.data(), value.size()), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
        RD_KAFKA_V_HEADER("phony-format", "1", 1), RD_KAFKA_V_END);
    ASSERT_EQ(e, RD_KAFKA_RESP_ERR_NO_ERROR) << rd_kafka_err2str(e);
    rd_kafka_poll(producer.get(), 0);
    sent.push_back(value);
  }
  ASSERT_EQ(rd_kafka_flush(producer.get(), 30000), RD_KAFKA_RESP_ERR_NO_ERROR);
  EXPECT_EQ(counts.ok, kMessages);
  EXPECT_EQ(counts.failed, 0);

  rd_kafka_conf_t* cconf = Conf({{"bootstrap.servers", brokers},
                                 {"group.id", topic + "_group"},
                                 {"auto.offset.reset", "earliest"},
                                 {"enable.auto.commit", "false"},
                                 {"isolation.level", "read_committed"}});
  Kafka consumer(rd_kafka_new(RD_KAFKA_CONSUMER, cconf, err, sizeof(err)));
  ASSERT_NE(consumer, nullptr) << err;
  rd_kafka_poll_set_consumer(consumer.get());
  rd_kafka_topic_partition_list_t* subs = rd_kafka_topic_partition_list_new(1);
  rd_kafka_topic_partition_list_add(subs, topic.c_str(), RD_KAFKA_PARTITION_UA);
  ASSERT_EQ(rd_kafka_subscribe(consumer.get(), subs), RD_KAFKA_RESP_ERR_NO_ERROR);
  rd_kafka_topic_partition_list_destroy(subs);

  int received = 0;
  int64_t last_offset = -1;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (received < kMessages && std::chrono::steady_clock::now() < deadline) {
    rd_kafka_message_t* m = rd_kafka_consumer_poll(consumer.get(), 500);
    if (m == nullptr) continue;
    if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
      rd_kafka_message_destroy(m);
      continue;
    }
    ASSERT_EQ(m->err, RD_KAFKA_RESP_ERR_NO_ERROR) << rd_kafka_message_errstr(m);
    const std::string value(static_cast<const char*>(m->payload), m->len);
    EXPECT_EQ(value, sent[static_cast<size_t>(received)]) << "message " << received;
    EXPECT_GT(m->offset, last_offset);
    last_offset = m->offset;
    const std::string key(static_cast<const char*>(m->key), m->key_len);
    EXPECT_EQ(key, "k" + std::to_string(received % 7));
    rd_kafka_headers_t* headers = nullptr;
    ASSERT_EQ(rd_kafka_message_headers(m, &headers), RD_KAFKA_RESP_ERR_NO_ERROR);
    const void* hv = nullptr;
    size_t hl = 0;
    ASSERT_EQ(rd_kafka_header_get_last(headers, "phony-format", &hv, &hl), RD_KAFKA_RESP_ERR_NO_ERROR);
    EXPECT_EQ(std::string(static_cast<const char*>(hv), hl), "1");
    ASSERT_OK_AND_ASSIGN(Event decoded, DecodeEvent(value));
    EXPECT_EQ(std::get<ChangeEvent>(decoded).after->at(0), Value::Int64(received));
    ++received;
    rd_kafka_message_destroy(m);
  }
  EXPECT_EQ(received, kMessages);
  rd_kafka_consumer_close(consumer.get());
}

}  // namespace
}  // namespace phony
