#include "src/snapshot/pg_job.h"

#include <unistd.h>

#include <cstdlib>

#include "core/status_macros.h"
#include "src/snapshot/pg_session.h"

namespace phony::snapshot {
namespace {

PgEndpoint EndpointOf(const EndpointConfig& e, const std::string& password) {
  return {.host = e.host, .port = e.port, .database = e.database, .user = e.user, .password = password,
          .application_name = "phony-ops"};
}

}  // namespace

absl::StatusOr<SlotStats> ReadSlotStats(const JobConfig& config, const std::string& source_password,
                                        const std::string& slot, const std::string& publication) {
  PHONY_ASSIGN_OR_RETURN(auto source, PgSession::Connect(EndpointOf(config.source, source_password), "source"));
  PHONY_ASSIGN_OR_RETURN(
      PgResult r,
      source->Query("SELECT active, coalesce(pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn), 0)::bigint, "
                    "coalesce(pg_wal_lsn_diff(pg_current_wal_lsn(), confirmed_flush_lsn), 0)::bigint, "
                    "coalesce(confirmed_flush_lsn::text, ''), coalesce(wal_status, ''), coalesce(active_pid, 0) "
                    "FROM pg_catalog.pg_replication_slots WHERE slot_name = $1",
                    "reading the slot", {slot}));
  SlotStats out;
  PHONY_ASSIGN_OR_RETURN(PgResult p, source->Query("SELECT (SELECT count(*) FROM pg_catalog.pg_publication_tables t "
                                                   "WHERE t.pubname = p.pubname) FROM pg_catalog.pg_publication p "
                                                   "WHERE p.pubname = $1",
                                                   "reading the publication", {publication}));
  if (PQntuples(p.get()) == 1) out.publication_tables = std::atoi(PQgetvalue(p.get(), 0, 0));
  if (PQntuples(r.get()) == 0) return out;
  out.active_pid = std::atoi(PQgetvalue(r.get(), 0, 5));
  out.exists = true;
  out.active = Text(r.get(), 0, 0) == "t";
  out.retained_bytes = std::atoll(PQgetvalue(r.get(), 0, 1));
  out.lag_bytes = std::atoll(PQgetvalue(r.get(), 0, 2));
  out.confirmed = Text(r.get(), 0, 3);
  out.wal_status = Text(r.get(), 0, 4);
  return out;
}

absl::StatusOr<StagingStats> ReadStagingStats(const JobConfig& config, const std::string& target_password) {
  PHONY_ASSIGN_OR_RETURN(auto staging, PgSession::Connect(EndpointOf(config.target, target_password), "staging"));
  StagingStats out;
  PHONY_ASSIGN_OR_RETURN(
      PgResult has,
      staging->Query("SELECT to_regclass('phony.dead_letters') IS NOT NULL, to_regclass('phony.deferred_ddl') IS NOT "
                     "NULL, to_regclass('phony.apply_progress') IS NOT NULL, to_regclass('phony.snapshot_runs') IS NOT "
                     "NULL",
                     "reading the bookkeeping"));
  if (Text(has.get(), 0, 0) == "t") {
    PHONY_ASSIGN_OR_RETURN(PgResult r, staging->Query("SELECT count(*) FROM phony.dead_letters", "counting dead letters"));
    out.dead_letters = std::atoll(PQgetvalue(r.get(), 0, 0));
  }
  if (Text(has.get(), 0, 1) == "t") {
    PHONY_ASSIGN_OR_RETURN(PgResult r, staging->Query("SELECT count(*) FROM phony.deferred_ddl WHERE done_at IS NULL",
                                                      "counting deferred statements"));
    out.deferred_pending = std::atoll(PQgetvalue(r.get(), 0, 0));
  }
  if (Text(has.get(), 0, 2) == "t") {
    PHONY_ASSIGN_OR_RETURN(PgResult r, staging->Query("SELECT stream, partition, next_offset, position_text, "
                                                      "extract(epoch FROM now() - applied_at) FROM phony.apply_progress "
                                                      "ORDER BY 1, 2",
                                                      "reading the applier's progress"));
    for (int i = 0; i < PQntuples(r.get()); ++i) {
      out.progress.push_back({.stream = Text(r.get(), i, 0), .partition = std::atoi(PQgetvalue(r.get(), i, 1)),
                              .next_offset = std::atoll(PQgetvalue(r.get(), i, 2)), .position = Text(r.get(), i, 3),
                              .seconds_since = std::atof(PQgetvalue(r.get(), i, 4))});
    }
  }
  if (Text(has.get(), 0, 3) == "t") {
    PHONY_ASSIGN_OR_RETURN(PgResult r, staging->Query("SELECT 'run ' || run_id || ' ' || state || coalesce(' at ' || "
                                                      "finished_at::text, '') || ', snapshot ' || snapshot_lsn || CASE "
                                                      "WHEN clean_cut THEN ' (clean cut)' ELSE '' END FROM "
                                                      "phony.snapshot_runs ORDER BY run_id DESC LIMIT 1",
                                                      "reading the snapshot runs"));
    if (PQntuples(r.get()) == 1) out.last_snapshot = Text(r.get(), 0, 0);
  }
  return out;
}

absl::StatusOr<std::vector<std::string>> DropSlotAndPublication(const JobConfig& config,
                                                                const std::string& source_password,
                                                                const std::string& slot,
                                                                const std::string& publication, bool force) {
  PHONY_ASSIGN_OR_RETURN(auto source, PgSession::Connect(EndpointOf(config.source, source_password), "source"));
  std::vector<std::string> dropped;
  PHONY_ASSIGN_OR_RETURN(PgResult r, source->Query("SELECT coalesce(active_pid, 0) FROM pg_catalog.pg_replication_slots "
                                                   "WHERE slot_name = $1",
                                                   "reading the slot", {slot}));
  if (PQntuples(r.get()) == 1) {
    const std::string pid = Text(r.get(), 0, 0);
    if (pid != "0") {
      if (!force) {
        return absl::FailedPreconditionError("slot " + slot + " is in use by process " + pid +
                                             " (a running capture): stop phony run/capture first, or pass --force");
      }
      PHONY_RETURN_IF_ERROR(source->Query("SELECT pg_terminate_backend($1::int)", "stopping the slot's walsender", {pid})
                                .status());
    }
    // The walsender may take a moment to let go.
    absl::Status s;
    for (int i = 0; i < 50; ++i) {
      s = source->Query("SELECT pg_drop_replication_slot($1)", "dropping the slot", {slot}).status();
      if (s.ok() || s.message().find("55006") == std::string_view::npos) break;
      usleep(100 * 1000);
    }
    PHONY_RETURN_IF_ERROR(s);
    dropped.push_back("replication slot " + slot);
  }
  PHONY_ASSIGN_OR_RETURN(PgResult p, source->Query("SELECT 1 FROM pg_catalog.pg_publication WHERE pubname = $1",
                                                   "reading the publication", {publication}));
  if (PQntuples(p.get()) == 1) {
    PHONY_RETURN_IF_ERROR(source->Run("DROP PUBLICATION " + QuoteIdent(publication), "dropping the publication"));
    dropped.push_back("publication " + publication);
  }
  return dropped;
}

}  // namespace phony::snapshot
