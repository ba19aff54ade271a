#include "core/event_codec.h"
#include "core/status_macros.h"
#include "spdlog/spdlog.h"
#include "src/kafka/kafka_bus.h"
#include "src/kafka/kafka_topics.h"
#include "src/kafka/producer_impl.h"
#include "src/kafka/rdkafka_util.h"

namespace phony::kafka {

namespace {

void OnDelivery(rd_kafka_t*, const rd_kafka_message_t* m, void* opaque) {
  auto* impl = static_cast<KafkaBusProducer::Impl*>(opaque);
  auto* b = static_cast<PendingBatch*>(m->_private);
  if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    std::lock_guard<std::mutex> lock(impl->mu);
    if (!b->failed.exchange(true)) b->error = m->err;
  }
  if (b->remaining.fetch_sub(1) == 1) impl->Finish(b);
}

void OnError(rd_kafka_t* rk, int err, const char* reason, void* opaque) {
  auto* impl = static_cast<KafkaBusProducer::Impl*>(opaque);
  if (err == RD_KAFKA_RESP_ERR__FATAL) {
    char buf[512];
    const rd_kafka_resp_err_t orig = rd_kafka_fatal_error(rk, buf, sizeof(buf));
    {
      std::lock_guard<std::mutex> lock(impl->mu);
      impl->fatal_reason = std::string(rd_kafka_err2name(orig)) + ": " + buf;
    }
    impl->fatal = true;
    spdlog::error("kafka producer: fatal error ({}); it is rebuilt and the stream resumes from the last "
                  "acknowledged position", buf);
    return;
  }
  // Transport trouble is retried by librdkafka; say it, without payloads.
  spdlog::warn("kafka producer: {} ({})", reason, rd_kafka_err2name(static_cast<rd_kafka_resp_err_t>(err)));
}

}  // namespace

void KafkaBusProducer::Impl::Finish(PendingBatch* b) {
  const bool ok = !b->failed.load();
  rd_kafka_resp_err_t err;
  {
    std::lock_guard<std::mutex> lock(mu);
    err = b->error;
  }
  // The stage hears of the batch before Flush() can return.
  if (!silent.load()) {
    if (ok) {
      on_ack(b->id);
    } else if (on_nack) {
      on_nack(b->id, KafkaError(err, "kafka: batch " + std::to_string(b->id) + " not delivered to " +
                                         options.topic));
    }
  }
  {
    std::lock_guard<std::mutex> lock(mu);
    in_flight_messages -= b->messages;
    in_flight_bytes -= b->bytes;
    --in_flight_batches;
  }
  drained.notify_all();
  delete b;
}

absl::Status KafkaBusProducer::Impl::Build() {
  const KafkaConfig& k = options.kafka;
  PHONY_ASSIGN_OR_RETURN(
      Conf conf,
      MakeConf(k, {{"client.id", options.client_id},
                   {"enable.idempotence", "true"},
                   {"acks", "all"},
                   {"compression.codec", k.compression},
                   {"linger.ms", std::to_string(k.linger_ms)},
                   {"batch.size", std::to_string(k.batch_bytes)},
                   {"queue.buffering.max.messages", std::to_string(options.max_in_flight_messages + 100000)},
                   {"queue.buffering.max.kbytes", std::to_string(options.max_in_flight_bytes / 1024 * 2 + 65536)},
                   {"partitioner", "murmur2_random"}}));
  // Properties the job gave win over our defaults only where they were set
  // explicitly (MakeConf applied them first; re-apply).
  for (const auto& [key, value] : k.properties) PHONY_RETURN_IF_ERROR(Set(conf.get(), key, value));
  rd_kafka_conf_set_dr_msg_cb(conf.get(), OnDelivery);
  rd_kafka_conf_set_error_cb(conf.get(), OnError);
  rd_kafka_conf_set_opaque(conf.get(), this);
  PHONY_ASSIGN_OR_RETURN(rk, NewClient(RD_KAFKA_PRODUCER, std::move(conf)));
  if (!options.topic.empty()) topic = rd_kafka_topic_new(rk.get(), options.topic.c_str(), nullptr);
  if (!options.schema_topic.empty()) schema_topic = rd_kafka_topic_new(rk.get(), options.schema_topic.c_str(), nullptr);
  fatal = false;
  stop_polling = false;
  poller = std::thread([this] {
    while (!stop_polling.load()) rd_kafka_poll(rk.get(), 50);
  });
  return absl::OkStatus();
}

void KafkaBusProducer::Impl::Teardown() {
  if (!rk) return;
  stop_polling = true;
  if (poller.joinable()) poller.join();
  // Whatever is still queued is reported failed (nacked) and re-sent by the
  // stage from its confirmed position.
  rd_kafka_purge(rk.get(), RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
  rd_kafka_poll(rk.get(), 0);
  rd_kafka_flush(rk.get(), 1000);
  if (topic) rd_kafka_topic_destroy(topic);
  if (schema_topic) rd_kafka_topic_destroy(schema_topic);
  for (auto& [name, t] : named_topics) rd_kafka_topic_destroy(t);
  named_topics.clear();
  topic = schema_topic = nullptr;
  rk.reset();
}

void KafkaBusProducer::Impl::Produce(rd_kafka_topic_t* t, int32_t partition, const std::string& key,
                                     const std::string& value, PendingBatch* b, bool null_value) {
  while (true) {
    const int rc = rd_kafka_produce(t, partition, RD_KAFKA_MSG_F_COPY,
                                    null_value ? nullptr : const_cast<char*>(value.data()),
                                    null_value ? 0 : value.size(), key.empty() ? nullptr : key.data(),
                                    key.size(), b);
    if (rc == 0) return;
    const rd_kafka_resp_err_t err = rd_kafka_last_error();
    if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL && !fatal.load()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
      continue;
    }
    // Not handed over: counts as a failed delivery of the batch.
    {
      std::lock_guard<std::mutex> lock(mu);
      if (!b->failed.exchange(true)) b->error = err;
    }
    if (b->remaining.fetch_sub(1) == 1) Finish(b);
    return;
  }
}

rd_kafka_topic_t* KafkaBusProducer::Impl::TopicHandle(const std::string& name) {
  auto it = named_topics.find(name);
  if (it != named_topics.end()) return it->second;
  return named_topics.emplace(name, rd_kafka_topic_new(rk.get(), name.c_str(), nullptr)).first->second;
}

absl::Status KafkaBusProducer::Impl::Admit(size_t messages, size_t bytes, absl::Time deadline) {
  if (fatal.load()) {
    // librdkafka fails everything queued on a fatal error; once those nacks
    // are out, a new producer (new producer id) takes over.
    std::unique_lock<std::mutex> lock(mu);
    drained.wait_for(lock, std::chrono::seconds(10), [&] { return in_flight_batches == 0; });
    lock.unlock();
    Teardown();
    PHONY_RETURN_IF_ERROR(Build());
    ++rebuilds;
    spdlog::warn("kafka producer: rebuilt after a fatal error");
  }
  std::unique_lock<std::mutex> lock(mu);
  while (in_flight_messages > 0 && (in_flight_messages + messages > options.max_in_flight_messages ||
                                    in_flight_bytes + bytes > options.max_in_flight_bytes)) {
    const absl::Duration left = deadline - absl::Now();
    if (left <= absl::ZeroDuration()) {
      return absl::DeadlineExceededError("kafka producer: " + std::to_string(in_flight_messages) +
                                         " messages still unacknowledged by the broker");
    }
    drained.wait_for(lock, absl::ToChronoMilliseconds(std::min(left, absl::Milliseconds(100))));
  }
  in_flight_messages += messages;
  in_flight_bytes += bytes;
  ++in_flight_batches;
  return absl::OkStatus();
}

KafkaBusProducer::KafkaBusProducer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

absl::StatusOr<std::unique_ptr<KafkaBusProducer>> KafkaBusProducer::Create(ProducerOptions options,
                                                                          AckCallback on_ack,
                                                                          NackCallback on_nack) {
  if (options.partitions < 1) return absl::InvalidArgumentError("kafka producer: partitions must be >= 1");
  auto impl = std::make_unique<Impl>();
  impl->options = std::move(options);
  impl->on_ack = std::move(on_ack);
  impl->on_nack = std::move(on_nack);
  PHONY_RETURN_IF_ERROR(impl->Build());
  return std::unique_ptr<KafkaBusProducer>(new KafkaBusProducer(std::move(impl)));
}

KafkaBusProducer::~KafkaBusProducer() {
  impl_->silent = true;
  if (impl_->rk) rd_kafka_flush(impl_->rk.get(), 5000);
  impl_->Teardown();
}

absl::Status KafkaBusProducer::Publish(EventBatch&& batch, absl::Duration timeout) {
  Impl& im = *impl_;
  const absl::Time deadline = absl::Now() + timeout;
  const int partitions = im.options.partitions;
  size_t messages = 0, bytes = 0;
  for (const Event& e : batch.events) {
    const size_t copies = std::holds_alternative<SchemaEvent>(e)
                              ? static_cast<size_t>(partitions) + (im.schema_topic ? 1 : 0)
                              : 1;
    messages += copies;
    bytes += copies * (ApproximateSize(e) + 64);
  }
  PHONY_RETURN_IF_ERROR(im.Admit(messages, bytes, deadline));
  auto* pending = new PendingBatch;
  pending->id = batch.id;
  pending->messages = messages;
  pending->bytes = bytes;
  pending->remaining = static_cast<int64_t>(messages) + 1;
  static const std::string kNoKey;
  for (const Event& e : batch.events) {
    im.value_buf.clear();
    EncodeEvent(e, &im.value_buf);
    if (const auto* c = std::get_if<ChangeEvent>(&e)) {
      if (partitions == 1) {
        im.Produce(im.topic, 0, kNoKey, im.value_buf, pending);
      } else {
        im.key_buf = EventKey(*c);
        // Keyless rows (truncates, tables without a key) keep to partition 0.
        const int32_t p = im.key_buf.empty() ? 0 : PartitionForKey(im.key_buf, partitions);
        im.Produce(im.topic, p, im.key_buf, im.value_buf, pending);
      }
    } else if (const auto* s = std::get_if<SchemaEvent>(&e)) {
      for (int p = 0; p < partitions; ++p) im.Produce(im.topic, p, kNoKey, im.value_buf, pending);
      if (im.schema_topic) im.Produce(im.schema_topic, RD_KAFKA_PARTITION_UA, SchemaKey(s->schema), im.value_buf, pending);
    } else {
      im.Produce(im.topic, 0, kNoKey, im.value_buf, pending);
    }
  }
  batch.events.clear();
  if (pending->remaining.fetch_sub(1) == 1) im.Finish(pending);
  return absl::OkStatus();
}

absl::Status KafkaBusProducer::PublishRecords(uint64_t batch_id, const std::vector<Record>& records,
                                              absl::Duration timeout) {
  Impl& im = *impl_;
  size_t bytes = 0;
  for (const Record& r : records) bytes += r.key.size() + r.value.size() + 64;
  PHONY_RETURN_IF_ERROR(im.Admit(records.size(), bytes, absl::Now() + timeout));
  auto* pending = new PendingBatch;
  pending->id = batch_id;
  pending->messages = records.size();
  pending->bytes = bytes;
  pending->remaining = static_cast<int64_t>(records.size()) + 1;
  for (const Record& r : records) {
    im.Produce(im.TopicHandle(r.topic), r.key.empty() ? 0 : RD_KAFKA_PARTITION_UA, r.key, r.value, pending,
               r.tombstone);
  }
  if (pending->remaining.fetch_sub(1) == 1) im.Finish(pending);
  return absl::OkStatus();
}

absl::Status KafkaBusProducer::Flush(absl::Duration timeout) {
  std::unique_lock<std::mutex> lock(impl_->mu);
  if (!impl_->drained.wait_for(lock, absl::ToChronoMilliseconds(timeout),
                               [&] { return impl_->in_flight_batches == 0; })) {
    return absl::DeadlineExceededError("kafka producer: " + std::to_string(impl_->in_flight_batches) +
                                       " batches still unacknowledged");
  }
  return absl::OkStatus();
}

void KafkaBusProducer::Close() { (void)Flush(absl::Seconds(30)); }

size_t KafkaBusProducer::in_flight_batches() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->in_flight_batches;
}

int KafkaBusProducer::rebuilds() const { return impl_->rebuilds; }

}  // namespace phony::kafka
