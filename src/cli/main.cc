// `phony`: the command-line entry point wiring the stages together. Each
// subcommand parses its flags, loads the job config and runs one stage or
// tool; subcommands whose stage has not landed say which issue brings it.
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "core/config.h"
#include "core/logging.h"
#include "spdlog/spdlog.h"
#include "src/cli/capture_command.h"
#include "src/cli/apply_command.h"
#include "src/cli/snapshot_command.h"
#include "src/cli/transform_command.h"
#include "src/cli/run_command.h"
#include "src/cli/stage_common.h"
#include "src/cli/verify_command.h"
#include "src/cli/ops_command.h"
#include "src/cli/inspect_command.h"
#include "src/cli/analyze_command.h"


namespace {

constexpr int kExitOk = 0;
constexpr int kExitConfigProblems = 1;
constexpr int kExitNotAvailable = 3;

struct Pending {
  const char* name;
  const char* help;
  const char* issue;
};

// Subcommands that exist in the interface and arrive with later issues.
const std::vector<Pending> kPending = {
    {"sync", "Run one scheduled-style sync now (full or incremental)", "#12"},
    {"schedule", "Run syncs on a cron schedule", "#12"},
};

int CheckConfig(const std::string& path, bool resolve_secrets) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) {
    std::cerr << "phony check-config: cannot open " << path << "\n";
    return kExitConfigProblems;
  }
  std::string text;
  char buf[65536];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), f)) > 0) text.append(buf, n);
  std::fclose(f);

  phony::JobConfig config;
  std::vector<phony::ConfigProblem> problems = phony::ParseJobConfig(text, &config);
  if (problems.empty() && resolve_secrets) {
    phony::ResolvedSecrets secrets;
    problems = phony::ResolveSecrets(config, &secrets);
  }
  if (!problems.empty()) {
    std::cerr << path << ": " << problems.size() << " problem" << (problems.size() == 1 ? "" : "s")
              << "\n";
    for (const auto& p : problems) std::cerr << "  " << p.ToString() << "\n";
    return kExitConfigProblems;
  }
  size_t columns = 0;
  for (const auto& [name, rule] : config.tables) columns += rule.columns.size();
  std::cout << path << ": OK\n"
            << "  job     " << config.name << "\n"
            << "  source  " << phony::DatabaseTypeName(config.source.type) << " "
            << config.source.host << ":" << config.source.port << "/" << config.source.database
            << "\n"
            << "  target  " << phony::DatabaseTypeName(config.target.type) << " "
            << config.target.host << ":" << config.target.port << "/" << config.target.database
            << "\n"
            << "  mode    " << (config.kafka ? "kafka" : "embedded") << "\n"
            << "  rules   " << config.tables.size() << " tables, " << columns << " columns\n"
            << "  state   " << config.state_dir << "\n";
  return kExitOk;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Phony Sync: anonymized staging mirrors of PostgreSQL and MySQL/MariaDB, kept "
               "current from the replication log"};
  app.set_version_flag("--version", std::string("phony 0.1.0"));
  app.require_subcommand(1);
  std::string log_format = "text";
  std::string log_level = "info";
  app.add_option("--log-format", log_format, "Log format: text or json")
      ->check(CLI::IsMember({"text", "json"}));
  app.add_option("--log-level", log_level, "trace, debug, info, warn or error")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error"}));

  std::string config_path;
  bool no_secrets = false;
  auto* check = app.add_subcommand("check-config",
                                   "Validate a job config: every problem with its JSON path");
  check->add_option("-c,--config", config_path, "Job config (JSON)")->required();
  check->add_flag("--no-secrets", no_secrets,
                  "Do not resolve secret references (validate the text only)");

  phony::cli::CaptureFlags capture_flags;
  auto* capture = app.add_subcommand(
      "capture", "Stream changes from the source's replication log (PostgreSQL; MySQL/MariaDB "
                 "arrives with issue #9)");
  capture->add_option("-c,--config", capture_flags.config_path, "Job config (JSON)")->required();
  capture->add_option("--sink", capture_flags.sink,
                      "Where changes go: kafka (the job's internal raw topic; the default when the "
                      "config has a kafka section), jsonl (Debezium-style envelopes on stdout, one "
                      "per line) or null (acknowledged and dropped, for benchmarks)")
      ->check(CLI::IsMember({"kafka", "jsonl", "null"}));
  capture->add_option("--stop-at-lsn", capture_flags.stop_at_lsn,
                      "Stop once everything up to this LSN (e.g. 0/16B3748) is confirmed");
  capture->add_option("--stop-after-idle", capture_flags.stop_after_idle_seconds,
                      "Stop after this many seconds without changes, once everything is confirmed");
  capture->add_flag("--binary", capture_flags.binary,
                    "Receive values in binary format (for tables of the types docs/values.md lists)");
  capture->add_flag("--check", capture_flags.check_only,
                    "Run the preflight checks only and print the report");
  capture->add_option("--table-refresh-interval", capture_flags.table_refresh_seconds,
                      "Seconds between looks for new tables matching include (default 30)")
      ->check(CLI::PositiveNumber);
  capture->add_option("--heartbeat-interval", capture_flags.heartbeat_seconds,
                      "Write a heartbeat logical message after this many quiet seconds (0: off)");
  capture->add_option("--slot", capture_flags.slot, "Replication slot (default phony_<job name>)");
  capture->add_option("--publication", capture_flags.publication,
                      "Publication (default phony_<job name>_pub)");

  phony::cli::TransformFlags transform_flags;
  auto* transform = app.add_subcommand(
      "transform", "Anonymize the job's raw change stream into the anonymized and public topics (Kafka "
                   "mode; exactly once)");
  transform->add_option("-c,--config", transform_flags.config_path, "Job config (JSON)")->required();
  transform->add_option("--instance", transform_flags.instance,
                        "Instance number (state directory and transactional id; one per process)")
      ->check(CLI::NonNegativeNumber);
  transform->add_option("--stop-after-idle", transform_flags.stop_after_idle_seconds,
                        "Stop after this many seconds without input, once everything is committed");
  transform->add_flag("--no-public", transform_flags.no_public,
                      "Write only the internal anonymized topic, no public per-table topics");

  phony::cli::ApplyFlags apply_flags;
  auto* apply = app.add_subcommand(
      "apply", "Apply the anonymized stream to staging (Kafka mode; exactly once in effect)");
  apply->add_option("-c,--config", apply_flags.config_path, "Job config (JSON)")->required();
  apply->add_option("--instance", apply_flags.instance,
                    "Instance number (the consumer group's static member id; one per process)")
      ->check(CLI::NonNegativeNumber);
  apply->add_option("--stop-after-idle", apply_flags.stop_after_idle_seconds,
                    "Stop after this many seconds without input, once everything is committed");

  phony::cli::SnapshotFlags snapshot_flags;
  auto* snapshot = app.add_subcommand(
      "snapshot", "Copy the source into staging, anonymized: schema, data in parallel chunks, indexes, "
                  "constraints and sequences (resumes an unfinished run)");
  snapshot->add_option("-c,--config", snapshot_flags.config_path, "Job config (JSON)")->required();
  snapshot->add_option("--tables", snapshot_flags.tables_csv,
                       "Re-copy only these tables (schema.table or table; comma-separated), also while CDC runs");
  snapshot->add_flag("--restart", snapshot_flags.restart, "Abandon an unfinished run instead of resuming it");
  snapshot->add_flag("--start-cdc", snapshot_flags.start_cdc,
                     "Create the job's replication slot and copy at its consistent point, so phony capture "
                     "continues exactly where the copy stops");
  snapshot->add_option("--report", snapshot_flags.report_path,
                       "Where to write the JSON report (default <state dir>/snapshot-0/report.json)");
  snapshot->add_flag("--quiet", snapshot_flags.quiet, "No progress display");

  phony::cli::RunFlags run_flags;
  auto* run = app.add_subcommand(
      "run", "Snapshot when staging has none, then stream changes continuously (capture, transform, apply; "
             "embedded, or over Kafka with a kafka section)");
  run->add_option("-c,--config", run_flags.config_path, "Job config (JSON)")->required();
  run->add_option("--stop-after-idle", run_flags.stop_after_idle_seconds,
                  "Stop after this many seconds without changes, once everything is applied");
  run->add_option("--table-refresh-interval", run_flags.table_refresh_seconds,
                  "Seconds between looks for new tables matching include (default 30)")
      ->check(CLI::PositiveNumber);
  run->add_flag("--quiet", run_flags.quiet, "No snapshot progress display");
  run->add_option("--metrics-address", run_flags.metrics_address,
                  "Serve Prometheus /metrics and /healthz at HOST:PORT (port 0: any free port, logged)");

  phony::cli::AnalyzeFlags analyze_flags;
  auto* analyze = app.add_subcommand(
      "analyze", "Find the source's PII columns (by name and sampled content) and its foreign keys (declared, by "
                 "naming, by data); print them, save them for strict mode, or write a starter config");
  analyze->add_option("-c,--config", analyze_flags.config_path, "Job config (JSON)")->required();
  analyze->add_option("--format", analyze_flags.format, "table or json")->check(CLI::IsMember({"table", "json"}));
  analyze->add_option("--emit-config", analyze_flags.emit_config,
                      "Write the job config with a rule for every column (flagged ones anonymized, the rest KEEP) "
                      "to this file, for review");
  analyze->add_flag("--save", analyze_flags.save,
                    "Store the report in the state directory, where phony run and phony snapshot check it");
  analyze->add_option("--sample-rows", analyze_flags.sample_rows, "Rows sampled per table (analyze.sample_rows)")
      ->check(CLI::Range(10, 1000000));

  phony::cli::VerifyFlags verify_flags;
  auto* verify = app.add_subcommand(
      "verify", "Compare staging with the deterministic transform of the source: rows missing, extra or "
                "different per table, and foreign-key orphans");
  verify->add_option("-c,--config", verify_flags.config_path, "Job config (JSON)")->required();
  verify->add_option("--tables", verify_flags.tables_csv, "Only these tables (schema.table or table; comma-separated)");
  verify->add_option("--format", verify_flags.format, "table or json")->check(CLI::IsMember({"table", "json"}));
  verify->add_option("--wait", verify_flags.wait_seconds,
                     "Compare again until equal or this many seconds have passed (a mirror still catching up)");

  phony::cli::StatusFlags status_flags;
  auto* status = app.add_subcommand("status", "Where a job stands: the slot and its WAL, staging's snapshot and "
                                              "applier progress, deferred constraints, dead letters, state");
  status->add_option("-c,--config", status_flags.config_path, "Job config (JSON)")->required();
  status->add_option("--format", status_flags.format, "table or json")->check(CLI::IsMember({"table", "json"}));

  phony::cli::TeardownFlags teardown_flags;
  auto* teardown = app.add_subcommand("teardown", "Retire a job: drop its slot, publication, state directories and "
                                                  "Kafka topics (says what it would drop without --yes)");
  teardown->add_option("-c,--config", teardown_flags.config_path, "Job config (JSON)")->required();
  teardown->add_flag("--yes", teardown_flags.yes, "Drop them");
  teardown->add_flag("--force", teardown_flags.force, "Also stop a capture still streaming from the slot");

  phony::cli::PreviewFlags preview_flags;
  auto* preview = app.add_subcommand(
      "preview", "Print sampled source rows before and after the job's rules (on this terminal only)");
  preview->add_option("-c,--config", preview_flags.config_path, "Job config (JSON)")->required();
  preview->add_option("--table", preview_flags.table, "Table (schema.table, or a table of the default schema)")
      ->required();
  preview->add_option("--rows", preview_flags.rows, "How many rows to sample (default 10)");

  phony::cli::MappingFlags mapping_flags;
  auto* mapping = app.add_subcommand(
      "mapping", "Set or remove an operator override: a fixed fake for one original in a mapping domain");
  mapping->add_option("-c,--config", mapping_flags.config_path, "Job config (JSON)")->required();
  mapping->add_option("--domain", mapping_flags.domain,
                      "Mapping domain: the rule's \"domain\", or its default (e.g. anonymize:email)")
      ->required();
  mapping->add_option("--original", mapping_flags.original,
                      "The original value; \"-\" reads it from stdin (keeps it out of shell history)")
      ->required();
  mapping->add_option("--fake", mapping_flags.fake, "The fake it must map to");
  mapping->add_flag("--remove", mapping_flags.remove, "Remove the override instead");
  mapping->add_flag("--unique", mapping_flags.unique, "The domain is unique (the fake enters its ledger)");
  mapping->add_option("--version", mapping_flags.version, "Generator version of the domain (default 1)");
  mapping->add_option("--instance", mapping_flags.instance, "Transform instance whose state to change");

  phony::cli::InspectBinlogFlags inspect_binlog_flags;
  auto* inspect = app.add_subcommand("inspect", "Decode replication data offline");
  inspect->require_subcommand(1);
  auto* inspect_binlog = inspect->add_subcommand(
      "binlog", "MySQL/MariaDB binlog files as JSON lines, one row change per line (docs/mysql.md)");
  // The files are the positional arguments; a vector option would make
  // GCC 12 report a false null dereference inside CLI11's string splitting.
  std::string first_binlog;
  inspect_binlog->add_option("file", first_binlog, "Binlog files (one or more), decoded in order")->required();
  inspect_binlog->allow_extras();
  inspect_binlog->add_flag("--all-events", inspect_binlog_flags.all_events,
                           "Also a line per other event (never statement text)");

  std::vector<std::pair<CLI::App*, const Pending*>> pending;
  for (const Pending& p : kPending) {
    auto* sub = app.add_subcommand(p.name, std::string(p.help) + " (arrives with issue " + p.issue + ")");
    sub->add_option("-c,--config", config_path, "Job config (JSON)");
    sub->allow_extras();
    pending.emplace_back(sub, &p);
  }

  CLI11_PARSE(app, argc, argv);

  phony::LogFormat format = phony::LogFormat::kText;
  if (auto s = phony::ParseLogFormat(log_format, &format); !s.ok()) {
    std::cerr << s.message() << "\n";
    return 2;
  }
  if (auto s = phony::InitLogging(format, log_level); !s.ok()) {
    std::cerr << s.message() << "\n";
    return 2;
  }

  // The long-running subcommands stop cleanly on SIGINT/SIGTERM from the
  // moment they start, not only once their stage is set up.
  for (CLI::App* sub : {capture, transform, apply, snapshot, run}) {
    if (sub->parsed()) phony::cli::InstallStopSignals();
  }
  if (check->parsed()) return CheckConfig(config_path, !no_secrets);
  if (capture->parsed()) return phony::cli::RunCapture(capture_flags);
  if (transform->parsed()) return phony::cli::RunTransform(transform_flags);
  if (apply->parsed()) return phony::cli::RunApply(apply_flags);
  if (snapshot->parsed()) return phony::cli::RunSnapshot(snapshot_flags);
  if (run->parsed()) return phony::cli::RunRun(run_flags);
  if (status->parsed()) return phony::cli::RunStatus(status_flags);
  if (teardown->parsed()) return phony::cli::RunTeardown(teardown_flags);
  if (verify->parsed()) return phony::cli::RunVerify(verify_flags);
  if (analyze->parsed()) return phony::cli::RunAnalyze(analyze_flags);
  if (preview->parsed()) return phony::cli::RunPreview(preview_flags);
  if (mapping->parsed()) return phony::cli::RunMappingOverride(mapping_flags);
  if (inspect_binlog->parsed()) {
    inspect_binlog_flags.files.push_back(first_binlog);
    for (const std::string& extra : inspect_binlog->remaining()) inspect_binlog_flags.files.push_back(extra);
    return phony::cli::RunInspectBinlog(inspect_binlog_flags);
  }
  for (const auto& [sub, p] : pending) {
    if (sub->parsed()) {
      spdlog::error("phony {} is not available yet: it arrives with issue {}", p->name, p->issue);
      return kExitNotAvailable;
    }
  }
  return 2;
}
