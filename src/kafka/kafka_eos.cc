#include "src/kafka/kafka_eos.h"

#include <map>
#include <mutex>

#include "absl/time/clock.h"
#include "core/status_macros.h"
#include "spdlog/spdlog.h"
#include "src/kafka/rdkafka_util.h"

namespace phony::kafka {
namespace {

struct ErrorDeleter {
  void operator()(rd_kafka_error_t* e) const { rd_kafka_error_destroy(e); }
};
using Error = std::unique_ptr<rd_kafka_error_t, ErrorDeleter>;

struct ListDeleter {
  void operator()(rd_kafka_topic_partition_list_t* l) const { rd_kafka_topic_partition_list_destroy(l); }
};
using PartitionList = std::unique_ptr<rd_kafka_topic_partition_list_t, ListDeleter>;

constexpr int kTxTimeoutMs = 60000;

}  // namespace

struct ExactlyOnceStage::Impl {
  ExactlyOnceOptions options;
  Handle consumer;
  Handle producer;
  mutable std::mutex stats_mu;
  Stats stats;

  // The open Kafka transaction.
  bool tx_open = false;
  bool at_boundary = true;
  size_t tx_inputs = 0;
  absl::Time tx_started;
  std::map<std::pair<std::string, int32_t>, int64_t> tx_offsets;  // next offset to read
  absl::Status fatal;  // set when the producer can no longer go on

  absl::Status Begin();
  absl::Status Commit();
  void Abort(const std::string& why);
  void Rewind();
  absl::Status TxError(rd_kafka_error_t* e, const std::string& what);
  absl::Status Produce(const Output& out);
  static void OnRebalance(rd_kafka_t* rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* partitions,
                          void* opaque);
};

absl::Status ExactlyOnceStage::Impl::TxError(rd_kafka_error_t* raw, const std::string& what) {
  Error e(raw);
  const std::string why = rd_kafka_error_string(e.get());
  if (rd_kafka_error_is_fatal(e.get())) {
    const bool fenced = rd_kafka_error_code(e.get()) == RD_KAFKA_RESP_ERR__FENCED ||
                        why.find("fenced") != std::string::npos || why.find("Fenced") != std::string::npos;
    fatal = absl::FailedPreconditionError(
        "kafka: " + what + ": " + why +
        (fenced ? " (transactional id " + options.transactional_id +
                      " was taken over by another process: this one stops)"
                : ""));
    return fatal;
  }
  if (rd_kafka_error_txn_requires_abort(e.get())) return absl::AbortedError("kafka: " + what + ": " + why);
  return absl::UnavailableError("kafka: " + what + ": " + why);
}

absl::Status ExactlyOnceStage::Impl::Begin() {
  if (tx_open) return absl::OkStatus();
  if (rd_kafka_error_t* e = rd_kafka_begin_transaction(producer.get())) return TxError(e, "begin_transaction");
  tx_open = true;
  at_boundary = true;
  tx_inputs = 0;
  tx_offsets.clear();
  tx_started = absl::Now();
  return absl::OkStatus();
}

absl::Status ExactlyOnceStage::Impl::Commit() {
  if (!tx_open) return absl::OkStatus();
  if (!tx_offsets.empty()) {
    PartitionList list(rd_kafka_topic_partition_list_new(static_cast<int>(tx_offsets.size())));
    for (const auto& [tp, next] : tx_offsets) {
      rd_kafka_topic_partition_list_add(list.get(), tp.first.c_str(), tp.second)->offset = next;
    }
    rd_kafka_consumer_group_metadata_t* md = rd_kafka_consumer_group_metadata(consumer.get());
    rd_kafka_error_t* e = rd_kafka_send_offsets_to_transaction(producer.get(), list.get(), md, kTxTimeoutMs);
    rd_kafka_consumer_group_metadata_destroy(md);
    if (e != nullptr) return TxError(e, "send_offsets_to_transaction");
  }
  for (int attempt = 0;; ++attempt) {
    rd_kafka_error_t* e = rd_kafka_commit_transaction(producer.get(), kTxTimeoutMs);
    if (e == nullptr) break;
    absl::Status s = TxError(e, "commit_transaction");
    if (!absl::IsUnavailable(s) || attempt >= 5) return s;  // retriable: try the commit again
    spdlog::warn("transform: {}; retrying", std::string(s.message()));
  }
  tx_open = false;
  std::lock_guard<std::mutex> lock(stats_mu);
  ++stats.transactions;
  return absl::OkStatus();
}

void ExactlyOnceStage::Impl::Abort(const std::string& why) {
  if (!tx_open) return;
  spdlog::warn("transform: aborting the open Kafka transaction ({} inputs): {}", tx_inputs, why);
  if (rd_kafka_error_t* e = rd_kafka_abort_transaction(producer.get(), kTxTimeoutMs)) {
    (void)TxError(e, "abort_transaction");
  }
  tx_open = false;
  {
    std::lock_guard<std::mutex> lock(stats_mu);
    ++stats.aborts;
  }
  Rewind();
}

// After an abort the consumer's position is past inputs whose outputs were
// thrown away: seek every assigned partition back to its committed offset.
void ExactlyOnceStage::Impl::Rewind() {
  rd_kafka_topic_partition_list_t* raw = nullptr;
  if (rd_kafka_assignment(consumer.get(), &raw) != RD_KAFKA_RESP_ERR_NO_ERROR || raw == nullptr) return;
  PartitionList list(raw);
  if (list->cnt == 0) return;
  if (rd_kafka_committed(consumer.get(), list.get(), kTxTimeoutMs) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    fatal = absl::UnavailableError("kafka: could not read committed offsets to rewind after an abort");
    return;
  }
  for (int i = 0; i < list->cnt; ++i) {
    if (list->elems[i].offset < 0) list->elems[i].offset = RD_KAFKA_OFFSET_BEGINNING;
  }
  if (rd_kafka_error_t* e = rd_kafka_seek_partitions(consumer.get(), list.get(), kTxTimeoutMs)) {
    fatal = absl::UnavailableError(std::string("kafka: seek after an abort: ") + rd_kafka_error_string(e));
    rd_kafka_error_destroy(e);
  }
}

void ExactlyOnceStage::Impl::OnRebalance(rd_kafka_t* rk, rd_kafka_resp_err_t err,
                                         rd_kafka_topic_partition_list_t* partitions, void* opaque) {
  auto* self = static_cast<Impl*>(opaque);
  if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
    spdlog::info("transform: assigned {} partition(s)", partitions->cnt);
    {
      std::lock_guard<std::mutex> lock(self->stats_mu);
      ++self->stats.assignments;
    }
    rd_kafka_assign(rk, partitions);
    return;
  }
  // Revoked: what this member consumed must be committed (at a source
  // transaction boundary) or given back (aborted, so the next owner reads
  // it again from the committed offset) before the partitions go.
  if (self->tx_open) {
    if (self->at_boundary && self->fatal.ok()) {
      absl::Status s = self->Commit();
      if (!s.ok()) self->Abort(std::string(s.message()));
    } else {
      self->Abort("partitions revoked inside a source transaction");
    }
  }
  spdlog::info("transform: {} partition(s) revoked", partitions->cnt);
  rd_kafka_assign(rk, nullptr);
}

absl::Status ExactlyOnceStage::Impl::Produce(const Output& out) {
  const int32_t partition = out.partition >= 0 ? out.partition : RD_KAFKA_PARTITION_UA;
  for (;;) {
    const rd_kafka_resp_err_t err = rd_kafka_producev(
        producer.get(), RD_KAFKA_V_TOPIC(out.topic.c_str()), RD_KAFKA_V_PARTITION(partition),
        RD_KAFKA_V_KEY(out.key.empty() ? nullptr : out.key.data(), out.key.size()),
        RD_KAFKA_V_VALUE(out.tombstone ? nullptr : const_cast<char*>(out.value.data()),
                         out.tombstone ? 0 : out.value.size()),
        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR) return absl::OkStatus();
    if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
      rd_kafka_poll(producer.get(), 20);
      continue;
    }
    if (err == RD_KAFKA_RESP_ERR__FATAL) {
      char buf[512];
      rd_kafka_fatal_error(producer.get(), buf, sizeof buf);
      fatal = absl::FailedPreconditionError(std::string("kafka: producer failed: ") + buf);
      return fatal;
    }
    return absl::AbortedError("kafka: produce to " + out.topic + ": " + rd_kafka_err2str(err));
  }
}

ExactlyOnceStage::ExactlyOnceStage(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

ExactlyOnceStage::~ExactlyOnceStage() {
  if (impl_->consumer) rd_kafka_consumer_close(impl_->consumer.get());
}

absl::StatusOr<std::unique_ptr<ExactlyOnceStage>> ExactlyOnceStage::Create(ExactlyOnceOptions options) {
  if (options.transactional_id.empty()) return absl::InvalidArgumentError("kafka: a transactional id is required");
  auto impl = std::make_unique<Impl>();
  impl->options = std::move(options);
  const ExactlyOnceOptions& o = impl->options;
  const KafkaConfig& k = o.kafka;
  PHONY_ASSIGN_OR_RETURN(Conf pconf, MakeConf(k, {{"client.id", o.client_id},
                                                  {"enable.idempotence", "true"},
                                                  {"acks", "all"},
                                                  {"compression.codec", k.compression},
                                                  {"linger.ms", std::to_string(k.linger_ms)},
                                                  {"batch.size", std::to_string(k.batch_bytes)},
                                                  {"partitioner", "murmur2_random"},
                                                  {"queue.buffering.max.messages", "1000000"},
                                                  {"transactional.id", o.transactional_id}}));
  for (const auto& [key, value] : k.properties) PHONY_RETURN_IF_ERROR(Set(pconf.get(), key, value));
  if (!k.properties.count("transaction.timeout.ms")) {
    PHONY_RETURN_IF_ERROR(Set(pconf.get(), "transaction.timeout.ms", "900000"));
  }
  PHONY_ASSIGN_OR_RETURN(impl->producer, NewClient(RD_KAFKA_PRODUCER, std::move(pconf)));
  // Fences an older instance with this id and aborts its open transaction.
  if (rd_kafka_error_t* e = rd_kafka_init_transactions(impl->producer.get(), kTxTimeoutMs)) {
    absl::Status s = impl->TxError(e, "init_transactions");
    return absl::IsAborted(s) ? absl::UnavailableError(s.message()) : s;
  }
  PHONY_ASSIGN_OR_RETURN(Conf cconf, MakeConf(k, {{"client.id", o.client_id},
                                                  {"group.id", o.group_id},
                                                  // Static membership (KIP-345): a restarted instance
                                                  // takes its partitions back at once instead of
                                                  // waiting out the dead one's session.
                                                  {"group.instance.id", o.transactional_id},
                                                  {"enable.auto.commit", "false"},
                                                  {"enable.auto.offset.store", "false"},
                                                  {"auto.offset.reset", "earliest"},
                                                  {"isolation.level", "read_committed"}}));
  rd_kafka_conf_set_rebalance_cb(cconf.get(), &Impl::OnRebalance);
  rd_kafka_conf_set_opaque(cconf.get(), impl.get());
  PHONY_ASSIGN_OR_RETURN(impl->consumer, NewClient(RD_KAFKA_CONSUMER, std::move(cconf)));
  rd_kafka_poll_set_consumer(impl->consumer.get());
  PartitionList topics(rd_kafka_topic_partition_list_new(static_cast<int>(o.input_topics.size())));
  for (const std::string& t : o.input_topics) {
    rd_kafka_topic_partition_list_add(topics.get(), t.c_str(), RD_KAFKA_PARTITION_UA);
  }
  if (rd_kafka_resp_err_t err = rd_kafka_subscribe(impl->consumer.get(), topics.get())) {
    return KafkaError(err, "kafka: subscribe");
  }
  return std::unique_ptr<ExactlyOnceStage>(new ExactlyOnceStage(std::move(impl)));
}

absl::Status ExactlyOnceStage::Run(const Process& process, const std::function<bool()>& stop) {
  Impl& im = *impl_;
  std::vector<Output> outputs;
  uint64_t loops = 0;
  bool idle = true;
  while (im.fatal.ok()) {
    // The stop check and the producer's callbacks every 256 inputs, or when
    // nothing came in: both cost more than an input.
    const bool checkpoint = idle || (++loops & 255) == 0;
    if (checkpoint && stop()) {
      if (im.tx_open) {
        if (im.at_boundary) {
          if (absl::Status s = im.Commit(); !s.ok()) im.Abort(std::string(s.message()));
        } else {
          im.Abort("stopping inside a source transaction");
        }
      }
      break;
    }
    if (absl::Status s = im.Begin(); !s.ok()) {
      if (!im.fatal.ok()) break;
      spdlog::warn("transform: {}; retrying", std::string(s.message()));
      absl::SleepFor(absl::Milliseconds(500));
      continue;
    }
    rd_kafka_message_t* m = rd_kafka_consumer_poll(im.consumer.get(), 100);
    if (m == nullptr && !idle) {
      std::lock_guard<std::mutex> lock(im.stats_mu);
      im.stats.last_input = absl::Now();
    }
    idle = m == nullptr;
    if (m != nullptr) {
      if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
        // nothing
      } else if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        const rd_kafka_resp_err_t err = m->err;
        const std::string what = rd_kafka_message_errstr(m);
        rd_kafka_message_destroy(m);
        if (err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART || err == RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED ||
            err == RD_KAFKA_RESP_ERR_GROUP_AUTHORIZATION_FAILED) {
          im.Abort(what);
          return KafkaError(err, "kafka: consuming: " + what);
        }
        spdlog::warn("transform: consumer: {}", what);  // transport errors recover by themselves
        continue;
      } else {
        const char* topic = rd_kafka_topic_name(m->rkt);
        Input in;
        in.topic = topic;
        in.partition = m->partition;
        in.offset = m->offset;
        in.key = std::string_view(static_cast<const char*>(m->key), m->key_len);
        in.value = std::string_view(static_cast<const char*>(m->payload), m->len);
        outputs.clear();
        bool boundary = true;
        absl::Status s = process(in, &outputs, &boundary);
        const std::string where = std::string(topic) + "[" + std::to_string(m->partition) + "]@" +
                                  std::to_string(m->offset);
        if (s.ok()) {
          for (const Output& out : outputs) {
            s = im.Produce(out);
            if (!s.ok()) break;
          }
        }
        if (!s.ok()) {
          rd_kafka_message_destroy(m);
          if (absl::IsAborted(s) && im.fatal.ok()) {  // the broker's side: retry from the committed offsets
            im.Abort(std::string(s.message()));
            continue;
          }
          // What came before the bad input is complete: commit it when it
          // ends between source transactions (a restart then stops at the
          // same input), else give it back.
          if (im.at_boundary && im.tx_inputs > 0 && im.fatal.ok() && im.Commit().ok()) {
            spdlog::info("transform: committed the {} inputs before {}", im.tx_inputs, where);
          } else {
            im.Abort("processing failed at " + where);
          }
          return absl::Status(s.code(), std::string(s.message()) + " (input " + where + ")");
        }
        im.tx_offsets[{topic, m->partition}] = m->offset + 1;
        ++im.tx_inputs;
        im.at_boundary = boundary;
        rd_kafka_message_destroy(m);
        std::lock_guard<std::mutex> lock(im.stats_mu);
        if (im.stats.inputs++ == 0) im.stats.first_input = absl::Now();
        if (checkpoint) im.stats.last_input = absl::Now();
        im.stats.outputs += outputs.size();
      }
    }
    if (checkpoint) rd_kafka_poll(im.producer.get(), 0);
    if (im.tx_open && im.at_boundary && im.tx_inputs > 0 &&
        (im.tx_inputs >= im.options.max_tx_messages || absl::Now() - im.tx_started >= im.options.max_tx_interval)) {
      if (absl::Status s = im.Commit(); !s.ok()) {
        if (!im.fatal.ok()) break;
        im.Abort(std::string(s.message()));
      }
    }
  }
  if (!im.fatal.ok()) return im.fatal;
  return absl::OkStatus();
}

ExactlyOnceStage::Stats ExactlyOnceStage::stats() const {
  std::lock_guard<std::mutex> lock(impl_->stats_mu);
  return impl_->stats;
}

namespace {

// A consumer handle for one-off reads, and the partition count of `topic`.
absl::StatusOr<std::pair<Handle, int>> ReaderFor(const KafkaConfig& kafka, const std::string& topic,
                                                 absl::Duration timeout) {
  PHONY_ASSIGN_OR_RETURN(Conf conf, MakeConf(kafka, {{"group.id", "phony-topic-reader"},
                                                     {"enable.auto.commit", "false"},
                                                     {"isolation.level", "read_committed"},
                                                     {"enable.partition.eof", "true"}}));
  PHONY_ASSIGN_OR_RETURN(Handle rk, NewClient(RD_KAFKA_CONSUMER, std::move(conf)));
  const rd_kafka_metadata_t* md = nullptr;
  rd_kafka_topic_t* t = rd_kafka_topic_new(rk.get(), topic.c_str(), nullptr);
  rd_kafka_resp_err_t err =
      rd_kafka_metadata(rk.get(), 0, t, &md, static_cast<int>(absl::ToInt64Milliseconds(timeout)));
  rd_kafka_topic_destroy(t);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) return KafkaError(err, "kafka: metadata of " + topic);
  int partitions = 0;
  if (md->topic_cnt == 1 && md->topics[0].err == RD_KAFKA_RESP_ERR_NO_ERROR) partitions = md->topics[0].partition_cnt;
  rd_kafka_metadata_destroy(md);
  if (partitions == 0) return absl::FailedPreconditionError("kafka: topic " + topic + " does not exist");
  return std::make_pair(std::move(rk), partitions);
}

}  // namespace

absl::StatusOr<std::vector<int64_t>> HighWatermarks(const KafkaConfig& kafka, const std::string& topic,
                                                    absl::Duration timeout) {
  PHONY_ASSIGN_OR_RETURN(auto reader, ReaderFor(kafka, topic, timeout));
  std::vector<int64_t> out;
  for (int p = 0; p < reader.second; ++p) {
    int64_t low = 0, high = 0;
    const rd_kafka_resp_err_t err = rd_kafka_query_watermark_offsets(
        reader.first.get(), topic.c_str(), p, &low, &high, static_cast<int>(absl::ToInt64Milliseconds(timeout)));
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) return KafkaError(err, "kafka: watermarks of " + topic);
    out.push_back(high);
  }
  return out;
}

absl::Status ReadWholeTopic(
    const KafkaConfig& kafka, const std::string& topic, absl::Duration timeout,
    const std::function<absl::Status(int32_t partition, int64_t offset, std::string_view key,
                                     std::string_view value)>& fn) {
  PHONY_ASSIGN_OR_RETURN(auto reader, ReaderFor(kafka, topic, timeout));
  Handle rk = std::move(reader.first);
  const int partitions = reader.second;
  PartitionList list(rd_kafka_topic_partition_list_new(partitions));
  for (int p = 0; p < partitions; ++p) {
    rd_kafka_topic_partition_list_add(list.get(), topic.c_str(), p)->offset = RD_KAFKA_OFFSET_BEGINNING;
  }
  if (rd_kafka_resp_err_t err = rd_kafka_assign(rk.get(), list.get()); err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return KafkaError(err, "kafka: assign " + topic);
  }
  absl::Status failed;
  int at_end = 0;
  const absl::Time deadline = absl::Now() + timeout;
  while (at_end < partitions && failed.ok()) {
    if (absl::Now() > deadline) {
      failed = absl::UnavailableError("kafka: reading topic " + topic + " timed out");
      break;
    }
    rd_kafka_message_t* m = rd_kafka_consumer_poll(rk.get(), 200);
    if (m == nullptr) continue;
    if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
      ++at_end;
    } else if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      failed = KafkaError(m->err, "kafka: reading topic " + topic);
    } else {
      failed = fn(m->partition, m->offset, std::string_view(static_cast<const char*>(m->key), m->key_len),
                  std::string_view(static_cast<const char*>(m->payload), m->len));
    }
    rd_kafka_message_destroy(m);
  }
  rd_kafka_consumer_close(rk.get());
  return failed;
}

}  // namespace phony::kafka
