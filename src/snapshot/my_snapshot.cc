#include "src/snapshot/my_snapshot.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <deque>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "absl/strings/str_join.h"
#include "core/backoff.h"
#include "core/position.h"
#include "core/status_macros.h"
#include "spdlog/spdlog.h"
#include "src/capture/mysql/my_catalog.h"
#include "src/apply/mysql/my_writer.h"
#include "src/capture/mysql/my_session.h"
#include "src/snapshot/my_rows.h"
#include "src/snapshot/my_subset.h"

namespace phony::snapshot {

using mysql::CatalogTable;
using mysql::MySession;
using mysql::MySessionOptions;

// ---------------------------------------------------------------------------
// SHOW CREATE TABLE, split into what loads fast and what comes after.

absl::StatusOr<SplitCreate> SplitCreateTable(std::string_view text, std::string_view new_name) {
  std::vector<std::string_view> lines;
  size_t at = 0;
  while (at <= text.size()) {
    const size_t nl = text.find('\n', at);
    lines.push_back(text.substr(at, nl == std::string_view::npos ? std::string_view::npos : nl - at));
    if (nl == std::string_view::npos) break;
    at = nl + 1;
  }
  if (lines.size() < 3 || !lines[0].starts_with("CREATE TABLE ") || !lines[0].ends_with("(")) {
    return absl::DataLossError("SHOW CREATE TABLE printed a statement phony does not know the shape of");
  }
  size_t close = lines.size();
  for (size_t i = 1; i < lines.size(); ++i) {
    if (lines[i].starts_with(")")) {
      close = i;
      break;
    }
  }
  if (close == lines.size()) return absl::DataLossError("SHOW CREATE TABLE without its closing parenthesis");
  SplitCreate out;
  std::vector<std::string> kept;
  for (size_t i = 1; i < close; ++i) {
    std::string_view l = lines[i];
    while (!l.empty() && l.front() == ' ') l.remove_prefix(1);
    if (l.ends_with(",")) l.remove_suffix(1);
    const bool is_index = l.starts_with("KEY ") || l.starts_with("UNIQUE KEY ") || l.starts_with("FULLTEXT KEY ") ||
                          l.starts_with("SPATIAL KEY ") || l.starts_with("INDEX ") || l.starts_with("UNIQUE INDEX ");
    if (is_index) {
      out.indexes.push_back("ADD " + std::string(l));
    } else if (l.starts_with("CONSTRAINT ") && l.find(" FOREIGN KEY ") != std::string_view::npos &&
               l.find(" CHECK ") == std::string_view::npos) {
      out.foreign_keys.push_back("ADD " + std::string(l));
    } else {
      kept.emplace_back(l);
    }
  }
  out.create = "CREATE TABLE " + std::string(new_name) + " (\n  " + absl::StrJoin(kept, ",\n  ") + "\n";
  for (size_t i = close; i < lines.size(); ++i) {
    out.create += std::string(lines[i]) + (i + 1 < lines.size() ? "\n" : "");
  }
  return out;
}

namespace {

double Since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

constexpr size_t kSubsetChunk = 20000;  // keys per chunk of a subset table

bool IsIntegerKey(const CatalogTable& t) {
  const std::vector<uint16_t> keys = t.schema.KeyColumns();
  if (keys.size() != 1) return false;
  switch (t.map.columns[keys[0]].type) {
    case mysql::kTypeTiny: case mysql::kTypeShort: case mysql::kTypeInt24: case mysql::kTypeLong:
    case mysql::kTypeLongLong:
      return true;
    default:
      return false;
  }
}

struct Chunk {
  size_t table = 0;
  std::string where;  // "" for the whole table
};

struct TableState {
  CatalogTable cat;
  std::string source_name;   // `db`.`table` at the source
  std::string staging_name;  // `db`.`table` in staging
  std::string shadow;        // `phony`.`snap_r<run>_<n>`
  SplitCreate split;
  int chunks = 0;
  int chunks_done = 0;
  bool failed = false;
  bool kept = false;  // finished by the interrupted run this one resumes
  TableProgress progress;
  TableReport report;
};

class Runner {
 public:
  explicit Runner(const SnapshotOptions& o) : o_(o), c_(*o.config) {}

  absl::StatusOr<MySnapshotResult> Run() {
    const auto started = std::chrono::steady_clock::now();
    if (c_.source.is_postgres() || c_.target.is_postgres()) {
      return absl::InvalidArgumentError("the MySQL/MariaDB snapshot needs source.type and target.type mysql or mariadb");
    }
    source_ = MySessionOptions{.host = c_.source.host, .port = c_.source.port, .user = c_.source.user,
                               .password = o_.source_password, .label = "source"};
    staging_ = MySessionOptions{.host = c_.target.host, .port = c_.target.port, .user = c_.target.user,
                                .password = o_.target_password, .label = "staging", .local_infile = true};
    PHONY_ASSIGN_OR_RETURN(auto coord, Connect(source_));
    PHONY_ASSIGN_OR_RETURN(auto staging, Connect(staging_));
    PHONY_RETURN_IF_ERROR(PrepareStaging(*staging));
    PHONY_RETURN_IF_ERROR(ReadCatalog(*coord));
    PHONY_RETURN_IF_ERROR(AdoptKeptTables(*staging));
    if (tables_.empty()) {
      return absl::FailedPreconditionError("no source table matches the job (source.database " + c_.source.database +
                                           ", include/exclude)");
    }
    PHONY_RETURN_IF_ERROR(PlanChunks(*coord));
    PHONY_RETURN_IF_ERROR(OpenWorkers(*coord));
    if (c_.subset) PHONY_RETURN_IF_ERROR(ChooseSubset());
    result_.report.clean_cut = true;
    result_.report.snapshot_lsn = result_.binlog_file + ":" + std::to_string(result_.binlog_position);
    if (!kept_cuts_.empty()) {
      const auto kept = std::count_if(tables_.begin(), tables_.end(), [](const TableState& t) { return t.kept; });
      spdlog::info("snapshot: resuming run {}: {} tables it finished are kept, the others are copied anew",
                   resumed_run_, kept);
    }
    spdlog::info("snapshot: {} tables in {} chunks, {} workers, consistent at {}{}", tables_.size(), queue_.size(),
                 workers_.size(), result_.report.snapshot_lsn,
                 result_.gtids.empty() ? "" : " (GTIDs " + result_.gtids + ")");
    PHONY_RETURN_IF_ERROR(staging->Run(
        "UPDATE phony.snapshot_runs SET position = " + staging->Literal(result_.report.snapshot_lsn) +
            ", gtids = " + staging->Literal(result_.gtids) + " WHERE run_id = " + std::to_string(run_id_),
        "recording the snapshot position"));

    // Shadows, then the load.
    for (size_t i = 0; i < tables_.size(); ++i) {
      TableState& t = tables_[i];
      if (t.kept) continue;
      PHONY_RETURN_IF_ERROR(staging->Run("DROP TABLE IF EXISTS " + t.shadow, "dropping an old shadow table"));
      PHONY_RETURN_IF_ERROR(staging->Run(t.split.create, "creating the shadow of " + t.cat.schema.id.QualifiedName()));
    }
    std::vector<std::thread> threads;
    for (size_t w = 0; w < workers_.size(); ++w) threads.emplace_back([this, w] { Work(w); });
    while (true) {
      {
        std::unique_lock l(mu_);
        if (cv_.wait_for(l, std::chrono::seconds(1), [&] { return active_ == 0; })) break;
      }
      Progress();
    }
    for (auto& t : threads) t.join();
    workers_.clear();  // ends the source transactions
    Progress();
    if (!fatal_.ok()) return fatal_;
    if (o_.stop != nullptr && o_.stop->load()) return absl::CancelledError("stopped: the snapshot did not finish");

    // Foreign keys, once every table is in place.
    const auto fk_started = std::chrono::steady_clock::now();
    PHONY_RETURN_IF_ERROR(staging->Run("SET SESSION foreign_key_checks = 0", "adding foreign keys"));
    for (TableState& t : tables_) {
      if (t.failed || t.split.foreign_keys.empty()) continue;
      DropForeignKeysToLeftOutTables(t);
      PHONY_RETURN_IF_ERROR(DropForeignKeysStagingHas(*staging, t));
      if (t.split.foreign_keys.empty()) continue;
      absl::Status s = staging->Run("ALTER TABLE " + t.staging_name + " " + absl::StrJoin(t.split.foreign_keys, ", "),
                                    "adding the foreign keys of " + t.cat.schema.id.QualifiedName());
      if (!s.ok()) {
        result_.report.problems.push_back(std::string(s.message()));
        continue;
      }
      for (const ForeignKey& fk : t.cat.schema.foreign_keys) {
        auto orphan = Orphans(*staging, t, fk);
        if (!orphan.ok()) {
          result_.report.problems.push_back(std::string(orphan.status().message()));
        } else if (*orphan) {
          result_.report.problems.push_back("foreign key " + fk.name + " of " + t.cat.schema.id.QualifiedName() +
                                            " does not hold in staging: a row references a key the anonymized "
                                            "parent table does not have (is the key column anonymized on one side "
                                            "only?)");
        }
      }
    }
    result_.report.constraint_seconds = Since(fk_started);

    // A failed table's shadow holds part of it: nothing resumes from it.
    for (TableState& t : tables_) {
      if (t.failed) (void)staging->Run("DROP TABLE IF EXISTS " + t.shadow, "dropping a failed table's shadow");
    }
    PHONY_RETURN_IF_ERROR(SettleKeptTables(*staging));
    SnapshotReport& r = result_.report;
    r.run_id = run_id_;
    for (TableState& t : tables_) {
      t.report.table = t.cat.schema.id.QualifiedName();
      r.rows += t.report.rows;
      r.bytes += t.report.bytes;
      r.analyze_seconds += t.report.analyze_seconds;
      r.tables.push_back(t.report);
    }
    r.seconds = Since(started);
    const bool ok = r.ok();
    PHONY_RETURN_IF_ERROR(staging->Run("UPDATE phony.snapshot_runs SET state = " +
                                           std::string(ok ? "'done'" : "'failed'") +
                                           ", finished_at = CURRENT_TIMESTAMP(6) WHERE run_id = " +
                                           std::to_string(run_id_),
                                       "recording the end of the snapshot"));
    return result_;
  }

 private:
  absl::StatusOr<std::unique_ptr<MySession>> Connect(const MySessionOptions& options) {
    std::unique_ptr<MySession> out;
    absl::Status last;
    const BackoffOptions backoff{.what = options.label == "source" ? "source" : "staging",
                                 .max_retries = std::max(10, c_.snapshot.max_attempts)};
    static const std::atomic<bool> kNever{false};
    absl::Status s = RetryWithBackoff(backoff, o_.stop ? *o_.stop : kNever, [&](bool*) -> absl::Status {
      auto session = MySession::Connect(options);
      if (!session.ok()) return session.status();
      out = *std::move(session);
      return absl::OkStatus();
    });
    PHONY_RETURN_IF_ERROR(s);
    if (!out) return absl::CancelledError("stopped while connecting to the " + options.label);
    return out;
  }

  absl::Status PrepareStaging(MySession& s) {
    PHONY_RETURN_IF_ERROR(s.Run("CREATE DATABASE IF NOT EXISTS phony", "creating the phony database"));
    PHONY_RETURN_IF_ERROR(s.Run(
        "CREATE TABLE IF NOT EXISTS phony.snapshot_runs (run_id bigint NOT NULL AUTO_INCREMENT PRIMARY KEY, job "
        "varchar(255) NOT NULL, state varchar(16) NOT NULL, position varchar(1024) NOT NULL DEFAULT '', gtids text, "
        "started_at timestamp(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6), finished_at timestamp(6) NULL) ENGINE=InnoDB",
        "creating phony.snapshot_runs"));
    PHONY_RETURN_IF_ERROR(s.Run(apply::kCreateTableCuts, "creating phony.table_cuts"));
    PHONY_RETURN_IF_ERROR(FindResumableRun(s));
    // An earlier run that stopped left its shadows: unfinished tables are
    // copied again (the tables it swapped in are kept: FindResumableRun).
    PHONY_ASSIGN_OR_RETURN(auto old, s.Query("SELECT run_id, state FROM phony.snapshot_runs WHERE state <> 'done' "
                                             "AND job = " + s.Literal(c_.name),
                                             "reading phony.snapshot_runs"));
    for (const auto& r : old) {
      PHONY_RETURN_IF_ERROR(DropShadows(s, r[0].value_or("0")));
      if (r[1] == "running" && std::strtoll(r[0].value_or("0").c_str(), nullptr, 10) != resumed_run_) {
        result_.report.warnings.push_back("run " + r[0].value_or("?") +
                                          " did not finish; it was abandoned (--restart, a subset or --tables "
                                          "copies every table it names again)");
      }
    }
    PHONY_RETURN_IF_ERROR(s.Run("UPDATE phony.snapshot_runs SET state = 'abandoned' WHERE state = 'running' AND job = " +
                                    s.Literal(c_.name),
                                "reading phony.snapshot_runs"));
    PHONY_RETURN_IF_ERROR(s.Run("INSERT INTO phony.snapshot_runs (job, state) VALUES (" + s.Literal(c_.name) +
                                    ", 'running')",
                                "starting a snapshot run"));
    PHONY_ASSIGN_OR_RETURN(auto id, s.Query("SELECT LAST_INSERT_ID()", "starting a snapshot run"));
    run_id_ = std::strtoll(id[0][0].value_or("0").c_str(), nullptr, 10);
    // Staging tables are written by phony only; they need not be replicated
    // onward (needs BINLOG ADMIN or SUPER; without it they are).
    sql_log_bin_off_ = s.Run("SET SESSION sql_log_bin = 0", "").ok();
    return absl::OkStatus();
  }

  // A full run that was interrupted (stopped, or killed) kept the tables it
  // had swapped in, each with its cut in phony.table_cuts: the next full run
  // of the job keeps them and copies the rest under a new cut. CDC then
  // continues from the oldest cut, and the applier skips each table's
  // changes up to its own (docs/snapshot-mysql.md "Stopping and failures").
  // Chunks of an unfinished table are not kept: a table is one cut.
  absl::Status FindResumableRun(MySession& s) {
    if (o_.restart || !o_.only_tables.empty() || c_.subset) return absl::OkStatus();
    PHONY_ASSIGN_OR_RETURN(auto run, s.Query("SELECT run_id FROM phony.snapshot_runs WHERE state = 'running' "
                                             "AND position <> '' AND job = " + s.Literal(c_.name) +
                                             " ORDER BY run_id DESC LIMIT 1",
                                             "reading phony.snapshot_runs"));
    if (run.empty()) return absl::OkStatus();
    const std::string id = run[0][0].value_or("0");
    PHONY_ASSIGN_OR_RETURN(auto cuts, s.Query("SELECT c.source_schema, c.table_name, c.binlog_file, c.binlog_position, "
                                              "c.gtids FROM phony.table_cuts c JOIN information_schema.TABLES t ON "
                                              "t.TABLE_SCHEMA = c.staging_schema AND t.TABLE_NAME = c.table_name "
                                              "WHERE c.run_id = " + id,
                                              "reading what run " + id + " finished"));
    resumed_run_ = std::strtoll(id.c_str(), nullptr, 10);
    for (const auto& c : cuts) {
      auto at = BinlogPosition::Make(c[2].value_or(""), std::strtoull(c[3].value_or("0").c_str(), nullptr, 10));
      if (!at.ok()) continue;  // not a cut to resume from: copied again
      const std::string db = c[0].value_or("");
      kept_cuts_[TableId{.database = db, .schema = db, .table = c[1].value_or("")}] = Cut{*at, c[4].value_or("")};
    }
    return absl::OkStatus();
  }

  // The kept tables become this run's: a run resuming this one keeps them too.
  absl::Status AdoptKeptTables(MySession& staging) {
    for (const TableState& t : tables_) {
      if (!t.kept) continue;
      PHONY_RETURN_IF_ERROR(staging.Run("UPDATE phony.table_cuts SET run_id = " + std::to_string(run_id_) +
                                            " WHERE staging_schema = " + staging.Literal(StagingDb(t.cat.schema.id.schema)) +
                                            " AND table_name = " + staging.Literal(t.cat.schema.id.table),
                                        "keeping " + t.cat.schema.id.QualifiedName()));
    }
    return absl::OkStatus();
  }

  // CDC continues from the oldest cut a table of this copy stands at.
  absl::Status SettleKeptTables(MySession& staging) {
    int kept = 0;
    PHONY_ASSIGN_OR_RETURN(BinlogPosition oldest, BinlogPosition::Make(result_.binlog_file, result_.binlog_position));
    for (const TableState& t : tables_) {
      if (!t.kept) continue;
      ++kept;
      const Cut& cut = kept_cuts_.at(t.cat.schema.id);
      if (cut.at < oldest) {
        oldest = cut.at;
        result_.binlog_file = cut.at.file();
        result_.binlog_position = cut.at.offset();
        result_.gtids = cut.gtids;
      }
    }
    if (kept == 0) return absl::OkStatus();
    result_.report.resumed = true;
    result_.report.snapshot_lsn = result_.binlog_file + ":" + std::to_string(result_.binlog_position);
    return staging.Run("UPDATE phony.snapshot_runs SET position = " + staging.Literal(result_.report.snapshot_lsn) +
                           ", gtids = " + staging.Literal(result_.gtids) + " WHERE run_id = " + std::to_string(run_id_),
                       "recording the snapshot position");
  }

  absl::Status DropShadows(MySession& s, const std::string& run) {
    PHONY_ASSIGN_OR_RETURN(auto names, s.Query("SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = "
                                               "'phony' AND TABLE_NAME LIKE " + s.Literal("snap\\_r" + run + "\\_%"),
                                               "listing old shadow tables"));
    for (const auto& n : names) {
      PHONY_RETURN_IF_ERROR(s.Run("DROP TABLE IF EXISTS phony." + MySession::Ident(n[0].value_or("")),
                                  "dropping an old shadow table"));
    }
    return absl::OkStatus();
  }

  std::string StagingDb(const std::string& schema) const {
    return schema == c_.source.database && !c_.target.database.empty() ? c_.target.database : schema;
  }

  absl::Status ReadCatalog(MySession& s) {
    PHONY_ASSIGN_OR_RETURN(std::vector<TableId> ids, mysql::ListTables(s, c_.Filter()));
    std::set<std::string> only(o_.only_tables.begin(), o_.only_tables.end());
    std::set<std::string> databases;
    for (const TableId& id : ids) {
      if (!only.empty() && !only.count(id.QualifiedName()) && !only.count(id.table)) continue;
      PHONY_ASSIGN_OR_RETURN(CatalogTable cat, mysql::ReadCatalogTable(s, id));
      TableState t;
      t.source_name = MySession::Ident(id.schema) + "." + MySession::Ident(id.table);
      t.staging_name = MySession::Ident(StagingDb(id.schema)) + "." + MySession::Ident(id.table);
      t.shadow = "phony." + MySession::Ident("snap_r" + std::to_string(run_id_) + "_" + std::to_string(tables_.size()));
      PHONY_ASSIGN_OR_RETURN(auto create, s.Query("SHOW CREATE TABLE " + t.source_name,
                                                  "reading the definition of " + id.QualifiedName()));
      if (create.empty() || create[0].size() < 2 || !create[0][1]) {
        return absl::FailedPreconditionError("SHOW CREATE TABLE " + id.QualifiedName() + " printed nothing");
      }
      auto split = SplitCreateTable(*create[0][1], t.shadow);
      if (!split.ok()) return absl::DataLossError(id.QualifiedName() + ": " + std::string(split.status().message()));
      t.split = *std::move(split);
      t.cat = std::move(cat);
      t.progress.table = id.QualifiedName();
      t.progress.estimated_rows = t.cat.estimated_rows;
      t.progress.state = "queued";
      if (kept_cuts_.count(id)) {
        t.kept = true;
        t.progress.state = t.report.state = "kept";
      }
      databases.insert(id.schema);
      tables_.push_back(std::move(t));
    }
    if (!only.empty() && tables_.size() < only.size()) {
      std::vector<std::string> missing;
      for (const std::string& want : only) {
        const bool found = std::any_of(tables_.begin(), tables_.end(), [&](const TableState& t) {
          return t.cat.schema.id.QualifiedName() == want || t.cat.schema.id.table == want;
        });
        if (!found) missing.push_back(want);
      }
      if (!missing.empty()) {
        return absl::InvalidArgumentError("--tables: no such table in the job: " + absl::StrJoin(missing, ", "));
      }
    }
    // Staging databases with the source's default character set.
    PHONY_ASSIGN_OR_RETURN(auto staging, Connect(staging_));
    for (const std::string& db : databases) {
      PHONY_ASSIGN_OR_RETURN(auto cs, s.Query("SELECT DEFAULT_CHARACTER_SET_NAME, DEFAULT_COLLATION_NAME FROM "
                                              "information_schema.SCHEMATA WHERE SCHEMA_NAME = " + s.Literal(db),
                                              "reading the character set of " + db));
      std::string sql = "CREATE DATABASE IF NOT EXISTS " + MySession::Ident(StagingDb(db));
      if (!cs.empty() && cs[0][0] && cs[0][1]) sql += " CHARACTER SET " + *cs[0][0] + " COLLATE " + *cs[0][1];
      PHONY_RETURN_IF_ERROR(staging->Run(sql, "creating the staging database " + StagingDb(db)));
    }
    return absl::OkStatus();
  }

  int WorkerCount() const {
    int n = c_.snapshot.workers > 0 ? c_.snapshot.workers
                                    : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    return std::clamp(n, 1, 16);
  }

  absl::Status PlanChunks(MySession& s) {
    const int64_t chunk_bytes = std::max<int64_t>(1, c_.snapshot.chunk_mb) * 1048576;
    for (size_t i = 0; i < tables_.size(); ++i) {
      TableState& t = tables_[i];
      if (t.kept) continue;
      const int64_t rows = std::max<int64_t>(t.cat.estimated_rows, 1);
      const int64_t n = std::min<int64_t>(t.cat.data_bytes / chunk_bytes + 1, 4096);
      if (n <= 1 || !IsIntegerKey(t.cat) || rows < 2 * n) {
        queue_.push_back({i, ""});
        t.chunks = 1;
        continue;
      }
      const std::string key = MySession::Ident(t.cat.schema.columns[t.cat.schema.KeyColumns()[0]].name);
      PHONY_ASSIGN_OR_RETURN(auto mm, s.Query("SELECT MIN(" + key + "), MAX(" + key + ") FROM " + t.source_name,
                                              "reading the key range of " + t.cat.schema.id.QualifiedName()));
      if (mm.empty() || !mm[0][0] || !mm[0][1]) {
        queue_.push_back({i, ""});
        t.chunks = 1;
        continue;
      }
      // Bounds as signed or unsigned 64-bit integers; the ranges are
      // open-ended at both ends, so rows written outside them since are
      // still read.
      const bool unsigned_key = t.cat.schema.columns[t.cat.schema.KeyColumns()[0]].kind == ValueKind::kUInt64;
      const long double lo = std::strtold(mm[0][0]->c_str(), nullptr), hi = std::strtold(mm[0][1]->c_str(), nullptr);
      const long double step = (hi - lo) / static_cast<long double>(n);
      if (step < 1) {
        queue_.push_back({i, ""});
        t.chunks = 1;
        continue;
      }
      std::vector<std::string> bounds;
      for (int64_t k = 1; k < n; ++k) {
        const long double b = lo + step * static_cast<long double>(k);
        bounds.push_back(unsigned_key ? std::to_string(static_cast<unsigned long long>(b))
                                      : std::to_string(static_cast<long long>(b)));
      }
      bounds.erase(std::unique(bounds.begin(), bounds.end()), bounds.end());
      for (size_t k = 0; k <= bounds.size(); ++k) {
        std::string where;
        if (k > 0) where = key + " >= " + bounds[k - 1];
        if (k < bounds.size()) where += std::string(where.empty() ? "" : " AND ") + key + " < " + bounds[k];
        queue_.push_back({i, where});
      }
      t.chunks = static_cast<int>(bounds.size() + 1);
    }
    return absl::OkStatus();
  }

  // A subset (docs/snapshot.md "Subsets"), chosen inside the cut by the
  // first worker's transaction: the tables it leaves out go, the others
  // are read by key, 20 000 keys a chunk, or whole by their range chunks.
  absl::Status ChooseSubset() {
    PHONY_ASSIGN_OR_RETURN(const int64_t seed, SubsetSeed(o_.secret));
    std::vector<const CatalogTable*> cats;
    for (const TableState& t : tables_) cats.push_back(&t.cat);
    const auto started = std::chrono::steady_clock::now();
    PHONY_ASSIGN_OR_RETURN(SubsetPlan plan,
                           ComputeMySubset(*workers_[0]->source, cats, *c_.subset, c_.DefaultSchema(), seed,
                                           o_.inferred_foreign_keys));
    size_t keyed = 0;
    std::vector<TableState> chosen;
    std::deque<Chunk> queue;
    for (size_t i = 0; i < tables_.size(); ++i) {
      TableState& t = tables_[i];
      const TableId& id = t.cat.schema.id;
      auto it = plan.tables.find(id);
      if (it == plan.tables.end()) {
        spdlog::info("snapshot: subset {}: left out (other_tables: none)", id.QualifiedName());
        left_out_.insert(id);
        continue;
      }
      const SubsetSelection& sel = it->second;
      const size_t index = chosen.size();
      int chunks = 0;
      if (sel.all) {
        for (const Chunk& c : queue_) {
          if (c.table == i) {
            queue.push_back({index, c.where});
            ++chunks;
          }
        }
      } else if (sel.columns.empty()) {
        queue.push_back({index, MySelectionCondition(t.cat, sel, 0, 0)});  // a condition, or none
        chunks = 1;
      } else {
        for (size_t b = 0; b < sel.values.size(); b += kSubsetChunk) {
          queue.push_back({index, MySelectionCondition(t.cat, sel, b, std::min(sel.values.size(), b + kSubsetChunk))});
          ++chunks;
        }
        keyed += sel.values.size();
      }
      if (chunks == 0) {
        queue.push_back({index, "FALSE"});  // schema only
        chunks = 1;
      }
      spdlog::info("snapshot: subset {}: {}{}", id.QualifiedName(), sel.how,
                   sel.all || sel.columns.empty() ? "" : ", " + std::to_string(sel.values.size()) + " rows");
      t.chunks = chunks;
      chosen.push_back(std::move(t));
    }
    tables_ = std::move(chosen);
    queue_ = std::move(queue);
    spdlog::info("snapshot: subset chosen in {:.1f} s ({} passes over the foreign keys, {} keyed rows)",
                 Since(started), plan.iterations, keyed);
    return absl::OkStatus();
  }

  // A kept table may have its foreign keys already (the interrupted run got
  // that far): they are not added twice.
  absl::Status DropForeignKeysStagingHas(MySession& s, TableState& t) {
    if (!t.kept) return absl::OkStatus();
    PHONY_ASSIGN_OR_RETURN(auto have, s.Query("SELECT CONSTRAINT_NAME FROM information_schema.REFERENTIAL_CONSTRAINTS "
                                              "WHERE CONSTRAINT_SCHEMA = " + s.Literal(StagingDb(t.cat.schema.id.schema)) +
                                              " AND TABLE_NAME = " + s.Literal(t.cat.schema.id.table),
                                              "reading the foreign keys of " + t.cat.schema.id.QualifiedName()));
    std::vector<std::string> clauses;
    for (const std::string& clause : t.split.foreign_keys) {
      const bool there = std::any_of(have.begin(), have.end(), [&](const mysql::TextRow& r) {
        return clause.starts_with("ADD CONSTRAINT " + MySession::Ident(r[0].value_or("")) + " ");
      });
      if (!there) clauses.push_back(clause);
    }
    t.split.foreign_keys = std::move(clauses);
    return absl::OkStatus();
  }

  // A foreign key to a table the subset left out has nothing to point at.
  void DropForeignKeysToLeftOutTables(TableState& t) {
    if (left_out_.empty()) return;
    std::vector<std::string> clauses;
    for (const std::string& clause : t.split.foreign_keys) {
      bool keep = true;
      for (const ForeignKey& fk : t.cat.schema.foreign_keys) {
        if (left_out_.count(fk.referenced) && clause.starts_with("ADD CONSTRAINT " + MySession::Ident(fk.name) + " ")) {
          spdlog::info("snapshot: foreign key {} of {} not created: the subset left out {}", fk.name,
                       t.cat.schema.id.QualifiedName(), fk.referenced.QualifiedName());
          keep = false;
        }
      }
      if (keep) clauses.push_back(clause);
    }
    t.split.foreign_keys = std::move(clauses);
  }

  struct Worker {
    std::unique_ptr<MySession> source;
    std::unique_ptr<MySession> staging;
    std::unique_ptr<transform::Transformer> transformer;
    std::map<size_t, std::unique_ptr<MyRowCopier>> copiers;
  };

  // Opens every worker's source transaction at one cut.
  absl::Status OpenWorkers(MySession& coord) {
    int n = std::max(1, std::min<int>(WorkerCount(), static_cast<int>(queue_.size())));
    for (int i = 0; i < n; ++i) {
      auto w = std::make_unique<Worker>();
      PHONY_ASSIGN_OR_RETURN(w->source, Connect(source_));
      PHONY_ASSIGN_OR_RETURN(w->staging, Connect(staging_));
      (void)w->staging->Run("SET SESSION sql_log_bin = 0", "");
      PHONY_RETURN_IF_ERROR(w->staging->Run("SET SESSION foreign_key_checks = 0, SESSION unique_checks = 0",
                                            "setting up a loading session"));
      PHONY_ASSIGN_OR_RETURN(w->transformer, transform::Transformer::Create(c_, o_.secret,
                                                                            {.ledger = o_.ledger, .quiet = true}));
      PHONY_RETURN_IF_ERROR(w->source->Run("SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ",
                                           "starting a snapshot transaction"));
      workers_.push_back(std::move(w));
    }
    const bool mariadb = coord.is_mariadb();
    auto begin_all = [&]() -> absl::Status {
      for (auto& w : workers_) {
        PHONY_RETURN_IF_ERROR(w->source->Run("START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY",
                                             "starting a snapshot transaction"));
      }
      return absl::OkStatus();
    };
    // Commits blocked for a moment: every worker's snapshot is the same
    // state, and the binlog position is read in it.
    absl::Status locked = mariadb ? coord.Run("BACKUP STAGE START", "blocking commits")
                                  : coord.Run("FLUSH TABLES WITH READ LOCK", "blocking commits");
    if (locked.ok() && mariadb) {
      locked = coord.Run("BACKUP STAGE BLOCK_COMMIT", "blocking commits");
      if (!locked.ok()) (void)coord.Run("BACKUP STAGE END", "");
    }
    if (locked.ok()) {
      absl::Status s = begin_all();
      if (s.ok()) s = ReadCutPosition(coord, mariadb, /*blocked=*/true);
      absl::Status unlocked = mariadb ? coord.Run("BACKUP STAGE END", "unblocking commits")
                                      : coord.Run("UNLOCK TABLES", "unblocking commits");
      PHONY_RETURN_IF_ERROR(s);
      return unlocked;
    }
    if (!absl::IsPermissionDenied(locked) && coord.last_errno() != 1227 /* ER_SPECIFIC_ACCESS_DENIED */) {
      return locked;
    }
    if (!mariadb) {
      return absl::PermissionDeniedError(
          "the source user may not block commits for a moment (FLUSH TABLES WITH READ LOCK needs RELOAD): "
          "a MySQL snapshot needs it to read the binlog position of its cut; GRANT RELOAD ON *.* TO the user");
    }
    // MariaDB without RELOAD: one worker, lock-free; its transaction knows
    // its own binlog position.
    workers_.resize(1);
    result_.report.warnings.push_back(
        "one snapshot worker: the source user may not block commits for a moment (BACKUP STAGE needs RELOAD), "
        "which parallel workers need to share one cut; GRANT RELOAD ON *.* for a parallel copy");
    PHONY_RETURN_IF_ERROR(begin_all());
    return ReadCutPosition(*workers_[0]->source, mariadb, /*blocked=*/false);
  }

  absl::Status ReadCutPosition(MySession& s, bool mariadb, bool blocked) {
    if (mariadb) {
      // The worker's own view (binlog_snapshot_*) is exact with or without
      // the block; with the block, the coordinator's equals every worker's.
      MySession& view = blocked ? *workers_[0]->source : s;
      PHONY_ASSIGN_OR_RETURN(auto st, view.Query("SHOW STATUS LIKE 'binlog_snapshot_%'", "reading the binlog position"));
      for (const auto& r : st) {
        if (r[0] == "Binlog_snapshot_file") result_.binlog_file = r[1].value_or("");
        if (r[0] == "Binlog_snapshot_position") result_.binlog_position = std::strtoull(r[1].value_or("0").c_str(), nullptr, 10);
      }
      if (blocked) {
        PHONY_ASSIGN_OR_RETURN(auto g, s.Query("SELECT @@GLOBAL.gtid_binlog_pos", "reading the GTID position"));
        if (!g.empty() && g[0][0]) result_.gtids = *g[0][0];
      }
    } else {
      auto st = s.Query("SHOW BINARY LOG STATUS", "reading the binlog position");
      if (!st.ok()) st = s.Query("SHOW MASTER STATUS", "reading the binlog position");
      if (!st.ok()) return st.status();
      if (!st->empty()) {
        result_.binlog_file = (*st)[0][0].value_or("");
        result_.binlog_position = std::strtoull((*st)[0][1].value_or("0").c_str(), nullptr, 10);
        if ((*st)[0].size() > 4 && (*st)[0][4]) result_.gtids = *(*st)[0][4];
      }
    }
    if (result_.binlog_file.empty()) {
      return absl::FailedPreconditionError("the source has no binary log (log_bin is off): phony reads changes from "
                                           "it, so set log_bin and binlog_format=ROW");
    }
    return absl::OkStatus();
  }

  void Work(size_t index) {
    {
      std::lock_guard l(mu_);
      ++active_;
    }
    Worker& w = *workers_[index];
    while (true) {
      Chunk chunk;
      {
        std::lock_guard l(mu_);
        if (queue_.empty() || !fatal_.ok() || (o_.stop != nullptr && o_.stop->load())) break;
        chunk = queue_.front();
        queue_.pop_front();
        if (tables_[chunk.table].failed) continue;
        tables_[chunk.table].progress.state = "loading";
      }
      absl::Status s = LoadChunkWithRetries(w, chunk);
      TableState& t = tables_[chunk.table];
      bool last = false;
      {
        std::lock_guard l(mu_);
        if (!s.ok()) {
          if (s.code() == absl::StatusCode::kUnavailable || s.code() == absl::StatusCode::kCancelled) {
            // The source transaction is gone with its connection: the cut
            // cannot be read again, so the run stops (the next one starts
            // over).
            if (fatal_.ok()) fatal_ = s;
            break;
          }
          t.failed = true;
          t.report.state = "failed";
          t.report.error = std::string(s.message());
          t.progress.state = "failed";
          spdlog::error("snapshot: {}: {}", t.progress.table, t.report.error);
          continue;
        }
        last = ++t.chunks_done == t.chunks;
        t.progress.chunks_done = t.chunks_done;
      }
      if (last) {
        absl::Status done = FinishTable(w, t);
        std::lock_guard l(mu_);
        if (!done.ok()) {
          t.failed = true;
          t.report.state = "failed";
          t.report.error = std::string(done.message());
          t.progress.state = "failed";
          spdlog::error("snapshot: {}: {}", t.progress.table, t.report.error);
        } else {
          t.report.state = "done";
          t.progress.state = "done";
        }
      }
    }
    std::lock_guard l(mu_);
    --active_;
    cv_.notify_all();
  }

  absl::Status LoadChunkWithRetries(Worker& w, const Chunk& chunk) {
    absl::Duration wait = absl::Seconds(1);
    for (int attempt = 1;; ++attempt) {
      {
        std::lock_guard l(mu_);
        ++tables_[chunk.table].report.attempts;
      }
      absl::Status s = LoadChunk(w, chunk);
      if (s.ok()) return s;
      // Staging trouble is retried; the source's is fatal (its snapshot
      // transaction is gone); bad data and rules are final.
      const bool retry = (s.code() == absl::StatusCode::kAborted || s.code() == absl::StatusCode::kUnavailable) &&
                         attempt < std::max(1, c_.snapshot.max_attempts) && source_alive_(w);
      if (!retry) return s;
      spdlog::warn("snapshot: {} (attempt {}), retrying in {}", std::string(s.message()), attempt,
                   absl::FormatDuration(wait));
      std::this_thread::sleep_for(absl::ToChronoMilliseconds(wait));
      wait = std::min(wait * 2, absl::Seconds(30));
      if (s.code() == absl::StatusCode::kUnavailable) {
        auto again = Connect(staging_);
        if (!again.ok()) return again.status();
        w.staging = *std::move(again);
        (void)w.staging->Run("SET SESSION sql_log_bin = 0", "");
        PHONY_RETURN_IF_ERROR(w.staging->Run("SET SESSION foreign_key_checks = 0, SESSION unique_checks = 0",
                                             "setting up a loading session"));
      }
    }
  }

  static bool source_alive_(Worker& w) { return w.source->Run("DO 1", "checking the source session").ok(); }

  absl::Status LoadChunk(Worker& w, const Chunk& chunk) {
    TableState& t = tables_[chunk.table];
    const std::string name = t.cat.schema.id.QualifiedName();
    auto& copier = w.copiers[chunk.table];
    if (!copier) {
      PHONY_ASSIGN_OR_RETURN(MyRowCopier c, MyRowCopier::Create(&t.cat, w.transformer.get()));
      copier = std::make_unique<MyRowCopier>(std::move(c));
    }
    const auto started = std::chrono::steady_clock::now();
    std::string select = "SELECT " + copier->SelectList() + " FROM " + t.source_name;
    if (!chunk.where.empty()) select += " WHERE " + chunk.where;
    PHONY_ASSIGN_OR_RETURN(auto cursor, w.source->Open(select, "reading " + name));
    int64_t rows = 0, bytes = 0;
    absl::Status inner;
    w.staging->SetInfileSource([&](std::string* buf, size_t want) {
      while (buf->size() < want) {
        if (o_.stop != nullptr && o_.stop->load()) {
          inner = absl::CancelledError("stopped");
          return false;
        }
        if (!cursor->Next()) {
          inner = cursor->status();
          return false;
        }
        for (unsigned i = 0; i < cursor->count(); ++i) bytes += static_cast<int64_t>(cursor->lengths()[i]);
        if (absl::Status s = copier->Append(cursor->fields(), cursor->lengths(), buf); !s.ok()) {
          inner = s;
          return false;
        }
        ++rows;
      }
      return true;
    });
    PHONY_RETURN_IF_ERROR(w.staging->Run("START TRANSACTION", "loading " + name));
    absl::Status loaded = w.staging->Run("LOAD DATA LOCAL INFILE 'phony-snapshot' INTO TABLE " + t.shadow +
                                             " CHARACTER SET utf8mb4 FIELDS TERMINATED BY '\\t' ESCAPED BY '\\\\' "
                                             "LINES TERMINATED BY '\\n' (" + copier->LoadList() + ")",
                                         "loading " + name);
    const int64_t affected = loaded.ok() ? w.staging->affected_rows() : 0;
    const unsigned warnings = loaded.ok() ? w.staging->warning_count() : 0;
    cursor.reset();  // drains the source's rest after an early end
    if (!inner.ok() || !loaded.ok() || affected != rows || warnings != 0) {
      std::string why;
      if (!inner.ok()) {
        why = std::string(inner.message());
      } else if (!loaded.ok()) {
        why = std::string(loaded.message());
      } else {
        why = "staging: loading " + name + ": " + std::to_string(affected) + " of " + std::to_string(rows) +
              " rows taken, " + std::to_string(warnings) + " warnings" + FirstWarning(*w.staging);
      }
      (void)w.staging->Run("ROLLBACK", "");
      if (!inner.ok()) return absl::Status(inner.code(), why);
      if (!loaded.ok()) return absl::Status(loaded.code(), why);
      return absl::InvalidArgumentError(why);
    }
    PHONY_RETURN_IF_ERROR(w.staging->Run("COMMIT", "loading " + name));
    std::lock_guard l(mu_);
    t.report.rows += rows;
    t.report.bytes += bytes;
    t.report.load_seconds += Since(started);
    t.progress.rows += rows;
    t.progress.bytes += bytes;
    return absl::OkStatus();
  }

  // The first warning's level, code and the column it names, never a value.
  static std::string FirstWarning(MySession& s) {
    auto w = s.Query("SHOW WARNINGS LIMIT 1", "");
    if (!w.ok() || w->empty() || (*w)[0].size() < 3) return "";
    const std::string msg = (*w)[0][2].value_or("");
    std::string column;
    const size_t at = msg.find("column '");
    if (at != std::string::npos) column = msg.substr(at, msg.find('\'', at + 8) - at + 1);
    return " (first: " + (*w)[0][0].value_or("") + " " + (*w)[0][1].value_or("") +
           (column.empty() ? "" : " on " + column) + ")";
  }

  // Secondary and unique indexes on the shadow, then the swap.
  absl::Status FinishTable(Worker& w, TableState& t) {
    const std::string name = t.cat.schema.id.QualifiedName();
    {
      std::lock_guard l(mu_);
      t.progress.state = "indexing";
    }
    MySession& s = *w.staging;
    const auto indexing = std::chrono::steady_clock::now();
    if (!t.split.indexes.empty()) {
      absl::Status all = s.Run("ALTER TABLE " + t.shadow + " " + absl::StrJoin(t.split.indexes, ", "),
                               "indexing " + name);
      if (!all.ok()) {
        // One at a time, to name the index the anonymized data breaks.
        for (const std::string& index : t.split.indexes) {
          absl::Status one = s.Run("ALTER TABLE " + t.shadow + " " + index, "indexing " + name);
          if (!one.ok()) {
            std::lock_guard l(mu_);
            result_.report.problems.push_back(name + ": " + index.substr(4) + ": " + std::string(one.message()) +
                                              (absl::IsInvalidArgument(one) ? " (a unique column under a rule that "
                                                                              "is not injective?)"
                                                                            : ""));
          }
        }
      }
    }
    t.report.index_seconds = Since(indexing);
    if (c_.snapshot.analyze) {
      const auto a = std::chrono::steady_clock::now();
      PHONY_RETURN_IF_ERROR(s.Run("ANALYZE TABLE " + t.shadow, "analyzing " + name));
      t.report.analyze_seconds = Since(a);
    }
    if (!c_.snapshot.drop_existing) {
      PHONY_ASSIGN_OR_RETURN(auto exists, s.Query("SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = " +
                                                  s.Literal(StagingDb(t.cat.schema.id.schema)) + " AND TABLE_NAME = " +
                                                  s.Literal(t.cat.schema.id.table),
                                                  "looking for " + name + " in staging"));
      if (!exists.empty() && exists[0][0] != "0") {
        return absl::FailedPreconditionError("staging already has " + name + " and snapshot.drop_existing is false");
      }
    }
    return SwapIn(s, t, name);
  }

  // Replaces staging's table by the shadow. InnoDB locks a table's foreign
  // key parents and children while it drops it, and fails at once (error
  // 1205) when another DROP holds one of them: two workers swapping a parent
  // and its child at the same moment collide. Swaps take turns within this
  // run; a lock held by someone else (an applier, a person in staging) is
  // waited out with backoff.
  //
  // First the cut goes into phony.table_cuts: the copy holds every change up
  // to it, so an applier skips the table's changes up to there from its next
  // staging transaction on (it reads the cuts under a shared lock, so this
  // waits for a transaction that may still write the old table).
  absl::Status SwapIn(MySession& s, TableState& t, const std::string& name) {
    std::lock_guard turn(swap_mu_);
    const std::string key = s.Literal(StagingDb(t.cat.schema.id.schema)) + ", " + s.Literal(t.cat.schema.id.table);
    bool cut = false;
    absl::Status st;
    for (int attempt = 0; attempt < 8; ++attempt) {
      if (attempt > 0) {
        spdlog::warn("snapshot: {}: {}; retrying", name, std::string(st.message()));
        std::this_thread::sleep_for(std::chrono::milliseconds(100 << std::min(attempt, 5)));
      }
      st = cut ? absl::OkStatus()
               : s.Run("REPLACE INTO phony.table_cuts (staging_schema, table_name, source_schema, binlog_file, "
                       "binlog_position, gtids, run_id) VALUES (" + key + ", " + s.Literal(t.cat.schema.id.schema) +
                           ", " + s.Literal(result_.binlog_file) + ", " + std::to_string(result_.binlog_position) +
                           ", " + s.Literal(result_.gtids) + ", " + std::to_string(-run_id_) + ")",
                       "recording where the copy of " + name + " stands");
      cut = st.ok();
      if (st.ok()) st = s.Run("DROP TABLE IF EXISTS " + t.staging_name, "replacing " + name + " in staging");
      if (st.ok()) st = s.Run("RENAME TABLE " + t.shadow + " TO " + t.staging_name, "replacing " + name + " in staging");
      if (!absl::IsAborted(st)) break;
    }
    if (st.ok()) {
      // The cut was pending (a negative run id) until now: a resumed run
      // keeps only tables that were swapped in. (If this fails, the table
      // is copied again by a resumed run; the applier honours the cut alike.)
      return s.Run("UPDATE phony.table_cuts SET run_id = " + std::to_string(run_id_) +
                       " WHERE (staging_schema, table_name) = (" + key + ")",
                   "recording that " + name + " was swapped in");
    }
    if (!st.ok() && cut) {
      // The old table stays, and an applier may have skipped some of its
      // changes meanwhile: say so with the failure.
      (void)s.Run("DELETE FROM phony.table_cuts WHERE (staging_schema, table_name) = (" + key + ")", "");
      return absl::Status(st.code(), std::string(st.message()) + "; the staging table may now miss changes an "
                                                                    "applier skipped for the copy: copy it again");
    }
    return st;
  }

  // Whether staging has a row of `t` whose foreign key `fk` finds no parent.
  absl::StatusOr<bool> Orphans(MySession& s, const TableState& t, const ForeignKey& fk) {
    const std::string parent = MySession::Ident(StagingDb(fk.referenced.schema)) + "." +
                               MySession::Ident(fk.referenced.table);
    std::string on, not_null;
    for (size_t i = 0; i < fk.columns.size(); ++i) {
      const std::string c = "c." + MySession::Ident(fk.columns[i]);
      on += std::string(i ? " AND " : "") + c + " = p." + MySession::Ident(fk.referenced_columns[i]);
      not_null += " AND " + c + " IS NOT NULL";
    }
    PHONY_ASSIGN_OR_RETURN(auto r, s.Query("SELECT 1 FROM " + t.staging_name + " c WHERE NOT EXISTS (SELECT 1 FROM " +
                                               parent + " p WHERE " + on + ")" + not_null + " LIMIT 1",
                                           "checking foreign key " + fk.name));
    return !r.empty();
  }

  void Progress() {
    if (!o_.on_progress) return;
    struct Progress p;
    {
      std::lock_guard l(mu_);
      for (const TableState& t : tables_) {
        TableProgress tp = t.progress;
        tp.chunks = t.chunks;
        p.tables.push_back(std::move(tp));
      }
    }
    p.seconds = Since(started_);
    o_.on_progress(p);
  }

  const SnapshotOptions& o_;
  const JobConfig& c_;
  MySessionOptions source_, staging_;
  int64_t run_id_ = 0;
  bool sql_log_bin_off_ = false;
  std::vector<TableState> tables_;
  std::deque<Chunk> queue_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::mutex mu_;
  std::mutex swap_mu_;  // one DROP + RENAME at a time: see SwapIn
  std::set<TableId> left_out_;  // tables a subset leaves out
  struct Cut {
    BinlogPosition at;
    std::string gtids;  // the GTID set at the cut
  };
  int64_t resumed_run_ = 0;              // the interrupted run this one resumes
  std::map<TableId, Cut> kept_cuts_;     // the tables it finished
  std::condition_variable cv_;
  int active_ = 0;
  absl::Status fatal_;
  MySnapshotResult result_;
  std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
};

}  // namespace

absl::StatusOr<MySnapshotResult> RunMySqlSnapshot(const SnapshotOptions& options) {
  if (options.config == nullptr) return absl::InvalidArgumentError("RunMySqlSnapshot: no config");
  Runner runner(options);
  return runner.Run();
}

absl::StatusOr<bool> MyStagingHasSnapshot(const JobConfig& config, const std::string& target_password) {
  PHONY_ASSIGN_OR_RETURN(auto s, MySession::Connect({.host = config.target.host, .port = config.target.port,
                                                     .user = config.target.user, .password = target_password,
                                                     .label = "staging"}));
  PHONY_ASSIGN_OR_RETURN(auto has, s->Query("SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = "
                                            "'phony' AND TABLE_NAME = 'snapshot_runs'",
                                            "looking for snapshots"));
  if (has.empty() || has[0][0] == "0") return false;
  PHONY_ASSIGN_OR_RETURN(auto done, s->Query("SELECT COUNT(*) FROM phony.snapshot_runs WHERE state = 'done' AND job = " +
                                             s->Literal(config.name),
                                             "looking for snapshots"));
  if (done.empty() || done[0][0] == "0") return false;
  // A copy killed between writing a table's cut and swapping the table in
  // left a pending cut (negative run id) over the old table: the applier
  // would skip that table's changes, so the copy must be resumed first.
  PHONY_ASSIGN_OR_RETURN(auto cuts, s->Query("SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = "
                                             "'phony' AND TABLE_NAME = 'table_cuts'",
                                             "looking for unfinished copies"));
  if (cuts.empty() || cuts[0][0] == "0") return true;
  PHONY_ASSIGN_OR_RETURN(auto pending, s->Query("SELECT COUNT(*) FROM phony.table_cuts WHERE run_id < 0 AND "
                                                "staging_schema = " + s->Literal(config.target.database),
                                                "looking for unfinished copies"));
  return pending.empty() || pending[0][0] == "0";
}

absl::StatusOr<StagingStats> ReadMyStagingStats(const JobConfig& config, const std::string& target_password) {
  PHONY_ASSIGN_OR_RETURN(auto s, MySession::Connect({.host = config.target.host, .port = config.target.port,
                                                     .user = config.target.user, .password = target_password,
                                                     .label = "staging"}));
  StagingStats out;
  // One staging server may serve several jobs: their streams carry the
  // job's name ("embedded.<job>", or the job's Kafka topic).
  std::string pattern = "%";
  for (char ch : config.name) {
    if (ch == '%' || ch == '_' || ch == '\\') pattern.push_back('\\');
    pattern.push_back(ch);
  }
  const std::string job = s->Literal(pattern + "%");
  PHONY_ASSIGN_OR_RETURN(auto tables, s->Query("SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = "
                                               "'phony'",
                                               "reading phony's bookkeeping"));
  std::set<std::string> have;
  for (const auto& t : tables) have.insert(t[0].value_or(""));
  if (have.count("snapshot_runs")) {
    PHONY_ASSIGN_OR_RETURN(auto runs, s->Query("SELECT run_id, finished_at, position FROM phony.snapshot_runs WHERE "
                                               "state = 'done' AND job = " + s->Literal(config.name) +
                                               " ORDER BY run_id DESC LIMIT 1",
                                               "reading phony.snapshot_runs"));
    if (!runs.empty()) {
      out.last_snapshot = "run " + runs[0][0].value_or("?") + " done at " + runs[0][1].value_or("?") + " UTC, cut " +
                          runs[0][2].value_or("?");
    }
  }
  if (have.count("apply_progress")) {
    PHONY_ASSIGN_OR_RETURN(auto rows, s->Query("SELECT stream, `partition`, next_offset, position_text, "
                                               "TIMESTAMPDIFF(MICROSECOND, applied_at, UTC_TIMESTAMP(6)) FROM "
                                               "phony.apply_progress WHERE stream LIKE " + job + " ORDER BY stream, `partition`",
                                               "reading phony.apply_progress"));
    for (const auto& r : rows) {
      out.progress.push_back({.stream = r[0].value_or(""), .partition = std::atoi(r[1].value_or("0").c_str()),
                              .next_offset = std::strtoll(r[2].value_or("0").c_str(), nullptr, 10),
                              .position = r[3].value_or(""),
                              .seconds_since = std::strtoll(r[4].value_or("0").c_str(), nullptr, 10) / 1e6});
    }
  }
  if (have.count("dead_letters")) {
    PHONY_ASSIGN_OR_RETURN(auto n, s->Query("SELECT COUNT(*) FROM phony.dead_letters WHERE stream LIKE " + job,
                                            "reading phony.dead_letters"));
    if (!n.empty()) out.dead_letters = std::strtoll(n[0][0].value_or("0").c_str(), nullptr, 10);
  }
  return out;
}

absl::StatusOr<MySourceStats> ReadMySourceStats(const JobConfig& config, const std::string& source_password) {
  PHONY_ASSIGN_OR_RETURN(auto s, MySession::Connect({.host = config.source.host, .port = config.source.port,
                                                     .user = config.source.user, .password = source_password,
                                                     .label = "source"}));
  MySourceStats out;
  auto st = s->Query("SHOW BINARY LOG STATUS", "reading the binlog position");
  if (!st.ok()) st = s->Query("SHOW MASTER STATUS", "reading the binlog position");
  if (!st.ok()) return st.status();
  if (!st->empty()) {
    out.position = (*st)[0][0].value_or("") + ":" + (*st)[0][1].value_or("");
    if ((*st)[0].size() > 4 && (*st)[0][4]) out.gtids = *(*st)[0][4];
  }
  if (s->is_mariadb()) {
    PHONY_ASSIGN_OR_RETURN(auto g, s->Query("SELECT @@GLOBAL.gtid_binlog_pos", "reading the GTID position"));
    if (!g.empty() && g[0][0]) out.gtids = *g[0][0];
  }
  PHONY_ASSIGN_OR_RETURN(auto dumps, s->Query("SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE COMMAND LIKE "
                                              "'Binlog Dump%' AND USER = " + s->Literal(config.source.user),
                                              "reading the replica connections"));
  if (!dumps.empty()) out.dump_connections = std::atoi(dumps[0][0].value_or("0").c_str());
  return out;
}

}  // namespace phony::snapshot
