#include "src/snapshot/pg_snapshot.h"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <thread>

#include "absl/strings/str_join.h"
#include "core/logging.h"
#include "core/status_macros.h"
#include "spdlog/spdlog.h"
#include "src/apply/postgres/pg_text.h"
#include "src/capture/postgres/pg_values.h"
#include "src/snapshot/copy_text.h"
#include "src/snapshot/pg_catalog.h"
#include "src/snapshot/pg_session.h"
#include "src/snapshot/pg_subset.h"
#include "src/snapshot/row_copier.h"
#include "src/transform/keyed.h"

namespace phony::snapshot {

namespace {

using Clock = std::chrono::steady_clock;

double Since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

std::string Quote(const std::string& ident) { return apply::pg::QuoteIdent(ident); }
std::string Qualified(const TableId& t) { return Quote(t.schema) + "." + Quote(t.table); }

constexpr int64_t kPageBytes = 8192;
constexpr size_t kSubsetChunk = 20000;  // keys per chunk of a subset table
constexpr size_t kSendBytes = 1 << 18;  // COPY data is sent to staging in pieces of about this size

// The bookkeeping of snapshot runs, in staging next to the applier's.
constexpr const char* kBookkeeping =
    "CREATE SCHEMA IF NOT EXISTS phony; CREATE SCHEMA IF NOT EXISTS phony_snapshot; "
    "CREATE TABLE IF NOT EXISTS phony.snapshot_runs (run_id bigserial PRIMARY KEY, "
    "started_at timestamptz NOT NULL DEFAULT now(), finished_at timestamptz, state text NOT NULL, "
    "clean_cut boolean NOT NULL, snapshot_lsn text NOT NULL); "
    "CREATE TABLE IF NOT EXISTS phony.snapshot_tables (run_id bigint NOT NULL, schema_name text NOT NULL, "
    "table_name text NOT NULL, shadow text NOT NULL, chunks integer NOT NULL, pages_per_chunk bigint NOT NULL, "
    "state text NOT NULL, rows bigint NOT NULL DEFAULT 0, finished_at timestamptz, "
    "PRIMARY KEY (run_id, schema_name, table_name)); "
    "CREATE TABLE IF NOT EXISTS phony.snapshot_chunks (run_id bigint NOT NULL, shadow text NOT NULL, "
    "chunk integer NOT NULL, rows bigint NOT NULL, bytes bigint NOT NULL, snapshot_lsn text NOT NULL, "
    "loaded_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (run_id, shadow, chunk)); "
    "CREATE TABLE IF NOT EXISTS phony.snapshot_marks (run_id bigint NOT NULL, stream text NOT NULL, "
    "partition integer NOT NULL, next_offset bigint NOT NULL, position bytea NOT NULL, position_text text NOT NULL, "
    "PRIMARY KEY (run_id, stream, partition)); "
    "CREATE TABLE IF NOT EXISTS phony.deferred_ddl (id bigserial PRIMARY KEY, schema_name text NOT NULL, "
    "table_name text NOT NULL, statement text NOT NULL, after_lsn text NOT NULL, "
    "created_at timestamptz NOT NULL DEFAULT now(), done_at timestamptz, error text)";

PgEndpoint Endpoint(const EndpointConfig& e, const std::string& password, const std::string& options) {
  PgEndpoint out;
  out.host = e.host;
  out.port = e.port;
  out.database = e.database;
  out.user = e.user;
  out.password = password;
  out.options = options;
  return out;
}

// The snapshot the workers read under, renewed when the exporting
// transaction is lost (each renewal is a newer snapshot).
class SharedSnapshot {
 public:
  SharedSnapshot(PgEndpoint endpoint, std::unique_ptr<PgSession> exporter, std::string name, Lsn lsn, bool clean)
      : endpoint_(std::move(endpoint)), exporter_(std::move(exporter)), name_(std::move(name)), lsn_(lsn),
        clean_(clean) {}

  struct Ticket {
    std::string name;
    Lsn lsn;
    int generation = 0;
  };
  Ticket Current() {
    std::lock_guard<std::mutex> l(mu_);
    return {name_, lsn_, generation_};
  }
  bool clean() {
    std::lock_guard<std::mutex> l(mu_);
    return clean_;
  }
  Lsn newest() {
    std::lock_guard<std::mutex> l(mu_);
    return lsn_;
  }

  // A worker could not import `stale`: export a new snapshot unless another
  // worker did already.
  absl::Status Renew(int stale_generation) {
    std::lock_guard<std::mutex> l(mu_);
    if (generation_ != stale_generation) return absl::OkStatus();
    exporter_.reset();
    PHONY_ASSIGN_OR_RETURN(exporter_, PgSession::Connect(endpoint_, "source"));
    PHONY_ASSIGN_OR_RETURN(auto ticket, Export(exporter_.get()));
    spdlog::warn("snapshot: the exported snapshot was lost; the rest is read under a newer one at {}",
                 ticket.second.ToString());
    name_ = ticket.first;
    lsn_ = ticket.second;
    clean_ = false;
    ++generation_;
    return absl::OkStatus();
  }

  // Begins a repeatable-read transaction on `s` and exports its snapshot:
  // its name, and a WAL position every transaction it sees ends before.
  static absl::StatusOr<std::pair<std::string, Lsn>> Export(PgSession* s) {
    PHONY_RETURN_IF_ERROR(s->Run("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", "beginning the snapshot"));
    PHONY_ASSIGN_OR_RETURN(PgResult r, s->Query("SELECT pg_export_snapshot(), CASE WHEN pg_is_in_recovery() THEN "
                                                "pg_last_wal_replay_lsn() ELSE pg_current_wal_insert_lsn() END",
                                                "exporting the snapshot"));
    PHONY_ASSIGN_OR_RETURN(Lsn lsn, Lsn::Parse(Text(r.get(), 0, 1)));
    return std::make_pair(Text(r.get(), 0, 0), lsn);
  }

 private:
  std::mutex mu_;
  PgEndpoint endpoint_;
  std::unique_ptr<PgSession> exporter_;
  std::string name_;
  Lsn lsn_;
  bool clean_;
  int generation_ = 0;
};

struct TableState {
  const SourceTable* src = nullptr;
  const SubsetSelection* subset = nullptr;  // a subset copy: the rows to take
  std::string shadow;  // phony_snapshot.<shadow> while it loads
  int chunks = 1;
  int64_t pages_per_chunk = 0;
  std::set<int> done;              // finished chunks (also those of earlier runs)
  std::set<std::string> lsns;      // snapshots its finished chunks were read under
  int pending = 0;                 // chunks not yet finished in this run
  bool failed = false;
  bool finish_queued = false;
  bool swapped = false;  // in place already (a run that stopped in its post-load step)
  std::string state = "queued";
  int64_t rows = 0;
  int64_t bytes = 0;
  int attempts = 0;
  Clock::time_point started;
  TableReport report;
};

struct Task {
  size_t table;
  int chunk;  // -1: the table's post-load step
};

class Runner {
 public:
  explicit Runner(const SnapshotOptions& o) : o_(o), c_(*o.config) {}

  absl::StatusOr<SnapshotReport> Run() {
    const auto start = Clock::now();
    if (c_.target.type != DatabaseType::kPostgres) {
      return absl::UnimplementedError("snapshot into a MySQL/MariaDB staging database lands with issue #9; "
                                      "target.type must be postgresql for now");
    }
    if (c_.source.type != DatabaseType::kPostgres) {
      return absl::UnimplementedError("snapshot from a MySQL/MariaDB source lands with issue #9");
    }
    // Both sides in UTF-8: text passed through unparsed is then valid on
    // the staging side whatever the two databases' encodings are.
    const std::string value_options = std::string(pg::kReplicationSessionOptions) + " -c client_encoding=UTF8";
    source_ = Endpoint(c_.source, o_.source_password, value_options);
    staging_ = Endpoint(c_.target, o_.target_password,
                        "-c DateStyle=ISO -c TimeZone=UTC -c IntervalStyle=postgres -c client_encoding=UTF8");

    const int attempts = std::max(10, c_.snapshot.max_attempts);
    PHONY_ASSIGN_OR_RETURN(staging_main_, ConnectWithRetry(staging_, "staging", attempts, o_.stop));
    PHONY_RETURN_IF_ERROR(staging_main_->Run(kBookkeeping, "creating phony's snapshot bookkeeping"));

    // The applier's progress before any snapshot of this run: swapped tables
    // rewind it there, so replay covers what the snapshot may miss.
    PHONY_ASSIGN_OR_RETURN(PgResult has_progress, staging_main_->Query(
                                                      "SELECT to_regclass('phony.apply_progress') IS NOT NULL",
                                                      "looking for the applier's progress"));
    apply_progress_exists_ = Text(has_progress.get(), 0, 0) == "t";

    // The source snapshot and the catalog as of it.
    PHONY_ASSIGN_OR_RETURN(auto exporter, ConnectWithRetry(source_, "source", attempts, o_.stop));
    PHONY_RETURN_IF_ERROR(exporter->Run("SET search_path = ''", "setting the catalog session"));
    std::pair<std::string, Lsn> ticket;
    bool clean = false;
    if (o_.exported_snapshot) {
      PHONY_RETURN_IF_ERROR(exporter->Run("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", "beginning the snapshot"));
      PHONY_RETURN_IF_ERROR(exporter->Run("SET TRANSACTION SNAPSHOT '" + *o_.exported_snapshot + "'",
                                          "importing the slot's snapshot"));
      ticket = {*o_.exported_snapshot, o_.exported_lsn.value_or(Lsn())};
      clean = true;
    } else {
      PHONY_ASSIGN_OR_RETURN(ticket, SharedSnapshot::Export(exporter.get()));
    }
    PHONY_ASSIGN_OR_RETURN(catalog_, ReadSourceCatalog(exporter.get(), c_.Filter(), c_.source.database));
    if (c_.subset) {
      // The sample is keyed by the secret: the same rows every run, and
      // nobody without the secret can tell which.
      PHONY_ASSIGN_OR_RETURN(const int64_t seed, SubsetSeed(o_.secret));
      const auto subset_start = Clock::now();
      PHONY_ASSIGN_OR_RETURN(subset_, ComputeSubset(exporter.get(), catalog_, *c_.subset, c_.DefaultSchema(), seed,
                                                    o_.inferred_foreign_keys));
      size_t rows = 0;
      for (const auto& [id, sel] : subset_.tables) {
        rows += sel.values.size();
        spdlog::info("snapshot: subset {}: {}{}", id.QualifiedName(), sel.how,
                     sel.all || sel.columns.empty() ? "" : ", " + std::to_string(sel.values.size()) + " rows");
      }
      spdlog::info("snapshot: subset chosen in {:.1f} s ({} passes over the foreign keys, {} keyed rows)",
                   Since(subset_start), subset_.iterations, rows);
    }
    snapshot_ = std::make_unique<SharedSnapshot>(source_, std::move(exporter), ticket.first, ticket.second, clean);

    PHONY_RETURN_IF_ERROR(Plan());
    report_.clean_cut = clean;
    PHONY_RETURN_IF_ERROR(CreateShadows());

    // Workers.
    int workers = c_.snapshot.workers > 0 ? c_.snapshot.workers
                                          : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    workers = std::min(workers, 16);
    workers_ = workers;
    for (size_t i = 0; i < tables_.size(); ++i) {
      TableState& t = tables_[i];
      if (t.state == "done") continue;
      t.started = Clock::now();  // again when its first chunk starts
      for (int ch = 0; ch < t.chunks && !t.swapped; ++ch) {
        if (!t.done.count(ch)) queue_.push_back({i, ch}), ++t.pending;
      }
      if (t.pending == 0) queue_.push_back({i, -1}), t.finish_queued = true;
    }
    std::vector<std::thread> threads;
    for (int w = 0; w < workers; ++w) threads.emplace_back([this] { Work(); });
    while (true) {
      {
        std::unique_lock<std::mutex> l(mu_);
        cv_.wait_for(l, std::chrono::seconds(1), [&] { return active_ == 0 && queue_.empty(); });
        if (active_ == 0 && queue_.empty()) break;
        if (fatal_.ok() && o_.stop && o_.stop->load()) {
          fatal_ = absl::CancelledError("stopped by a signal; rerun phony snapshot to resume");
          queue_.clear();
        }
      }
      if (o_.on_progress) o_.on_progress(Snapshot(Since(start)));
    }
    cv_.notify_all();
    for (auto& th : threads) th.join();
    if (o_.on_progress) o_.on_progress(Snapshot(Since(start)));
    if (!fatal_.ok()) return fatal_;

    report_.snapshot_lsn = snapshot_->newest().ToString();
    report_.clean_cut = snapshot_->clean();
    bool all_done = true;
    for (TableState& t : tables_) {
      t.report.table = t.src->schema.id.QualifiedName();
      t.report.rows = t.rows;
      t.report.bytes = t.bytes;
      t.report.attempts = t.attempts;
      if (t.report.state.empty()) t.report.state = t.state;
      all_done = all_done && !t.failed;
      report_.rows += t.rows;
      report_.bytes += t.bytes;
      report_.analyze_seconds += t.report.analyze_seconds;
      report_.tables.push_back(t.report);
    }
    if (all_done) {
      PHONY_RETURN_IF_ERROR(Sequences());
      PHONY_RETURN_IF_ERROR(Constraints());
      // The chunk records served resuming; the tables' records stay as history.
      PHONY_RETURN_IF_ERROR(staging_main_->Run("BEGIN; UPDATE phony.snapshot_runs SET state = 'done', finished_at = now(), "
                                               "snapshot_lsn = '" + report_.snapshot_lsn + "' WHERE run_id = " +
                                                   std::to_string(run_id_) +
                                                   "; DELETE FROM phony.snapshot_chunks WHERE run_id <= " +
                                                   std::to_string(run_id_) + "; COMMIT",
                                               "finishing the run"));
    } else {
      report_.problems.push_back("some tables failed; rerun phony snapshot to resume them (finished chunks are kept)");
    }
    report_.run_id = run_id_;
    report_.seconds = Since(start);
    return report_;
  }

 private:
  // Finds or creates the run and the state of each of its tables.
  absl::Status Plan() {
    PgSession* s = staging_main_.get();
    PHONY_ASSIGN_OR_RETURN(PgResult last, s->Query("SELECT run_id, state FROM phony.snapshot_runs ORDER BY run_id DESC "
                                                   "LIMIT 1",
                                                   "reading the last snapshot run"));
    std::map<TableId, const SourceTable*> by_id;
    for (const SourceTable& t : catalog_.tables) by_id[t.schema.id] = &t;
    const bool unfinished = PQntuples(last.get()) == 1 && Text(last.get(), 0, 1) == "running";
    // A subset is chosen anew under each snapshot: its chunks cannot be kept.
    // Nor can chunks read before the job's slot was created for this run:
    // CDC replays only from the slot's start, not the changes since them.
    if (unfinished && (o_.restart || c_.subset || o_.exported_snapshot)) {
      const std::string id = Text(last.get(), 0, 0);
      PHONY_ASSIGN_OR_RETURN(PgResult shadows, s->Query("SELECT shadow FROM phony.snapshot_tables WHERE run_id = " + id +
                                                            " AND state <> 'done'",
                                                        "reading the abandoned run"));
      for (int i = 0; i < PQntuples(shadows.get()); ++i) {
        PHONY_RETURN_IF_ERROR(s->Run("DROP TABLE IF EXISTS phony_snapshot." + Quote(Text(shadows.get(), i, 0)),
                                     "dropping a shadow table of the abandoned run"));
      }
      PHONY_RETURN_IF_ERROR(s->Run("UPDATE phony.snapshot_runs SET state = 'abandoned', finished_at = now() WHERE "
                                   "run_id = " + id,
                                   "abandoning the unfinished run"));
      spdlog::info("snapshot: run {} abandoned ({})", id,
                   o_.restart ? "--restart" : c_.subset ? "a subset is chosen anew" : "its chunks predate the new slot");
    } else if (unfinished) {
      if (!o_.only_tables.empty()) {
        return absl::FailedPreconditionError("snapshot run " + Text(last.get(), 0, 0) +
                                             " is unfinished: rerun phony snapshot without --tables to resume it, "
                                             "or with --restart to abandon it");
      }
      run_id_ = std::atoll(Text(last.get(), 0, 0).c_str());
      report_.resumed = true;
      PHONY_ASSIGN_OR_RETURN(PgResult rows, s->Query("SELECT schema_name, table_name, shadow, chunks, pages_per_chunk, "
                                                     "state, rows FROM phony.snapshot_tables WHERE run_id = $1 ORDER BY "
                                                     "shadow",
                                                     "reading the run's tables", {std::to_string(run_id_)}));
      for (int i = 0; i < PQntuples(rows.get()); ++i) {
        const TableId id{c_.source.database, Text(rows.get(), i, 0), Text(rows.get(), i, 1)};
        auto it = by_id.find(id);
        if (it == by_id.end()) {
          report_.problems.push_back(id.QualifiedName() + " no longer exists at the source; left out");
          continue;
        }
        TableState t;
        t.src = it->second;
        t.shadow = Text(rows.get(), i, 2);
        t.chunks = std::atoi(Text(rows.get(), i, 3).c_str());
        t.pages_per_chunk = std::atoll(Text(rows.get(), i, 4).c_str());
        const std::string state = Text(rows.get(), i, 5);
        t.state = state == "done" ? "done" : "queued";
        t.swapped = state == "swapped";
        if (state == "done" || t.swapped) t.rows = std::atoll(Text(rows.get(), i, 6).c_str());
        if (state == "done") t.report.state = "kept";
        tables_.push_back(std::move(t));
      }
      PHONY_ASSIGN_OR_RETURN(PgResult chunks, s->Query("SELECT shadow, chunk, rows, bytes, snapshot_lsn FROM "
                                                       "phony.snapshot_chunks WHERE run_id = $1",
                                                       "reading the run's finished chunks", {std::to_string(run_id_)}));
      std::map<std::string, TableState*> by_shadow;
      for (TableState& t : tables_) by_shadow[t.shadow] = &t;
      for (int i = 0; i < PQntuples(chunks.get()); ++i) {
        auto it = by_shadow.find(Text(chunks.get(), i, 0));
        if (it == by_shadow.end() || it->second->state == "done" || it->second->swapped) continue;
        TableState& t = *it->second;
        t.done.insert(std::atoi(Text(chunks.get(), i, 1).c_str()));
        t.rows += std::atoll(Text(chunks.get(), i, 2).c_str());
        t.bytes += std::atoll(Text(chunks.get(), i, 3).c_str());
        t.lsns.insert(Text(chunks.get(), i, 4));
      }
      // A table without a key cannot tell a row read twice (it moved
      // between two snapshots) from two equal rows: it starts over.
      for (TableState& t : tables_) {
        if (t.state == "done" || t.swapped || t.done.empty() || t.src->has_key()) continue;
        PHONY_RETURN_IF_ERROR(s->Run("BEGIN; TRUNCATE phony_snapshot." + Quote(t.shadow) +
                                         "; DELETE FROM phony.snapshot_chunks WHERE run_id = " +
                                         std::to_string(run_id_) + " AND shadow = '" + t.shadow + "'; COMMIT",
                                     "restarting a table without a key"));
        t.done.clear();
        t.lsns.clear();
        t.rows = t.bytes = 0;
      }
      size_t kept = 0;
      for (const TableState& t : tables_) kept += t.done.size();
      if (!o_.cdc_follows && kept > 0) {
        report_.warnings.push_back(
            "resumed under a newer snapshot with no CDC to replay: rows changed at the source between the runs "
            "may be older in the chunks kept; phony snapshot --restart gives a copy of one moment");
      }
      spdlog::info("snapshot: resuming run {} ({} tables, {} finished chunks kept)", run_id_, tables_.size(), kept);
      return absl::OkStatus();
    }

    // A new run.
    std::vector<const SourceTable*> chosen;
    if (o_.only_tables.empty()) {
      for (const SourceTable& t : catalog_.tables) {
        if (!c_.subset || subset_.tables.count(t.schema.id)) chosen.push_back(&t);
      }
    } else {
      for (const std::string& name : o_.only_tables) {
        const std::string qualified = name.find('.') == std::string::npos ? c_.DefaultSchema() + "." + name : name;
        const SourceTable* found = nullptr;
        for (const SourceTable& t : catalog_.tables) {
          if (t.schema.id.QualifiedName() == qualified) found = &t;
        }
        if (!found) {
          return absl::InvalidArgumentError("--tables: " + qualified +
                                            " is not a source table this job covers (include/exclude)");
        }
        chosen.push_back(found);
      }
    }
    if (chosen.empty()) return absl::FailedPreconditionError("no source table matches the job's include/exclude");
    if (!c_.snapshot.drop_existing) {
      std::vector<std::string> existing;
      for (const SourceTable* t : chosen) {
        PHONY_ASSIGN_OR_RETURN(PgResult r, s->Query("SELECT to_regclass($1) IS NOT NULL", "looking for staging tables",
                                                    {Qualified(t->schema.id)}));
        if (Text(r.get(), 0, 0) == "t") existing.push_back(t->schema.id.QualifiedName());
      }
      if (!existing.empty()) {
        return absl::FailedPreconditionError("staging already has " + absl::StrJoin(existing, ", ") +
                                             " and snapshot.drop_existing is false: drop them, or set it to true "
                                             "to replace them");
      }
    }
    PHONY_RETURN_IF_ERROR(s->Run("BEGIN", "planning the run"));
    PHONY_ASSIGN_OR_RETURN(PgResult run, s->Query("INSERT INTO phony.snapshot_runs (state, clean_cut, snapshot_lsn) "
                                                  "VALUES ('running', $1, $2) RETURNING run_id",
                                                  "starting a run",
                                                  {snapshot_->clean() ? "t" : "f", snapshot_->newest().ToString()}));
    run_id_ = std::atoll(Text(run.get(), 0, 0).c_str());
    if (apply_progress_exists_) {
      PHONY_RETURN_IF_ERROR(s->Run("INSERT INTO phony.snapshot_marks SELECT " + std::to_string(run_id_) +
                                       ", stream, partition, next_offset, position, position_text FROM "
                                       "phony.apply_progress",
                                   "recording the applier's progress"));
    }
    const int64_t chunk_pages = std::max<int64_t>(1, c_.snapshot.chunk_mb * (1 << 20) / kPageBytes);
    for (size_t i = 0; i < chosen.size(); ++i) {
      TableState t;
      t.src = chosen[i];
      t.shadow = "r" + std::to_string(run_id_) + "_" + std::to_string(i);
      if (c_.subset) {
        auto it = subset_.tables.find(t.src->schema.id);
        if (it != subset_.tables.end() && !it->second.all) t.subset = &it->second;
      }
      if (t.subset != nullptr) {
        if (!t.subset->columns.empty()) {
          t.chunks = static_cast<int>(std::max<size_t>(1, (t.subset->values.size() + kSubsetChunk - 1) / kSubsetChunk));
        }
      } else if (!t.src->partitioned && t.src->pages > chunk_pages) {
        t.chunks = static_cast<int>(std::min<int64_t>(100000, (t.src->pages + chunk_pages - 1) / chunk_pages));
        t.pages_per_chunk = (t.src->pages + t.chunks - 1) / t.chunks;
      }
      PHONY_RETURN_IF_ERROR(s->Query("INSERT INTO phony.snapshot_tables (run_id, schema_name, table_name, shadow, "
                                     "chunks, pages_per_chunk, state) VALUES ($1, $2, $3, $4, $5, $6, 'loading')",
                                     "planning " + t.src->schema.id.QualifiedName(),
                                     {std::to_string(run_id_), t.src->schema.id.schema, t.src->schema.id.table,
                                      t.shadow, std::to_string(t.chunks), std::to_string(t.pages_per_chunk)})
                                .status());
      tables_.push_back(std::move(t));
    }
    return s->Run("COMMIT", "planning the run");
  }

  // Types, sequences and the shadow tables the chunks load into.
  // NOT NULL and CHECK constraints that hold for every row whatever the
  // rules do (they read only columns whose values pass through unchanged)
  // go into the shadow's CREATE TABLE and are checked as rows load, instead
  // of by one more scan of the table at the end.
  absl::Status PlanEarlyConstraints() {
    PHONY_ASSIGN_OR_RETURN(auto transformer, transform::Transformer::Create(c_, o_.secret, {.quiet = true}));
    for (const TableState& t : tables_) {
      const SourceTable& src = *t.src;
      PHONY_RETURN_IF_ERROR(transformer->LearnSchema(src.schema));
      const std::vector<bool> pass = transformer->PassThroughColumns(src.schema.id);
      std::set<std::string> unchanged;
      for (size_t i = 0; i < pass.size(); ++i) {
        if (pass[i]) unchanged.insert(src.schema.columns[i].name);
      }
      for (const SourceColumn& col : src.columns) {
        if (col.not_null && unchanged.count(col.name)) early_.insert({src.schema.id, col.name});
      }
      for (const SourceIndex& check : src.checks) {
        const bool all = !check.columns.empty() && std::all_of(check.columns.begin(), check.columns.end(),
                                                               [&](const std::string& c) { return unchanged.count(c); });
        if (all) early_.insert({src.schema.id, check.clause});
      }
    }
    return absl::OkStatus();
  }

  absl::Status CreateShadows() {
    PHONY_RETURN_IF_ERROR(PlanEarlyConstraints());
    PgSession* s = staging_main_.get();
    for (const SourceObject& type : catalog_.types) {
      PHONY_RETURN_IF_ERROR(s->Run(type.ddl, "creating " + type.name + " in staging"));
    }
    for (const SourceSequence& seq : catalog_.sequences) {
      PHONY_RETURN_IF_ERROR(s->Run(seq.ddl, "creating sequence " + seq.name + " in staging"));
    }
    for (TableState& t : tables_) {
      if (t.state == "done" || t.swapped) continue;
      PHONY_ASSIGN_OR_RETURN(PgResult exists, s->Query("SELECT to_regclass($1) IS NOT NULL", "looking for a shadow table",
                                                       {"phony_snapshot." + Quote(t.shadow)}));
      if (Text(exists.get(), 0, 0) == "t") continue;
      std::vector<std::string> defs;
      for (const SourceColumn& col : t.src->columns) {
        std::string d = Quote(col.name) + " " + col.type_sql;
        if (!col.generated.empty()) {
          d += " GENERATED ALWAYS AS (" + col.generated + ") STORED";
        } else if (col.identity != 0) {
          // BY DEFAULT: the applier writes the source's values.
          d += " GENERATED BY DEFAULT AS IDENTITY";
        }
        if (early_.count({t.src->schema.id, col.name})) d += " NOT NULL";
        defs.push_back(d);
      }
      for (const SourceIndex& check : t.src->checks) {
        if (early_.count({t.src->schema.id, check.clause})) {
          defs.push_back(check.clause.substr(4));  // "ADD CONSTRAINT x CHECK (…)" → "CONSTRAINT x CHECK (…)"
        }
      }
      const std::string shadow = "phony_snapshot." + Quote(t.shadow);
      PHONY_RETURN_IF_ERROR(s->Run("CREATE TABLE " + shadow + " (" + absl::StrJoin(defs, ", ") + ")",
                                   "creating the staging table for " + t.src->schema.id.QualifiedName()));
      for (const SourceColumn& col : t.src->columns) {
        if (col.default_expr.empty() || col.identity != 0) continue;
        absl::Status d = s->Run("ALTER TABLE " + shadow + " ALTER COLUMN " + Quote(col.name) + " SET DEFAULT " +
                                    col.default_expr,
                                "setting a default");
        if (!d.ok()) {
          report_.warnings.push_back(t.src->schema.id.QualifiedName() + "." + col.name +
                                     ": staging keeps no default (" + std::string(d.message()) + ")");
        }
      }
    }
    return absl::OkStatus();
  }

  Progress Snapshot(double seconds) {
    std::lock_guard<std::mutex> l(mu_);
    Progress p;
    p.seconds = seconds;
    for (const TableState& t : tables_) {
      TableProgress tp;
      tp.table = t.src->schema.id.QualifiedName();
      tp.rows = t.rows;
      tp.bytes = t.bytes;
      tp.estimated_rows = static_cast<int64_t>(t.src->estimated_rows);
      tp.chunks = t.chunks;
      tp.chunks_done = static_cast<int>(t.done.size());
      tp.state = t.state;
      p.tables.push_back(std::move(tp));
    }
    return p;
  }

  // One worker: its own source session in the shared snapshot, its own
  // staging session and transformer.
  struct Worker {
    std::unique_ptr<PgSession> source;
    std::unique_ptr<PgSession> staging;
    int generation = -1;
    Lsn lsn;
    std::unique_ptr<transform::Transformer> transformer;
    std::map<TableId, RowCopier> copiers;  // per table
    std::string out;
  };

  void Work() {
    Worker w;
    while (true) {
      Task task;
      {
        std::unique_lock<std::mutex> l(mu_);
        cv_.wait(l, [&] { return !queue_.empty() || active_ == 0 || !fatal_.ok(); });
        if (queue_.empty() || !fatal_.ok()) {
          cv_.notify_all();
          return;
        }
        task = queue_.front();
        queue_.pop_front();
        ++active_;
      }
      TableState& t = tables_[task.table];
      absl::Status s = RunWithRetries(&w, t, task);
      {
        std::lock_guard<std::mutex> l(mu_);
        --active_;
        if (!s.ok()) {
          if (absl::IsInvalidArgument(s) || absl::IsUnauthenticated(s)) {
            fatal_ = s;  // the config or the secret: no table can succeed
          } else if (!t.failed) {
            t.failed = true;
            t.state = "failed";
            t.report.state = "failed";
            t.report.error = std::string(s.message());
            spdlog::error("snapshot: {} failed: {}", t.src->schema.id.QualifiedName(), std::string(s.message()));
            // Its queued chunks are dropped; finished ones stay for a rerun.
            std::erase_if(queue_, [&](const Task& q) { return q.table == task.table; });
          }
        } else if (task.chunk >= 0) {
          if (--t.pending == 0 && !t.failed && !t.finish_queued) {
            t.finish_queued = true;
            queue_.push_front({task.table, -1});
          }
        }
      }
      cv_.notify_all();
    }
  }

  absl::Status RunWithRetries(Worker* w, TableState& t, const Task& task) {
    auto backoff = std::chrono::seconds(1);
    const int limit = c_.snapshot.max_attempts;
    for (int attempt = 1;; ++attempt) {
      {
        std::lock_guard<std::mutex> l(mu_);
        ++t.attempts;
        if (task.chunk >= 0 && t.state == "queued") t.state = "loading", t.started = Clock::now();
      }
      absl::Status s = task.chunk >= 0 ? LoadChunk(w, t, task.chunk) : Finish(w, t);
      if (s.ok()) return s;
      if (!w->source || !w->source->alive()) w->source.reset();
      if (!w->staging || !w->staging->alive()) {
        w->staging.reset();
      } else {
        w->staging->Run("ROLLBACK", "ending a failed transaction").IgnoreError();
      }
      // Corrupt input, the config, or a rule that cannot apply: retrying
      // changes nothing.
      const bool retryable = absl::IsUnavailable(s) || absl::IsFailedPrecondition(s) || absl::IsAborted(s) ||
                             absl::IsResourceExhausted(s) || absl::IsPermissionDenied(s);
      const int allowed = absl::IsUnavailable(s) ? std::max(limit, 10) : limit;
      if (!retryable || attempt >= allowed || (o_.stop && o_.stop->load())) return s;
      spdlog::warn("snapshot: {} {} failed (attempt {} of {}), retrying in {} s: {}",
                   t.src->schema.id.QualifiedName(), task.chunk >= 0 ? "chunk " + std::to_string(task.chunk) : "post-load",
                   attempt, allowed, backoff.count(), std::string(s.message()));
      std::this_thread::sleep_for(backoff);
      backoff = std::min(backoff * 2, std::chrono::seconds(30));
    }
  }

  absl::Status EnsureSessions(Worker* w) {
    if (!w->transformer) {
      const bool quiet = transformers_.fetch_add(1) > 0;  // the first one reports columns without a rule
      PHONY_ASSIGN_OR_RETURN(w->transformer,
                             transform::Transformer::Create(c_, o_.secret, {.ledger = o_.ledger, .quiet = quiet}));
    }
    if (!w->staging) {
      PHONY_ASSIGN_OR_RETURN(w->staging, PgSession::Connect(staging_, "staging"));
      // A crash loses at most commits whose chunk records go with them.
      PHONY_RETURN_IF_ERROR(w->staging->Run("SET synchronous_commit = off; SET extra_float_digits = 3; "
                                            "SET bytea_output = hex",
                                            "setting the staging session"));
    }
    const auto ticket = snapshot_->Current();
    if (w->source && w->generation == ticket.generation) return absl::OkStatus();
    w->source.reset();
    PHONY_ASSIGN_OR_RETURN(w->source, PgSession::Connect(source_, "source"));
    PHONY_RETURN_IF_ERROR(w->source->Run("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", "beginning a read"));
    absl::Status imported = w->source->Run("SET TRANSACTION SNAPSHOT '" + ticket.name + "'", "importing the snapshot");
    if (!imported.ok()) {
      w->source.reset();
      PHONY_RETURN_IF_ERROR(snapshot_->Renew(ticket.generation));
      return absl::UnavailableError("the exported snapshot could not be imported (" +
                                    std::string(imported.message()) + "); a newer one was taken");
    }
    w->generation = ticket.generation;
    w->lsn = ticket.lsn;
    return absl::OkStatus();
  }

  absl::Status LoadChunk(Worker* w, TableState& t, int chunk) {
    PHONY_RETURN_IF_ERROR(EnsureSessions(w));
    const SourceTable& src = *t.src;
    const TableId& id = src.schema.id;
    auto copier = w->copiers.find(id);
    if (copier == w->copiers.end()) {
      PHONY_ASSIGN_OR_RETURN(RowCopier created, RowCopier::Create(&src, w->transformer.get()));
      copier = w->copiers.emplace(id, std::move(created)).first;
    }
    const std::string col_list = copier->second.ColumnList();
    std::string select = "SELECT " + col_list + " FROM " + (src.partitioned ? "" : "ONLY ") + Qualified(id) + " t";
    if (t.subset != nullptr) {
      const size_t begin = static_cast<size_t>(chunk) * kSubsetChunk;
      select += " WHERE " + SelectionCondition(src, *t.subset, begin, std::min(t.subset->values.size(), begin + kSubsetChunk));
    } else if (t.chunks > 1) {
      const int64_t from = chunk * t.pages_per_chunk;
      select += " WHERE ctid >= '(" + std::to_string(from) + ",0)'::tid";
      if (chunk + 1 < t.chunks) select += " AND ctid < '(" + std::to_string(from + t.pages_per_chunk) + ",0)'::tid";
    }
    PHONY_RETURN_IF_ERROR(w->source->Run("COPY (" + select + ") TO STDOUT", "reading " + id.QualifiedName()));
    PHONY_RETURN_IF_ERROR(w->staging->Run("BEGIN", "beginning a chunk"));
    PHONY_RETURN_IF_ERROR(w->staging->Run("COPY phony_snapshot." + Quote(t.shadow) + " (" + col_list + ") FROM STDIN",
                                          "loading " + id.QualifiedName()));
    PGconn* in = w->source->get();
    PGconn* out = w->staging->get();
    int64_t rows = 0, bytes = 0;
    int64_t counted_rows = 0, counted_bytes = 0;  // what the progress shows already
    absl::Status failure;
    w->out.clear();
    while (failure.ok()) {
      char* buf = nullptr;
      const int n = PQgetCopyData(in, &buf, 0);
      if (n == -1) break;
      if (n < 0) {
        failure = w->source->ErrorFor(nullptr, "reading " + id.QualifiedName());
        break;
      }
      const std::unique_ptr<char, void (*)(void*)> held(buf, PQfreemem);  // the raw fields point into it
      const std::string_view line(buf, static_cast<size_t>(n));
      bytes += n;
      failure = copier->second.Append(line, &w->out);
      if (!failure.ok()) break;
      ++rows;
      if (w->out.size() >= kSendBytes) {
        if (PQputCopyData(out, w->out.data(), static_cast<int>(w->out.size())) != 1) {
          failure = w->staging->ErrorFor(nullptr, "loading " + id.QualifiedName());
        }
        w->out.clear();
      }
      if ((rows & 0xfff) == 0) Account(t, rows, bytes, &counted_rows, &counted_bytes);
    }
    // Drain the source's COPY and its result either way.
    if (!failure.ok()) {
      PQputCopyEnd(out, "phony: the chunk failed");
      while (PGresult* r = PQgetResult(out)) PQclear(r);
      w->staging->Run("ROLLBACK", "rolling back a chunk").IgnoreError();
      w->source.reset();  // mid-COPY: start a clean session
      Account(t, 0, 0, &counted_rows, &counted_bytes);
      return failure;
    }
    while (PGresult* r = PQgetResult(in)) {
      if (PQresultStatus(r) != PGRES_COMMAND_OK && failure.ok()) {
        failure = w->source->ErrorFor(r, "reading " + id.QualifiedName());
      }
      PQclear(r);
    }
    if (failure.ok() && !w->out.empty() && PQputCopyData(out, w->out.data(), static_cast<int>(w->out.size())) != 1) {
      failure = w->staging->ErrorFor(nullptr, "loading " + id.QualifiedName());
    }
    w->out.clear();
    if (PQputCopyEnd(out, failure.ok() ? nullptr : "phony: the chunk failed") != 1 && failure.ok()) {
      failure = w->staging->ErrorFor(nullptr, "loading " + id.QualifiedName());
    }
    int64_t loaded = -1;
    while (PGresult* r = PQgetResult(out)) {
      if (PQresultStatus(r) == PGRES_COMMAND_OK) {
        loaded = std::atoll(PQcmdTuples(r));
      } else if (failure.ok()) {
        failure = w->staging->ErrorFor(r, "loading " + id.QualifiedName());
      }
      PQclear(r);
    }
    if (failure.ok() && loaded != rows) {
      failure = absl::DataLossError("loading " + id.QualifiedName() + ": staging took " + std::to_string(loaded) +
                                    " rows of the " + std::to_string(rows) + " read");
    }
    if (failure.ok()) {
      failure = w->staging
                    ->Query("INSERT INTO phony.snapshot_chunks (run_id, shadow, chunk, rows, bytes, snapshot_lsn) "
                            "VALUES ($1, $2, $3, $4, $5, $6)",
                            "recording a chunk",
                            {std::to_string(run_id_), t.shadow, std::to_string(chunk), std::to_string(rows),
                             std::to_string(bytes), w->lsn.ToString()})
                    .status();
    }
    if (failure.ok()) failure = w->staging->Run("COMMIT", "committing a chunk");
    if (!failure.ok()) {
      w->staging->Run("ROLLBACK", "rolling back a chunk").IgnoreError();
      Account(t, 0, 0, &counted_rows, &counted_bytes);
      return failure;
    }
    Account(t, rows, bytes, &counted_rows, &counted_bytes);
    std::lock_guard<std::mutex> l(mu_);
    t.done.insert(chunk);
    t.lsns.insert(w->lsn.ToString());
    return absl::OkStatus();
  }

  // Brings the table's counters to a chunk's `rows` and `bytes` so far
  // (0, 0 takes back what a failed chunk had counted).
  void Account(TableState& t, int64_t rows, int64_t bytes, int64_t* counted_rows, int64_t* counted_bytes) {
    std::lock_guard<std::mutex> l(mu_);
    t.rows += rows - *counted_rows;
    t.bytes += bytes - *counted_bytes;
    *counted_rows = rows;
    *counted_bytes = bytes;
  }

  // In one staging transaction: removes rows read twice, puts the shadow in
  // the place of the old table, adds the primary key, and rewinds the
  // applier's progress to where it was before the run's first snapshot.
  absl::Status Swap(PgSession* s, TableState& t, const std::vector<std::string>& key) {
    const SourceTable& src = *t.src;
    const TableId& id = src.schema.id;
    const std::string shadow = "phony_snapshot." + Quote(t.shadow);
    PHONY_RETURN_IF_ERROR(s->Run("BEGIN", "swapping " + id.QualifiedName()));
    int64_t removed = 0;
    if (src.has_key() && t.lsns.size() > 1) {
      // Chunks read under different snapshots may hold two versions of a
      // row that moved: keep one (replay brings the key to its final state).
      std::string match;
      for (const std::string& k : key) match += (match.empty() ? "" : " AND ") + ("a." + k + " = b." + k);
      PHONY_ASSIGN_OR_RETURN(PgResult r, s->Query("DELETE FROM " + shadow + " a USING " + shadow + " b WHERE " + match +
                                                      " AND a.ctid < b.ctid",
                                                  "removing rows read twice from " + id.QualifiedName()));
      removed = std::atoll(PQcmdTuples(r.get()));
    }
    PHONY_RETURN_IF_ERROR(s->Run("CREATE SCHEMA IF NOT EXISTS " + Quote(id.schema) + "; DROP TABLE IF EXISTS " +
                                     Qualified(id) + " CASCADE; ALTER TABLE " + shadow + " SET SCHEMA " +
                                     Quote(id.schema) + "; ALTER TABLE " + Quote(id.schema) + "." + Quote(t.shadow) +
                                     " RENAME TO " + Quote(id.table),
                                 "swapping " + id.QualifiedName() + " into place"));
    if (src.has_key()) {
      PHONY_RETURN_IF_ERROR(s->Run("ALTER TABLE " + Qualified(id) + " ADD " +
                                       (src.primary_key_name.empty() ? "" : "CONSTRAINT " + Quote(src.primary_key_name) + " ") +
                                       "PRIMARY KEY (" + absl::StrJoin(key, ", ") + ")",
                                   "adding the primary key of " + id.QualifiedName()));
    }
    for (const SourceColumn& col : src.columns) {
      if (col.identity == 0 || col.identity_sequence_name.empty()) continue;
      // The identity's sequence was named after the shadow table.
      PHONY_ASSIGN_OR_RETURN(PgResult rename, s->Query("SELECT format('ALTER SEQUENCE %s RENAME TO %I', "
                                                       "pg_get_serial_sequence($1, $2), $3::text)",
                                                       "naming an identity sequence",
                                                       {Qualified(id), col.name, col.identity_sequence_name}));
      PHONY_RETURN_IF_ERROR(s->Run(Text(rename.get(), 0, 0), "naming the identity sequence of " + id.QualifiedName()));
    }
    if (apply_progress_exists_) {
      PHONY_RETURN_IF_ERROR(s->Run("UPDATE phony.apply_progress p SET next_offset = m.next_offset, position = "
                                   "m.position, position_text = m.position_text, applied_at = now() FROM "
                                   "phony.snapshot_marks m WHERE m.run_id = " + std::to_string(run_id_) +
                                       " AND m.stream = p.stream AND m.partition = p.partition AND "
                                       "p.next_offset > m.next_offset",
                                   "rewinding the applier to the run's start"));
    }
    PHONY_RETURN_IF_ERROR(s->Query("UPDATE phony.snapshot_tables SET state = 'swapped', rows = $1 WHERE run_id = $2 AND "
                                   "shadow = $3",
                                   "recording the swap", {std::to_string(t.rows - removed), std::to_string(run_id_), t.shadow})
                              .status());
    PHONY_RETURN_IF_ERROR(s->Run("COMMIT", "swapping " + id.QualifiedName()));
    {
      std::lock_guard<std::mutex> l(mu_);
      t.report.duplicates_removed = removed;
      t.rows -= removed;
      t.swapped = true;
    }
    return absl::OkStatus();
  }

  // The table's post-load step: remove rows read twice, swap the shadow
  // into place with its primary key, build the secondary indexes, set the
  // identity sequences, ANALYZE and check the row count.
  absl::Status Finish(Worker* w, TableState& t) {
    if (!w->staging) {
      PHONY_ASSIGN_OR_RETURN(w->staging, PgSession::Connect(staging_, "staging"));
    }
    {
      std::lock_guard<std::mutex> l(mu_);
      t.state = "indexing";
    }
    PgSession* s = w->staging.get();
    const SourceTable& src = *t.src;
    const TableId& id = src.schema.id;
    const auto load_end = Clock::now();
    t.report.load_seconds = std::chrono::duration<double>(load_end - t.started).count();
    std::vector<std::string> key;
    for (const std::string& k : src.primary_key) key.push_back(Quote(k));
    if (!t.swapped) PHONY_RETURN_IF_ERROR(Swap(s, t, key));
    for (const SourceIndex& index : src.indexes) {
      if (index.unique) continue;  // with the constraints
      absl::Status r = s->Run(index.definition, "creating index " + index.name);
      if (!r.ok()) {
        if (absl::IsUnavailable(r)) return r;
        std::lock_guard<std::mutex> l(mu_);
        report_.problems.push_back(id.QualifiedName() + ": index " + index.name + " not created: " +
                                   std::string(r.message()));
      }
    }
    for (const SourceColumn& col : src.columns) {
      if (col.identity == 0 || col.identity_sequence.empty()) continue;
      PHONY_RETURN_IF_ERROR(SetSequence(s, col.identity_sequence,
                                        "pg_get_serial_sequence('" + Qualified(id) + "', '" + col.name + "')"));
    }
    t.report.index_seconds = Since(load_end);
    if (c_.snapshot.analyze) {
      const auto a = Clock::now();
      PHONY_RETURN_IF_ERROR(s->Run("ANALYZE " + Qualified(id), "analyzing " + id.QualifiedName()));
      t.report.analyze_seconds = Since(a);
    }
    PHONY_ASSIGN_OR_RETURN(PgResult count, s->Query("SELECT count(*) FROM " + Qualified(id), "counting " + id.QualifiedName()));
    const int64_t staged = std::atoll(Text(count.get(), 0, 0).c_str());
    if (staged != t.rows) {
      return absl::DataLossError(id.QualifiedName() + ": staging holds " + std::to_string(staged) + " rows, " +
                                 std::to_string(t.rows) + " were loaded");
    }
    PHONY_RETURN_IF_ERROR(s->Query("UPDATE phony.snapshot_tables SET state = 'done', finished_at = now() WHERE run_id = "
                                   "$1 AND shadow = $2",
                                   "recording the table", {std::to_string(run_id_), t.shadow})
                              .status());
    std::lock_guard<std::mutex> l(mu_);
    t.state = "done";
    t.report.state = "done";
    return absl::OkStatus();
  }

  // Sets staging's sequence `target_expr` (a regclass expression) to the
  // source sequence `source_name`'s value, never moving it backwards.
  absl::Status SetSequence(PgSession* s, const std::string& source_name, const std::string& target_expr) {
    std::unique_ptr<PgSession> src;
    PHONY_ASSIGN_OR_RETURN(src, PgSession::Connect(source_, "source"));
    PHONY_ASSIGN_OR_RETURN(PgResult v, src->Query("SELECT last_value, is_called FROM " + source_name,
                                                  "reading sequence " + source_name));
    if (Text(v.get(), 0, 1) != "t") return absl::OkStatus();  // never used at the source
    const std::string value = Text(v.get(), 0, 0);
    return s->Run("SELECT setval((" + target_expr + ")::regclass, " + value + ") FROM (SELECT (SELECT q.last_value FROM "
                      "pg_sequences q WHERE format('%I.%I', q.schemaname, q.sequencename)::regclass = (" + target_expr +
                      ")::regclass"
                      ") AS cur) c WHERE c.cur IS NULL OR c.cur < " + value,
                  "setting sequence " + source_name);
  }

  absl::Status Sequences() {
    for (const SourceSequence& seq : catalog_.sequences) {
      std::string literal;
      for (char ch : seq.name) literal += ch == '\'' ? std::string("''") : std::string(1, ch);
      PHONY_RETURN_IF_ERROR(SetSequence(staging_main_.get(), seq.name, "'" + literal + "'::regclass"));
    }
    return absl::OkStatus();
  }

  // Unique indexes, CHECK and NOT NULL constraints, foreign keys: now when
  // nothing will replay older states over the rows (no CDC, or a clean
  // cut), else recorded for the applier to create once it has passed the
  // newest snapshot position.
  // A table's statements of one phase: run as one ALTER TABLE (one scan of
  // the table for all its NOT NULL and CHECK constraints), and one by one
  // when that fails, so the report names the constraint that does not hold.
  struct StatementGroup {
    TableId id;
    std::string combined;            // "" when there is a single statement
    std::vector<std::string> parts;  // each a whole statement
  };

  static void AddGroup(std::vector<StatementGroup>* out, const TableId& id, const std::vector<std::string>& clauses) {
    if (clauses.empty()) return;
    StatementGroup g;
    g.id = id;
    for (const std::string& c : clauses) g.parts.push_back("ALTER TABLE " + Qualified(id) + " " + c);
    if (clauses.size() > 1) g.combined = "ALTER TABLE " + Qualified(id) + " " + absl::StrJoin(clauses, ", ");
    out->push_back(std::move(g));
  }

  // Runs the groups on up to `workers` staging sessions at once.
  absl::Status RunGroups(const std::vector<StatementGroup>& groups) {
    std::mutex mu;
    size_t next = 0;
    absl::Status fatal;
    auto work = [&] {
      auto session = PgSession::Connect(staging_, "staging");
      if (!session.ok()) {
        std::lock_guard<std::mutex> l(mu);
        fatal.Update(session.status());
        return;
      }
      while (true) {
        size_t i;
        {
          std::lock_guard<std::mutex> l(mu);
          if (next >= groups.size() || !fatal.ok()) return;
          i = next++;
        }
        const StatementGroup& g = groups[i];
        const auto group_start = Clock::now();
        // Two tables whose foreign keys point at each other (a cycle) lock
        // each other's tables when altered in parallel: the deadlock victim
        // is rolled back and simply runs again.
        auto run = [&](const std::string& sql, const std::string& what) {
          absl::Status st;
          for (int attempt = 1; attempt <= 5; ++attempt) {
            st = (*session)->Run(sql, what);
            if (st.ok() || st.message().find("SQLSTATE 40P01") == std::string_view::npos) break;
            std::this_thread::sleep_for(std::chrono::milliseconds(50 * attempt));
          }
          return st;
        };
        if (!g.combined.empty() && run(g.combined, "constraints of " + g.id.QualifiedName()).ok()) {
          spdlog::debug("snapshot: {} constraints of {} in {:.2f} s", g.parts.size(), g.id.QualifiedName(),
                        Since(group_start));
          continue;
        }
        for (const std::string& sql : g.parts) {
          absl::Status st = run(sql, "creating a constraint on " + g.id.QualifiedName());
          std::lock_guard<std::mutex> l(mu);
          if (absl::IsUnavailable(st)) {
            fatal.Update(st);
            return;
          }
          if (!st.ok()) report_.problems.push_back(sql + ": " + std::string(st.message()));
        }
      }
    };
    const size_t n = std::min<size_t>(groups.size(), static_cast<size_t>(std::max(1, workers_)));
    std::vector<std::thread> threads;
    for (size_t i = 0; i < n; ++i) threads.emplace_back(work);
    for (auto& th : threads) th.join();
    return fatal;
  }

  // Unique indexes, CHECK and NOT NULL constraints, foreign keys: now when
  // nothing will replay older states over the rows (no CDC, or a clean
  // cut), else recorded for the applier to create once it has passed the
  // newest snapshot position.
  absl::Status Constraints() {
    const auto start = Clock::now();
    const bool now = !o_.cdc_follows || snapshot_->clean();
    std::vector<StatementGroup> first, foreign;
    for (const TableState& t : tables_) {
      const SourceTable& src = *t.src;
      const TableId& id = src.schema.id;
      std::vector<std::string> clauses;
      for (const SourceColumn& col : src.columns) {
        if (col.not_null && !early_.count({id, col.name}) &&
            std::find(src.primary_key.begin(), src.primary_key.end(), col.name) == src.primary_key.end()) {
          clauses.push_back("ALTER COLUMN " + Quote(col.name) + " SET NOT NULL");
        }
      }
      for (const SourceIndex& check : src.checks) {
        if (!early_.count({id, check.clause})) clauses.push_back(check.clause);
      }
      for (const SourceIndex& index : src.indexes) {
        if (!index.unique) continue;
        if (!index.clause.empty()) {
          clauses.push_back(index.clause);
        } else {
          first.push_back({id, "", {index.definition}});
        }
      }
      AddGroup(&first, id, clauses);
    }
    // Foreign keys last, once every table they join is in place; also those
    // of tables outside this run that reference a table it replaced.
    std::set<TableId> copied;
    for (const TableState& t : tables_) copied.insert(t.src->schema.id);
    for (const SourceTable& src : catalog_.tables) {
      std::vector<std::string> clauses;
      for (size_t i = 0; i < src.foreign_keys.size(); ++i) {
        const ForeignKey& fk = src.schema.foreign_keys[i];
        if (!copied.count(src.schema.id) && !copied.count(fk.referenced)) continue;
        PHONY_ASSIGN_OR_RETURN(PgResult present,
                               staging_main_->Query("SELECT to_regclass($1) IS NOT NULL AND to_regclass($2) IS NOT NULL "
                                                    "AND NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conrelid = "
                                                    "to_regclass($1) AND conname = $3)",
                                                    "looking for a foreign key",
                                                    {Qualified(src.schema.id), Qualified(fk.referenced), fk.name}));
        if (Text(present.get(), 0, 0) == "t") clauses.push_back(src.foreign_keys[i].clause);
      }
      AddGroup(&foreign, src.schema.id, clauses);
    }
    if (!now) {
      for (const auto* groups : {&first, &foreign}) {
        for (const StatementGroup& g : *groups) {
          for (const std::string& sql : g.parts) {
            PHONY_RETURN_IF_ERROR(staging_main_->Query("INSERT INTO phony.deferred_ddl (schema_name, table_name, "
                                                       "statement, after_lsn) VALUES ($1, $2, $3, $4)",
                                                       "deferring a constraint",
                                                       {g.id.schema, g.id.table, sql, report_.snapshot_lsn})
                                      .status());
            report_.deferred.push_back(sql);
          }
        }
      }
    } else {
      PHONY_RETURN_IF_ERROR(RunGroups(first));
      PHONY_RETURN_IF_ERROR(RunGroups(foreign));
    }
    report_.constraint_seconds = Since(start);
    return absl::OkStatus();
  }

  const SnapshotOptions& o_;
  const JobConfig& c_;
  PgEndpoint source_;
  PgEndpoint staging_;
  std::unique_ptr<PgSession> staging_main_;
  std::unique_ptr<SharedSnapshot> snapshot_;
  SourceCatalog catalog_;
  SubsetPlan subset_;
  bool apply_progress_exists_ = false;
  int64_t run_id_ = 0;
  int workers_ = 1;
  // (table, column name or CHECK clause) of the constraints the shadow
  // tables are created with.
  std::set<std::pair<TableId, std::string>> early_;
  SnapshotReport report_;

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Task> queue_;
  std::vector<TableState> tables_;  // fixed before the workers start
  int active_ = 0;
  absl::Status fatal_;
  std::atomic<int> transformers_{0};
};

std::string Seconds(double s) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.1f", s);
  return buf;
}

}  // namespace

bool SnapshotReport::ok() const {
  for (const auto& t : tables) {
    if (t.state == "failed") return false;
  }
  return problems.empty();
}

absl::StatusOr<SnapshotReport> RunPgSnapshot(const SnapshotOptions& options) {
  if (options.config == nullptr) return absl::InvalidArgumentError("RunPgSnapshot: no config");
  Runner runner(options);
  return runner.Run();
}

std::string ReportJson(const SnapshotReport& r) {
  std::string out = "{\"run_id\": " + std::to_string(r.run_id) + ", \"resumed\": " + (r.resumed ? "true" : "false") +
                    ", \"clean_cut\": " + (r.clean_cut ? "true" : "false") + ", \"snapshot_lsn\": \"" +
                    r.snapshot_lsn + "\", \"seconds\": " + Seconds(r.seconds) +
                    ", \"analyze_seconds\": " + Seconds(r.analyze_seconds) +
                    ", \"constraint_seconds\": " + Seconds(r.constraint_seconds) + ", \"rows\": " +
                    std::to_string(r.rows) + ", \"bytes\": " + std::to_string(r.bytes) + ", \"tables\": [";
  for (size_t i = 0; i < r.tables.size(); ++i) {
    const TableReport& t = r.tables[i];
    out += std::string(i ? ", " : "") + "{\"table\": \"" + JsonEscape(t.table) + "\", \"state\": \"" + t.state +
           "\", \"rows\": " + std::to_string(t.rows) + ", \"bytes\": " + std::to_string(t.bytes) +
           ", \"duplicates_removed\": " + std::to_string(t.duplicates_removed) +
           ", \"load_seconds\": " + Seconds(t.load_seconds) + ", \"index_seconds\": " + Seconds(t.index_seconds) +
           ", \"analyze_seconds\": " + Seconds(t.analyze_seconds) + ", \"attempts\": " + std::to_string(t.attempts) +
           (t.error.empty() ? "" : ", \"error\": \"" + JsonEscape(t.error) + "\"") + "}";
  }
  out += "], \"deferred\": [";
  for (size_t i = 0; i < r.deferred.size(); ++i) out += std::string(i ? ", " : "") + "\"" + JsonEscape(r.deferred[i]) + "\"";
  out += "], \"warnings\": [";
  for (size_t i = 0; i < r.warnings.size(); ++i) out += std::string(i ? ", " : "") + "\"" + JsonEscape(r.warnings[i]) + "\"";
  out += "], \"problems\": [";
  for (size_t i = 0; i < r.problems.size(); ++i) out += std::string(i ? ", " : "") + "\"" + JsonEscape(r.problems[i]) + "\"";
  return out + "]}";
}

std::string ReportTable(const SnapshotReport& r) {
  std::string out;
  char line[512];
  std::snprintf(line, sizeof(line), "%-40s %-7s %12s %10s %8s %8s %8s\n", "table", "state", "rows", "MB", "load s",
                "index s", "analyze");
  out += line;
  for (const TableReport& t : r.tables) {
    std::snprintf(line, sizeof(line), "%-40s %-7s %12lld %10.1f %8.1f %8.1f %8.1f\n", t.table.c_str(), t.state.c_str(),
                  static_cast<long long>(t.rows), t.bytes / 1048576.0, t.load_seconds, t.index_seconds,
                  t.analyze_seconds);
    out += line;
    if (!t.error.empty()) out += "    error: " + t.error + "\n";
  }
  std::snprintf(line, sizeof(line), "run %lld%s: %lld rows, %.1f MB in %.1f s (%.0f rows/s, %.1f MB/s); ANALYZE %.1f s; "
                "constraints %.1f s; snapshot at %s%s\n",
                static_cast<long long>(r.run_id), r.resumed ? " (resumed)" : "", static_cast<long long>(r.rows),
                r.bytes / 1048576.0, r.seconds, r.seconds > 0 ? r.rows / r.seconds : 0.0,
                r.seconds > 0 ? r.bytes / 1048576.0 / r.seconds : 0.0, r.analyze_seconds, r.constraint_seconds,
                r.snapshot_lsn.c_str(), r.clean_cut ? " (clean cut)" : "");
  out += line;
  if (!r.deferred.empty()) {
    out += std::to_string(r.deferred.size()) + " unique indexes and constraints wait in phony.deferred_ddl until the "
           "applier has passed " + r.snapshot_lsn + "\n";
  }
  for (const std::string& w : r.warnings) out += "warning: " + w + "\n";
  for (const std::string& p : r.problems) out += "problem: " + p + "\n";
  return out;
}

}  // namespace phony::snapshot

namespace phony::snapshot {

absl::StatusOr<bool> SourceHasSlot(const JobConfig& config, const std::string& source_password,
                                   const std::string& slot) {
  PHONY_ASSIGN_OR_RETURN(auto s, ConnectWithRetry(Endpoint(config.source, source_password, ""), "source",
                                                  std::max(10, config.snapshot.max_attempts)));
  PHONY_ASSIGN_OR_RETURN(PgResult r, s->Query("SELECT count(*) FROM pg_replication_slots WHERE slot_name = $1",
                                              "looking for the job's slot", {slot}));
  return Text(r.get(), 0, 0) != "0";
}

}  // namespace phony::snapshot
