#include "src/snapshot/pg_converge.h"

#include <chrono>
#include <regex>
#include <set>
#include <thread>

#include "core/status_macros.h"
#include "spdlog/spdlog.h"
#include "src/snapshot/pg_session.h"

namespace phony::snapshot {
namespace {

PgEndpoint EndpointOf(const EndpointConfig& e, const std::string& password) {
  return {.host = e.host, .port = e.port, .database = e.database, .user = e.user, .password = password,
          .application_name = "phony-converge"};
}

absl::StatusOr<std::optional<Lsn>> LsnAt(PgSession* s, const std::string& sql, const std::string& what,
                                         const std::vector<std::optional<std::string>>& params = {}) {
  PHONY_ASSIGN_OR_RETURN(PgResult r, s->Query(sql, what, params));
  if (PQntuples(r.get()) == 0 || PQgetisnull(r.get(), 0, 0)) return std::optional<Lsn>();
  PHONY_ASSIGN_OR_RETURN(Lsn lsn, Lsn::Parse(Text(r.get(), 0, 0)));
  return std::optional<Lsn>(lsn);
}

// The applier documents the source's foreign keys in staging as NOT VALID
// constraints of the same names (docs/apply.md): a deferred ADD CONSTRAINT
// replaces them, in the same ALTER TABLE, so staging ends with validated
// ones. Other statements are run as they are.
std::string ReplacingExisting(const std::string& statement) {
  static const std::regex kTable(R"re(^ALTER TABLE ("(?:[^"]|"")*"\."(?:[^"]|"")*") )re");
  static const std::regex kName(R"re(ADD CONSTRAINT ("(?:[^"]|"")*") )re");
  std::smatch table;
  if (!std::regex_search(statement, table, kTable)) return statement;
  std::string drops;
  for (auto it = std::sregex_iterator(statement.begin(), statement.end(), kName); it != std::sregex_iterator(); ++it) {
    drops += "DROP CONSTRAINT IF EXISTS " + (*it)[1].str() + ", ";
  }
  if (drops.empty()) return statement;
  return "ALTER TABLE " + table[1].str() + " " + drops + statement.substr(table[0].length());
}

}  // namespace

absl::StatusOr<ConvergeState> ConvergeOnce(const ConvergeOptions& o) {
  ConvergeState state;
  PHONY_ASSIGN_OR_RETURN(auto staging, PgSession::Connect(EndpointOf(o.config->target, o.target_password), "staging"));
  PHONY_ASSIGN_OR_RETURN(PgResult has, staging->Query("SELECT to_regclass('phony.deferred_ddl') IS NOT NULL",
                                                      "looking for deferred statements"));
  if (Text(has.get(), 0, 0) != "t") return state;
  PHONY_ASSIGN_OR_RETURN(PgResult pending,
                         staging->Query("SELECT id, schema_name || '.' || table_name, statement, after_lsn "
                                        "FROM phony.deferred_ddl WHERE done_at IS NULL ORDER BY id",
                                        "reading deferred statements"));
  state.pending = PQntuples(pending.get());
  if (state.pending == 0) return state;

  // How far replay has applied: the applier's own progress, and in
  // embedded mode the slot's confirmed position.
  PHONY_ASSIGN_OR_RETURN(PgResult applier, staging->Query("SELECT to_regclass('phony.apply_progress') IS NOT NULL",
                                                          "looking for the applier's progress"));
  if (Text(applier.get(), 0, 0) == "t") {
    PHONY_ASSIGN_OR_RETURN(
        state.reached,
        LsnAt(staging.get(),
              "SELECT max(substring(position_text from '^pg:([0-9A-Fa-f]+/[0-9A-Fa-f]+)#')::pg_lsn)::text "
              "FROM phony.apply_progress",
              "reading the applier's progress"));
  }
  if (o.slot_means_applied) {
    PHONY_ASSIGN_OR_RETURN(auto source,
                           PgSession::Connect(EndpointOf(o.config->source, o.source_password), "source"));
    PHONY_ASSIGN_OR_RETURN(auto confirmed,
                           LsnAt(source.get(),
                                 "SELECT confirmed_flush_lsn::text FROM pg_replication_slots WHERE slot_name = $1",
                                 "reading the slot's position", {o.slot}));
    if (confirmed && (!state.reached || *confirmed > *state.reached)) state.reached = confirmed;
  }
  if (!state.reached) return state;

  for (int i = 0; i < PQntuples(pending.get()); ++i) {
    const std::string id = Text(pending.get(), i, 0);
    const std::string table = Text(pending.get(), i, 1);
    auto after = Lsn::Parse(Text(pending.get(), i, 3));
    if (!after.ok()) return after.status();
    if (*after > *state.reached) continue;
    absl::Status s = staging->Run(ReplacingExisting(Text(pending.get(), i, 2)), "creating a deferred constraint on " + table);
    if (s.ok()) {
      PHONY_RETURN_IF_ERROR(staging
                                ->Query("UPDATE phony.deferred_ddl SET done_at = now(), error = NULL WHERE id = $1",
                                        "recording a deferred statement", {id})
                                .status());
      ++state.done;
      --state.pending;
    } else if (absl::IsUnavailable(s)) {
      return s;
    } else {
      // The server's primary message only (PgSession never carries DETAIL).
      PHONY_RETURN_IF_ERROR(staging
                                ->Query("UPDATE phony.deferred_ddl SET error = $2 WHERE id = $1",
                                        "recording a deferred statement's error", {id, std::string(s.message())})
                                .status());
      ++state.failed;
    }
  }
  return state;
}

absl::StatusOr<int> SyncSequences(const ConvergeOptions& o) {
  PHONY_ASSIGN_OR_RETURN(auto source, PgSession::Connect(EndpointOf(o.config->source, o.source_password), "source"));
  PHONY_ASSIGN_OR_RETURN(PgResult values,
                         source->Query("SELECT quote_ident(schemaname) || '.' || quote_ident(sequencename), last_value "
                                       "FROM pg_catalog.pg_sequences WHERE last_value IS NOT NULL AND schemaname NOT "
                                       "IN ('phony', 'phony_snapshot', 'pg_catalog', 'information_schema')",
                                       "reading the source's sequences"));
  if (PQntuples(values.get()) == 0) return 0;
  PHONY_ASSIGN_OR_RETURN(auto staging, PgSession::Connect(EndpointOf(o.config->target, o.target_password), "staging"));
  int advanced = 0;
  for (int i = 0; i < PQntuples(values.get()); ++i) {
    const std::string name = Text(values.get(), i, 0);
    const std::string value = Text(values.get(), i, 1);
    // Only sequences staging has (the snapshot creates those defaults use),
    // only forwards; one statement, so a concurrent nextval in staging is
    // never set back.
    PHONY_ASSIGN_OR_RETURN(
        PgResult r,
        staging->Query("SELECT CASE WHEN to_regclass($1) IS NULL THEN NULL "
                       "WHEN coalesce((SELECT last_value FROM pg_catalog.pg_sequences WHERE quote_ident(schemaname) "
                       "|| '.' || quote_ident(sequencename) = $1), -9223372036854775808) < $2::bigint "
                       "THEN setval($1::regclass, $2::bigint) END",
                       "advancing a staging sequence", {name, value}));
    if (!PQgetisnull(r.get(), 0, 0)) ++advanced;
  }
  return advanced;
}

absl::StatusOr<bool> StagingHasSnapshot(const JobConfig& config, const std::string& target_password) {
  PHONY_ASSIGN_OR_RETURN(auto staging, PgSession::Connect(EndpointOf(config.target, target_password), "staging"));
  PHONY_ASSIGN_OR_RETURN(PgResult has, staging->Query("SELECT to_regclass('phony.snapshot_runs') IS NOT NULL",
                                                      "looking for snapshots"));
  if (Text(has.get(), 0, 0) != "t") return false;
  PHONY_ASSIGN_OR_RETURN(PgResult done, staging->Query("SELECT count(*) FROM phony.snapshot_runs WHERE state = 'done'",
                                                       "looking for snapshots"));
  return Text(done.get(), 0, 0) != "0";
}

void RunConverger(const ConvergeOptions& o, const std::atomic<bool>& stop) {
  bool announced = false;
  absl::Time last_failure_report = absl::InfinitePast();
  absl::Time last_attempt = absl::InfinitePast();
  absl::Duration wait = o.poll;
  absl::Time last_sequences = absl::InfinitePast();
  while (!stop.load()) {
    if (absl::Now() - last_sequences >= o.sequence_every) {
      last_sequences = absl::Now();
      auto advanced = SyncSequences(o);
      if (!advanced.ok()) {
        spdlog::warn("run: sequences: {}", std::string(advanced.status().message()));
      } else if (*advanced > 0) {
        spdlog::debug("run: advanced {} staging sequences to the source's values", *advanced);
      }
    }
    if (absl::Now() - last_attempt >= wait) {
      last_attempt = absl::Now();
      auto state = ConvergeOnce(o);
      if (!state.ok()) {
        if (absl::Now() - last_failure_report > absl::Minutes(1)) {
          spdlog::warn("run: deferred constraints: {}", std::string(state.status().message()));
          last_failure_report = absl::Now();
        }
      } else {
        if (state->done > 0) {
          spdlog::info("run: replay passed the snapshot position ({}): created {} deferred unique indexes and "
                       "constraints{}",
                       state->reached->ToString(), state->done,
                       state->pending > 0 ? ", " + std::to_string(state->pending) + " remain" : std::string());
        } else if (state->pending > 0 && !announced) {
          spdlog::info("run: {} unique indexes and constraints wait until replay passes the snapshot position",
                       state->pending);
          announced = true;
        }
        if (state->failed > 0) {
          spdlog::error("run: staging refused {} deferred statements (phony.deferred_ddl.error says why); "
                        "retrying every minute",
                        state->failed);
        }
        // Refused statements are retried, but not at the polling rate.
        wait = state->failed > 0 ? absl::Minutes(1) : (state->pending > 0 ? o.poll : absl::Seconds(10));
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

}  // namespace phony::snapshot
