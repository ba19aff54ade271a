// AckTracker: turns out-of-order acks into the position a stage may confirm
// upstream (DESIGN.md "Delivery", rule 1). The stage registers each batch in
// send order with the position to confirm once it and everything before it
// are durable (for capture: the commit position of the last complete
// transaction in the batch); acks may arrive in any order; Confirmed() is the
// position of the end of the unbroken acked prefix. A gap stops confirmation
// there. Thread-safe: acks come from bus threads.
#pragma once

#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>

#include "absl/status/status.h"
#include "core/position.h"

namespace phony {

class AckTracker {
 public:
  // Registers a sent batch. Ids must increase; `confirm_at` may be nullopt
  // for a batch that ends inside a transaction (nothing new to confirm).
  absl::Status Track(uint64_t batch_id, std::optional<EventPosition> confirm_at);
  // kNotFound for an id that is not in flight (never tracked, or acked).
  absl::Status Ack(uint64_t batch_id);
  // For a batch that was tracked but never delivered (its publish failed):
  // it stops blocking the prefix and confirms nothing itself. Safe because
  // the source re-sends everything after the last confirmed position.
  absl::Status Abandon(uint64_t batch_id);
  // For a batch the bus accepted but could not deliver (the broker refused
  // it or its producer failed): confirmation stops before it for good, even
  // if later batches are acked, until Reset(). The stage must then restart
  // from the confirmed position, which re-sends the batch.
  absl::Status Fail(uint64_t batch_id);
  // Forgets every batch in flight, for a stage that restarts from the
  // confirmed position (late acks for them are then kNotFound). Confirmed()
  // is kept.
  void Reset();
  // True after Fail() until Reset().
  bool failed() const;

  // The highest position whose batch and all earlier batches are acked.
  std::optional<EventPosition> Confirmed() const;
  size_t in_flight() const;
  // True when every tracked batch is acked.
  bool idle() const { return in_flight() == 0; }

 private:
  struct Entry {
    uint64_t id;
    std::optional<EventPosition> confirm_at;
    bool acked = false;
    bool failed = false;
  };
  // Marks a batch done; `confirms` false drops its position (Abandon).
  absl::Status Resolve(uint64_t batch_id, bool confirms, const char* what);
  void AdvanceLocked();

  mutable std::mutex mu_;
  std::deque<Entry> pending_;  // in send order
  std::optional<EventPosition> confirmed_;
  uint64_t last_id_ = 0;
  bool any_tracked_ = false;
  bool failed_ = false;
};

}  // namespace phony
