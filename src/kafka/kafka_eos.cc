#include "src/kafka/kafka_eos.h"

#include <chrono>
#include <map>
#include <mutex>
#include <thread>
#include <utility>

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

using TopicPartition = std::pair<std::string, int32_t>;

}  // namespace

struct ExactlyOnceStage::Impl {
  // One input partition's transactional producer and its open transaction.
  struct PartitionTx {
    TopicPartition tp;
    std::string transactional_id;
    Handle producer;
    bool open = false;
    bool at_boundary = true;
    size_t inputs = 0;
    absl::Time started;
    int64_t next_offset = -1;  // to commit with the transaction
  };

  ExactlyOnceOptions options;
  Conf producer_conf;  // the template every partition's producer is made from
  Handle consumer;
  mutable std::mutex stats_mu;
  Stats stats;

  std::map<TopicPartition, std::unique_ptr<PartitionTx>> assigned;
  // Revoked in a rebalance, their transactions closed: kept until the next
  // assignment, which takes them back or lets them go (an eager rebalance
  // revokes everything and gives most of it back).
  std::map<TopicPartition, std::unique_ptr<PartitionTx>> parked;
  absl::Status fatal;  // set when a producer can no longer go on

  absl::StatusOr<std::unique_ptr<PartitionTx>> StartProducer(const TopicPartition& tp);
  absl::Status Begin(PartitionTx& tx);
  absl::Status Commit(PartitionTx& tx);
  void Abort(PartitionTx& tx, const std::string& why, bool rewind = true);
  // Commits at a source-transaction boundary, else aborts.
  void Close(PartitionTx& tx, const std::string& why, bool rewind);
  void Rewind(const TopicPartition& tp);
  absl::Status TxError(const PartitionTx& tx, rd_kafka_error_t* e, const std::string& what);
  absl::Status Produce(PartitionTx& tx, const Output& out);
  bool Due(const PartitionTx& tx) const {
    return tx.open && tx.at_boundary && tx.inputs > 0 &&
           (tx.inputs >= options.max_tx_messages || absl::Now() - tx.started >= options.max_tx_interval);
  }
  void OnAssign(rd_kafka_t* rk, rd_kafka_topic_partition_list_t* partitions);
  void OnRevoke(rd_kafka_t* rk, rd_kafka_topic_partition_list_t* partitions);
  static void OnRebalance(rd_kafka_t* rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* partitions,
                          void* opaque);
};

absl::Status ExactlyOnceStage::Impl::TxError(const PartitionTx& tx, rd_kafka_error_t* raw, const std::string& what) {
  Error e(raw);
  const std::string why = rd_kafka_error_string(e.get());
  if (rd_kafka_error_is_fatal(e.get())) {
    const bool fenced = rd_kafka_error_code(e.get()) == RD_KAFKA_RESP_ERR__FENCED ||
                        why.find("fenced") != std::string::npos || why.find("Fenced") != std::string::npos;
    fatal = absl::FailedPreconditionError(
        "kafka: " + what + ": " + why +
        (fenced ? " (transactional id " + tx.transactional_id +
                      " was taken over by another process that now owns " + tx.tp.first + "[" +
                      std::to_string(tx.tp.second) + "]: this one stops)"
                : ""));
    return fatal;
  }
  if (rd_kafka_error_txn_requires_abort(e.get())) return absl::AbortedError("kafka: " + what + ": " + why);
  return absl::UnavailableError("kafka: " + what + ": " + why);
}

absl::StatusOr<std::unique_ptr<ExactlyOnceStage::Impl::PartitionTx>> ExactlyOnceStage::Impl::StartProducer(const TopicPartition& tp) {
  auto tx = std::make_unique<PartitionTx>();
  tx->tp = tp;
  tx->transactional_id = options.transactional_id_prefix + "-" + tp.first + "-" + std::to_string(tp.second);
  Conf conf(rd_kafka_conf_dup(producer_conf.get()));
  PHONY_RETURN_IF_ERROR(Set(conf.get(), "transactional.id", tx->transactional_id));
  PHONY_ASSIGN_OR_RETURN(tx->producer, NewClient(RD_KAFKA_PRODUCER, std::move(conf)));
  // Fences the partition's previous owner and aborts its open transaction:
  // read_committed readers of what it wrote go on at once, and the
  // committed offsets the consumer fetches next are stable.
  for (int attempt = 1;; ++attempt) {
    rd_kafka_error_t* e = rd_kafka_init_transactions(tx->producer.get(), kTxTimeoutMs);
    if (e == nullptr) break;
    absl::Status s = TxError(*tx, e, "init_transactions for " + tx->transactional_id);
    if (!fatal.ok()) return s;
    if (attempt >= 5) return s;
    spdlog::warn("transform: {}; retry {}", std::string(s.message()), attempt);
    absl::SleepFor(absl::Seconds(attempt));
  }
  std::lock_guard<std::mutex> lock(stats_mu);
  ++stats.producers;
  return tx;
}

absl::Status ExactlyOnceStage::Impl::Begin(PartitionTx& tx) {
  if (tx.open) return absl::OkStatus();
  if (rd_kafka_error_t* e = rd_kafka_begin_transaction(tx.producer.get())) return TxError(tx, e, "begin_transaction");
  tx.open = true;
  tx.at_boundary = true;
  tx.inputs = 0;
  tx.next_offset = -1;
  tx.started = absl::Now();
  return absl::OkStatus();
}

absl::Status ExactlyOnceStage::Impl::Commit(PartitionTx& tx) {
  if (!tx.open) return absl::OkStatus();
  if (tx.next_offset >= 0) {
    PartitionList list(rd_kafka_topic_partition_list_new(1));
    rd_kafka_topic_partition_list_add(list.get(), tx.tp.first.c_str(), tx.tp.second)->offset = tx.next_offset;
    rd_kafka_consumer_group_metadata_t* md = rd_kafka_consumer_group_metadata(consumer.get());
    rd_kafka_error_t* e = rd_kafka_send_offsets_to_transaction(tx.producer.get(), list.get(), md, kTxTimeoutMs);
    rd_kafka_consumer_group_metadata_destroy(md);
    if (e != nullptr) return TxError(tx, e, "send_offsets_to_transaction");
  }
  for (int attempt = 0;; ++attempt) {
    rd_kafka_error_t* e = rd_kafka_commit_transaction(tx.producer.get(), kTxTimeoutMs);
    if (e == nullptr) break;
    absl::Status s = TxError(tx, e, "commit_transaction");
    if (!absl::IsUnavailable(s) || attempt >= 5) return s;  // retriable: try the commit again
    spdlog::warn("transform: {}; retrying", std::string(s.message()));
  }
  tx.open = false;
  std::lock_guard<std::mutex> lock(stats_mu);
  ++stats.transactions;
  return absl::OkStatus();
}

void ExactlyOnceStage::Impl::Abort(PartitionTx& tx, const std::string& why, bool rewind) {
  if (!tx.open) return;
  spdlog::warn("transform: aborting the open Kafka transaction of {}[{}] ({} inputs): {}", tx.tp.first, tx.tp.second,
               tx.inputs, why);
  if (rd_kafka_error_t* e = rd_kafka_abort_transaction(tx.producer.get(), kTxTimeoutMs)) {
    (void)TxError(tx, e, "abort_transaction");
  }
  tx.open = false;
  {
    std::lock_guard<std::mutex> lock(stats_mu);
    ++stats.aborts;
  }
  if (rewind) Rewind(tx.tp);
}

void ExactlyOnceStage::Impl::Close(PartitionTx& tx, const std::string& why, bool rewind) {
  if (!tx.open) return;
  if (tx.inputs == 0) {  // nothing produced: nothing to keep
    Abort(tx, why, false);
    return;
  }
  if (tx.at_boundary && fatal.ok()) {
    absl::Status s = Commit(tx);
    if (s.ok()) return;
    if (!fatal.ok()) return;
    Abort(tx, std::string(s.message()), rewind);
  } else {
    Abort(tx, why, rewind);
  }
}

// After an abort the consumer's position is past inputs whose outputs were
// thrown away: seek the partition back to its committed offset.
void ExactlyOnceStage::Impl::Rewind(const TopicPartition& tp) {
  PartitionList list(rd_kafka_topic_partition_list_new(1));
  rd_kafka_topic_partition_list_add(list.get(), tp.first.c_str(), tp.second);
  if (rd_kafka_committed(consumer.get(), list.get(), kTxTimeoutMs) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    fatal = absl::UnavailableError("kafka: could not read committed offsets to rewind after an abort");
    return;
  }
  if (list->elems[0].offset < 0) list->elems[0].offset = RD_KAFKA_OFFSET_BEGINNING;
  if (rd_kafka_error_t* e = rd_kafka_seek_partitions(consumer.get(), list.get(), kTxTimeoutMs)) {
    fatal = absl::UnavailableError(std::string("kafka: seek after an abort: ") + rd_kafka_error_string(e));
    rd_kafka_error_destroy(e);
  }
}

void ExactlyOnceStage::Impl::OnAssign(rd_kafka_t* rk, rd_kafka_topic_partition_list_t* partitions) {
  spdlog::info("transform: assigned {} partition(s)", partitions->cnt);
  {
    std::lock_guard<std::mutex> lock(stats_mu);
    ++stats.assignments;
  }
  // Each partition's producer is ready (the previous owner fenced) before
  // the consumer fetches the partition's committed offset.
  for (int i = 0; i < partitions->cnt && fatal.ok(); ++i) {
    const TopicPartition tp(partitions->elems[i].topic, partitions->elems[i].partition);
    if (auto it = parked.find(tp); it != parked.end()) {
      assigned[tp] = std::move(it->second);
      parked.erase(it);
      continue;
    }
    if (assigned.count(tp)) continue;
    auto tx = StartProducer(tp);
    if (!tx.ok()) {
      if (fatal.ok()) fatal = tx.status();
      break;
    }
    assigned[tp] = std::move(*tx);
  }
  parked.clear();  // partitions that went to another member: their producers go
  rd_kafka_assign(rk, partitions);
}

// Revoked: what this member consumed must be committed (at a source
// transaction boundary) or given back (aborted, so the next owner reads it
// again from the committed offset) before the partitions go.
void ExactlyOnceStage::Impl::OnRevoke(rd_kafka_t* rk, rd_kafka_topic_partition_list_t* partitions) {
  for (int i = 0; i < partitions->cnt; ++i) {
    auto it = assigned.find(TopicPartition(partitions->elems[i].topic, partitions->elems[i].partition));
    if (it == assigned.end()) continue;
    Close(*it->second, "partitions revoked inside a source transaction", false);
    parked[it->first] = std::move(it->second);
    assigned.erase(it);
  }
  spdlog::info("transform: {} partition(s) revoked", partitions->cnt);
  rd_kafka_assign(rk, nullptr);
}

void ExactlyOnceStage::Impl::OnRebalance(rd_kafka_t* rk, rd_kafka_resp_err_t err,
                                         rd_kafka_topic_partition_list_t* partitions, void* opaque) {
  auto* self = static_cast<Impl*>(opaque);
  if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
    self->OnAssign(rk, partitions);
  } else {
    self->OnRevoke(rk, partitions);
  }
}

absl::Status ExactlyOnceStage::Impl::Produce(PartitionTx& tx, const Output& out) {
  const int32_t partition = out.partition >= 0 ? out.partition : RD_KAFKA_PARTITION_UA;
  for (;;) {
    const rd_kafka_resp_err_t err = rd_kafka_producev(
        tx.producer.get(), RD_KAFKA_V_TOPIC(out.topic.c_str()), RD_KAFKA_V_PARTITION(partition),
        RD_KAFKA_V_KEY(out.key.empty() ? nullptr : out.key.data(), out.key.size()),
        RD_KAFKA_V_VALUE(out.tombstone ? nullptr : const_cast<char*>(out.value.data()),
                         out.tombstone ? 0 : out.value.size()),
        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR) return absl::OkStatus();
    if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
      rd_kafka_poll(tx.producer.get(), 20);
      continue;
    }
    if (err == RD_KAFKA_RESP_ERR__FATAL) {
      char buf[512];
      rd_kafka_fatal_error(tx.producer.get(), buf, sizeof buf);
      fatal = absl::FailedPreconditionError(std::string("kafka: producer ") + tx.transactional_id + " failed: " + buf);
      return fatal;
    }
    return absl::AbortedError("kafka: produce to " + out.topic + ": " + rd_kafka_err2str(err));
  }
}

ExactlyOnceStage::ExactlyOnceStage(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

ExactlyOnceStage::~ExactlyOnceStage() {
  // Closing the consumer revokes its partitions: their transactions close
  // (Run has normally closed them already).
  if (impl_->consumer) rd_kafka_consumer_close(impl_->consumer.get());
}

absl::StatusOr<std::unique_ptr<ExactlyOnceStage>> ExactlyOnceStage::Create(ExactlyOnceOptions options) {
  if (options.transactional_id_prefix.empty()) {
    return absl::InvalidArgumentError("kafka: a transactional id prefix is required");
  }
  if (options.member_id.empty()) return absl::InvalidArgumentError("kafka: a member id is required");
  auto impl = std::make_unique<Impl>();
  impl->options = std::move(options);
  const ExactlyOnceOptions& o = impl->options;
  const KafkaConfig& k = o.kafka;
  PHONY_ASSIGN_OR_RETURN(impl->producer_conf, MakeConf(k, {{"client.id", o.client_id},
                                                           {"enable.idempotence", "true"},
                                                           {"acks", "all"},
                                                           {"compression.codec", k.compression},
                                                           {"linger.ms", std::to_string(k.linger_ms)},
                                                           {"batch.size", std::to_string(k.batch_bytes)},
                                                           {"partitioner", "murmur2_random"},
                                                           {"queue.buffering.max.messages", "1000000"}}));
  for (const auto& [key, value] : k.properties) PHONY_RETURN_IF_ERROR(Set(impl->producer_conf.get(), key, value));
  if (!k.properties.count("transaction.timeout.ms")) {
    PHONY_RETURN_IF_ERROR(Set(impl->producer_conf.get(), "transaction.timeout.ms", "900000"));
  }
  // A producer to check the settings and the broker before joining the
  // group (the partitions' producers start on assignment).
  {
    Conf probe(rd_kafka_conf_dup(impl->producer_conf.get()));
    PHONY_ASSIGN_OR_RETURN(Handle p, NewClient(RD_KAFKA_PRODUCER, std::move(probe)));
    const rd_kafka_metadata_t* md = nullptr;
    const rd_kafka_resp_err_t err = rd_kafka_metadata(p.get(), 0, nullptr, &md, 10000);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) return KafkaError(err, "kafka: metadata");
    rd_kafka_metadata_destroy(md);
  }
  PHONY_ASSIGN_OR_RETURN(Conf cconf, MakeConf(k, {{"client.id", o.client_id},
                                                  {"group.id", o.group_id},
                                                  // Static membership (KIP-345): a restarted instance
                                                  // takes its partitions back at once instead of
                                                  // waiting out the dead one's session.
                                                  {"group.instance.id", o.member_id},
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
  auto close_all = [&](const std::string& why) {
    for (auto& [tp, tx] : im.assigned) im.Close(*tx, why, false);
  };
  while (im.fatal.ok()) {
    // The stop check, due commits and the producers' callbacks every 256
    // inputs, or when nothing came in: they cost more than an input.
    const bool checkpoint = idle || (++loops & 255) == 0;
    if (checkpoint && stop()) {
      close_all("stopping inside a source transaction");
      break;
    }
    if (checkpoint) {
      for (auto& [tp, tx] : im.assigned) {
        rd_kafka_poll(tx->producer.get(), 0);
        if (!im.Due(*tx)) continue;
        if (absl::Status s = im.Commit(*tx); !s.ok()) {
          if (!im.fatal.ok()) break;
          im.Abort(*tx, std::string(s.message()));
        }
      }
      if (!im.fatal.ok()) break;
    }
    rd_kafka_message_t* m = rd_kafka_consumer_poll(im.consumer.get(), 100);
    if (m == nullptr && !idle) {
      std::lock_guard<std::mutex> lock(im.stats_mu);
      im.stats.last_input = absl::Now();
    }
    idle = m == nullptr;
    if (m == nullptr) continue;
    if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
      rd_kafka_message_destroy(m);
      continue;
    }
    if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      const rd_kafka_resp_err_t err = m->err;
      const std::string what = rd_kafka_message_errstr(m);
      rd_kafka_message_destroy(m);
      if (err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART || err == RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED ||
          err == RD_KAFKA_RESP_ERR_GROUP_AUTHORIZATION_FAILED) {
        for (auto& [tp, tx] : im.assigned) im.Abort(*tx, what, false);
        return KafkaError(err, "kafka: consuming: " + what);
      }
      spdlog::warn("transform: consumer: {}", what);  // transport errors recover by themselves
      continue;
    }
    const char* topic = rd_kafka_topic_name(m->rkt);
    auto it = im.assigned.find(TopicPartition(topic, m->partition));
    if (it == im.assigned.end()) {  // fetched before a revoke: the next owner reads it
      rd_kafka_message_destroy(m);
      continue;
    }
    Impl::PartitionTx& tx = *it->second;
    if (absl::Status s = im.Begin(tx); !s.ok()) {
      rd_kafka_message_destroy(m);
      if (!im.fatal.ok()) break;
      spdlog::warn("transform: {}; retrying from the committed offset", std::string(s.message()));
      im.Rewind(tx.tp);
      absl::SleepFor(absl::Milliseconds(500));
      continue;
    }
    Input in;
    in.topic = topic;
    in.partition = m->partition;
    in.offset = m->offset;
    in.key = std::string_view(static_cast<const char*>(m->key), m->key_len);
    in.value = std::string_view(static_cast<const char*>(m->payload), m->len);
    outputs.clear();
    bool boundary = true;
    absl::Status s = process(in, &outputs, &boundary);
    if (s.ok()) {
      for (const Output& out : outputs) {
        s = im.Produce(tx, out);
        if (!s.ok()) break;
      }
    }
    if (!s.ok()) {
      const std::string where = std::string(topic) + "[" + std::to_string(m->partition) + "]@" +
                                std::to_string(m->offset);
      rd_kafka_message_destroy(m);
      if ((absl::IsAborted(s) || absl::IsUnavailable(s)) && im.fatal.ok()) {
        // The broker's side (a topic it cannot create while it restarts,
        // say): retry from the committed offsets, after a pause when the
        // broker is unavailable.
        im.Abort(tx, std::string(s.message()));
        if (absl::IsUnavailable(s)) {
          spdlog::warn("transform: {}; retrying in 1 s", std::string(s.message()));
          for (int i = 0; i < 10 && !stop(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
        continue;
      }
      // What came before the bad input is complete: commit it when it ends
      // between source transactions (a restart then stops at the same
      // input), else give it back. The other partitions close as at a stop.
      if (tx.at_boundary && tx.inputs > 0 && im.fatal.ok() && im.Commit(tx).ok()) {
        spdlog::info("transform: committed the {} inputs before {}", tx.inputs, where);
      } else {
        im.Abort(tx, "processing failed at " + where, false);
      }
      close_all("stopping inside a source transaction");
      return absl::Status(s.code(), std::string(s.message()) + " (input " + where + ")");
    }
    tx.next_offset = m->offset + 1;
    ++tx.inputs;
    tx.at_boundary = boundary;
    rd_kafka_message_destroy(m);
    {
      std::lock_guard<std::mutex> lock(im.stats_mu);
      if (im.stats.inputs++ == 0) im.stats.first_input = absl::Now();
      if (checkpoint) im.stats.last_input = absl::Now();
      im.stats.outputs += outputs.size();
    }
    if (im.Due(tx)) {
      if (absl::Status c = im.Commit(tx); !c.ok()) {
        if (!im.fatal.ok()) break;
        im.Abort(tx, std::string(c.message()));
      }
    }
  }
  if (!im.fatal.ok()) {
    for (auto& [tp, tx] : im.assigned) {
      if (tx->open) im.Abort(*tx, std::string(im.fatal.message()), false);
    }
    return im.fatal;
  }
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
