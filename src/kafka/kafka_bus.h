// The bus over Kafka (core/bus.h): a producer that writes events to an
// internal topic in the lossless internal encoding, one message per event,
// and acks a batch when the broker has acknowledged every message of it; a
// consumer group member that hands out consecutive messages of a partition
// as one delivery and commits offsets only up to the unbroken prefix of
// deliveries the downstream stage acked. docs/kafka.md has the layout.
//
// librdkafka stays behind these classes (pimpl): this header does not
// include it.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "core/bus.h"
#include "core/config.h"

namespace phony::kafka {

// A batch the producer accepted but the broker never acknowledged (message
// timeout, refusal, a producer that turned fatal): its stage must stop
// confirming before it and resume from its last confirmed position.
using NackCallback = std::function<void(uint64_t batch_id, const absl::Status& why)>;

struct ProducerOptions {
  KafkaConfig kafka;
  std::string topic;          // the internal stream
  int partitions = 1;         // of `topic`: 1, or N keyed by table + primary key
  std::string schema_topic;   // compacted copy of every schema event (optional)
  std::string client_id = "phony";
  // Exactly-once (kafka.transactions): a transactional producer with this id
  // writes many batches per Kafka transaction, bounded by `max_tx_batches`
  // and `max_tx_interval`, and in the same transaction the position of the
  // last complete source transaction (EncodePosition of its TxCommit) under
  // `position_key` in `positions_topic`. Batches are acked when their Kafka
  // transaction commits (and nacked when it aborts). A producer fenced by a
  // newer one with the same id stops for good: Publish fails with
  // kFailedPrecondition naming the id.
  std::string transactional_id;
  std::string positions_topic;
  std::string position_key;
  size_t max_tx_batches = 100;
  absl::Duration max_tx_interval = absl::Milliseconds(200);
  // Backpressure: Publish waits while this many messages/bytes are not yet
  // acknowledged by the broker.
  size_t max_in_flight_messages = 200000;
  size_t max_in_flight_bytes = 64 << 20;
};

class KafkaBusProducer : public BusProducer {
 public:
  // Connects lazily (librdkafka); configuration errors are reported here.
  static absl::StatusOr<std::unique_ptr<KafkaBusProducer>> Create(ProducerOptions options, AckCallback on_ack,
                                                                  NackCallback on_nack);
  ~KafkaBusProducer() override;

  // Hands every event of the batch to librdkafka (idempotent producer,
  // acks=all). Row events of an N-partition topic go to the partition of
  // their key (Java murmur2, as PartitionForKey); transaction markers to
  // partition 0; schema events to every partition and to the schema topic.
  // kDeadlineExceeded (batch intact) while too much is in flight.
  absl::Status Publish(EventBatch&& batch, absl::Duration timeout) override;
  // Waits up to 30 s for everything in flight.
  void Close() override;
  // Waits for in-flight messages; kDeadlineExceeded if some remain.
  absl::Status Flush(absl::Duration timeout);

  // Already rendered records (PublicTopicWriter), acked or nacked as one
  // batch like Publish. Partitioned by murmur2 of the key (Java's choice);
  // keyless records go to partition 0. kDeadlineExceeded leaves nothing sent.
  struct Record {
    std::string topic, key, value;
    bool tombstone = false;  // null value
  };
  absl::Status PublishRecords(uint64_t batch_id, const std::vector<Record>& records, absl::Duration timeout);
  size_t in_flight_batches() const;
  // How many times the producer was rebuilt after a fatal error.
  int rebuilds() const;
  // Makes librdkafka raise a fatal error now (rd_kafka_test_fatal_error), as
  // 2.0.2's idempotent producer can after a broker restart. Tests only.
  void TriggerFatalErrorForTesting();

  struct Impl;  // opaque (librdkafka callbacks reach it)

 private:
  explicit KafkaBusProducer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

struct ConsumerOptions {
  KafkaConfig kafka;
  std::string group_id;
  // Topic names, or patterns starting with '^' (regular expressions).
  std::vector<std::string> topics;
  size_t max_batch_events = 10000;
  // Where a newly assigned partition starts: an offset, or -1 for the
  // beginning. Unset: the group's committed offset (the applier keeps its
  // own in staging and sets this).
  std::function<int64_t(const std::string& topic, int32_t partition)> start_offset;
  // Static membership (group.instance.id): a member restarted with the same
  // id gets its partitions back at once instead of after the dead one's
  // session times out.
  std::string group_instance_id;
};

class KafkaBusConsumer : public BusConsumer {
 public:
  static absl::StatusOr<std::unique_ptr<KafkaBusConsumer>> Create(ConsumerOptions options);
  ~KafkaBusConsumer() override;

  // Consecutive messages of one partition (read_committed), decoded. A
  // message that does not decode stops the stream: kDataLoss naming its
  // topic, partition and offset (nothing after it is handed out).
  absl::StatusOr<std::optional<Delivery>> Poll(absl::Duration timeout) override;
  // Commits the partition's offset up to the unbroken prefix of acked
  // deliveries. An ack for a partition this member lost in a rebalance is
  // ignored (the new owner reads it again from the committed offset).
  absl::Status Ack(const KafkaOffset& offset) override;
  // Drops what was delivered and not acked and moves every assigned
  // partition to `start_offset(topic, partition)` (-1: the beginning).
  absl::Status Rewind(const std::function<int64_t(const std::string& topic, int32_t partition)>& start_offset);
  // Partitions currently assigned to this member.
  size_t assigned_partitions() const;
  // Pauses (on = false) or resumes fetching one assigned partition.
  absl::Status Flow(const std::string& topic, int32_t partition, bool on);

  struct Impl;  // opaque (librdkafka callbacks reach it)

 private:
  explicit KafkaBusConsumer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// The last value written under `key` to the compacted `topic` by committed
// Kafka transactions (read_committed), decoded as an EventPosition; nullopt
// when there is none. For a transactional capture to resume exactly after
// what the raw topic already holds.
absl::StatusOr<std::optional<EventPosition>> ReadLatestPosition(const KafkaConfig& kafka, const std::string& topic,
                                                                const std::string& key, absl::Duration timeout);

}  // namespace phony::kafka
