#include "src/cli/apply_command.h"

#include <map>
#include <utility>

#include <iostream>
#include <memory>

#include "core/config.h"
#include "core/event_codec.h"
#include "core/status_macros.h"
#include "spdlog/spdlog.h"
#include "src/apply/apply_loop.h"
#include "src/apply/apply_stage.h"
#include "src/apply/mysql/my_writer.h"
#include "src/apply/postgres/pg_writer.h"
#include "src/cli/retry.h"
#include "src/cli/pipeline_counters.h"
#include "src/cli/stage_common.h"
#include "src/kafka/kafka_admin.h"
#include "src/kafka/kafka_bus.h"
#include "src/kafka/kafka_eos.h"
#include "src/kafka/kafka_topics.h"

namespace phony::cli {
namespace {

// The consumer group member as the loop's rewindable source. With
// `counters` (phony run's /metrics) it counts what staging committed: each
// delivery's transactions when it is acked.
class KafkaSource : public apply::ApplySource {
 public:
  KafkaSource(std::unique_ptr<kafka::KafkaBusConsumer> consumer, PipelineCounters* counters)
      : consumer_(std::move(consumer)), counters_(counters) {}
  absl::StatusOr<std::optional<Delivery>> Poll(absl::Duration timeout) override {
    auto d = consumer_->Poll(timeout);
    if (counters_ != nullptr && d.ok() && d->has_value()) {
      Counts c;
      for (const Event& e : (*d)->batch.events) {
        if (const auto* commit = std::get_if<TxCommit>(&e)) {
          ++c.transactions;
          c.rows += commit->event_count;
          c.last_commit_us = commit->commit_ts_us;
        }
      }
      if (c.transactions > 0) pending_[{(*d)->offset.partition, (*d)->offset.offset}] = c;
    }
    return d;
  }
  absl::Status Ack(const KafkaOffset& offset) override {
    if (counters_ != nullptr) {
      if (auto it = pending_.find({offset.partition, offset.offset}); it != pending_.end()) {
        counters_->applied_transactions.fetch_add(it->second.transactions, std::memory_order_relaxed);
        counters_->applied_rows.fetch_add(it->second.rows, std::memory_order_relaxed);
        counters_->applied_commit_micros.store(it->second.last_commit_us, std::memory_order_relaxed);
        pending_.erase(it);
      }
    }
    return consumer_->Ack(offset);
  }
  absl::Status Rewind(const std::function<int64_t(const apply::StreamPartition&)>& start) override {
    pending_.clear();  // what comes again is counted again
    return consumer_->Rewind([&](const std::string& topic, int32_t partition) { return start({topic, partition}); });
  }
  bool Ready() const override { return consumer_->assigned_partitions() > 0; }
  absl::Status Flow(const apply::StreamPartition& p, bool on) override { return consumer_->Flow(p.first, p.second, on); }
  int AssignedPartitions() const override { return static_cast<int>(consumer_->assigned_partitions()); }

 private:
  struct Counts {
    uint64_t transactions = 0;
    uint64_t rows = 0;
    int64_t last_commit_us = 0;
  };
  std::unique_ptr<kafka::KafkaBusConsumer> consumer_;
  PipelineCounters* counters_;
  std::map<std::pair<int32_t, int64_t>, Counts> pending_;  // (partition, offset) of unacked deliveries
};

}  // namespace

std::unique_ptr<apply::StagingWriter> MakeStagingWriter(const JobConfig& config, const ResolvedSecrets& secrets) {
  const std::string password = PasswordOf(secrets.target_password);
  if (config.target.is_postgres()) {
    return std::make_unique<apply::PgWriter>(apply::PgWriterOptions{.host = config.target.host,
                                                                    .port = config.target.port,
                                                                    .database = config.target.database,
                                                                    .user = config.target.user,
                                                                    .password = password,
                                                                    .source_is_postgres = config.source.is_postgres()});
  }
  apply::MyWriterOptions options{.host = config.target.host,
                                 .port = config.target.port,
                                 .user = config.target.user,
                                 .password = password,
                                 .source_is_postgres = config.source.is_postgres()};
  // A MySQL/MariaDB source's database lands in target.database.
  if (!config.source.is_postgres() && !config.target.database.empty() &&
      config.target.database != config.source.database) {
    options.database_renames[config.source.database] = config.target.database;
  }
  return std::make_unique<apply::MyWriter>(std::move(options));
}

apply::ApplyOptions ApplyOptionsFor(const JobConfig& config, int partitions) {
  const ApplyConfig& ac = config.apply;
  return {.batch_transactions = static_cast<size_t>(ac.batch_transactions),
          .batch_rows = static_cast<size_t>(ac.batch_rows),
          .batch_delay = absl::Milliseconds(ac.batch_delay_ms),
          .chunk_rows = static_cast<size_t>(ac.chunk_rows),
          .stop_on_dead_letter = ac.stop_on_dead_letter,
          .partitions = static_cast<size_t>(partitions)};
}

int RunApply(const ApplyFlags& flags) {
  auto loaded = LoadJob(flags.config_path, "apply");
  if (!loaded) return kExitConfig;
  const JobConfig& config = loaded->config;
  const ResolvedSecrets& secrets = loaded->secrets;
  if (!config.kafka) {
    std::cerr << "phony apply: " << flags.config_path
              << ": the job has no kafka section; without Kafka the stages run together in one process "
                 "(phony run, issue #8)\n";
    return kExitConfig;
  }
  if (!config.target.is_postgres() && !config.source.is_postgres() && config.kafka->partitions > 1) {
    std::cerr << "phony apply: " << flags.config_path
              << ": kafka.partitions: a MySQL/MariaDB source into MySQL/MariaDB staging needs the single-partition "
                 "stream (InnoDB cascades are not in the binlog, so staging cascades itself, which needs source "
                 "order)\n";
    return kExitConfig;
  }
  InstallStopSignals();
  std::atomic<bool>& stop = StopFlag();

  std::unique_ptr<apply::StagingWriter> writer = MakeStagingWriter(config, secrets);
  apply::ApplyStage stage(writer.get(), ApplyOptionsFor(config, config.kafka->partitions));
  absl::Status started = RetryWhileUnavailable("apply: staging", "connecting", stop, [&] { return stage.Start(); });
  if (!started.ok()) {
    spdlog::error("apply: {}", std::string(started.message()));
    return ExitCodeFor(started);
  }

  // Every table version capture described, so events of any version apply
  // wherever reading resumes. The topic appears with capture's first
  // schema event: wait for it like for a broker.
  const kafka::TopicNames topics = kafka::TopicsFor(*config.kafka, config.name);
  int learnt = 0;
  absl::Status schemas = RetryWhileUnavailable("apply: kafka", "reading the schema topic", stop, [&]() -> absl::Status {
    learnt = 0;
    absl::Status s = kafka::ReadWholeTopic(
        *config.kafka, topics.schemas, absl::Seconds(60),
        [&](int32_t partition, int64_t offset, std::string_view, std::string_view value) -> absl::Status {
          auto event = DecodeEvent(value);
          if (!event.ok() || !std::holds_alternative<SchemaEvent>(*event)) {
            return absl::DataLossError("schema record at " + topics.schemas + "[" + std::to_string(partition) +
                                       "]@" + std::to_string(offset) + " does not decode as a schema event");
          }
          stage.LearnSchema(std::get<SchemaEvent>(*event).schema);
          ++learnt;
          return absl::OkStatus();
        });
    if (absl::IsFailedPrecondition(s) && s.message().find("does not exist") != std::string_view::npos) {
      return absl::UnavailableError(std::string(s.message()) + " (has capture started?)");
    }
    return s;
  });
  if (!schemas.ok()) {
    spdlog::error("apply: {}", std::string(schemas.message()));
    return ExitCodeFor(schemas);
  }
  if (stop.load()) return 0;

  auto consumer = RetryWhileUnavailable("apply: kafka", "joining the consumer group", stop, [&] {
    return kafka::KafkaBusConsumer::Create(
        {.kafka = *config.kafka,
         .group_id = "phony-apply-" + config.name,
         .topics = {topics.anonymized},
         .start_offset = [&](const std::string& topic, int32_t partition) {
           return stage.StartOffset({topic, partition});
         },
         .group_instance_id = "phony-apply-" + config.name + "-" + std::to_string(flags.instance)});
  });
  if (!consumer.ok()) {
    spdlog::error("apply: {}", std::string(consumer.status().message()));
    return ExitCodeFor(consumer.status());
  }
  KafkaSource source(*std::move(consumer), flags.counters);
  spdlog::info("apply: {} -> {} staging {}:{}{} ({} schema versions known)", topics.anonymized,
               DatabaseTypeName(config.target.type), config.target.host, config.target.port,
               config.target.is_postgres() ? "/" + config.target.database : std::string(), learnt);
  absl::Status s = apply::RunApplyLoop(
      stage, source,
      {.stop = &stop,
       .stop_after_idle = flags.stop_after_idle_seconds > 0 ? absl::Seconds(flags.stop_after_idle_seconds)
                                                            : absl::ZeroDuration(),
       .partitions = static_cast<size_t>(config.kafka->partitions)});
  const apply::ApplyStats& st = stage.stats();
  spdlog::info("apply: stopped: {} rows in {} source transactions applied in {} staging commits; {} re-deliveries "
               "skipped, {} rows older than their table's copy skipped, {} schema changes, {} dead letters, {} "
               "rewinds",
               st.events, st.transactions, st.commits, st.skipped, st.before_copy, st.schema_changes, st.dead_letters,
               st.rewinds);
  if (!s.ok()) {
    spdlog::error("apply: {}", std::string(s.message()));
    return ExitCodeFor(s);
  }
  return 0;
}

}  // namespace phony::cli
