// EmbeddedBus: the in-process bus for `phony run` without Kafka. One channel
// with one producer and one consumer, bounded by events and by approximate
// bytes queued (not yet polled), so a fast producer blocks instead of
// growing memory. Offsets are a per-channel sequence starting at 0 and acks
// are forwarded to the producer's AckCallback. Thread-safe (see core/bus.h).
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "core/bus.h"

namespace phony {

class EmbeddedBus {
 public:
  struct Options {
    std::string name = "embedded";
    size_t max_queued_events = 100000;
    size_t max_queued_bytes = 64 << 20;
  };

  explicit EmbeddedBus(Options options);
  ~EmbeddedBus();
  EmbeddedBus(const EmbeddedBus&) = delete;
  EmbeddedBus& operator=(const EmbeddedBus&) = delete;

  // Each may be created once; both must not outlive the bus.
  std::unique_ptr<BusProducer> CreateProducer(AckCallback on_ack);
  std::unique_ptr<BusConsumer> CreateConsumer();

  // Aborts: blocked and later Publish/Poll calls return kCancelled. Queued
  // batches are dropped unacked (their producer re-sends them after restart).
  void Shutdown();

  size_t queued_events() const;
  size_t queued_bytes() const;

 private:
  class Producer;
  class Consumer;
  struct Queued {
    EventBatch batch;
    size_t events = 0;
    size_t bytes = 0;
  };

  absl::Status Publish(EventBatch&& batch, absl::Duration timeout);
  void CloseProducer();
  absl::StatusOr<std::optional<Delivery>> Poll(absl::Duration timeout);
  absl::Status Ack(const KafkaOffset& offset);

  const Options options_;
  mutable std::mutex mu_;
  std::condition_variable not_full_;
  std::condition_variable not_empty_;
  std::deque<Queued> queue_;
  size_t queued_events_ = 0;
  size_t queued_bytes_ = 0;
  int64_t next_offset_ = 0;
  // Delivered, not yet acked: offset -> batch id.
  std::unordered_map<int64_t, uint64_t> unacked_;
  AckCallback on_ack_;
  bool producer_created_ = false;
  bool consumer_created_ = false;
  bool closed_ = false;
  bool shutdown_ = false;
};

}  // namespace phony
