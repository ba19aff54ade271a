// The bus over a real Kafka broker (scripts/services.sh): every event type
// and value kind round-trips byte for byte; one partition replays publish
// order; N partitions keep per-key order on the partition Java's murmur2
// picks; the consumer commits only the acked prefix; a malformed message
// stops the stream with its offset; missing topics and an unreachable broker
// are clear errors and nothing is acked that was not delivered.
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "core/event_codec.h"
#include "core/testing/sample_events.h"
#include "core/testing/status_matchers.h"
#include "gtest/gtest.h"
#include "src/kafka/kafka_admin.h"
#include "src/kafka/kafka_bus.h"
#include "src/kafka/kafka_topics.h"
#include "tests/integration/services_env.h"

namespace phony::kafka {
namespace {

using ::phony::testing::ServiceEnv;
using ::phony::testing::StatusIs;
using ::testing::HasSubstr;

class KafkaBusTest : public ::testing::Test {
 protected:
  void SetUp() override {
    config_.brokers = ServiceEnv("PHONY_KAFKA_BROKERS");
    topic_ = std::string("bus_") + std::to_string(getpid()) + "_" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name();
  }
  std::unique_ptr<KafkaBusProducer> Producer(int partitions = 1) {
    EXPECT_OK(EnsureTopics(config_, {{.name = topic_, .partitions = partitions}}));
    auto p = KafkaBusProducer::Create(
        {.kafka = config_, .topic = topic_, .partitions = partitions},
        [this](uint64_t id) {
          std::lock_guard<std::mutex> lock(mu_);
          acked_.insert(id);
        },
        [this](uint64_t id, const absl::Status& why) {
          std::lock_guard<std::mutex> lock(mu_);
          nacked_[id] = why;
        });
    EXPECT_OK(p.status());
    return p.ok() ? std::move(*p) : nullptr;
  }
  std::unique_ptr<KafkaBusConsumer> Consumer(const std::string& group, size_t max_batch = 10000) {
    auto c = KafkaBusConsumer::Create(
        {.kafka = config_, .group_id = group, .topics = {topic_}, .max_batch_events = max_batch});
    EXPECT_OK(c.status());
    return c.ok() ? std::move(*c) : nullptr;
  }
  // Polls until `n` events arrived (or 60 s passed), acking each delivery.
  std::vector<std::pair<int32_t, Event>> ReadEvents(BusConsumer& c, size_t n, bool ack = true) {
    std::vector<std::pair<int32_t, Event>> out;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (out.size() < n && std::chrono::steady_clock::now() < deadline) {
      auto d = c.Poll(absl::Milliseconds(500));
      EXPECT_OK(d.status());
      if (!d.ok() || !d->has_value()) continue;
      for (auto& e : (*d)->batch.events) out.emplace_back((*d)->offset.partition, std::move(e));
      if (ack) {
        EXPECT_OK(c.Ack((*d)->offset));
      }
    }
    return out;
  }
  size_t Acked() {
    std::lock_guard<std::mutex> lock(mu_);
    return acked_.size();
  }

  KafkaConfig config_;
  std::string topic_;
  std::mutex mu_;
  std::set<uint64_t> acked_;
  std::map<uint64_t, absl::Status> nacked_;
};

ChangeEvent Row(const std::string& table, int64_t key, int64_t seq, uint64_t lsn) {
  ChangeEvent c;
  c.op = ChangeOp::kInsert;
  c.table = TableId{"db", "public", table};
  c.key_columns = {0};
  c.after = phony::Row{Value::Int64(key), Value::Int64(seq)};
  c.position = EventPosition::Postgres(Lsn(lsn), static_cast<uint32_t>(seq));
  return c;
}

TEST_F(KafkaBusTest, EveryEventAndValueKindRoundTripsByteForByte) {
  auto producer = Producer();
  ASSERT_NE(producer, nullptr);
  std::vector<Event> events = ::phony::testing::SampleEvents();
  EventBatch b{.id = 1, .events = events};
  ASSERT_OK(producer->Publish(std::move(b), absl::Seconds(10)));
  ASSERT_OK(producer->Flush(absl::Seconds(30)));
  EXPECT_EQ(Acked(), 1u);
  auto consumer = Consumer(topic_ + "_g");
  const auto got = ReadEvents(*consumer, events.size());
  ASSERT_EQ(got.size(), events.size());
  for (size_t i = 0; i < events.size(); ++i) {
    EXPECT_EQ(got[i].second, events[i]) << DescribeEvent(events[i]);
    std::string want, have;
    EncodeEvent(events[i], &want);
    EncodeEvent(got[i].second, &have);
    EXPECT_EQ(have, want);
  }
}

TEST_F(KafkaBusTest, OnePartitionReplaysPublishOrder) {
  auto producer = Producer();
  ASSERT_NE(producer, nullptr);
  constexpr int kBatches = 20, kPerBatch = 500;
  for (int b = 0; b < kBatches; ++b) {
    EventBatch batch{.id = static_cast<uint64_t>(b + 1)};
    for (int i = 0; i < kPerBatch; ++i) {
      const int seq = b * kPerBatch + i;
      batch.events.push_back(Row("t" + std::to_string(seq % 7), seq % 13, seq, 100 + static_cast<uint64_t>(seq)));
    }
    ASSERT_OK(producer->Publish(std::move(batch), absl::Seconds(10)));
  }
  ASSERT_OK(producer->Flush(absl::Seconds(30)));
  EXPECT_EQ(Acked(), static_cast<size_t>(kBatches));
  auto consumer = Consumer(topic_ + "_g");
  const auto got = ReadEvents(*consumer, kBatches * kPerBatch);
  ASSERT_EQ(got.size(), static_cast<size_t>(kBatches * kPerBatch));
  for (size_t i = 0; i < got.size(); ++i) {
    ASSERT_EQ(std::get<ChangeEvent>(got[i].second).after->at(1), Value::Int64(static_cast<int64_t>(i)))
        << "event " << i << " out of order";
  }
}

TEST_F(KafkaBusTest, KeyedPartitionsKeepPerKeyOrderOnJavasPartition) {
  constexpr int kPartitions = 6, kEvents = 3000, kKeys = 50;
  auto producer = Producer(kPartitions);
  ASSERT_NE(producer, nullptr);
  for (int b = 0; b < 10; ++b) {
    EventBatch batch{.id = static_cast<uint64_t>(b + 1)};
    for (int i = 0; i < kEvents / 10; ++i) {
      const int seq = b * (kEvents / 10) + i;
      batch.events.push_back(Row("users", seq % kKeys, seq, 100 + static_cast<uint64_t>(seq)));
    }
    ASSERT_OK(producer->Publish(std::move(batch), absl::Seconds(10)));
  }
  ASSERT_OK(producer->Flush(absl::Seconds(30)));
  auto consumer = Consumer(topic_ + "_g");
  const auto got = ReadEvents(*consumer, kEvents);
  ASSERT_EQ(got.size(), static_cast<size_t>(kEvents));
  std::map<int64_t, int64_t> last_seq;
  std::set<int32_t> used;
  for (const auto& [partition, event] : got) {
    const auto& c = std::get<ChangeEvent>(event);
    const int64_t key = c.after->at(0).int64_value(), seq = c.after->at(1).int64_value();
    EXPECT_EQ(partition, PartitionForKey(EventKey(c), kPartitions)) << "key " << key;
    auto [it, first] = last_seq.emplace(key, seq);
    if (!first) {
      EXPECT_GT(seq, it->second) << "key " << key << " out of order";
      it->second = seq;
    }
    used.insert(partition);
  }
  EXPECT_EQ(last_seq.size(), static_cast<size_t>(kKeys));
  EXPECT_GT(used.size(), 3u) << "keys spread over the partitions";
}

TEST_F(KafkaBusTest, ConsumerCommitsOnlyTheAckedPrefix) {
  auto producer = Producer();
  ASSERT_NE(producer, nullptr);
  for (int b = 0; b < 3; ++b) {
    EventBatch batch{.id = static_cast<uint64_t>(b + 1)};
    for (int i = 0; i < 100; ++i) batch.events.push_back(Row("t", i, b * 100 + i, 100 + static_cast<uint64_t>(b * 100 + i)));
    ASSERT_OK(producer->Publish(std::move(batch), absl::Seconds(10)));
  }
  ASSERT_OK(producer->Flush(absl::Seconds(30)));
  const std::string group = topic_ + "_g";
  {
    auto first = Consumer(group, /*max_batch=*/100);
    std::vector<Delivery> deliveries;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    size_t events = 0;
    while (events < 300 && std::chrono::steady_clock::now() < deadline) {
      auto d = first->Poll(absl::Milliseconds(500));
      ASSERT_OK(d.status());
      if (!d->has_value()) continue;
      events += (*d)->batch.events.size();
      deliveries.push_back(std::move(**d));
    }
    ASSERT_EQ(events, 300u);
    ASSERT_GE(deliveries.size(), 3u);
    // Ack everything but the second delivery: the commit stops before it.
    for (size_t i = 0; i < deliveries.size(); ++i) {
      if (i != 1) {
        ASSERT_OK(first->Ack(deliveries[i].offset));
      }
    }
    EXPECT_THAT(first->Ack(deliveries[0].offset), StatusIs(absl::StatusCode::kInvalidArgument));
  }
  auto second = Consumer(group, 100);
  const auto again = ReadEvents(*second, 1);
  ASSERT_FALSE(again.empty());
  // The first unacked event is the first of the second delivery.
  EXPECT_GT(std::get<ChangeEvent>(again[0].second).after->at(1).int64_value(), 0);
  EXPECT_LT(std::get<ChangeEvent>(again[0].second).after->at(1).int64_value(), 300);
}

TEST_F(KafkaBusTest, MalformedMessageStopsTheStreamWithItsOffset) {
  auto producer = Producer();
  ASSERT_NE(producer, nullptr);
  ASSERT_OK(producer->Publish(EventBatch{.id = 1, .events = {Row("t", 1, 0, 100)}}, absl::Seconds(10)));
  ASSERT_OK(producer->Flush(absl::Seconds(30)));
  const std::string cmd = "printf 'not an event' | kcat -P -b " + config_.brokers + " -t " + topic_ + " 2>&1";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  ASSERT_OK(producer->Publish(EventBatch{.id = 2, .events = {Row("t", 2, 1, 101)}}, absl::Seconds(10)));
  ASSERT_OK(producer->Flush(absl::Seconds(30)));
  auto consumer = Consumer(topic_ + "_g");
  absl::Status stopped;
  size_t events = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (stopped.ok() && std::chrono::steady_clock::now() < deadline) {
    auto d = consumer->Poll(absl::Milliseconds(500));
    if (!d.ok()) {
      stopped = d.status();
    } else if (d->has_value()) {
      events += (*d)->batch.events.size();
    }
  }
  EXPECT_THAT(stopped, StatusIs(absl::StatusCode::kDataLoss, HasSubstr(topic_ + "[0]@1")));
  EXPECT_EQ(events, 1u) << "nothing after the bad message";
}

TEST_F(KafkaBusTest, MissingTopicAndUnreachableBrokerAreClearErrors) {
  KafkaConfig strict = config_;
  strict.create_topics = false;
  EXPECT_THAT(EnsureTopics(strict, {{.name = topic_ + "_missing"}}),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr(topic_ + "_missing")));

  KafkaConfig dead;
  dead.brokers = "127.0.0.1:1";
  EXPECT_THAT(EnsureTopics(dead, {{.name = topic_}}, absl::Seconds(3)),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("127.0.0.1:1")));

  // A producer that cannot reach a broker never acks: the batch is nacked
  // once its messages time out.
  dead.properties["message.timeout.ms"] = "2000";
  std::atomic<int> acks{0};
  std::atomic<bool> nacked{false};
  absl::Status why;
  std::mutex why_mu;
  auto p = KafkaBusProducer::Create({.kafka = dead, .topic = topic_}, [&](uint64_t) { ++acks; },
                                    [&](uint64_t, const absl::Status& s) {
                                      std::lock_guard<std::mutex> lock(why_mu);
                                      why = s;
                                      nacked = true;
                                    });
  ASSERT_OK(p.status());
  ASSERT_OK((*p)->Publish(EventBatch{.id = 1, .events = {Row("t", 1, 0, 100)}}, absl::Seconds(10)));
  for (int i = 0; i < 100 && !nacked; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_TRUE(nacked.load());
  EXPECT_EQ(acks.load(), 0);
  std::lock_guard<std::mutex> lock(why_mu);
  EXPECT_THAT(why, StatusIs(absl::StatusCode::kUnavailable, HasSubstr("not delivered")));
}

TEST_F(KafkaBusTest, TransactionsRecordPositionsAndAFencedProducerStops) {
  const std::string positions = topic_ + "_positions";
  ASSERT_OK(EnsureTopics(config_, {{.name = topic_}, {.name = positions, .configs = {{"cleanup.policy", "compact"}}}}));
  auto make = [&](std::map<uint64_t, absl::Status>* nacks, std::set<uint64_t>* acks, std::mutex* m) {
    return KafkaBusProducer::Create(
        {.kafka = config_, .topic = topic_, .transactional_id = topic_ + "_tx", .positions_topic = positions,
         .position_key = "capture/slot"},
        [=](uint64_t id) {
          std::lock_guard<std::mutex> lock(*m);
          acks->insert(id);
        },
        [=](uint64_t id, const absl::Status& why) {
          std::lock_guard<std::mutex> lock(*m);
          (*nacks)[id] = why;
        });
  };
  auto tx = [](uint64_t lsn, int64_t key) {
    return std::vector<Event>{TxBegin{EventPosition::Postgres(Lsn(lsn), 0), 7, 0}, Row("t", key, key, lsn),
                              TxCommit{EventPosition::Postgres(Lsn(lsn), 2), 7, 0, 1}};
  };
  std::mutex m;
  std::set<uint64_t> acks_a, acks_b;
  std::map<uint64_t, absl::Status> nacks_a, nacks_b;
  auto a = make(&nacks_a, &acks_a, &m);
  ASSERT_OK(a.status());
  ASSERT_OK((*a)->Publish(EventBatch{.id = 1, .events = tx(1000, 1)}, absl::Seconds(10)));
  ASSERT_OK((*a)->Flush(absl::Seconds(30)));
  {
    std::lock_guard<std::mutex> lock(m);
    EXPECT_EQ(acks_a, (std::set<uint64_t>{1})) << "acked when its Kafka transaction committed";
  }
  auto pos = ReadLatestPosition(config_, positions, "capture/slot", absl::Seconds(30));
  ASSERT_OK(pos.status());
  ASSERT_TRUE(pos->has_value());
  EXPECT_EQ((*pos)->commit_lsn(), Lsn(1000));

  // A second producer with the same transactional id fences the first.
  auto b = make(&nacks_b, &acks_b, &m);
  ASSERT_OK(b.status());
  (void)(*a)->Publish(EventBatch{.id = 2, .events = tx(2000, 2)}, absl::Seconds(10));
  (void)(*a)->Flush(absl::Seconds(30));
  absl::Status later = (*a)->Publish(EventBatch{.id = 3, .events = tx(3000, 3)}, absl::Seconds(10));
  for (int i = 0; i < 50 && later.ok(); ++i) {
    (void)(*a)->Flush(absl::Seconds(5));
    later = (*a)->Publish(EventBatch{.id = 4 + static_cast<uint64_t>(i), .events = tx(4000, 4)}, absl::Seconds(10));
  }
  EXPECT_THAT(later, StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("fenced")));
  {
    std::lock_guard<std::mutex> lock(m);
    EXPECT_EQ(acks_a.count(2), 0u) << "a fenced producer's batch is never acked";
    EXPECT_EQ(nacks_a.count(2), 1u);
  }
  ASSERT_OK((*b)->Publish(EventBatch{.id = 1, .events = tx(5000, 5)}, absl::Seconds(10)));
  ASSERT_OK((*b)->Flush(absl::Seconds(30)));
  pos = ReadLatestPosition(config_, positions, "capture/slot", absl::Seconds(30));
  ASSERT_OK(pos.status());
  EXPECT_EQ((*pos)->commit_lsn(), Lsn(5000));

  // read_committed consumers see the committed transactions only.
  auto consumer = Consumer(topic_ + "_g");
  std::set<int64_t> keys;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
  while (std::chrono::steady_clock::now() < deadline) {
    auto d = consumer->Poll(absl::Milliseconds(500));
    ASSERT_OK(d.status());
    if (!d->has_value()) {
      if (keys.count(5)) break;
      continue;
    }
    for (const Event& e : (*d)->batch.events) {
      if (const auto* c = std::get_if<ChangeEvent>(&e)) keys.insert(c->after->at(0).int64_value());
    }
    ASSERT_OK(consumer->Ack((*d)->offset));
  }
  EXPECT_EQ(keys, (std::set<int64_t>{1, 5}));
}

// A second member joins the group mid-stream: partitions move between the
// two, and together they see every event (a delivery acked by the member
// that lost its partition may come again, never go missing).
TEST_F(KafkaBusTest, RebalanceBetweenTwoMembersLosesNothing) {
  constexpr int kPartitions = 4, kEvents = 4000;
  auto producer = Producer(kPartitions);
  ASSERT_NE(producer, nullptr);
  for (int b = 0; b < 8; ++b) {
    EventBatch batch{.id = static_cast<uint64_t>(b + 1)};
    for (int i = 0; i < kEvents / 8; ++i) {
      const int seq = b * (kEvents / 8) + i;
      batch.events.push_back(Row("users", seq, seq, 100 + static_cast<uint64_t>(seq)));
    }
    ASSERT_OK(producer->Publish(std::move(batch), absl::Seconds(10)));
  }
  ASSERT_OK(producer->Flush(absl::Seconds(30)));

  const std::string group = topic_ + "_g";
  std::mutex m;
  std::set<int64_t> seen;
  std::atomic<bool> stop{false};
  std::atomic<int> per_member[2] = {0, 0};
  auto member = [&](int index, size_t max_batch) {
    auto c = Consumer(group, max_batch);
    ASSERT_NE(c, nullptr);
    while (!stop.load()) {
      auto d = c->Poll(absl::Milliseconds(200));
      ASSERT_OK(d.status());
      if (!d->has_value()) continue;
      {
        std::lock_guard<std::mutex> lock(m);
        for (const Event& e : (*d)->batch.events) seen.insert(std::get<ChangeEvent>(e).after->at(1).int64_value());
      }
      per_member[index] += static_cast<int>((*d)->batch.events.size());
      ASSERT_OK(c->Ack((*d)->offset));
      // Slow enough that the second member joins while work is left.
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  };
  std::thread first(member, 0, 50);
  for (int i = 0; i < 200 && per_member[0].load() < 500; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  std::thread second(member, 1, 50);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (std::chrono::steady_clock::now() < deadline) {
    {
      std::lock_guard<std::mutex> lock(m);
      if (seen.size() == static_cast<size_t>(kEvents)) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  stop = true;
  first.join();
  second.join();
  EXPECT_EQ(seen.size(), static_cast<size_t>(kEvents)) << "every event reached one member or the other";
  EXPECT_GT(per_member[0].load(), 0);
  EXPECT_GT(per_member[1].load(), 0) << "the second member took over partitions";
}

// librdkafka 2.0.2's idempotent producer can turn fatal (e.g. an out-of-order
// sequence after a broker restart): what was in flight is nacked, the next
// Publish rebuilds the producer, and what follows is delivered and acked.
TEST_F(KafkaBusTest, FatalProducerIsRebuiltAndNothingAckedIsLost) {
  auto producer = Producer();
  ASSERT_NE(producer, nullptr);
  ASSERT_OK(producer->Publish(EventBatch{.id = 1, .events = {Row("t", 1, 1, 101)}}, absl::Seconds(10)));
  ASSERT_OK(producer->Flush(absl::Seconds(30)));
  producer->TriggerFatalErrorForTesting();
  // The stage learns of it through nacks (for what was in flight) and the
  // rebuild on its next publish.
  for (int i = 0; i < 50 && producer->rebuilds() == 0; ++i) {
    (void)producer->Publish(EventBatch{.id = 2 + static_cast<uint64_t>(i), .events = {Row("t", 2, 2, 102)}},
                            absl::Seconds(10));
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(producer->rebuilds(), 1);
  ASSERT_OK(producer->Publish(EventBatch{.id = 100, .events = {Row("t", 3, 3, 103)}}, absl::Seconds(10)));
  ASSERT_OK(producer->Flush(absl::Seconds(30)));
  std::lock_guard<std::mutex> lock(mu_);
  EXPECT_TRUE(acked_.count(1));
  EXPECT_TRUE(acked_.count(100)) << "the rebuilt producer delivers";
  for (const auto& [id, why] : nacked_) EXPECT_FALSE(acked_.count(id)) << "batch " << id << " both acked and nacked";
}

}  // namespace
}  // namespace phony::kafka
