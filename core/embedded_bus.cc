#include "core/embedded_bus.h"

#include <chrono>
#include <string>
#include <utility>

namespace phony {

class EmbeddedBus::Producer : public BusProducer {
 public:
  explicit Producer(EmbeddedBus* bus) : bus_(bus) {}
  absl::Status Publish(EventBatch&& batch, absl::Duration timeout) override {
    return bus_->Publish(std::move(batch), timeout);
  }
  void Close() override { bus_->CloseProducer(); }

 private:
  EmbeddedBus* bus_;
};

class EmbeddedBus::Consumer : public BusConsumer {
 public:
  explicit Consumer(EmbeddedBus* bus) : bus_(bus) {}
  absl::StatusOr<std::optional<Delivery>> Poll(absl::Duration timeout) override {
    return bus_->Poll(timeout);
  }
  absl::Status Ack(const KafkaOffset& offset) override { return bus_->Ack(offset); }

 private:
  EmbeddedBus* bus_;
};

EmbeddedBus::EmbeddedBus(Options options) : options_(std::move(options)) {}
EmbeddedBus::~EmbeddedBus() { Shutdown(); }

std::unique_ptr<BusProducer> EmbeddedBus::CreateProducer(AckCallback on_ack) {
  std::lock_guard<std::mutex> lock(mu_);
  if (producer_created_) return nullptr;
  producer_created_ = true;
  on_ack_ = std::move(on_ack);
  return std::make_unique<Producer>(this);
}

std::unique_ptr<BusConsumer> EmbeddedBus::CreateConsumer() {
  std::lock_guard<std::mutex> lock(mu_);
  if (consumer_created_) return nullptr;
  consumer_created_ = true;
  return std::make_unique<Consumer>(this);
}

static std::chrono::nanoseconds ToChrono(absl::Duration d) {
  if (d == absl::InfiniteDuration()) return std::chrono::hours(24 * 365);
  return absl::ToChronoNanoseconds(d);
}

absl::Status EmbeddedBus::Publish(EventBatch&& batch, absl::Duration timeout) {
  size_t bytes = sizeof(EventBatch);
  for (const Event& e : batch.events) bytes += ApproximateSize(e);
  const size_t events = batch.events.size();
  std::unique_lock<std::mutex> lock(mu_);
  if (closed_) return absl::FailedPreconditionError(options_.name + ": publish after close");
  // A batch larger than the whole budget is admitted when the queue is
  // empty, so an oversized transaction cannot deadlock the pipeline.
  auto fits = [&] {
    return shutdown_ || queue_.empty() ||
           (queued_events_ + events <= options_.max_queued_events &&
            queued_bytes_ + bytes <= options_.max_queued_bytes);
  };
  if (!not_full_.wait_for(lock, ToChrono(timeout), fits)) {
    return absl::DeadlineExceededError(options_.name + ": bus full (" +
                                       std::to_string(queued_events_) + " events, " +
                                       std::to_string(queued_bytes_) + " bytes queued)");
  }
  if (shutdown_) return absl::CancelledError(options_.name + ": bus shut down");
  queued_events_ += events;
  queued_bytes_ += bytes;
  queue_.push_back(Queued{std::move(batch), events, bytes});
  not_empty_.notify_one();
  return absl::OkStatus();
}

void EmbeddedBus::CloseProducer() {
  std::lock_guard<std::mutex> lock(mu_);
  closed_ = true;
  not_empty_.notify_all();
}

absl::StatusOr<std::optional<Delivery>> EmbeddedBus::Poll(absl::Duration timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  auto ready = [&] { return shutdown_ || closed_ || !queue_.empty(); };
  if (!not_empty_.wait_for(lock, ToChrono(timeout), ready)) return std::optional<Delivery>();
  if (shutdown_) return absl::CancelledError(options_.name + ": bus shut down");
  if (queue_.empty()) return absl::OutOfRangeError(options_.name + ": end of stream");
  Queued q = std::move(queue_.front());
  queue_.pop_front();
  queued_events_ -= q.events;
  queued_bytes_ -= q.bytes;
  const int64_t offset = next_offset_++;
  unacked_.emplace(offset, q.batch.id);
  not_full_.notify_all();
  Delivery d;
  d.offset = KafkaOffset{options_.name, q.batch.partition, offset};
  d.batch = std::move(q.batch);
  return std::optional<Delivery>(std::move(d));
}

absl::Status EmbeddedBus::Ack(const KafkaOffset& offset) {
  uint64_t batch_id;
  AckCallback callback;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = unacked_.find(offset.offset);
    if (offset.topic != options_.name || it == unacked_.end()) {
      return absl::InvalidArgumentError(options_.name + ": ack of " + offset.ToString() +
                                        ", which is not an unacked delivery");
    }
    batch_id = it->second;
    unacked_.erase(it);
    callback = on_ack_;
  }
  if (callback) callback(batch_id);
  return absl::OkStatus();
}

void EmbeddedBus::Shutdown() {
  std::lock_guard<std::mutex> lock(mu_);
  shutdown_ = true;
  queue_.clear();
  queued_events_ = 0;
  queued_bytes_ = 0;
  not_full_.notify_all();
  not_empty_.notify_all();
}

size_t EmbeddedBus::queued_events() const {
  std::lock_guard<std::mutex> lock(mu_);
  return queued_events_;
}

size_t EmbeddedBus::queued_bytes() const {
  std::lock_guard<std::mutex> lock(mu_);
  return queued_bytes_;
}

}  // namespace phony
