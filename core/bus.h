// The bus: how stages talk (DESIGN.md "Two ways to run, one code path").
// A producer publishes EventBatches; a consumer polls Deliveries and acks
// each one when the batch is durable at its hop (the next topic accepted its
// output, or staging committed it). Acks flow upstream: the producer's
// AckCallback runs for every batch the consumer acked. The same stage code
// runs over the embedded bus (core/embedded_bus.h) and over Kafka
// (src/kafka/), which map offsets and acks onto their own mechanisms.
//
// Contract:
//  - Publish blocks while the bus is full (backpressure) up to a timeout.
//  - Within a partition, deliveries arrive in publish order, with strictly
//    increasing offsets.
//  - Acks may be given in any order; the producer tracks the unbroken acked
//    prefix itself (core/ack_tracker.h). A batch that is never acked is never
//    confirmed upstream, so after a crash or an abort it is sent again
//    (at-least-once); consumers skip re-deliveries by event position.
//  - Close() on the producer ends the stream after everything already
//    published: the consumer drains it and then sees kOutOfRange.
//
// Implementations are thread-safe: one thread may publish while another
// polls and acks. The AckCallback runs on the acking thread and must be fast
// and thread-safe.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "core/event.h"
#include "core/position.h"
#include "core/status_macros.h"

namespace phony {

struct EventBatch {
  // Assigned by the producing stage, unique and increasing per producer; the
  // id its AckCallback receives.
  uint64_t id = 0;
  int32_t partition = 0;
  std::vector<Event> events;
};

struct Delivery {
  EventBatch batch;
  // Where the batch sits on the bus (embedded: the channel name, partition
  // and a sequence number); what the consumer acks and what apply stores as
  // its progress.
  KafkaOffset offset;
};

using AckCallback = std::function<void(uint64_t batch_id)>;

class BusProducer {
 public:
  virtual ~BusProducer() = default;
  // Takes the batch only when it returns OK; on any error `batch` is left
  // intact, so the caller can retry it. kDeadlineExceeded when still full
  // after `timeout`; kCancelled after the bus was shut down;
  // kFailedPrecondition after Close().
  virtual absl::Status Publish(EventBatch&& batch, absl::Duration timeout) = 0;
  // Ends the stream once the already published batches are consumed.
  virtual void Close() = 0;
};

// Publishes `batch`, waiting while the bus is full: every second without
// room it runs `while_full` (a source keepalive) and gives up with
// kCancelled once `stop` is set. Any other refusal is returned as it is;
// on an error `batch` is left intact.
inline absl::Status PublishWaiting(BusProducer* producer, EventBatch&& batch, const std::atomic<bool>& stop,
                                   const std::function<absl::Status()>& while_full = nullptr) {
  while (true) {
    absl::Status s = producer->Publish(std::move(batch), absl::Seconds(1));
    if (s.ok() || s.code() != absl::StatusCode::kDeadlineExceeded) return s;
    if (stop.load()) return absl::CancelledError("stopped while the bus was full");
    if (while_full) PHONY_RETURN_IF_ERROR(while_full());
  }
}

class BusConsumer {
 public:
  virtual ~BusConsumer() = default;
  // The next delivery; std::nullopt when none arrived within `timeout`;
  // kOutOfRange once the producer closed and everything was delivered;
  // kCancelled after the bus was shut down.
  virtual absl::StatusOr<std::optional<Delivery>> Poll(absl::Duration timeout) = 0;
  // Acknowledges one delivery: its batch is durable at this consumer's hop.
  // kInvalidArgument for an offset that was not delivered or was acked twice.
  virtual absl::Status Ack(const KafkaOffset& offset) = 0;
};

}  // namespace phony
