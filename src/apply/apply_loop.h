// The apply stage's main loop over a rewindable source of deliveries (the
// Kafka consumer group in `phony apply`, an in-memory log in tests): polls,
// applies, acks what staging committed, and recovers from what can be
// recovered — staging down (retried with exponential backoff, reported each
// time), a lost serialization race, a bulk write that met bad data — by
// rewinding the stage and the source to the progress staging holds.
#pragma once

#include <atomic>
#include <functional>
#include <optional>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "core/bus.h"
#include "src/apply/apply_stage.h"

namespace phony::apply {

class ApplySource {
 public:
  virtual ~ApplySource() = default;
  virtual absl::StatusOr<std::optional<Delivery>> Poll(absl::Duration timeout) = 0;
  virtual absl::Status Ack(const KafkaOffset& offset) = 0;
  // Forgets what was delivered and not acked, and resumes every partition
  // it reads at `start_offset(partition)` (-1: the beginning).
  virtual absl::Status Rewind(const std::function<int64_t(const StreamPartition&)>& start_offset) = 0;
  // False while the source cannot deliver yet (a consumer group member
  // without partitions): idle time does not count then.
  virtual bool Ready() const { return true; }
  // Stops (false) or restarts (true) deliveries of one partition.
  virtual absl::Status Flow(const StreamPartition& partition, bool on) {
    (void)partition;
    (void)on;
    return absl::OkStatus();
  }
  // How many partitions this source reads (-1: all there are).
  virtual int AssignedPartitions() const { return -1; }
};

struct LoopOptions {
  const std::atomic<bool>* stop = nullptr;
  // Ends the loop (committing what is complete) after this long without a
  // delivery; zero runs until `stop`.
  absl::Duration stop_after_idle = absl::ZeroDuration();
  absl::Duration poll_timeout = absl::Milliseconds(100);
  absl::Duration max_backoff = absl::Seconds(30);
  // Progress lines at most this often.
  absl::Duration report_every = absl::Seconds(10);
  // Partitions of the stream (see ApplyOptions::partitions).
  size_t partitions = 1;
};

// Runs until stopped, idle, or an error the stage cannot recover from
// (returned: kDataLoss for a stream that does not decode or describe
// itself, kFailedPrecondition for a DDL staging refuses or a dead letter
// in stop mode, kPermissionDenied for missing rights).
absl::Status RunApplyLoop(ApplyStage& stage, ApplySource& source, const LoopOptions& options);

}  // namespace phony::apply
