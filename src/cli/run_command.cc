#include "src/cli/run_command.h"

#include <iostream>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "absl/strings/str_join.h"
#include "spdlog/spdlog.h"
#include "src/capture/postgres/replication_client.h"
#include "src/cli/apply_command.h"
#include "src/cli/capture_command.h"
#include "src/cli/embedded_pipeline.h"
#include "src/cli/retry.h"
#include "src/cli/snapshot_command.h"
#include "src/cli/stage_common.h"
#include "src/cli/transform_command.h"
#include "src/snapshot/pg_converge.h"

namespace phony::cli {
namespace {

// Kafka mode in one process: the three stage commands on their own
// threads, sharing the stop flag; the first to fail stops the others.
int RunKafkaStages(const RunFlags& flags) {
  std::atomic<bool>& stop = StopFlag();
  std::mutex mu;
  int first_failure = 0;
  auto run = [&](auto fn) {
    return std::thread([&, fn] {
      const int code = fn();
      if (code != 0) {
        std::lock_guard<std::mutex> l(mu);
        if (first_failure == 0) first_failure = code;
      }
      stop.store(true);  // one stage ending ends the run
    });
  };
  std::vector<std::thread> threads;
  threads.push_back(run([&] {
    return RunCapture({.config_path = flags.config_path, .sink = "kafka", .table_refresh_seconds = flags.table_refresh_seconds});
  }));
  threads.push_back(run([&] { return RunTransform({.config_path = flags.config_path}); }));
  threads.push_back(run([&] { return RunApply({.config_path = flags.config_path}); }));
  for (auto& t : threads) t.join();
  return first_failure;
}

}  // namespace

int RunRun(const RunFlags& flags) {
  auto loaded = LoadJob(flags.config_path, "run");
  if (!loaded) return kExitConfig;
  const JobConfig& config = loaded->config;
  const ResolvedSecrets& secrets = loaded->secrets;
  if (!config.source.is_postgres()) {
    std::cerr << "phony run: " << flags.config_path
              << ": source.type: MySQL/MariaDB sources join phony run with issue #9\n";
    return kExitConfig;
  }
  if (config.subset) {
    std::cerr << "phony run: " << flags.config_path
              << ": subset: a subset is a one-off copy (phony snapshot); continuous CDC over it would drift outside "
                 "its foreign-key closure\n";
    return kExitConfig;
  }
  const bool snapshot_possible = config.target.is_postgres();
  if (!snapshot_possible && config.snapshot.on_run != "never") {
    std::cerr << "phony run: " << flags.config_path
              << ": snapshot.on_run: snapshots into MySQL/MariaDB staging arrive with issue #9; set \"never\" to "
                 "stream only\n";
    return kExitConfig;
  }
  InstallStopSignals();
  std::atomic<bool>& stop = StopFlag();
  const std::string source_password = secrets.source_password ? std::string(secrets.source_password->value()) : "";
  const std::string target_password = secrets.target_password ? std::string(secrets.target_password->value()) : "";

  // 1. The snapshot, when staging has none (or the config says so).
  bool take = config.snapshot.on_run == "always";
  if (config.snapshot.on_run == "auto") {
    auto has = RetryWhileUnavailable("run: staging", "looking for a snapshot", stop,
                                     [&] { return snapshot::StagingHasSnapshot(config, target_password); });
    if (!has.ok()) {
      spdlog::error("run: {}", std::string(has.status().message()));
      return ExitCodeFor(has.status());
    }
    take = !*has;
  }
  if (take && !stop.load()) {
    spdlog::info("run: taking the snapshot first (snapshot.on_run: {})", config.snapshot.on_run);
    const int code = RunSnapshotFor(*loaded, {.start_cdc = true, .quiet = flags.quiet});
    if (code != 0) return code;
  }
  if (stop.load()) return 0;

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
  };

  // 3. Streaming.
  if (config.kafka) {
    spdlog::info("run: capture, transform and apply connected by Kafka at {}", config.kafka->brokers);
    const int code = RunKafkaStages(flags);
    stop_converger();
    return code;
  }
  spdlog::info("run: capture, transform and apply embedded (no kafka section)");
  int code = 0;
  while (!stop.load()) {
    std::mutex mu;
    std::set<std::string> added;
    std::atomic<bool> pause{false};
    EmbeddedPipelineOptions po{.config = &config, .secrets = &secrets, .stop = &stop,
                               .table_refresh = absl::Seconds(flags.table_refresh_seconds)};
    if (flags.stop_after_idle_seconds > 0) po.stop_after_idle = absl::Seconds(flags.stop_after_idle_seconds);
    if (snapshot_possible) {
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
      code = ExitCodeFor(s);
      break;
    }
    if (added.empty()) break;  // stopped, or idle long enough
    // New tables: the stream is paused (everything read is applied and
    // confirmed); copy them, then stream again from the slot.
    const std::string tables = absl::StrJoin(added, ",");
    spdlog::info("run: new tables {}: snapshotting them, then streaming on", tables);
    code = RunSnapshotFor(*loaded, {.tables_csv = tables, .quiet = flags.quiet});
    if (code != 0) break;
  }
  stop_converger();
  return code;
}

}  // namespace phony::cli
