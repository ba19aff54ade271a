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
  if (b == nullptr) return;  // a position record: its fate is the transaction's commit
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
    if (orig == RD_KAFKA_RESP_ERR__FENCED || orig == RD_KAFKA_RESP_ERR_PRODUCER_FENCED ||
        orig == RD_KAFKA_RESP_ERR_INVALID_PRODUCER_EPOCH) {
      impl->fenced = true;
      spdlog::error("kafka producer: fenced by a newer producer with transactional id {} ({}); another "
                    "process of this job is running: this one stops", impl->options.transactional_id, buf);
      return;
    }
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
  // The stage hears of the batch before Flush() can return. Transactional
  // batches are acked when their Kafka transaction commits (CommitLocked).
  if (!silent.load()) {
    if (ok) {
      if (!transactional()) on_ack(b->id);
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
  if (transactional()) {
    PHONY_RETURN_IF_ERROR(Set(conf.get(), "transactional.id", options.transactional_id));
    // A source transaction is never split across Kafka transactions, so a
    // large one keeps its Kafka transaction open while it streams.
    if (!options.kafka.properties.count("transaction.timeout.ms")) {
      PHONY_RETURN_IF_ERROR(Set(conf.get(), "transaction.timeout.ms", "900000"));
    }
  }
  rd_kafka_conf_set_dr_msg_cb(conf.get(), OnDelivery);
  rd_kafka_conf_set_error_cb(conf.get(), OnError);
  rd_kafka_conf_set_opaque(conf.get(), this);
  PHONY_ASSIGN_OR_RETURN(rk, NewClient(RD_KAFKA_PRODUCER, std::move(conf)));
  if (!options.topic.empty()) topic = rd_kafka_topic_new(rk.get(), options.topic.c_str(), nullptr);
  if (!options.schema_topic.empty()) schema_topic = rd_kafka_topic_new(rk.get(), options.schema_topic.c_str(), nullptr);
  if (transactional()) {
    // Fences any older producer with this id and aborts its open transaction.
    if (rd_kafka_error_t* e = rd_kafka_init_transactions(rk.get(), 60000)) {
      const std::string why = rd_kafka_error_string(e);
      const bool retriable = rd_kafka_error_is_retriable(e);
      rd_kafka_error_destroy(e);
      rk.reset();
      return retriable ? absl::UnavailableError("kafka: init_transactions: " + why)
                       : absl::FailedPreconditionError("kafka: init_transactions: " + why);
    }
  }
  fatal = false;
  stop_polling = false;
  poller = std::thread([this] {
    while (!stop_polling.load()) {
      rd_kafka_poll(rk.get(), 50);
      if (!transactional()) continue;
      std::lock_guard<std::mutex> lock(tx_mu);
      if (tx_open && !tx_mid_source &&
          (tx_batches.size() >= options.max_tx_batches || absl::Now() - tx_started >= options.max_tx_interval)) {
        CommitLocked();
      }
    }
  });
  return absl::OkStatus();
}

void KafkaBusProducer::Impl::Teardown() {
  if (!rk) return;
  stop_polling = true;
  if (poller.joinable()) poller.join();
  if (transactional()) {
    std::lock_guard<std::mutex> lock(tx_mu);
    if (tx_open && !fatal.load()) {
      if (rd_kafka_error_t* e = rd_kafka_abort_transaction(rk.get(), 10000)) rd_kafka_error_destroy(e);
    }
    if (!silent.load() && on_nack) {
      for (uint64_t id : tx_batches) on_nack(id, absl::UnavailableError("kafka: transaction abandoned"));
    }
    tx_batches.clear();
    tx_open = false;
  }
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
  if (fenced.load()) {
    return absl::FailedPreconditionError("kafka: the producer with transactional id " + options.transactional_id +
                                         " was fenced by a newer one: another process of this job is running");
  }
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

void KafkaBusProducer::Impl::CommitLocked() {
  if (!tx_open) return;
  std::vector<uint64_t> batches;
  batches.swap(tx_batches);
  tx_open = false;
  absl::Status failed;
  if (tx_position && !options.positions_topic.empty()) {
    std::string value;
    EncodePosition(*tx_position, &value);
    if (rd_kafka_producev(rk.get(), RD_KAFKA_V_TOPIC(options.positions_topic.c_str()),
                          RD_KAFKA_V_KEY(options.position_key.data(), options.position_key.size()),
                          RD_KAFKA_V_VALUE(value.data(), value.size()), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                          RD_KAFKA_V_END) != RD_KAFKA_RESP_ERR_NO_ERROR) {
      failed = absl::UnavailableError("kafka: producing the position record failed");
    }
  }
  if (failed.ok()) {
    while (rd_kafka_error_t* e = rd_kafka_commit_transaction(rk.get(), 60000)) {
      const bool retriable = rd_kafka_error_is_retriable(e);
      const bool abortable = rd_kafka_error_txn_requires_abort(e);
      failed = absl::UnavailableError(std::string("kafka: commit_transaction: ") + rd_kafka_error_string(e));
      rd_kafka_error_destroy(e);
      if (retriable && !stop_polling.load()) continue;
      if (abortable) {
        if (rd_kafka_error_t* a = rd_kafka_abort_transaction(rk.get(), 60000)) rd_kafka_error_destroy(a);
      }
      break;
    }
  }
  if (silent.load()) return;
  for (uint64_t id : batches) {
    if (failed.ok()) {
      on_ack(id);
    } else if (on_nack) {
      on_nack(id, fenced.load() ? absl::FailedPreconditionError("kafka: producer " + options.transactional_id +
                                                                 " was fenced")
                                : failed);
    }
  }
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
    size_t copies = 1;
    if (std::holds_alternative<SchemaEvent>(e)) {
      copies = static_cast<size_t>(partitions) + (im.schema_topic ? 1 : 0);
    } else if (std::holds_alternative<ChangeEvent>(e) && std::get<ChangeEvent>(e).op == ChangeOp::kTruncate) {
      copies = static_cast<size_t>(partitions);
    }
    messages += copies;
    bytes += copies * (ApproximateSize(e) + 64);
  }
  PHONY_RETURN_IF_ERROR(im.Admit(messages, bytes, deadline));
  std::unique_lock<std::mutex> tx_lock(im.tx_mu, std::defer_lock);
  if (im.transactional()) {
    tx_lock.lock();
    if (!im.tx_open) {
      if (rd_kafka_error_t* e = rd_kafka_begin_transaction(im.rk.get())) {
        const std::string why = rd_kafka_error_string(e);
        rd_kafka_error_destroy(e);
        {
          std::lock_guard<std::mutex> lock(im.mu);
          im.in_flight_messages -= messages;
          im.in_flight_bytes -= bytes;
          --im.in_flight_batches;
        }
        if (im.fenced.load()) return im.Admit(0, 0, deadline);  // the fenced error
        return absl::UnavailableError("kafka: begin_transaction: " + why);
      }
      im.tx_open = true;
      im.tx_started = absl::Now();
    }
    im.tx_batches.push_back(batch.id);
    for (const Event& e : batch.events) {
      if (const auto* c = std::get_if<TxCommit>(&e)) im.tx_position = c->position;
    }
    if (!batch.events.empty()) {
      const Event& last = batch.events.back();
      // Inside a source transaction unless it ended with its commit
      // (snapshot reads stand outside transactions).
      const auto* change = std::get_if<ChangeEvent>(&last);
      im.tx_mid_source = !std::holds_alternative<TxCommit>(last) && !(change && change->op == ChangeOp::kRead);
    }
  }
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
      } else if (c->op == ChangeOp::kTruncate) {
        // Every partition: the applier applies it once all reached it, so no
        // row of any partition crosses it.
        for (int p = 0; p < partitions; ++p) im.Produce(im.topic, p, kNoKey, im.value_buf, pending);
      } else {
        im.key_buf = EventKey(*c);
        // Rows of tables without a key keep to partition 0.
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
  if (impl_->transactional()) {
    std::lock_guard<std::mutex> tx_lock(impl_->tx_mu);
    if (impl_->tx_open && impl_->tx_mid_source) {
      // Never commit part of a source transaction: give it up; the stage
      // resumes after the last committed position and sends it whole.
      if (rd_kafka_error_t* e = rd_kafka_abort_transaction(impl_->rk.get(), 30000)) rd_kafka_error_destroy(e);
      impl_->tx_open = false;
      std::vector<uint64_t> batches;
      batches.swap(impl_->tx_batches);
      if (!impl_->silent.load() && impl_->on_nack) {
        for (uint64_t id : batches) impl_->on_nack(id, absl::UnavailableError("kafka: transaction aborted mid source transaction"));
      }
    } else {
      impl_->CommitLocked();
    }
  }
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

void KafkaBusProducer::TriggerFatalErrorForTesting() {
  rd_kafka_test_fatal_error(impl_->rk.get(), RD_KAFKA_RESP_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER,
                            "triggered by a test");
}

}  // namespace phony::kafka
