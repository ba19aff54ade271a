#include "core/ack_tracker.h"

#include <algorithm>
#include <string>

namespace phony {

absl::Status AckTracker::Track(uint64_t batch_id, std::optional<EventPosition> confirm_at) {
  std::lock_guard<std::mutex> lock(mu_);
  if (any_tracked_ && batch_id <= last_id_) {
    return absl::InvalidArgumentError("batch id " + std::to_string(batch_id) +
                                      " is not above the last tracked id " +
                                      std::to_string(last_id_));
  }
  any_tracked_ = true;
  last_id_ = batch_id;
  pending_.push_back(Entry{batch_id, std::move(confirm_at)});
  return absl::OkStatus();
}

absl::Status AckTracker::Ack(uint64_t batch_id) { return Resolve(batch_id, /*confirms=*/true, "ack"); }

absl::Status AckTracker::Abandon(uint64_t batch_id) {
  return Resolve(batch_id, /*confirms=*/false, "abandon");
}

absl::Status AckTracker::Fail(uint64_t batch_id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = std::lower_bound(pending_.begin(), pending_.end(), batch_id,
                             [](const Entry& e, uint64_t id) { return e.id < id; });
  if (it == pending_.end() || it->id != batch_id || it->acked) {
    return absl::NotFoundError("failure for batch " + std::to_string(batch_id) + ", which is not in flight");
  }
  it->failed = true;
  failed_ = true;
  return absl::OkStatus();
}

void AckTracker::Reset() {
  std::lock_guard<std::mutex> lock(mu_);
  pending_.clear();
  failed_ = false;
}

bool AckTracker::failed() const {
  std::lock_guard<std::mutex> lock(mu_);
  return failed_;
}

absl::Status AckTracker::Resolve(uint64_t batch_id, bool confirms, const char* what) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = std::lower_bound(pending_.begin(), pending_.end(), batch_id,
                             [](const Entry& e, uint64_t id) { return e.id < id; });
  if (it == pending_.end() || it->id != batch_id || it->acked || it->failed) {
    return absl::NotFoundError(std::string(what) + " for batch " + std::to_string(batch_id) +
                               ", which is not in flight");
  }
  it->acked = true;
  if (!confirms) it->confirm_at.reset();
  AdvanceLocked();
  return absl::OkStatus();
}

void AckTracker::AdvanceLocked() {
  while (!pending_.empty() && pending_.front().acked && !pending_.front().failed) {
    if (pending_.front().confirm_at) confirmed_ = std::move(pending_.front().confirm_at);
    pending_.pop_front();
  }
}

std::optional<EventPosition> AckTracker::Confirmed() const {
  std::lock_guard<std::mutex> lock(mu_);
  return confirmed_;
}

size_t AckTracker::in_flight() const {
  std::lock_guard<std::mutex> lock(mu_);
  return pending_.size();
}

}  // namespace phony
