// PublicTopicWriter: the public side of the Kafka transport. It turns
// (anonymized) events into Debezium change events on per-table topics
// `<topic_prefix>.<schema>.<table>`, keyed by the key columns (partitioned by
// Java's murmur2 of the key bytes, as a Java producer would), with a
// tombstone after each delete, a primary-key change shown as Debezium shows
// it (a delete of the old key, its tombstone, a create of the new key), and
// BEGIN/END records with per-table counts on `<topic_prefix>.transaction`.
// It is a BusProducer: a batch is acked once the broker acknowledged every
// record rendered from it. Topics are created on first use.
//
// Raw (unanonymized) events must never be written here: the transformer
// (issue #5) is its producer.
#pragma once

#include <map>
#include <memory>
#include <set>
#include <string>

#include "absl/status/statusor.h"
#include "core/bus.h"
#include "core/config.h"
#include "core/envelope.h"
#include "src/kafka/kafka_bus.h"

namespace phony::kafka {

struct PublicWriterOptions {
  KafkaConfig kafka;
  std::string connector = "postgresql";  // source.connector
  std::string client_id = "phony-public";
};

// The rendering half of the public topics, without a producer of its own:
// turns events into records (topic, key, Debezium envelope) and creates
// each topic on first use. The transform stage writes its records in its
// own Kafka transactions; PublicTopicWriter pairs it with a producer.
class PublicRenderer {
 public:
  using Record = KafkaBusProducer::Record;
  explicit PublicRenderer(PublicWriterOptions options);

  // Schema events are remembered (every change names its table's version);
  // a change for an unknown version is kFailedPrecondition.
  absl::Status Render(const Event& event, std::vector<Record>* out);

  // The open source transaction's state, to roll back a refused batch.
  struct TxState {
    std::string id;
    uint64_t xid = 0;
    uint64_t total_order = 0;
    std::map<std::string, uint64_t> per_table;
  };
  TxState SaveTx() const { return tx_; }
  void RestoreTx(TxState state) { tx_ = std::move(state); }

 private:
  absl::Status EnsureTopic(const std::string& topic);

  PublicWriterOptions options_;
  EnvelopeOptions envelope_;
  // (qualified table, version) -> its renderer (schema, prepared parts).
  std::map<std::pair<std::string, uint32_t>, std::unique_ptr<EnvelopeRenderer>> schemas_;
  std::set<std::string> topics_ready_;
  std::map<TableId, std::string> topic_names_;  // table -> its public topic
  std::string tx_topic_;
  TxState tx_;
};

class PublicTopicWriter : public BusProducer {
 public:
  static absl::StatusOr<std::unique_ptr<PublicTopicWriter>> Create(PublicWriterOptions options, AckCallback on_ack,
                                                                  NackCallback on_nack);
  ~PublicTopicWriter() override;

  // Schema events are remembered (every change names its table's version);
  // a change for an unknown version is kFailedPrecondition, batch intact.
  absl::Status Publish(EventBatch&& batch, absl::Duration timeout) override;
  void Close() override;
  absl::Status Flush(absl::Duration timeout);

  // The envelope options the config selects.
  static EnvelopeOptions EnvelopeOptionsFor(const KafkaConfig& kafka);

 private:
  PublicTopicWriter(PublicWriterOptions options, std::unique_ptr<KafkaBusProducer> producer);

  PublicRenderer renderer_;
  std::unique_ptr<KafkaBusProducer> producer_;  // its machinery, with no topic of its own
};

}  // namespace phony::kafka
