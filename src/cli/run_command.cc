#include "src/cli/run_command.h"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <iostream>
#include <memory>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "absl/strings/str_join.h"
#include "spdlog/spdlog.h"
#include "src/analyze/strict.h"
#include "src/capture/postgres/replication_client.h"
#include "src/cli/apply_command.h"
#include "src/cli/capture_command.h"
#include "src/cli/embedded_pipeline.h"
#include "src/cli/metrics_server.h"
#include "src/cli/retry.h"
#include "src/cli/snapshot_command.h"
#include "src/cli/stage_common.h"
#include "src/cli/transform_command.h"
#include "src/snapshot/my_snapshot.h"
#include "src/snapshot/pg_converge.h"
#include "src/snapshot/pg_job.h"

namespace phony::cli {
namespace {

// What /metrics shows: the pipeline's counters (both modes) and, read
// from the servers at most every 5 s, the slot and staging's bookkeeping.
class RunMetrics {
 public:
  RunMetrics(const JobConfig& config, std::string source_password, std::string target_password)
      : config_(config), source_password_(std::move(source_password)), target_password_(std::move(target_password)) {}

  PipelineCounters counters;
  std::atomic<int> phase{0};  // 0 starting, 1 snapshot, 2 streaming, 3 stopped
  std::mutex mu;
  std::string failure;  // set when the run failed (guarded by mu)

  std::string Health() {
    std::lock_guard<std::mutex> l(mu);
    if (!failure.empty()) return "failed: " + failure;
    if (phase.load() == 3) return "stopped";
    return "";
  }

  std::string Render() {
    Refresh();
    const std::string job = "job=\"" + config_.name + "\"";
    std::string out;
    auto metric = [&](const char* name, const char* type, const char* help, const std::string& labels, double v) {
      out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " " + type + "\n" + name + "{" + labels +
             "} " + Number(v) + "\n";
    };
    metric("phony_phase", "gauge", "0 starting, 1 snapshot, 2 streaming, 3 stopped", job, phase.load());
    const double tx_in = static_cast<double>(counters.transformed_transactions.load());
    const double tx_out = static_cast<double>(counters.applied_transactions.load());
    metric("phony_transactions_total", "counter", "Source transactions through each stage",
           job + ",stage=\"transform\"", tx_in);
    out += "phony_transactions_total{" + job + ",stage=\"apply\"} " + Number(tx_out) + "\n";
    metric("phony_events_total", "counter", "Events through the transform stage", job + ",stage=\"transform\"",
           static_cast<double>(counters.transformed_events.load()));
    metric("phony_rows_applied_total", "counter", "Row changes committed in staging", job,
           static_cast<double>(counters.applied_rows.load()));
    const int64_t commit_us = counters.applied_commit_micros.load();
    double lag = 0;
    if (commit_us > 0 && tx_in > tx_out) {  // changes wait: the oldest is at least this old
      lag = std::max(0.0, absl::ToDoubleSeconds(absl::Now() - absl::FromUnixMicros(commit_us)));
    }
    metric("phony_lag_seconds", "gauge",
           "Source commit to staging: age of the last applied commit while changes wait, else 0", job, lag);
    metric("phony_last_applied_commit_timestamp_seconds", "gauge", "Source commit time of the last applied transaction",
           job, commit_us / 1e6);
    std::lock_guard<std::mutex> l(probe_mu_);
    metric("phony_probe_errors_total", "counter", "Failed reads of the slot or staging for these metrics", job,
           static_cast<double>(probe_errors_));
    if (slot_.exists) {
      metric("phony_slot_retained_wal_bytes", "gauge", "WAL the replication slot holds back", job,
             static_cast<double>(slot_.retained_bytes));
      metric("phony_lag_bytes", "gauge", "WAL written at the source and not yet confirmed (applied, embedded)", job,
             static_cast<double>(slot_.lag_bytes));
      metric("phony_slot_active", "gauge", "1 while a capture streams from the slot", job, slot_.active ? 1 : 0);
    }
    metric("phony_dead_letters", "gauge", "Rows in phony.dead_letters", job, static_cast<double>(staging_.dead_letters));
    metric("phony_deferred_statements", "gauge", "Unique indexes and constraints waiting for convergence", job,
           static_cast<double>(staging_.deferred_pending));
    return out;
  }

 private:
  static std::string Number(double v) {
    char buf[64];
    std::snprintf(buf, sizeof(buf), "%.17g", v);
    return buf;
  }
  void Refresh() {
    std::lock_guard<std::mutex> l(probe_mu_);
    if (absl::Now() - probed_at_ < absl::Seconds(5)) return;
    probed_at_ = absl::Now();
    if (config_.source.is_postgres()) {  // a MySQL/MariaDB source has no slot
      auto slot = snapshot::ReadSlotStats(config_, source_password_, pg::DefaultSlotName(config_.name),
                                          pg::DefaultPublicationName(config_.name));
      if (slot.ok()) slot_ = *slot; else ++probe_errors_;
    }
    if (config_.target.is_postgres()) {
      auto staging = snapshot::ReadStagingStats(config_, target_password_);
      if (staging.ok()) staging_ = *staging; else ++probe_errors_;
    }
  }

  const JobConfig& config_;
  const std::string source_password_;
  const std::string target_password_;
  std::mutex probe_mu_;
  absl::Time probed_at_ = absl::InfinitePast();
  snapshot::SlotStats slot_;
  snapshot::StagingStats staging_;
  uint64_t probe_errors_ = 0;
};

// Kafka mode in one process: the three stage commands on their own
// threads, sharing the stop flag; the first to fail stops the others. New
// source tables are copied beside them (`phony snapshot --tables`: the
// applier rewinds to the copy's start mark and replays from Kafka).
int RunKafkaStages(const RunFlags& flags, const LoadedJob& job, bool copy_new_tables, PipelineCounters* counters) {
  std::atomic<bool>& stop = StopFlag();
  std::mutex mu;
  int first_failure = 0;
  std::condition_variable added_cv;
  std::set<std::string> added;
  std::thread copier([&] {
    std::unique_lock<std::mutex> l(mu);
    while (!stop.load()) {
      added_cv.wait_for(l, std::chrono::milliseconds(200));
      if (added.empty() || stop.load()) continue;
      const std::string tables = absl::StrJoin(added, ",");
      added.clear();
      l.unlock();
      spdlog::info("run: new tables {}: copying them while the stages stream", tables);
      const int code = RunSnapshotFor(job, {.tables_csv = tables, .quiet = true, .strict = false});
      l.lock();
      if (code != 0 && first_failure == 0) {
        first_failure = code;
        stop.store(true);
      }
    }
  });
  auto run = [&](auto fn) {
    return std::thread([&, fn] {
      const int code = fn();
      if (code != 0) {
        std::lock_guard<std::mutex> l(mu);
        if (first_failure == 0) first_failure = code;
      }
      // One stage ending ends the run, unless each stops on its own once
      // idle (--stop-after-idle): then the others drain first.
      if (code != 0 || flags.stop_after_idle_seconds <= 0) stop.store(true);
    });
  };
  std::vector<std::thread> threads;
  threads.push_back(run([&] {
    return RunCapture({.config_path = flags.config_path, .sink = "kafka",
                       .stop_after_idle_seconds = flags.stop_after_idle_seconds,
                       .table_refresh_seconds = flags.table_refresh_seconds,
                       .on_tables_added = !copy_new_tables ? std::function<void(const std::vector<TableId>&)>()
                                                           : [&](const std::vector<TableId>& tables) {
                                                               std::lock_guard<std::mutex> l(mu);
                                                               for (const TableId& t : tables) {
                                                                 added.insert(t.QualifiedName());
                                                               }
                                                               added_cv.notify_all();
                                                             }});
  }));
  // With --stop-after-idle the later stages wait longer: what the earlier
  // ones wrote last must reach them first.
  const double idle = flags.stop_after_idle_seconds;
  threads.push_back(run([&] {
    return RunTransform({.config_path = flags.config_path, .stop_after_idle_seconds = idle > 0 ? idle + 2 : 0,
                         .counters = counters});
  }));
  threads.push_back(run([&] {
    return RunApply({.config_path = flags.config_path, .stop_after_idle_seconds = idle > 0 ? idle + 4 : 0,
                     .counters = counters});
  }));
  for (auto& t : threads) t.join();
  stop.store(true);  // the copier's end
  copier.join();
  return first_failure;
}

}  // namespace

int RunRun(const RunFlags& flags) {
  auto loaded = LoadJob(flags.config_path, "run");
  if (!loaded) return kExitConfig;
  const JobConfig& config = loaded->config;
  const ResolvedSecrets& secrets = loaded->secrets;
  if (config.subset) {
    std::cerr << "phony run: " << flags.config_path
              << ": subset: a subset is a one-off copy (phony snapshot); continuous CDC over it would drift outside "
                 "its foreign-key closure\n";
    return kExitConfig;
  }
  const bool snapshot_possible = config.target.is_postgres() == config.source.is_postgres();
  if (!snapshot_possible && config.snapshot.on_run != "never") {
    std::cerr << "phony run: " << flags.config_path
              << ": snapshot.on_run: a snapshot from a " << (config.source.is_postgres() ? "PostgreSQL" : "MySQL/MariaDB")
              << " source into " << (config.target.is_postgres() ? "PostgreSQL" : "MySQL/MariaDB")
              << " staging is not built yet; set \"never\" to stream only\n";
    return kExitConfig;
  }
  InstallStopSignals();
  // Strict mode (issue #10): no PII column without a rule.
  if (auto s = analyze::EnforceStrictMode(config, PasswordOf(secrets.source_password), "phony run", &StopFlag());
      !s.ok()) {
    std::cerr << s.message() << "\n";
    if (absl::IsCancelled(s)) return 0;
    return absl::IsFailedPrecondition(s) ? kExitConfig : ExitCodeFor(s);
  }
  std::atomic<bool>& stop = StopFlag();
  const std::string source_password = PasswordOf(secrets.source_password);
  const std::string target_password = PasswordOf(secrets.target_password);

  RunMetrics metrics(config, source_password, target_password);
  std::unique_ptr<MetricsServer> server;
  if (!flags.metrics_address.empty()) {
    auto started = MetricsServer::Start(flags.metrics_address, [&] { return metrics.Render(); },
                                        [&] { return metrics.Health(); });
    if (!started.ok()) {
      std::cerr << "phony run: " << started.status().message() << "\n";
      return kExitUsage;
    }
    server = *std::move(started);
    spdlog::info("run: /metrics and /healthz on {}:{}", flags.metrics_address.substr(0, flags.metrics_address.rfind(':')),
                 server->port());
  }
  auto fail = [&](const std::string& why) {
    std::lock_guard<std::mutex> l(metrics.mu);
    metrics.failure = why;
  };

  // 1. The snapshot, when staging has none (or the config says so).
  bool take = config.snapshot.on_run == "always";
  if (config.snapshot.on_run == "auto") {
    auto has = RetryWhileUnavailable("run: staging", "looking for a snapshot", stop,
                                     [&] {
                                       return config.target.is_postgres()
                                                  ? snapshot::StagingHasSnapshot(config, target_password)
                                                  : snapshot::MyStagingHasSnapshot(config, target_password);
                                     });
    if (!has.ok()) {
      spdlog::error("run: {}", std::string(has.status().message()));
      return ExitCodeFor(has.status());
    }
    take = !*has;
  }
  if (take && !stop.load()) {
    spdlog::info("run: taking the snapshot first (snapshot.on_run: {})", config.snapshot.on_run);
    metrics.phase.store(1);
    const int code = RunSnapshotFor(*loaded, {.start_cdc = true, .quiet = flags.quiet, .strict = false});
    if (code != 0) return code;
  }
  if (stop.load()) return 0;

  // Tables that appear at the source are copied, unless staging is filled
  // some other way (snapshot.on_run: never).
  // (A MySQL/MariaDB binlog carries a new table from its CREATE on: the
  // applier creates it in staging.)
  const bool copy_new_tables = snapshot_possible && config.source.is_postgres() && config.snapshot.on_run != "never";

  // 2. Deferred constraints, created once replay has converged.
  std::atomic<bool> converger_stop{false};
  std::thread converger;
  if (config.target.is_postgres()) {
    converger = std::thread([&] {
      snapshot::RunConverger({.config = &config, .source_password = source_password,
                              .target_password = target_password, .slot = pg::DefaultSlotName(config.name),
                              .slot_means_applied = !config.kafka},
                             converger_stop);
    });
  }
  auto stop_converger = [&] {
    converger_stop.store(true);
    if (!converger.joinable()) return;
    converger.join();
    // A last pass: a clean stop leaves staging at the slot's position.
    auto last = snapshot::ConvergeOnce({.config = &config, .source_password = source_password,
                                        .target_password = target_password, .slot = pg::DefaultSlotName(config.name),
                                        .slot_means_applied = !config.kafka});
    if (last.ok() && last->done > 0) {
      spdlog::info("run: created {} deferred unique indexes and constraints", last->done);
    }
    if (last.ok() && last->pending > 0) {
      spdlog::info("run: {} unique indexes and constraints still wait for replay to converge (phony.deferred_ddl)",
                   last->pending);
    }
    (void)snapshot::SyncSequences({.config = &config, .source_password = source_password,
                                   .target_password = target_password});
  };

  // 3. Streaming.
  if (config.kafka) {
    spdlog::info("run: capture, transform and apply connected by Kafka at {}", config.kafka->brokers);
    metrics.phase.store(2);
    const int code = RunKafkaStages(flags, *loaded, copy_new_tables, &metrics.counters);
    if (code != 0) fail("a stage exited with code " + std::to_string(code));
    stop_converger();
    metrics.phase.store(3);
    return code;
  }
  spdlog::info("run: capture, transform and apply embedded (no kafka section)");
  int code = 0;
  while (!stop.load()) {
    std::mutex mu;
    std::set<std::string> added;
    std::atomic<bool> pause{false};
    EmbeddedPipelineOptions po{.config = &config, .secrets = &secrets, .stop = &stop,
                               .table_refresh = absl::Seconds(flags.table_refresh_seconds),
                               .counters = &metrics.counters};
    metrics.phase.store(2);
    if (flags.stop_after_idle_seconds > 0) po.stop_after_idle = absl::Seconds(flags.stop_after_idle_seconds);
    if (copy_new_tables) {
      po.on_tables_added = [&](const std::vector<TableId>& tables) {
        std::lock_guard<std::mutex> l(mu);
        for (const TableId& t : tables) added.insert(t.QualifiedName());
        pause.store(true);
      };
      po.pause = &pause;
    }
    absl::Status s = RunEmbeddedPipeline(po);
    if (!s.ok()) {
      spdlog::error("run: {}", std::string(s.message()));
      fail(std::string(s.message()));
      code = ExitCodeFor(s);
      break;
    }
    if (added.empty()) break;  // stopped, or idle long enough
    // New tables: the stream is paused (everything read is applied and
    // confirmed); copy them, then stream again from the slot.
    const std::string tables = absl::StrJoin(added, ",");
    spdlog::info("run: new tables {}: snapshotting them, then streaming on", tables);
    metrics.phase.store(1);
    code = RunSnapshotFor(*loaded, {.tables_csv = tables, .quiet = flags.quiet, .strict = false});
    if (code != 0) {
      fail("the snapshot of new tables failed");
      break;
    }
  }
  stop_converger();
  metrics.phase.store(3);
  return code;
}

}  // namespace phony::cli
