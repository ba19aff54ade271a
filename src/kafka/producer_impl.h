// The producer machinery shared by KafkaBusProducer and PublicTopicWriter:
// librdkafka handle, delivery-report accounting per batch, in-flight bounds,
// rebuild after a fatal error. Internal to src/kafka.
#pragma once

#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <optional>
#include <vector>
#include <string>
#include <thread>

#include "absl/time/time.h"
#include "core/position.h"
#include "src/kafka/kafka_bus.h"
#include "src/kafka/rdkafka_util.h"

namespace phony::kafka {

// One published batch: acked once every message of it is acknowledged.
struct PendingBatch {
  uint64_t id = 0;
  // Messages not yet reported, plus one held by Publish until it has
  // produced them all (so a fast broker cannot ack half a batch).
  std::atomic<int64_t> remaining{1};
  std::atomic<bool> failed{false};
  rd_kafka_resp_err_t error = RD_KAFKA_RESP_ERR_NO_ERROR;  // the first failure, under Impl::mu
  size_t messages = 0;
  size_t bytes = 0;
};

struct KafkaBusProducer::Impl {
  ProducerOptions options;
  AckCallback on_ack;
  NackCallback on_nack;

  Handle rk;
  rd_kafka_topic_t* topic = nullptr;
  rd_kafka_topic_t* schema_topic = nullptr;
  std::thread poller;
  std::atomic<bool> stop_polling{false};

  mutable std::mutex mu;
  std::condition_variable drained;
  size_t in_flight_messages = 0;
  size_t in_flight_bytes = 0;
  size_t in_flight_batches = 0;
  std::atomic<bool> fatal{false};
  std::string fatal_reason;
  std::atomic<bool> silent{false};  // shutting down: no callbacks into the stage
  int rebuilds = 0;
  std::string key_buf, value_buf;

  std::map<std::string, rd_kafka_topic_t*> named_topics;  // by name, for the public topics

  // Transactional mode (options.transactional_id). tx_mu serializes the
  // transactional API with producing; the poll thread commits.
  std::mutex tx_mu;
  bool tx_open = false;
  absl::Time tx_started;
  std::vector<uint64_t> tx_batches;        // batches of the open Kafka transaction
  std::optional<EventPosition> tx_position;  // last source commit in it
  // The last batch ended inside a source transaction: committing now would
  // put part of it in Kafka without a position that covers it, so the
  // commit waits for the source transaction's end.
  bool tx_mid_source = false;
  std::atomic<bool> fenced{false};
  bool transactional() const { return !options.transactional_id.empty(); }
  // Commits the open transaction (with the position record); acks its
  // batches, or aborts and nacks them. Called with tx_mu held.
  void CommitLocked();

  absl::Status Build();
  void Teardown();
  rd_kafka_topic_t* TopicHandle(const std::string& name);
  // Waits until `messages`/`bytes` fit the in-flight bounds (kDeadlineExceeded
  // at `deadline`), then counts them in; rebuilds a producer that turned
  // fatal first.
  absl::Status Admit(size_t messages, size_t bytes, absl::Time deadline);
  void Finish(PendingBatch* b);
  // `null_value`: a tombstone (the value is ignored).
  void Produce(rd_kafka_topic_t* t, int32_t partition, const std::string& key, const std::string& value,
               PendingBatch* b, bool null_value = false);
};

}  // namespace phony::kafka
