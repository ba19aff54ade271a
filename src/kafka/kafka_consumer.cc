#include <cstring>
#include <deque>
#include <map>
#include <mutex>
#include <set>

#include "core/byte_reader.h"
#include "core/event_codec.h"
#include "core/status_macros.h"
#include "spdlog/spdlog.h"
#include "src/kafka/kafka_bus.h"
#include "src/kafka/kafka_eos.h"
#include "src/kafka/rdkafka_util.h"

namespace phony::kafka {

struct KafkaBusConsumer::Impl {
  ConsumerOptions options;
  Handle rk;
  std::mutex poll_mu;                      // one poller at a time
  rd_kafka_message_t* stash = nullptr;     // the first message of the next delivery

  struct Pending {
    int64_t first, last;
    bool acked = false;
  };
  using Tp = std::pair<std::string, int32_t>;
  std::mutex ack_mu;
  std::map<Tp, std::deque<Pending>> pending;  // by partition, in delivery order
  std::set<Tp> assigned;

  void Commit(const Tp& tp, int64_t next_offset, bool async) {
    rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(list, tp.first.c_str(), tp.second)->offset = next_offset;
    const rd_kafka_resp_err_t err = rd_kafka_commit(rk.get(), list, async ? 1 : 0);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      spdlog::warn("kafka consumer: committing {}[{}]@{}: {}", tp.first, tp.second, next_offset,
                   rd_kafka_err2str(err));
    }
    rd_kafka_topic_partition_list_destroy(list);
  }
};

namespace {

void OnRebalance(rd_kafka_t* rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* parts,
                 void* opaque) {
  auto* impl = static_cast<KafkaBusConsumer::Impl*>(opaque);
  std::lock_guard<std::mutex> lock(impl->ack_mu);
  if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
    for (int i = 0; i < parts->cnt; ++i) {
      impl->assigned.insert({parts->elems[i].topic, parts->elems[i].partition});
      if (impl->options.start_offset) {
        const int64_t at = impl->options.start_offset(parts->elems[i].topic, parts->elems[i].partition);
        parts->elems[i].offset = at >= 0 ? at : RD_KAFKA_OFFSET_BEGINNING;
      }
    }
    rd_kafka_assign(rk, parts);
    spdlog::info("kafka consumer: {} partitions assigned", parts->cnt);
    return;
  }
  // Revoked: deliveries not acked yet are read again by the next owner from
  // the committed offset (at-least-once; apply skips re-deliveries).
  for (int i = 0; i < parts->cnt; ++i) {
    const KafkaBusConsumer::Impl::Tp tp{parts->elems[i].topic, parts->elems[i].partition};
    impl->assigned.erase(tp);
    impl->pending.erase(tp);
    if (impl->stash && rd_kafka_topic_name(impl->stash->rkt) == tp.first && impl->stash->partition == tp.second) {
      rd_kafka_message_destroy(impl->stash);
      impl->stash = nullptr;
    }
  }
  rd_kafka_assign(rk, nullptr);
  spdlog::info("kafka consumer: {} partitions revoked", parts->cnt);
}

}  // namespace

KafkaBusConsumer::KafkaBusConsumer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

absl::StatusOr<std::unique_ptr<KafkaBusConsumer>> KafkaBusConsumer::Create(ConsumerOptions options) {
  if (options.group_id.empty()) return absl::InvalidArgumentError("kafka consumer: group_id is required");
  auto impl = std::make_unique<Impl>();
  impl->options = std::move(options);
  PHONY_ASSIGN_OR_RETURN(Conf conf, MakeConf(impl->options.kafka,
                                             {{"group.id", impl->options.group_id},
                                              {"enable.auto.commit", "false"},
                                              {"enable.auto.offset.store", "false"},
                                              {"isolation.level", "read_committed"},
                                              {"auto.offset.reset", "earliest"},
                                              {"enable.partition.eof", "false"}}));
  if (!impl->options.group_instance_id.empty()) {
    PHONY_RETURN_IF_ERROR(Set(conf.get(), "group.instance.id", impl->options.group_instance_id));
  }
  rd_kafka_conf_set_rebalance_cb(conf.get(), OnRebalance);
  rd_kafka_conf_set_opaque(conf.get(), impl.get());
  PHONY_ASSIGN_OR_RETURN(impl->rk, NewClient(RD_KAFKA_CONSUMER, std::move(conf)));
  rd_kafka_poll_set_consumer(impl->rk.get());
  rd_kafka_topic_partition_list_t* topics = rd_kafka_topic_partition_list_new(
      static_cast<int>(impl->options.topics.size()));
  for (const auto& t : impl->options.topics) {
    rd_kafka_topic_partition_list_add(topics, t.c_str(), RD_KAFKA_PARTITION_UA);
  }
  const rd_kafka_resp_err_t err = rd_kafka_subscribe(impl->rk.get(), topics);
  rd_kafka_topic_partition_list_destroy(topics);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) return KafkaError(err, "kafka consumer: subscribe");
  return std::unique_ptr<KafkaBusConsumer>(new KafkaBusConsumer(std::move(impl)));
}

KafkaBusConsumer::~KafkaBusConsumer() {
  if (impl_->stash) rd_kafka_message_destroy(impl_->stash);
  impl_->stash = nullptr;
  rd_kafka_consumer_close(impl_->rk.get());
}

absl::StatusOr<std::optional<Delivery>> KafkaBusConsumer::Poll(absl::Duration timeout) {
  Impl& im = *impl_;
  std::lock_guard<std::mutex> poll_lock(im.poll_mu);
  rd_kafka_message_t* m = im.stash;
  im.stash = nullptr;
  if (m == nullptr) m = rd_kafka_consumer_poll(im.rk.get(), static_cast<int>(absl::ToInt64Milliseconds(timeout)));
  if (m == nullptr) return std::nullopt;
  if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    const rd_kafka_resp_err_t err = m->err;
    const std::string what = m->rkt ? rd_kafka_topic_name(m->rkt) : std::string("kafka consumer");
    const std::string reason = rd_kafka_message_errstr(m);
    rd_kafka_message_destroy(m);
    if (err == RD_KAFKA_RESP_ERR__PARTITION_EOF) return std::nullopt;
    absl::Status s = KafkaError(err, "kafka consumer: " + what + ": " + reason);
    if (absl::IsUnavailable(s)) {
      spdlog::warn("{}", std::string(s.message()));  // librdkafka reconnects by itself
      return std::nullopt;
    }
    return s;
  }
  Delivery d;
  d.offset.topic = rd_kafka_topic_name(m->rkt);
  d.offset.partition = m->partition;
  d.batch.partition = m->partition;
  const int64_t first = m->offset;
  while (true) {
    auto event = DecodeEvent(std::string_view(static_cast<const char*>(m->payload), m->len));
    if (!event.ok()) {
      if (!d.batch.events.empty()) {
        im.stash = m;  // hand out what came before it; the next Poll stops here
        break;
      }
      const std::string where = d.offset.topic + "[" + std::to_string(m->partition) + "]@" + std::to_string(m->offset);
      // Kept: every later Poll stops at the same message.
      im.stash = m;
      return absl::DataLossError("kafka consumer: message at " + where + " does not decode (" +
                                 std::string(event.status().message()) + "); the stream stops there");
    }
    d.batch.events.push_back(std::move(*event));
    d.offset.offset = m->offset;
    rd_kafka_message_destroy(m);
    if (d.batch.events.size() >= im.options.max_batch_events) break;
    m = rd_kafka_consumer_poll(im.rk.get(), 0);
    if (m == nullptr) break;
    if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR || rd_kafka_topic_name(m->rkt) != d.offset.topic ||
        m->partition != d.offset.partition) {
      im.stash = m;
      break;
    }
  }
  {
    std::lock_guard<std::mutex> lock(im.ack_mu);
    im.pending[{d.offset.topic, d.offset.partition}].push_back({first, d.offset.offset});
  }
  return d;
}

absl::Status KafkaBusConsumer::Ack(const KafkaOffset& offset) {
  Impl& im = *impl_;
  std::lock_guard<std::mutex> lock(im.ack_mu);
  const Impl::Tp tp{offset.topic, offset.partition};
  auto it = im.pending.find(tp);
  if (it == im.pending.end() || it->second.empty()) {
    if (!im.assigned.count(tp)) return absl::OkStatus();  // lost in a rebalance
    return absl::InvalidArgumentError("kafka consumer: ack for " + offset.ToString() + ", which is not pending");
  }
  auto& q = it->second;
  auto entry = std::find_if(q.begin(), q.end(), [&](const Impl::Pending& p) { return p.last == offset.offset; });
  if (entry == q.end() || entry->acked) {
    return absl::InvalidArgumentError("kafka consumer: ack for " + offset.ToString() +
                                      ", which was not delivered or was acked already");
  }
  entry->acked = true;
  int64_t next = -1;
  while (!q.empty() && q.front().acked) {
    next = q.front().last + 1;
    q.pop_front();
  }
  if (next >= 0) im.Commit(tp, next, /*async=*/true);
  return absl::OkStatus();
}

size_t KafkaBusConsumer::assigned_partitions() const {
  std::lock_guard<std::mutex> lock(impl_->ack_mu);
  return impl_->assigned.size();
}

absl::Status KafkaBusConsumer::Flow(const std::string& topic, int32_t partition, bool on) {
  rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(1);
  rd_kafka_topic_partition_list_add(list, topic.c_str(), partition);
  const rd_kafka_resp_err_t err =
      on ? rd_kafka_resume_partitions(impl_->rk.get(), list) : rd_kafka_pause_partitions(impl_->rk.get(), list);
  rd_kafka_topic_partition_list_destroy(list);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return KafkaError(err, std::string("kafka consumer: ") + (on ? "resuming " : "pausing ") + topic + "[" +
                               std::to_string(partition) + "]");
  }
  return absl::OkStatus();
}

absl::Status KafkaBusConsumer::Rewind(
    const std::function<int64_t(const std::string& topic, int32_t partition)>& start_offset) {
  Impl& im = *impl_;
  std::lock_guard<std::mutex> poll_lock(im.poll_mu);
  if (im.stash) rd_kafka_message_destroy(im.stash);
  im.stash = nullptr;
  rd_kafka_topic_partition_list_t* list = nullptr;
  {
    std::lock_guard<std::mutex> lock(im.ack_mu);
    im.pending.clear();
    list = rd_kafka_topic_partition_list_new(static_cast<int>(im.assigned.size()));
    for (const auto& [topic, partition] : im.assigned) {
      const int64_t at = start_offset(topic, partition);
      rd_kafka_topic_partition_list_add(list, topic.c_str(), partition)->offset =
          at >= 0 ? at : RD_KAFKA_OFFSET_BEGINNING;
    }
  }
  absl::Status s;
  if (list->cnt > 0) {
    rd_kafka_error_t* error = rd_kafka_seek_partitions(im.rk.get(), list, 10000);
    if (error != nullptr) {
      s = absl::UnavailableError(std::string("kafka consumer: seeking: ") + rd_kafka_error_string(error));
      rd_kafka_error_destroy(error);
    }
    for (int i = 0; s.ok() && i < list->cnt; ++i) {
      if (list->elems[i].err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        s = KafkaError(list->elems[i].err, std::string("kafka consumer: seeking ") + list->elems[i].topic + "[" +
                                               std::to_string(list->elems[i].partition) + "]");
      }
    }
  }
  rd_kafka_topic_partition_list_destroy(list);
  return s;
}

absl::StatusOr<std::optional<EventPosition>> ReadLatestPosition(const KafkaConfig& kafka, const std::string& topic,
                                                                const std::string& key, absl::Duration timeout) {
  std::optional<EventPosition> latest;
  PHONY_RETURN_IF_ERROR(ReadWholeTopic(
      kafka, topic, timeout,
      [&](int32_t partition, int64_t offset, std::string_view k, std::string_view value) -> absl::Status {
        if (k != key) return absl::OkStatus();
        ByteReader r(value, "position record");
        auto pos = DecodePosition(r);
        if (!pos.ok()) {
          return absl::DataLossError("kafka: position record at " + topic + "[" + std::to_string(partition) +
                                     "]@" + std::to_string(offset) + ": " + std::string(pos.status().message()));
        }
        latest = *pos;
        return absl::OkStatus();
      }));
  return latest;
}

}  // namespace phony::kafka
