#include "src/cli/transform_command.h"

#include <csignal>
#include <cstdio>
#include <iostream>
#include <map>
#include <memory>

#include "core/config.h"
#include "core/event_codec.h"
#include "core/state_store.h"
#include "core/status_macros.h"
#include "spdlog/spdlog.h"
#include "src/capture/postgres/replication_client.h"
#include "src/cli/retry.h"
#include "src/cli/mapping_state.h"
#include "src/cli/pipeline_counters.h"
#include "src/cli/stage_common.h"
#include "src/kafka/kafka_admin.h"
#include "src/kafka/kafka_eos.h"
#include "src/kafka/kafka_public.h"
#include "src/kafka/kafka_topics.h"
#include "src/transform/keyed.h"
#include "src/transform/mapping_store.h"
#include "src/transform/store_ledger.h"
#include "src/transform/transformer.h"

namespace phony::cli {
namespace {

std::atomic<bool>& g_stop = StopFlag();

using transform::StoreLedger;

// The per-event work of the stage: decode, anonymize, re-encode into the
// anonymized topic's partition, render the public records.
class Processor {
 public:
  Processor(const JobConfig& config, transform::Transformer* transformer, kafka::PublicRenderer* renderer,
            transform::MappingStore* store, transform::BackgroundFlusher* flusher, PipelineCounters* counters)
      : config_(config),
        topics_(kafka::TopicsFor(*config.kafka, config.name)),
        transformer_(transformer),
        renderer_(renderer),
        store_(store),
        flusher_(flusher),
        counters_(counters) {}

  // Learns one schema record of the schema topic (at start).
  absl::Status LearnSchemaRecord(int32_t partition, int64_t offset, std::string_view value) {
    auto event = DecodeEvent(value);
    if (!event.ok() || !std::holds_alternative<SchemaEvent>(*event)) {
      return absl::DataLossError("schema record at " + topics_.schemas + "[" + std::to_string(partition) + "]@" +
                                 std::to_string(offset) + " does not decode as a schema event");
    }
    PHONY_RETURN_IF_ERROR(transformer_->Transform(&*event));
    if (renderer_ != nullptr) {
      std::vector<kafka::PublicRenderer::Record> ignored;
      PHONY_RETURN_IF_ERROR(renderer_->Render(*event, &ignored));
    }
    ++schemas_learnt_;
    return absl::OkStatus();
  }

  absl::Status Process(const kafka::ExactlyOnceStage::Input& in, std::vector<kafka::ExactlyOnceStage::Output>* out,
                       bool* boundary) {
    auto event = DecodeEvent(in.value);
    if (!event.ok()) {
      return absl::DataLossError("a raw record does not decode: " + std::string(event.status().message()));
    }
    if (absl::Status s = transformer_->Transform(&*event); !s.ok()) return s;
    if (counters_ != nullptr) {
      counters_->transformed_events.fetch_add(1, std::memory_order_relaxed);
      if (std::holds_alternative<TxCommit>(*event)) {
        counters_->transformed_transactions.fetch_add(1, std::memory_order_relaxed);
      }
    }
    // The anonymized internal stream: the same partition as the raw one,
    // keyed by the anonymized key (never the raw key bytes).
    kafka::ExactlyOnceStage::Output o;
    o.topic = topics_.anonymized;
    o.partition = in.partition;
    if (const auto* c = std::get_if<ChangeEvent>(&*event); c != nullptr && config_.kafka->partitions > 1) {
      o.key = kafka::EventKey(*c);
    }
    EncodeEvent(*event, &o.value);
    out->push_back(std::move(o));
    // A truncate is in every partition of an N-partition stream: public
    // topics get it once.
    const auto* change = std::get_if<ChangeEvent>(&*event);
    const bool copy = change != nullptr && change->op == ChangeOp::kTruncate && in.partition != 0;
    if (renderer_ != nullptr && !copy) {
      records_.clear();
      PHONY_RETURN_IF_ERROR(renderer_->Render(*event, &records_));
      for (auto& r : records_) {
        out->push_back({.topic = std::move(r.topic), .partition = -1, .key = std::move(r.key),
                        .value = std::move(r.value), .tombstone = r.tombstone});
      }
    }
    // Kafka transactions end only between source transactions, so the
    // public BEGIN/END records and their counts are never split.
    if (std::holds_alternative<TxBegin>(*event)) in_source_tx_[in.partition] = true;
    if (std::holds_alternative<TxCommit>(*event)) in_source_tx_[in.partition] = false;
    bool inside = false;
    for (const auto& [p, open] : in_source_tx_) inside = inside || open;
    *boundary = !inside;
    // The ledger thread's health and backlog, every 256 inputs (both take
    // locks).
    if (flusher_ != nullptr && (++inputs_ & 255) == 0) {
      PHONY_RETURN_IF_ERROR(flusher_->status());
      if (flusher_->Backlogged()) PHONY_RETURN_IF_ERROR(store_->Flush(false));
    }
    return absl::OkStatus();
  }

  int schemas_learnt() const { return schemas_learnt_; }

 private:
  const JobConfig& config_;
  kafka::TopicNames topics_;
  transform::Transformer* transformer_;
  kafka::PublicRenderer* renderer_;
  transform::MappingStore* store_;
  transform::BackgroundFlusher* flusher_;  // the ledger is a local record, written in batches, synced at exit
  PipelineCounters* counters_;
  uint64_t inputs_ = 0;
  std::vector<kafka::PublicRenderer::Record> records_;
  std::map<int32_t, bool> in_source_tx_;
  int schemas_learnt_ = 0;
};

}  // namespace

int RunTransform(const TransformFlags& flags) {
  auto loaded = LoadJob(flags.config_path, "transform");
  if (!loaded) return kExitConfig;
  const JobConfig& config = loaded->config;
  if (!config.kafka) {
    std::cerr << "phony transform: " << flags.config_path
              << ": the job has no kafka section; without Kafka the stages run together in one process "
                 "(phony run, issue #8)\n";
    return kExitConfig;
  }
  InstallStopSignals();

  auto mappings = OpenMappings(config, loaded->secrets.anonymization_secret, flags.instance);
  if (!mappings.ok()) {
    spdlog::error("transform: {}", std::string(mappings.status().message()));
    return kExitServer;
  }
  StoreLedger ledger(mappings->store.get());
  auto transformer =
      transform::Transformer::Create(config, loaded->secrets.anonymization_secret.value(), {.ledger = &ledger});
  if (!transformer.ok()) {
    std::cerr << "phony transform: " << flags.config_path << ":\n" << transformer.status().message() << "\n";
    return kExitConfig;
  }

  const kafka::TopicNames topics = kafka::TopicsFor(*config.kafka, config.name);
  auto with_retries = [](const char* what, auto attempt) {
    return RetryWhileUnavailable("transform: kafka", what, g_stop, attempt);
  };
  absl::Status ready = with_retries("preparing topics", [&] {
    return kafka::EnsureTopics(*config.kafka,
                               {{.name = topics.anonymized, .partitions = config.kafka->partitions,
                                 .replication_factor = config.kafka->replication_factor}},
                               absl::Seconds(10));
  });
  if (!ready.ok()) {
    spdlog::error("transform: {}", std::string(ready.message()));
    return ExitCodeFor(ready);
  }

  std::unique_ptr<kafka::PublicRenderer> renderer;
  if (!flags.no_public) {
    renderer = std::make_unique<kafka::PublicRenderer>(kafka::PublicWriterOptions{
        .kafka = *config.kafka, .connector = config.source.is_postgres() ? "postgresql" : "mysql"});
  }
  transform::BackgroundFlusher flusher(mappings->store.get(), 50000);
  Processor processor(config, transformer->get(), renderer.get(), mappings->store.get(), &flusher, flags.counters);

  // Every schema version capture has described, so that events of any
  // version can be transformed wherever the committed offsets resume. The
  // topic appears with the capture's first schema event: wait for it.
  absl::Status learnt = with_retries("reading the schema topic", [&]() -> absl::Status {
    absl::Status s = kafka::ReadWholeTopic(
        *config.kafka, topics.schemas, absl::Seconds(60),
        [&](int32_t partition, int64_t offset, std::string_view, std::string_view value) {
          return processor.LearnSchemaRecord(partition, offset, value);
        });
    // No schema topic yet: capture has not started. Wait like for a broker.
    if (absl::IsFailedPrecondition(s) && s.message().find("does not exist") != std::string_view::npos) {
      return absl::UnavailableError(std::string(s.message()) + " (has capture started?)");
    }
    return s;
  });
  if (!learnt.ok()) {
    spdlog::error("transform: {}", std::string(learnt.message()));
    return ExitCodeFor(learnt);
  }
  if (g_stop.load()) return 0;
  spdlog::info("transform: learnt {} schema version(s) from {}", processor.schemas_learnt(), topics.schemas);

  auto stage = with_retries("starting the transactional producer", [&] {
    return kafka::ExactlyOnceStage::Create(
        {.kafka = *config.kafka,
         .group_id = "phony-transform-" + config.name,
         .input_topics = {topics.raw},
         .transactional_id_prefix = "phony-transform-" + config.name,
         .member_id = "phony-transform-" + config.name + "-" + std::to_string(flags.instance),
         .client_id = "phony-transform-" + config.name,
         .max_tx_interval = absl::Milliseconds(config.kafka->transaction_interval_ms)});
  });
  if (!stage.ok()) {
    spdlog::error("transform: {}", std::string(stage.status().message()));
    return ExitCodeFor(stage.status());
  }
  spdlog::info("transform: {} -> {}{} (exactly once)", topics.raw, topics.anonymized,
               renderer ? " and public topics " + config.kafka->topic_prefix + ".*" : "");

  uint64_t last_inputs = 0;
  absl::Time last_progress = absl::Now();
  auto stop = [&] {
    if (g_stop.load()) return true;
    if (flags.stop_after_idle_seconds <= 0) return false;
    const auto st = (*stage)->stats();
    const uint64_t inputs = st.inputs;
    // Idle counts only once partitions are assigned (a group that is still
    // rebalancing is not idle).
    if (st.assignments == 0) last_progress = absl::Now();
    if (inputs != last_inputs) {
      last_inputs = inputs;
      last_progress = absl::Now();
    }
    return absl::Now() - last_progress > absl::Seconds(flags.stop_after_idle_seconds);
  };
  absl::Status s = (*stage)->Run(
      [&](const kafka::ExactlyOnceStage::Input& in, std::vector<kafka::ExactlyOnceStage::Output>* out,
          bool* boundary) { return processor.Process(in, out, boundary); },
      stop);
  const auto stats = (*stage)->stats();
  const auto& tstats = (*transformer)->stats();
  absl::Status flushed = flusher.Stop();
  if (flushed.ok()) flushed = mappings->store->Flush(true);
  const double busy = stats.inputs > 0 ? absl::ToDoubleSeconds(stats.last_input - stats.first_input) : 0;
  spdlog::info("transform: stopped after {} events in {} Kafka transactions ({} aborted); {} rows, {} values "
               "transformed, {} redacted; {:.2f} s from the first event to the last ({:.0f} events/s)",
               stats.inputs, stats.transactions, stats.aborts, tstats.rows, tstats.values_transformed,
               tstats.values_redacted, busy, busy > 0 ? static_cast<double>(stats.inputs) / busy : 0.0);
  for (const std::string& column : (*transformer)->UnreviewedColumns()) {
    spdlog::warn("transform: {} has no rule (anonymization.unlisted_columns applies): review it", column);
  }
  if (!s.ok()) {
    spdlog::error("transform: {}", std::string(s.message()));
    return ExitCodeFor(s);
  }
  if (!flushed.ok()) {
    spdlog::error("transform: mapping store: {}", std::string(flushed.message()));
    return kExitServer;
  }
  return 0;
}

int RunPreview(const PreviewFlags& flags) {
  auto loaded = LoadJob(flags.config_path, "preview");
  if (!loaded) return kExitConfig;
  const JobConfig& config = loaded->config;
  if (!config.source.is_postgres()) {
    std::cerr << "phony preview: MySQL/MariaDB sources arrive with issue #9\n";
    return kExitUsage;
  }
  if (flags.rows < 1 || flags.rows > 10000) {
    std::cerr << "phony preview: --rows must be between 1 and 10000\n";
    return kExitUsage;
  }
  // A dry run: no mapping store, nothing written anywhere.
  auto transformer = transform::Transformer::Create(config, loaded->secrets.anonymization_secret.value(), {});
  if (!transformer.ok()) {
    std::cerr << "phony preview: " << flags.config_path << ":\n" << transformer.status().message() << "\n";
    return kExitConfig;
  }
  pg::PgConnectOptions connect;
  connect.host = config.source.host;
  connect.port = config.source.port;
  connect.database = config.source.database;
  connect.user = config.source.user;
  if (loaded->secrets.source_password) connect.password = loaded->secrets.source_password->value();
  connect.application_name = "phony-preview-" + config.name;
  auto client = pg::PgReplicationClient::Connect(connect);
  if (!client.ok()) {
    std::cerr << "phony preview: " << client.status().message() << "\n";
    return kExitServer;
  }
  TableId table{config.source.database, config.DefaultSchema(), flags.table};
  if (const size_t dot = flags.table.find('.'); dot != std::string::npos) {
    table.schema = flags.table.substr(0, dot);
    table.table = flags.table.substr(dot + 1);
  }
  auto sample = (*client)->SampleTable(table, flags.rows);
  if (!sample.ok()) {
    std::cerr << "phony preview: " << sample.status().message() << "\n";
    return absl::IsNotFound(sample.status()) ? kExitUsage : kExitServer;
  }
  // Referenced tables first, so that a foreign key column inherits its
  // key's rule as it will in the stream.
  for (const ForeignKey& fk : sample->schema.foreign_keys) {
    if (fk.referenced == sample->schema.id) continue;
    auto ref = (*client)->SampleTable(fk.referenced, 1);
    if (ref.ok()) (void)(*transformer)->LearnSchema(ref->schema);
  }
  if (absl::Status s = (*transformer)->LearnSchema(sample->schema); !s.ok()) {
    std::cerr << "phony preview: " << s.message() << "\n";
    return kExitConfig;
  }
  const TableSchema& schema = sample->schema;
  // Rows go to the operator's terminal only; nothing is logged.
  std::cout << "# " << schema.id.QualifiedName() << ": " << sample->rows.size() << " sampled row(s); rules:\n";
  size_t width = 0;
  for (const ColumnDef& c : schema.columns) width = std::max(width, c.name.size());
  for (const ColumnDef& c : schema.columns) {
    std::cout << "#   " << c.name << std::string(width - c.name.size(), ' ') << "  "
              << (*transformer)->DescribeColumn(schema.id, c.name) << "\n";
  }
  for (size_t r = 0; r < sample->rows.size(); ++r) {
    Row after = sample->rows[r];
    if (absl::Status s = (*transformer)->TransformRow(schema.id, &after); !s.ok()) {
      std::cerr << "phony preview: " << s.message() << "\n";
      return kExitConfig;
    }
    std::cout << "\nrow " << (r + 1) << "\n";
    for (size_t i = 0; i < schema.columns.size(); ++i) {
      const ColumnDef& c = schema.columns[i];
      const std::string before = pg::PgTextOut(c.type_id, sample->rows[r][i]);
      const std::string now = pg::PgTextOut(c.type_id, after[i]);
      std::cout << "  " << c.name << std::string(width - c.name.size(), ' ') << "  "
                << (sample->rows[r][i].is_null() ? "NULL" : before) << "  ->  " << (after[i].is_null() ? "NULL" : now)
                << "\n";
    }
  }
  return 0;
}

int RunMappingOverride(const MappingFlags& flags) {
  auto loaded = LoadJob(flags.config_path, "mapping");
  if (!loaded) return kExitConfig;
  std::string original = flags.original;
  if (original == "-") {
    if (!std::getline(std::cin, original)) {
      std::cerr << "phony mapping: no original on stdin\n";
      return kExitUsage;
    }
  }
  if (flags.domain.empty() || original.empty() || (!flags.remove && flags.fake.empty())) {
    std::cerr << "phony mapping: --domain, --original and --fake (or --remove) are required\n";
    return kExitUsage;
  }
  auto mappings = OpenMappings(loaded->config, loaded->secrets.anonymization_secret, flags.instance);
  if (!mappings.ok()) {
    std::cerr << "phony mapping: " << mappings.status().message() << "\n";
    return kExitServer;
  }
  const std::string domain = flags.domain + ":v" + std::to_string(flags.version);
  absl::Status s = flags.remove ? mappings->store->RemoveOverride(domain, original)
                                : mappings->store->SetOverride(domain, original, flags.fake, flags.unique);
  if (!s.ok()) {
    std::cerr << "phony mapping: " << s.message() << "\n";
    return kExitConfig;
  }
  std::cout << (flags.remove ? "override removed from domain " : "override set in domain ") << domain << "\n";
  return 0;
}

}  // namespace phony::cli
