#include "core/embedded_bus.h"

#include <atomic>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "core/ack_tracker.h"
#include "core/testing/status_matchers.h"
#include "gtest/gtest.h"

namespace phony {
namespace {

using ::phony::testing::StatusIs;

EventBatch MakeBatch(uint64_t id, int n_events) {
  EventBatch b;
  b.id = id;
  for (int i = 0; i < n_events; ++i) {
    ChangeEvent c;
    c.table = TableId{"db", "public", "t"};
    c.after = Row{Value::Int64(static_cast<int64_t>(id * 1000 + i))};
    c.position = EventPosition::Postgres(Lsn(id), static_cast<uint64_t>(i));
    b.events.push_back(std::move(c));
  }
  return b;
}

TEST(EmbeddedBusTest, DeliversInOrderWithIncreasingOffsets) {
  EmbeddedBus bus({.name = "raw"});
  std::vector<uint64_t> acked;
  auto producer = bus.CreateProducer([&](uint64_t id) { acked.push_back(id); });
  auto consumer = bus.CreateConsumer();
  ASSERT_NE(producer, nullptr);
  ASSERT_NE(consumer, nullptr);
  EXPECT_EQ(bus.CreateProducer(nullptr), nullptr) << "one producer per channel";
  EXPECT_EQ(bus.CreateConsumer(), nullptr) << "one consumer per channel";
  for (uint64_t id = 1; id <= 5; ++id) ASSERT_OK(producer->Publish(MakeBatch(id, 2), absl::Seconds(1)));
  for (int64_t i = 0; i < 5; ++i) {
    ASSERT_OK_AND_ASSIGN(auto d, consumer->Poll(absl::Seconds(1)));
    ASSERT_TRUE(d.has_value());
    EXPECT_EQ(d->batch.id, static_cast<uint64_t>(i + 1));
    EXPECT_EQ(d->offset.offset, i);
    EXPECT_EQ(d->offset.topic, "raw");
    ASSERT_EQ(d->batch.events.size(), 2u);
    EXPECT_EQ(std::get<ChangeEvent>(d->batch.events[1]).after->at(0), Value::Int64((i + 1) * 1000 + 1));
    ASSERT_OK(consumer->Ack(d->offset));
  }
  EXPECT_EQ(acked, (std::vector<uint64_t>{1, 2, 3, 4, 5}));
  ASSERT_OK_AND_ASSIGN(auto none, consumer->Poll(absl::Milliseconds(10)));
  EXPECT_FALSE(none.has_value());
}

TEST(EmbeddedBusTest, BackpressureBlocksProducerUntilConsumed) {
  EmbeddedBus bus({.name = "raw", .max_queued_events = 4});
  auto producer = bus.CreateProducer(nullptr);
  auto consumer = bus.CreateConsumer();
  ASSERT_OK(producer->Publish(MakeBatch(1, 2), absl::Seconds(1)));
  ASSERT_OK(producer->Publish(MakeBatch(2, 2), absl::Seconds(1)));
  EXPECT_EQ(bus.queued_events(), 4u);
  EXPECT_THAT(producer->Publish(MakeBatch(3, 1), absl::Milliseconds(50)),
              StatusIs(absl::StatusCode::kDeadlineExceeded, ::testing::HasSubstr("bus full")));
  // A refused batch is left intact for the retry.
  EventBatch kept = MakeBatch(9, 2);
  EXPECT_THAT(producer->Publish(std::move(kept), absl::Milliseconds(10)),
              StatusIs(absl::StatusCode::kDeadlineExceeded));
  EXPECT_EQ(kept.events.size(), 2u);
  EXPECT_EQ(kept.id, 9u);

  std::atomic<bool> published{false};
  std::thread t([&] {
    ASSERT_OK(producer->Publish(MakeBatch(3, 1), absl::Seconds(10)));
    published = true;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_FALSE(published.load()) << "producer must block while the bus is full";
  ASSERT_OK_AND_ASSIGN(auto d, consumer->Poll(absl::Seconds(1)));
  ASSERT_TRUE(d.has_value());
  t.join();
  EXPECT_TRUE(published.load());
  EXPECT_EQ(bus.queued_events(), 3u);
}

TEST(EmbeddedBusTest, ByteBudgetAlsoBounds) {
  EmbeddedBus bus({.name = "raw", .max_queued_events = 1000000, .max_queued_bytes = 4096});
  auto producer = bus.CreateProducer(nullptr);
  auto consumer = bus.CreateConsumer();
  // An oversized batch is admitted into an empty queue (no deadlock)...
  ASSERT_OK(producer->Publish(MakeBatch(1, 200), absl::Seconds(1)));
  EXPECT_GT(bus.queued_bytes(), 4096u);
  // ...but nothing more until it drains.
  EXPECT_THAT(producer->Publish(MakeBatch(2, 1), absl::Milliseconds(20)),
              StatusIs(absl::StatusCode::kDeadlineExceeded));
  ASSERT_OK_AND_ASSIGN(auto d, consumer->Poll(absl::Seconds(1)));
  EXPECT_EQ(bus.queued_bytes(), 0u);
  EXPECT_OK(producer->Publish(MakeBatch(2, 1), absl::Milliseconds(20)));
}

// Acks arrive out of order; the producer's tracker confirms only the unbroken
// prefix.
TEST(EmbeddedBusTest, OutOfOrderAcksConfirmOnlyThePrefix) {
  EmbeddedBus bus({.name = "raw"});
  AckTracker tracker;
  auto producer = bus.CreateProducer([&](uint64_t id) { ASSERT_OK(tracker.Ack(id)); });
  auto consumer = bus.CreateConsumer();
  for (uint64_t id = 1; id <= 4; ++id) {
    ASSERT_OK(tracker.Track(id, EventPosition::Postgres(Lsn(id * 100), 0)));
    ASSERT_OK(producer->Publish(MakeBatch(id, 1), absl::Seconds(1)));
  }
  std::vector<Delivery> ds;
  for (int i = 0; i < 4; ++i) ds.push_back(**consumer->Poll(absl::Seconds(1)));
  ASSERT_OK(consumer->Ack(ds[1].offset));
  ASSERT_OK(consumer->Ack(ds[3].offset));
  EXPECT_FALSE(tracker.Confirmed().has_value());
  ASSERT_OK(consumer->Ack(ds[0].offset));
  EXPECT_EQ(tracker.Confirmed(), EventPosition::Postgres(Lsn(200), 0));
  ASSERT_OK(consumer->Ack(ds[2].offset));
  EXPECT_EQ(tracker.Confirmed(), EventPosition::Postgres(Lsn(400), 0));
  EXPECT_TRUE(tracker.idle());
  EXPECT_THAT(consumer->Ack(ds[2].offset), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(consumer->Ack(KafkaOffset{"other", 0, 0}), StatusIs(absl::StatusCode::kInvalidArgument));
}

// Close ends the stream after everything published: nothing is lost, and
// every batch is acked back to the producer.
TEST(EmbeddedBusTest, CloseDrainsEverythingThenEndOfStream) {
  EmbeddedBus bus({.name = "raw", .max_queued_events = 16});
  std::mutex mu;
  std::set<uint64_t> acked;
  auto producer = bus.CreateProducer([&](uint64_t id) {
    std::lock_guard<std::mutex> l(mu);
    acked.insert(id);
  });
  auto consumer = bus.CreateConsumer();
  constexpr uint64_t kBatches = 2000;
  std::thread prod([&] {
    for (uint64_t id = 1; id <= kBatches; ++id) {
      ASSERT_OK(producer->Publish(MakeBatch(id, 3), absl::Seconds(10)));
    }
    producer->Close();
  });
  uint64_t expected = 1;
  int64_t last_offset = -1;
  while (true) {
    auto d = consumer->Poll(absl::Seconds(10));
    if (d.status().code() == absl::StatusCode::kOutOfRange) break;
    ASSERT_OK(d.status());
    ASSERT_TRUE(d->has_value());
    EXPECT_EQ((*d)->batch.id, expected++);
    EXPECT_GT((*d)->offset.offset, last_offset);
    last_offset = (*d)->offset.offset;
    ASSERT_OK(consumer->Ack((*d)->offset));
  }
  prod.join();
  EXPECT_EQ(expected, kBatches + 1);
  EXPECT_EQ(acked.size(), kBatches);
  EXPECT_THAT(producer->Publish(MakeBatch(kBatches + 1, 1), absl::Seconds(1)),
              StatusIs(absl::StatusCode::kFailedPrecondition));
}

// Shutdown unblocks everyone; batches that were not acked stay unconfirmed,
// so their producer re-sends them after a restart (at-least-once).
TEST(EmbeddedBusTest, ShutdownUnblocksAndNeverConfirmsUnackedBatches) {
  EmbeddedBus bus({.name = "raw", .max_queued_events = 2});
  AckTracker tracker;
  auto producer = bus.CreateProducer([&](uint64_t id) { ASSERT_OK(tracker.Ack(id)); });
  auto consumer = bus.CreateConsumer();
  for (uint64_t id = 1; id <= 2; ++id) {
    ASSERT_OK(tracker.Track(id, EventPosition::Postgres(Lsn(id), 0)));
    ASSERT_OK(producer->Publish(MakeBatch(id, 1), absl::Seconds(1)));
  }
  ASSERT_OK_AND_ASSIGN(auto d1, consumer->Poll(absl::Seconds(1)));
  ASSERT_OK(consumer->Ack(d1->offset));
  ASSERT_OK(tracker.Track(3, EventPosition::Postgres(Lsn(3), 0)));
  ASSERT_OK(producer->Publish(MakeBatch(3, 1), absl::Seconds(1)));
  std::thread blocked([&] {
    ASSERT_OK(tracker.Track(4, EventPosition::Postgres(Lsn(4), 0)));
    EXPECT_THAT(producer->Publish(MakeBatch(4, 1), absl::Seconds(30)),
                StatusIs(absl::StatusCode::kCancelled));
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  bus.Shutdown();
  blocked.join();
  EXPECT_THAT(consumer->Poll(absl::Seconds(1)).status(), StatusIs(absl::StatusCode::kCancelled));
  EXPECT_EQ(tracker.Confirmed(), EventPosition::Postgres(Lsn(1), 0));
  EXPECT_EQ(tracker.in_flight(), 3u);
}

}  // namespace
}  // namespace phony
