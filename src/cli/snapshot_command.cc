#include "src/cli/snapshot_command.h"

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>

#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "core/config.h"
#include "core/state_store.h"
#include "spdlog/spdlog.h"
#include "src/analyze/report.h"
#include "src/analyze/strict.h"
#include "src/capture/mysql/my_capture.h"
#include "src/capture/postgres/replication_client.h"
#include "src/cli/stage_common.h"
#include "src/snapshot/my_snapshot.h"
#include "src/snapshot/pg_snapshot.h"
#include "src/transform/keyed.h"
#include "src/transform/mapping_store.h"
#include "src/transform/store_ledger.h"

namespace phony::cli {
namespace {

constexpr int kExitIncomplete = 3;

// Live progress: redrawn lines on a terminal, a log line every 10 s otherwise.
class ProgressDisplay {
 public:
  explicit ProgressDisplay(bool quiet) : quiet_(quiet), tty_(isatty(STDERR_FILENO) == 1) {}

  void Show(const snapshot::Progress& p) {
    if (quiet_) return;
    int64_t rows = 0, bytes = 0;
    int done = 0;
    for (const auto& t : p.tables) {
      rows += t.rows;
      bytes += t.bytes;
      done += t.state == "done";
    }
    const double mb = bytes / 1048576.0;
    const double rate = p.seconds > 0 ? mb / p.seconds : 0;
    if (!tty_) {
      if (p.seconds - last_log_ < 10 && done != static_cast<int>(p.tables.size())) return;
      last_log_ = p.seconds;
      spdlog::info("snapshot: {}/{} tables done, {} rows, {:.1f} MB read, {:.1f} MB/s", done, p.tables.size(), rows,
                   mb, rate);
      return;
    }
    std::string out;
    for (int i = 0; i < drawn_; ++i) out += "\x1b[1A\x1b[2K";
    drawn_ = 0;
    char line[256];
    for (const auto& t : p.tables) {
      if (t.state != "loading" && t.state != "indexing") continue;
      const double frac = t.estimated_rows > 0 ? std::min(1.0, static_cast<double>(t.rows) / t.estimated_rows) : 0;
      const int filled = static_cast<int>(frac * 20);
      const double per_row = t.rows > 0 ? p.seconds / t.rows : 0;
      const double eta = t.estimated_rows > t.rows ? (t.estimated_rows - t.rows) * per_row : 0;
      std::snprintf(line, sizeof(line), "%-32.32s [%-20s] %3.0f%% %11lld rows %8.1f MB %-8s ETA %4.0fs\n",
                    t.table.c_str(), std::string(static_cast<size_t>(filled), '#').c_str(), frac * 100,
                    static_cast<long long>(t.rows), t.bytes / 1048576.0, t.state.c_str(), eta);
      out += line;
      ++drawn_;
    }
    std::snprintf(line, sizeof(line), "%d/%zu tables, %lld rows, %.1f MB, %.1f MB/s, %.0f s\n", done,
                  p.tables.size(), static_cast<long long>(rows), mb, rate, p.seconds);
    out += line;
    ++drawn_;
    std::fputs(out.c_str(), stderr);
  }

 private:
  bool quiet_;
  bool tty_;
  int drawn_ = 0;
  double last_log_ = -100;
};

// The snapshot's state directory and the mapping store (the ledger of
// unique mappings) in it.
struct SnapshotStores {
  std::unique_ptr<StateStore> state;
  std::unique_ptr<transform::MappingStore> store;
  std::unique_ptr<transform::StoreLedger> ledger;
};

// 0, or the exit code after saying why.
int OpenSnapshotStores(const LoadedJob& job, SnapshotStores* out) {
  auto state = StateStore::Open(StageStateDir(job.config.state_dir, "snapshot", 0),
                                {.job_name = job.config.name, .stage = "snapshot"});
  if (!state.ok()) {
    std::cerr << "phony snapshot: " << state.status().message() << "\n";
    return kExitServer;
  }
  out->state = *std::move(state);
  auto index_key = transform::DeriveKey(job.secrets.anonymization_secret.value(), "mapping-index:v1");
  if (!index_key.ok()) {
    std::cerr << "phony snapshot: " << index_key.status().message() << "\n";
    return kExitConfig;
  }
  auto store = transform::MappingStore::Open(out->state.get(), *index_key);
  if (!store.ok()) {
    std::cerr << "phony snapshot: " << store.status().message() << "\n";
    return kExitServer;
  }
  out->store = *std::move(store);
  out->ledger = std::make_unique<transform::StoreLedger>(out->store.get());
  return 0;
}

// The foreign keys phony analyze inferred (its saved report, when there is
// one): a subset follows them where the source declares none.
std::vector<snapshot::InferredForeignKey> InferredForeignKeys(const JobConfig& config) {
  std::vector<snapshot::InferredForeignKey> out;
  if (!config.subset) return out;
  auto report = analyze::LoadReport(config);
  if (!report.ok()) {
    if (!absl::IsNotFound(report.status())) spdlog::warn("subset: {}", std::string(report.status().message()));
    return out;
  }
  const std::string ds = config.DefaultSchema();
  auto qualified = [&](const std::string& t) { return t.find('.') == std::string::npos ? ds + "." + t : t; };
  for (const analyze::ForeignKeyFinding& f : report->fks) {
    if (f.declared()) continue;
    snapshot::InferredForeignKey in;
    in.table = qualified(f.from_table);
    const std::string to = qualified(f.to_table);
    in.fk.name = "inferred";
    in.fk.referenced.schema = to.substr(0, to.find('.'));
    in.fk.referenced.table = to.substr(to.find('.') + 1);
    for (absl::string_view c : absl::StrSplit(f.from_column, ',')) in.fk.columns.emplace_back(c);
    for (absl::string_view c : absl::StrSplit(f.to_column, ',')) in.fk.referenced_columns.emplace_back(c);
    out.push_back(std::move(in));
  }
  return out;
}

// What both families' runs take from the job and the flags.
snapshot::SnapshotOptions BaseOptions(const LoadedJob& job, const SnapshotFlags& flags, const SnapshotStores& stores,
                                      ProgressDisplay* display) {
  snapshot::SnapshotOptions o;
  o.config = &job.config;
  o.source_password = PasswordOf(job.secrets.source_password);
  o.target_password = PasswordOf(job.secrets.target_password);
  o.secret = job.secrets.anonymization_secret.value();
  o.ledger = stores.ledger.get();
  for (absl::string_view t : absl::StrSplit(flags.tables_csv, ',', absl::SkipWhitespace())) {
    o.only_tables.emplace_back(std::string(absl::StripAsciiWhitespace(t)));
  }
  o.restart = flags.restart;
  o.stop = &StopFlag();
  o.on_progress = [display](const snapshot::Progress& p) { display->Show(p); };
  o.inferred_foreign_keys = InferredForeignKeys(job.config);
  return o;
}

// MySQL/MariaDB into MySQL/MariaDB (docs/snapshot-mysql.md). The copy is
// one clean cut; CDC continues from it: the capture's position is set to
// the cut when the job has a capture state directory or --start-cdc asks.
// Strict mode (issue #10): no PII column without a rule. 0 when the copy
// may go on, else the exit code.
int CheckStrictMode(const LoadedJob& job, const SnapshotFlags& flags) {
  if (!flags.strict) return 0;
  const absl::Status s =
      analyze::EnforceStrictMode(job.config, PasswordOf(job.secrets.source_password), "phony snapshot", &StopFlag());
  if (s.ok()) return 0;
  std::cerr << s.message() << "\n";
  if (absl::IsCancelled(s)) return kExitIncomplete;
  return absl::IsFailedPrecondition(s) ? kExitConfig : ExitCodeFor(s);
}

int RunMySqlSnapshotFor(const LoadedJob& job, const SnapshotFlags& flags) {
  const JobConfig& config = job.config;
  const std::string capture_dir = StageStateDir(config.state_dir, "capture", 0);
  if (config.subset && (flags.start_cdc || std::filesystem::exists(capture_dir))) {
    std::cerr << "phony snapshot: the job has a subset: continuous CDC over a subset is not supported (changes "
                 "would drift outside the subset's foreign-key closure)"
              << (flags.start_cdc ? "; run without --start-cdc"
                                  : "; the job has a capture state (" + capture_dir +
                                        "): use a job without subset for the mirror, or remove it (phony teardown)")
              << "\n";
    return kExitConfig;
  }
  if (int code = CheckStrictMode(job, flags); code != 0) return code;
  if (flags.restart) spdlog::info("snapshot: --restart: the tables an interrupted run finished are copied again");
  // The capture's position: held by a running capture, set to the cut. A
  // full copy always records it (a binlog position costs nothing to keep,
  // unlike a slot): a later phony run then continues exactly at the copy
  // instead of from whenever it starts. A subset sets up no CDC.
  const bool cdc = flags.start_cdc || std::filesystem::exists(capture_dir) ||
                   (flags.tables_csv.empty() && !config.subset);
  std::unique_ptr<StateStore> capture_state;
  if (cdc) {
    auto opened = StateStore::Open(capture_dir, {.job_name = config.name, .stage = "capture"});
    if (!opened.ok()) {
      std::cerr << "phony snapshot: " << opened.status().message()
                << (absl::IsFailedPrecondition(opened.status())
                        ? "\nthe job's capture is running: stop it (or phony run) first; the snapshot sets where it "
                          "continues"
                        : "")
                << "\n";
      return absl::IsFailedPrecondition(opened.status()) ? kExitUsage : kExitServer;
    }
    capture_state = *std::move(opened);
    auto pos = mysql::ReadMySqlPosition(*capture_state);
    if (!pos.ok()) {
      std::cerr << "phony snapshot: " << pos.status().message() << "\n";
      return kExitServer;
    }
    if (*pos && !flags.tables_csv.empty()) {
      // CDC stays where it is; the applier skips the copied tables' changes
      // up to their copy (phony.table_cuts) and applies the rest.
      spdlog::info("snapshot: --tables: the job's capture continues from {}; the copied tables take the binlog "
                   "from their copy on", **pos);
    }
  }
  SnapshotStores stores;
  if (int code = OpenSnapshotStores(job, &stores); code != 0) return code;
  ProgressDisplay display(flags.quiet);
  snapshot::SnapshotOptions o = BaseOptions(job, flags, stores, &display);
  auto result = snapshot::RunMySqlSnapshot(o);
  if (!result.ok()) {
    std::cerr << "phony snapshot: " << result.status().message() << "\n";
    return result.status().code() == absl::StatusCode::kCancelled ? kExitIncomplete : ExitCodeFor(result.status());
  }
  const std::string json = snapshot::ReportJson(result->report);
  const std::string path = flags.report_path.empty() ? stores.state->dir() + "/report.json" : flags.report_path;
  std::ofstream(path) << json << "\n";
  std::cout << snapshot::ReportTable(result->report) << "report: " << path << std::endl;
  for (const std::string& w : result->report.warnings) spdlog::warn("snapshot: {}", w);
  for (const std::string& p : result->report.problems) spdlog::error("snapshot: {}", p);
  if (capture_state && result->report.ok() && o.only_tables.empty()) {
    if (absl::Status s = mysql::StoreMySqlPosition(*capture_state, result->binlog_file, result->binlog_position,
                                                   result->gtids);
        !s.ok()) {
      std::cerr << "phony snapshot: recording where CDC continues: " << s.message() << "\n";
      return kExitServer;
    }
    spdlog::info("snapshot: CDC continues from {}:{}", result->binlog_file, result->binlog_position);
  }
  return result->report.ok() ? 0 : kExitIncomplete;
}

}  // namespace

int RunSnapshot(const SnapshotFlags& flags) {
  auto loaded = LoadJob(flags.config_path, "snapshot");
  if (!loaded) return kExitConfig;
  // An embedded `phony run` cannot re-read what it already confirmed, so
  // re-copying tables under it would lose the changes since its progress
  // mark: it must be stopped first (it holds capture's state directory).
  if (!loaded->config.kafka && !flags.tables_csv.empty()) {
    auto held = StateStore::Open(StageStateDir(loaded->config.state_dir, "capture", 0),
                                 {.job_name = loaded->config.name, .stage = "capture"});
    if (!held.ok() && absl::IsFailedPrecondition(held.status())) {
      std::cerr << "phony snapshot --tables: " << held.status().message()
                << "\nphony run streams this job embedded: stop it, re-copy the tables, then start it again (it "
                   "replays what changed meanwhile). Tables created at the source are picked up by phony run itself.\n";
      return kExitUsage;
    }
  }
  InstallStopSignals();
  return RunSnapshotFor(*loaded, flags);
}

int RunSnapshotFor(const LoadedJob& job, const SnapshotFlags& flags) {
  const LoadedJob* loaded = &job;
  const JobConfig& config = loaded->config;
  const ResolvedSecrets& secrets = loaded->secrets;
  const std::string source_password = PasswordOf(secrets.source_password);
  if (!config.source.is_postgres() && !config.target.is_postgres()) return RunMySqlSnapshotFor(job, flags);
  if (!config.source.is_postgres() || !config.target.is_postgres()) {
    std::cerr << "phony snapshot: a snapshot copies PostgreSQL into PostgreSQL or MySQL/MariaDB into "
                 "MySQL/MariaDB; between the two families it is not built yet (source.type "
              << (config.source.is_postgres() ? "postgresql" : "mysql/mariadb") << ", target.type "
              << (config.target.is_postgres() ? "postgresql" : "mysql/mariadb") << ")\n";
    return kExitConfig;
  }
  if (int code = CheckStrictMode(job, flags); code != 0) return code;

  SnapshotStores stores;
  if (int code = OpenSnapshotStores(job, &stores); code != 0) return code;

  ProgressDisplay display(flags.quiet);
  snapshot::SnapshotOptions o = BaseOptions(job, flags, stores, &display);

  // CDC: with the job's slot in place the copy converges with its replay;
  // --start-cdc creates the slot and copies at its consistent point.
  const std::string slot = pg::DefaultSlotName(config.name);
  auto has_slot = snapshot::SourceHasSlot(config, source_password, slot);
  if (!has_slot.ok()) {
    std::cerr << "phony snapshot: " << has_slot.status().message() << "\n";
    return ExitCodeFor(has_slot.status());
  }
  std::unique_ptr<pg::PgReplicationClient> repl;
  if (config.subset && (*has_slot || flags.start_cdc)) {
    std::cerr << "phony snapshot: the job has a subset: continuous CDC over a subset is not supported (changes "
                 "would drift outside the subset's foreign-key closure)"
              << (*has_slot ? "; the job's slot " + slot + " exists: drop it (phony teardown) or use a job without "
                              "subset for the mirror"
                            : "; run without --start-cdc")
              << "\n";
    return kExitConfig;
  }
  if (*has_slot) {
    o.cdc_follows = true;
    spdlog::info("snapshot: slot {} exists: the copy converges with CDC replay (unique indexes and constraints wait "
                 "for it)",
                 slot);
  } else if (flags.start_cdc) {
    pg::PgConnectOptions co{.host = config.source.host, .port = config.source.port, .database = config.source.database,
                            .user = config.source.user, .password = source_password};
    auto client = pg::PgReplicationClient::Connect(co);
    if (!client.ok()) {
      std::cerr << "phony snapshot: " << client.status().message() << "\n";
      return ExitCodeFor(client.status());
    }
    repl = *std::move(client);
    auto report = repl->Preflight(config.Filter(), slot);
    if (!report.ok() || !report->errors.empty()) {
      std::cerr << "phony snapshot --start-cdc: "
                << (report.ok() ? report->errors.front() : std::string(report.status().message())) << "\n";
      return kExitServer;
    }
    for (const auto& w : report->warnings) spdlog::warn("snapshot: {}", w);
    if (auto added = repl->EnsurePublication(pg::DefaultPublicationName(config.name), *report); !added.ok()) {
      std::cerr << "phony snapshot --start-cdc: " << added.status().message() << "\n";
      return kExitServer;
    }
    auto exported = repl->CreateSlotWithSnapshot(slot);
    if (!exported.ok()) {
      std::cerr << "phony snapshot --start-cdc: " << exported.status().message() << "\n";
      return kExitServer;
    }
    o.exported_snapshot = exported->snapshot_name;
    o.exported_lsn = exported->consistent_point;
    o.cdc_follows = true;
    spdlog::info("snapshot: created slot {} at {}; phony capture continues from there", slot,
                 exported->consistent_point.ToString());
  }

  auto report = snapshot::RunPgSnapshot(o);
  repl.reset();  // releases the slot's exported snapshot
  if (!report.ok()) {
    std::cerr << "phony snapshot: " << report.status().message() << "\n";
    return report.status().code() == absl::StatusCode::kCancelled ? kExitIncomplete : ExitCodeFor(report.status());
  }
  const std::string json = snapshot::ReportJson(*report);
  const std::string path = flags.report_path.empty() ? stores.state->dir() + "/report.json" : flags.report_path;
  std::ofstream(path) << json << "\n";
  std::cout << snapshot::ReportTable(*report) << "report: " << path << "\n";
  return report->ok() ? 0 : kExitIncomplete;
}

}  // namespace phony::cli
