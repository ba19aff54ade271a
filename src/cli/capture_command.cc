#include "src/cli/capture_command.h"

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <map>
#include <memory>
#include <thread>
#include <type_traits>
#include <utility>

#include "core/config.h"
#include "core/embedded_bus.h"
#include "core/envelope.h"
#include "core/state_store.h"
#include "spdlog/spdlog.h"
#include "src/capture/postgres/pg_capture.h"
#include "src/cli/retry.h"
#include "src/cli/stage_common.h"
#include "src/capture/mysql/my_capture.h"
#include "src/kafka/kafka_admin.h"
#include "src/kafka/kafka_bus.h"
#include "src/kafka/kafka_topics.h"

namespace phony::cli {
namespace {

std::atomic<bool>& g_stop = StopFlag();

// Consumes the embedded bus: renders change events as envelopes on stdout,
// then acks the batch.
// A sink that cannot go on stops the capture: it shuts the bus down (the
// capture's pending publish fails, nothing more is confirmed) and sets the
// stop flag.
void RunJsonlSink(BusConsumer* consumer, const std::string& server_name, std::atomic<bool>* failed,
                  EmbeddedBus* bus, const char* connector) {
  auto fail = [&] {
    failed->store(true);
    g_stop.store(true);
    bus->Shutdown();
  };
  // One renderer per table version (field names and source header prepared once).
  std::map<std::pair<TableId, uint32_t>, std::unique_ptr<EnvelopeRenderer>> schemas;
  uint64_t xid = 0;
  std::string line;
  while (true) {
    auto d = consumer->Poll(absl::Milliseconds(200));
    if (!d.ok()) return;  // end of stream or shutdown
    if (!d->has_value()) continue;
    const int64_t now_ms = absl::ToUnixMillis(absl::Now());
    for (const Event& e : (*d)->batch.events) {
      if (const auto* s = std::get_if<SchemaEvent>(&e)) {
        schemas[{s->schema.id, s->schema.version}] = std::make_unique<EnvelopeRenderer>(
            s->schema, EnvelopeSource{.connector = connector, .name = server_name}, EnvelopeOptions{});
      } else if (const auto* b = std::get_if<TxBegin>(&e)) {
        xid = b->xid;
      } else if (const auto* c = std::get_if<ChangeEvent>(&e)) {
        auto it = schemas.find({c->table, c->schema_version});
        if (it == schemas.end()) {
          spdlog::error("jsonl sink: no schema version {} for {}", c->schema_version, c->table.QualifiedName());
          fail();
          return;
        }
        line = it->second->Render(*c, xid, c->op == ChangeOp::kRead, now_ms, nullptr);
        line.push_back('\n');
        std::fwrite(line.data(), 1, line.size(), stdout);
      }
    }
    if (std::fflush(stdout) != 0) {
      spdlog::error("jsonl sink: writing to stdout failed");
      fail();
      return;
    }
    (void)consumer->Ack((*d)->offset);
  }
}

// Acks every batch without writing it: for benchmarks and dry runs.
void RunNullSink(BusConsumer* consumer) {
  while (true) {
    auto d = consumer->Poll(absl::Milliseconds(200));
    if (!d.ok()) return;
    if (d->has_value()) (void)consumer->Ack((*d)->offset);
  }
}

}  // namespace

namespace {

// Capture into the job's internal raw topic (and its schema topic), the
// slot confirmed only up to what the broker acknowledged.
// Creates the job's raw, schema (and with transactions, positions) topics
// if missing; a broker that cannot be reached is retried with backoff (and
// said so); anything else (a refusal, a missing topic with creation off)
// stops here. 0, or the exit code.
int PrepareCaptureTopics(const JobConfig& config) {
  const kafka::TopicNames topics = kafka::TopicsFor(*config.kafka, config.name);
  std::map<std::string, std::string> raw_configs;
  if (config.kafka->raw_retention_ms >= 0) raw_configs["retention.ms"] = std::to_string(config.kafka->raw_retention_ms);
  std::vector<kafka::TopicSpec> specs = {
      {.name = topics.raw, .partitions = config.kafka->partitions,
       .replication_factor = config.kafka->replication_factor, .configs = raw_configs},
      {.name = topics.schemas, .partitions = 1, .replication_factor = config.kafka->replication_factor,
       .configs = {{"cleanup.policy", "compact"}}}};
  const bool exactly_once = config.kafka->transactions;
  if (exactly_once) {
    specs.push_back({.name = topics.positions, .partitions = 1, .replication_factor = config.kafka->replication_factor,
                     .configs = {{"cleanup.policy", "compact"}}});
  }
  absl::Status ready = RetryWhileUnavailable("capture: kafka", "preparing topics", g_stop, [&] {
    return kafka::EnsureTopics(*config.kafka, specs, absl::Seconds(10));
  });
  if (!ready.ok()) {
    spdlog::error("capture: {}", std::string(ready.message()));
    return ExitCodeFor(ready);
  }
  return 0;
}

// The producer into the job's raw topic. With kafka.transactions it is
// transactional, one id per job and `stream` (a second capture of the same
// stream fences the first), and writes the position under `position_key`.
// Acks and nacks go to *capture, set before the first batch.
template <typename Capture>
absl::StatusOr<std::unique_ptr<kafka::KafkaBusProducer>> StartRawProducer(const JobConfig& config,
                                                                          const std::string& stream,
                                                                          const std::string& position_key,
                                                                          Capture** capture) {
  const kafka::TopicNames topics = kafka::TopicsFor(*config.kafka, config.name);
  const bool exactly_once = config.kafka->transactions;
  return RetryWhileUnavailable("capture: kafka", "starting the producer", g_stop, [&] {
    return kafka::KafkaBusProducer::Create(
        {.kafka = *config.kafka, .topic = topics.raw, .partitions = config.kafka->partitions,
         .schema_topic = topics.schemas, .client_id = "phony-capture-" + config.name,
         .transactional_id = exactly_once ? "phony-capture-" + config.name + "-" + stream : "",
         .positions_topic = exactly_once ? topics.positions : "", .position_key = position_key},
        [capture](uint64_t id) { (*capture)->OnAck(id); },
        [capture](uint64_t id, const absl::Status& why) { (*capture)->OnNack(id, why); });
  });
}

int RunToKafka(const JobConfig& config, pg::PgCaptureOptions opts) {
  if (int code = PrepareCaptureTopics(config); code != 0) return code;
  const kafka::TopicNames topics = kafka::TopicsFor(*config.kafka, config.name);
  const bool exactly_once = config.kafka->transactions;
  pg::PgCapture* capture_ptr = nullptr;
  // Exactly-once: one transactional id per job and slot (a second capture
  // of the same stream fences the first); the position record under the
  // slot's key tells a restarted capture where the raw topic ends.
  const std::string position_key = "capture/" + opts.slot;
  if (exactly_once) {
    const KafkaConfig kafka_config = *config.kafka;
    const std::string positions = topics.positions;
    opts.resume_after = [kafka_config, positions, position_key]() -> absl::StatusOr<std::optional<Lsn>> {
      auto p = kafka::ReadLatestPosition(kafka_config, positions, position_key, absl::Seconds(30));
      if (!p.ok()) return p.status();
      if (!p->has_value()) return std::optional<Lsn>();
      return std::optional<Lsn>((*p)->commit_lsn());
    };
  }
  auto producer = StartRawProducer(config, opts.slot, position_key, &capture_ptr);
  if (!producer.ok()) {
    spdlog::error("capture: {}", std::string(producer.status().message()));
    return absl::IsInvalidArgument(producer.status()) ? kExitConfig : kExitServer;
  }
  pg::PgCapture capture(opts, producer->get());
  capture_ptr = &capture;
  spdlog::info("capture: writing to kafka topic {} ({} partitions{}) at {}", topics.raw,
               config.kafka->partitions, exactly_once ? ", transactional" : "", config.kafka->brokers);
  absl::Status s = capture.Run(g_stop);
  (*producer)->Close();
  spdlog::info("capture: stopped after {} transactions; confirmed {}", capture.transactions_published(),
               capture.confirmed().ToString());
  // The producer outlives no callback target: silence it before `capture` goes.
  producer->reset();
  if (!s.ok()) {
    spdlog::error("capture: {}", std::string(s.message()));
    return ExitCodeFor(s);
  }
  return 0;
}

// A MySQL/MariaDB source into the job's raw topic. The capture's position
// (state directory) is confirmed only up to what the broker acknowledged;
// with kafka.transactions, the positions topic, written in the same Kafka
// transaction as the events, says where a restarted capture continues.
int RunMySqlToKafka(const JobConfig& config, mysql::MySqlCaptureOptions opts) {
  if (int code = PrepareCaptureTopics(config); code != 0) return code;
  const kafka::TopicNames topics = kafka::TopicsFor(*config.kafka, config.name);
  const bool exactly_once = config.kafka->transactions;
  const std::string position_key = "capture/mysql-" + std::to_string(opts.client.server_id);
  if (exactly_once) {
    const KafkaConfig kafka_config = *config.kafka;
    const std::string positions = topics.positions;
    opts.resume_after = [kafka_config, positions, position_key]() {
      return kafka::ReadLatestPosition(kafka_config, positions, position_key, absl::Seconds(30));
    };
  }
  mysql::MySqlCapture* capture_ptr = nullptr;
  auto producer = StartRawProducer(config, "mysql", position_key, &capture_ptr);
  if (!producer.ok()) {
    spdlog::error("capture: {}", std::string(producer.status().message()));
    return absl::IsInvalidArgument(producer.status()) ? kExitConfig : kExitServer;
  }
  mysql::MySqlCapture capture(opts, producer->get());
  capture_ptr = &capture;
  InstallStopSignals();
  spdlog::info("capture: writing to kafka topic {} ({} partitions{}) at {}", topics.raw, config.kafka->partitions,
               exactly_once ? ", transactional" : "", config.kafka->brokers);
  absl::Status s = capture.Run(g_stop);
  (*producer)->Close();
  spdlog::info("capture: stopped after {} transactions; confirmed {}", capture.transactions_published(),
               capture.confirmed());
  producer->reset();
  if (!s.ok()) {
    spdlog::error("capture: {}", std::string(s.message()));
    return ExitCodeFor(s);
  }
  return 0;
}

int RunMySqlCapture(const JobConfig& config, const ResolvedSecrets& secrets, const CaptureFlags& flags,
                    const std::string& sink) {
  mysql::MySqlCaptureOptions opts;
  opts.client.host = config.source.host;
  opts.client.port = static_cast<uint16_t>(config.source.port);
  opts.client.user = config.source.user;
  if (secrets.source_password) opts.client.password = secrets.source_password->value();
  opts.client.server_id = ReplicaServerId(config.name);
  opts.filter = config.Filter();
  if (flags.stop_after_idle_seconds > 0) opts.stop_after_idle = absl::Seconds(flags.stop_after_idle_seconds);
  if (flags.check_only) {
    auto info = mysql::BinlogClient::Preflight(opts.client);
    if (!info.ok()) {
      std::cerr << "phony capture --check: " << info.status().message() << "\n";
      return kExitServer;
    }
    std::cout << "server " << info->version << (info->mariadb ? " (MariaDB)" : " (MySQL)") << "\n"
              << "binlog " << info->current_file << ":" << info->current_position << ", format "
              << info->binlog_format << ", row image " << info->row_image << ", row metadata "
              << info->row_metadata << ", checksum " << info->checksum << "\n"
              << "gtids " << (info->gtid_executed.empty() ? "(none)" : info->gtid_executed) << "\n";
    for (const auto& w : info->warnings) std::cout << "warning: " << w << "\n";
    for (const auto& e : info->errors) std::cout << "error: " << e << "\n";
    return info->errors.empty() ? 0 : kExitServer;
  }
  auto opened = StateStore::Open(StageStateDir(config.state_dir, "capture", 0),
                                 {.job_name = config.name, .stage = "capture"});
  if (!opened.ok()) {
    std::cerr << "phony capture: " << opened.status().message() << "\n";
    return kExitServer;
  }
  std::unique_ptr<StateStore> state = std::move(*opened);
  opts.state = state.get();
  if (sink == "kafka") return RunMySqlToKafka(config, opts);
  EmbeddedBus bus({.name = "raw"});
  mysql::MySqlCapture* capture_ptr = nullptr;
  auto producer = bus.CreateProducer([&](uint64_t id) { capture_ptr->OnAck(id); });
  mysql::MySqlCapture capture(opts, producer.get());
  capture_ptr = &capture;
  InstallStopSignals();
  auto consumer = bus.CreateConsumer();
  std::atomic<bool> sink_failed{false};
  std::thread sink_thread = sink == "null" ? std::thread(RunNullSink, consumer.get())
                                           : std::thread(RunJsonlSink, consumer.get(), config.name, &sink_failed,
                                                         &bus, "mysql");
  absl::Status s = capture.Run(g_stop);
  producer->Close();
  sink_thread.join();
  spdlog::info("capture: stopped after {} transactions; confirmed {}", capture.transactions_published(),
               capture.confirmed());
  if (sink_failed.load()) return kExitServer;
  if (!s.ok()) {
    spdlog::error("capture: {}", std::string(s.message()));
    return ExitCodeFor(s);
  }
  return 0;
}

}  // namespace

int RunCapture(const CaptureFlags& flags) {
  auto config = LoadJobConfigFile(flags.config_path);
  if (!config.ok()) {
    std::cerr << config.status().message() << "\n";
    return kExitConfig;
  }
  ResolvedSecrets secrets;
  if (auto problems = ResolveSecrets(*config, &secrets); !problems.empty()) {
    std::cerr << flags.config_path << ":\n" << JoinProblems(problems) << "\n";
    return kExitConfig;
  }
  std::string sink = flags.sink;
  if (sink.empty()) sink = config->kafka ? "kafka" : "";
  if (sink.empty() && !flags.check_only) {
    std::cerr << "phony capture: give --sink jsonl or --sink null, or a kafka section in the config\n";
    return kExitUsage;
  }
  if (sink == "kafka" && !config->kafka) {
    std::cerr << "phony capture: --sink kafka needs a kafka section in " << flags.config_path << "\n";
    return kExitUsage;
  }

  if (!config->source.is_postgres()) return RunMySqlCapture(*config, secrets, flags, sink);

  pg::PgCaptureOptions opts;
  opts.connect.host = config->source.host;
  opts.connect.port = config->source.port;
  opts.connect.database = config->source.database;
  opts.connect.user = config->source.user;
  if (secrets.source_password) opts.connect.password = secrets.source_password->value();
  opts.connect.application_name = "phony-capture-" + config->name;
  opts.filter = config->Filter();
  opts.slot = flags.slot.empty() ? pg::DefaultSlotName(config->name) : flags.slot;
  opts.publication = flags.publication.empty() ? pg::DefaultPublicationName(config->name) : flags.publication;
  if (!flags.stop_at_lsn.empty()) {
    auto lsn = Lsn::Parse(flags.stop_at_lsn);
    if (!lsn.ok()) {
      std::cerr << "--stop-at-lsn: " << lsn.status().message() << "\n";
      return kExitUsage;
    }
    opts.stop_at_lsn = *lsn;
  }
  opts.binary = flags.binary;
  opts.on_tables_added = flags.on_tables_added;
  opts.table_refresh_interval = absl::Seconds(flags.table_refresh_seconds);
  if (flags.heartbeat_seconds > 0) opts.heartbeat_interval = absl::Seconds(flags.heartbeat_seconds);
  if (flags.stop_after_idle_seconds > 0) {
    opts.stop_after_idle = absl::Seconds(flags.stop_after_idle_seconds);
  }

  std::unique_ptr<StateStore> state;
  if (!flags.check_only) {
    auto opened = StateStore::Open(StageStateDir(config->state_dir, "capture", 0),
                                   {.job_name = config->name, .stage = "capture"});
    if (!opened.ok()) {
      std::cerr << "phony capture: " << opened.status().message() << "\n";
      return kExitServer;
    }
    state = std::move(*opened);
    opts.state = state.get();
    opts.spill_dir = state->dir();
  }

  EmbeddedBus bus({.name = "raw"});
  pg::PgCapture* capture_ptr = nullptr;
  auto producer = bus.CreateProducer([&](uint64_t id) { capture_ptr->OnAck(id); });
  pg::PgCapture capture(opts, producer.get());
  capture_ptr = &capture;

  if (flags.check_only) {
    auto report = capture.Check();
    if (!report.ok()) {
      std::cerr << "phony capture --check: " << report.status().message() << "\n";
      return kExitServer;
    }
    std::cout << "server_version_num " << report->server_version << ", pgoutput protocol "
              << report->protocol_version << "\n"
              << "slot " << opts.slot << (report->slot_exists ? " exists" : " will be created") << "\n"
              << "tables " << report->tables.size() << "\n";
    if (report->slot_active_pid) {
      std::cout << "warning: slot " << opts.slot << " is in use by process " << *report->slot_active_pid << "\n";
    }
    for (const auto& w : report->warnings) std::cout << "warning: " << w << "\n";
    for (const auto& e : report->errors) std::cout << "error: " << e << "\n";
    return report->errors.empty() ? 0 : kExitServer;
  }

  InstallStopSignals();
  if (sink == "kafka") return RunToKafka(*config, opts);
  auto consumer = bus.CreateConsumer();
  std::atomic<bool> sink_failed{false};
  std::thread sink_thread = sink == "null"
                                ? std::thread(RunNullSink, consumer.get())
                                : std::thread(RunJsonlSink, consumer.get(), config->name, &sink_failed, &bus,
                                              "postgresql");
  absl::Status s = capture.Run(g_stop);
  producer->Close();
  sink_thread.join();
  spdlog::info("capture: stopped after {} transactions; confirmed {}",
               capture.transactions_published(), capture.confirmed().ToString());
  if (sink_failed.load()) return kExitServer;
  if (!s.ok()) {
    spdlog::error("capture: {}", std::string(s.message()));
    return ExitCodeFor(s);
  }
  return 0;
}

}  // namespace phony::cli
