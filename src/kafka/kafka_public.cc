#include "src/kafka/kafka_public.h"

#include "absl/time/clock.h"
#include "core/status_macros.h"
#include "spdlog/spdlog.h"
#include "src/kafka/kafka_admin.h"
#include "src/kafka/kafka_topics.h"

namespace phony::kafka {

EnvelopeOptions PublicTopicWriter::EnvelopeOptionsFor(const KafkaConfig& kafka) {
  EnvelopeOptions o;
  o.decimal_handling = kafka.decimal_handling == "string"   ? DecimalHandling::kString
                       : kafka.decimal_handling == "double" ? DecimalHandling::kDouble
                                                            : DecimalHandling::kPrecise;
  o.include_schema = kafka.include_schema;
  o.topic_prefix = kafka.topic_prefix;
  return o;
}

PublicRenderer::PublicRenderer(PublicWriterOptions options)
    : options_(std::move(options)), envelope_(PublicTopicWriter::EnvelopeOptionsFor(options_.kafka)) {}

PublicTopicWriter::PublicTopicWriter(PublicWriterOptions options, std::unique_ptr<KafkaBusProducer> producer)
    : renderer_(std::move(options)), producer_(std::move(producer)) {}

PublicTopicWriter::~PublicTopicWriter() = default;

absl::StatusOr<std::unique_ptr<PublicTopicWriter>> PublicTopicWriter::Create(PublicWriterOptions options,
                                                                            AckCallback on_ack,
                                                                            NackCallback on_nack) {
  PHONY_ASSIGN_OR_RETURN(auto producer,
                         KafkaBusProducer::Create({.kafka = options.kafka, .client_id = options.client_id},
                                                  std::move(on_ack), std::move(on_nack)));
  return std::unique_ptr<PublicTopicWriter>(new PublicTopicWriter(std::move(options), std::move(producer)));
}

absl::Status PublicRenderer::EnsureTopic(const std::string& topic) {
  if (topics_ready_.count(topic)) return absl::OkStatus();
  PHONY_RETURN_IF_ERROR(EnsureTopics(options_.kafka, {{.name = topic,
                                                       .partitions = options_.kafka.public_partitions,
                                                       .replication_factor = options_.kafka.replication_factor}}));
  topics_ready_.insert(topic);
  return absl::OkStatus();
}

namespace {

bool KeyChanged(const ChangeEvent& c) {
  if (!c.before || !c.after) return false;
  for (uint16_t i : c.key_columns) {
    if (i >= c.before->size() || i >= c.after->size()) continue;
    const Value& b = (*c.before)[i];
    if (b.is_null() || b.is_unchanged()) continue;  // an old image without the key says nothing
    if (!(b == (*c.after)[i])) return true;
  }
  return false;
}

}  // namespace

absl::Status PublicRenderer::Render(const Event& event, std::vector<Record>* out) {
  const std::string& prefix = options_.kafka.topic_prefix;
  if (tx_topic_.empty()) tx_topic_ = TopicsFor(options_.kafka, "").transactions;
  const std::string& tx_topic = tx_topic_;
  const int64_t now_ms = absl::ToUnixMillis(absl::Now());
  if (const auto* s = std::get_if<SchemaEvent>(&event)) {
    schemas_[{s->schema.id.QualifiedName(), s->schema.version}] = std::make_unique<EnvelopeRenderer>(
        s->schema, EnvelopeSource{.connector = options_.connector, .name = options_.kafka.topic_prefix}, envelope_);
    return EnsureTopic(PublicTopic(prefix, s->schema.id));
  }
  if (const auto* b = std::get_if<TxBegin>(&event)) {
    tx_.xid = b->xid;
    tx_.id = b->position.kind() == EventPosition::Kind::kPostgres
                 ? std::to_string(b->xid) + ":" + std::to_string(b->position.commit_lsn().value())
                 : b->position.ToString();
    tx_.total_order = 0;
    tx_.per_table.clear();
    if (options_.kafka.transaction_metadata) {
      PHONY_RETURN_IF_ERROR(EnsureTopic(tx_topic));
      out->push_back({tx_topic, RenderTransactionKey(tx_.id, envelope_),
                      RenderTransactionBegin(tx_.id, b->commit_ts_us / 1000, envelope_)});
    }
    return absl::OkStatus();
  }
  if (const auto* c = std::get_if<TxCommit>(&event)) {
    if (options_.kafka.transaction_metadata && !tx_.id.empty()) {
      std::vector<std::pair<std::string, uint64_t>> counts(tx_.per_table.begin(), tx_.per_table.end());
      out->push_back({tx_topic, RenderTransactionKey(tx_.id, envelope_),
                      RenderTransactionEnd(tx_.id, c->commit_ts_us / 1000, counts, envelope_)});
    }
    tx_.id.clear();
    return absl::OkStatus();
  }
  const auto& change = std::get<ChangeEvent>(event);
  const std::vector<TableId> tables =
      change.op == ChangeOp::kTruncate && !change.truncated.empty() ? change.truncated
                                                                    : std::vector<TableId>{change.table};
  for (const TableId& table : tables) {
    ChangeEvent e = change;
    e.table = table;
    auto it = schemas_.find({table.QualifiedName(), change.schema_version});
    if (it == schemas_.end() && change.op == ChangeOp::kTruncate) {
      // A truncated table's own version is not named by the event: its latest.
      for (auto s = schemas_.rbegin(); s != schemas_.rend(); ++s) {
        if (s->first.first == table.QualifiedName()) {
          it = std::prev(s.base());
          break;
        }
      }
    }
    if (it == schemas_.end()) {
      return absl::FailedPreconditionError("public topics: no schema version " +
                                           std::to_string(change.schema_version) + " of " +
                                           table.QualifiedName() + " was seen before its change");
    }
    const EnvelopeRenderer& renderer = *it->second;
    auto [named, fresh] = topic_names_.try_emplace(table);
    if (fresh) named->second = PublicTopic(prefix, table);
    const std::string& topic = named->second;
    PHONY_RETURN_IF_ERROR(EnsureTopic(topic));
    auto emit = [&](const ChangeEvent& one) {
      const std::string collection = table.QualifiedName();
      EnvelopeTransaction block;
      const EnvelopeTransaction* tx = nullptr;
      if (!tx_.id.empty()) {
        block = {.id = tx_.id, .total_order = ++tx_.total_order, .data_collection_order = ++tx_.per_table[collection]};
        tx = &block;
      }
      const std::optional<Row>& key_row = one.op == ChangeOp::kDelete ? one.before : one.after;
      std::string key = key_row ? renderer.Key(*key_row) : std::string();
      out->push_back({topic, key, renderer.Render(one, tx_.xid, one.op == ChangeOp::kRead, now_ms, tx)});
      if (one.op == ChangeOp::kDelete && options_.kafka.tombstones_on_delete && !key.empty()) {
        out->push_back({topic, key, std::string(), /*tombstone=*/true});
      }
    };
    if (e.op == ChangeOp::kUpdate && KeyChanged(e)) {
      // Debezium's rendering of a key change: delete the old key, create the new.
      ChangeEvent del = e, create = e;
      del.op = ChangeOp::kDelete;
      del.after.reset();
      create.op = ChangeOp::kInsert;
      create.before.reset();
      emit(del);
      emit(create);
    } else {
      emit(e);
    }
  }
  return absl::OkStatus();
}

absl::Status PublicTopicWriter::Publish(EventBatch&& batch, absl::Duration timeout) {
  // Rendering mutates the transaction state: roll it back if the batch is
  // refused, so a retry renders the same records.
  const PublicRenderer::TxState saved_tx = renderer_.SaveTx();
  std::vector<PublicRenderer::Record> records;
  absl::Status s;
  for (const Event& e : batch.events) {
    s = renderer_.Render(e, &records);
    if (!s.ok()) break;
  }
  if (s.ok()) s = producer_->PublishRecords(batch.id, records, timeout);
  if (!s.ok()) {
    renderer_.RestoreTx(saved_tx);
    return s;
  }
  batch.events.clear();
  return absl::OkStatus();
}

void PublicTopicWriter::Close() { producer_->Close(); }

absl::Status PublicTopicWriter::Flush(absl::Duration timeout) { return producer_->Flush(timeout); }

}  // namespace phony::kafka
