// PgReplicationClient: the wire side of PostgreSQL capture, over libpq. It
// checks the source (preflight), manages the publication and the logical
// slot, starts pgoutput streaming with the highest protocol the server
// speaks, and runs the copy-both loop without blocking: keepalives are
// answered on time and the confirmed flush LSN is reported in standby status
// updates. It confirms only what the caller passes to Confirm() — the
// capture stage passes the end of the unbroken acked prefix (DESIGN.md
// "Delivery"). libpq's PGresult and error strings become absl::Status here
// and nowhere else. Not thread-safe: one thread drives it.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "core/config.h"
#include "core/position.h"
#include "src/capture/postgres/pg_values.h"

struct pg_conn;

namespace phony::pg {

struct PgConnectOptions {
  std::string host;
  int port = 5432;
  std::string database;
  std::string user;
  std::string password;  // resolved secret; never logged
  std::string application_name = "phony";
  // Extra `options` for the replication session (GUCs such as
  // logical_decoding_work_mem); the value-format options are always added.
  std::string extra_session_options;
};

// A table the job covers and whether the publication can carry it.
struct PublishedTable {
  TableId id;
  char replica_identity = 'd';
  bool usable_identity = false;  // primary key, FULL, or a replica identity index
};

struct PreflightReport {
  int server_version = 0;      // server_version_num
  int protocol_version = 1;    // the highest pgoutput protocol the server speaks
  bool slot_exists = false;
  std::optional<Lsn> slot_confirmed_flush;
  // The process streaming from the slot now, if any (a previous capture
  // whose walsender has not noticed its end yet, or another consumer).
  std::optional<std::string> slot_active_pid;
  std::string max_slot_wal_keep_size;
  std::vector<PublishedTable> tables;
  // Problems that stop capture (wal_level, privileges, limits, a lost slot).
  std::vector<std::string> errors;
  // Tables left out of the publication because UPDATE/DELETE on them would
  // fail on production if published, and other warnings, with the fix.
  std::vector<std::string> warnings;
};

struct XLogData {
  Lsn wal_start;
  Lsn wal_end;
  std::string payload;  // one pgoutput message
};

class PgReplicationClient {
 public:
  // Opens a normal connection (catalog queries) and a replication
  // connection. kUnavailable when the server cannot be reached (retry with
  // backoff); kPermissionDenied / kFailedPrecondition otherwise.
  static absl::StatusOr<std::unique_ptr<PgReplicationClient>> Connect(const PgConnectOptions& options);
  ~PgReplicationClient();

  // Checks wal_level, privileges, slot and sender limits, the slot's state,
  // and the replica identity of every table `filter` covers.
  absl::StatusOr<PreflightReport> Preflight(const TableFilter& filter, const std::string& slot);

  // The tables `filter` covers now, with their replica identity; a warning
  // with the fix for each one the publication cannot carry.
  absl::StatusOr<std::vector<PublishedTable>> DiscoverTables(const TableFilter& filter,
                                                             std::vector<std::string>* warnings);

  // Writes a non-transactional logical message (pg_logical_emit_message) in
  // the source database so the slot keeps moving while the published tables
  // are quiet and the rest of the server is busy.
  absl::Status EmitHeartbeat();

  // Creates the publication FOR TABLE with the usable tables of the report
  // (never FOR ALL TABLES: that would make UPDATE/DELETE fail on tables
  // without a replica identity), or adds missing usable tables to an existing
  // one. Returns the tables added.
  absl::StatusOr<std::vector<TableId>> EnsurePublication(const std::string& publication,
                                                         const PreflightReport& report);
  // Creates the slot (pgoutput, two_phase off) when missing. A slot with
  // another plugin, two_phase on, or wal_status 'lost' is kFailedPrecondition:
  // never a silent restart from "now".
  absl::Status EnsureSlot(const std::string& slot);

  // Completes `schema` (built from a Relation message) from the catalog as it
  // is now: NOT NULL, defaults, format_type() names with typmods, declared
  // foreign keys. A relation that no longer exists is left as it is.
  absl::Status DescribeTable(uint32_t relation_oid, TableSchema* schema);
  // What the catalog says about a type that is not built in (for
  // PgTypeCache): its kind and the type it is built on.
  absl::StatusOr<PgTypeInfo> DescribeType(uint32_t type_oid);
  // Up to `rows` rows of `table` (a random sample on big tables) decoded as
  // capture decodes them, with the table's schema from the catalog: what
  // `phony preview` shows before and after the rules. kNotFound for a table
  // that does not exist.
  struct TableSample {
    TableSchema schema;
    std::vector<Row> rows;
  };
  absl::StatusOr<TableSample> SampleTable(const TableId& table, int rows);
  // The distinct column type OIDs of the tables in `publication`.
  absl::StatusOr<std::vector<uint32_t>> PublishedColumnTypes(const std::string& publication);

  // Creates the slot through the replication protocol with an exported
  // snapshot, for the snapshot path: rows read under `snapshot_name` (SET
  // TRANSACTION SNAPSHOT in a REPEATABLE READ transaction) are exactly the
  // state at `consistent_point`, where streaming from this slot begins. The
  // snapshot stays valid until the next command on this client's replication
  // connection (Start() included).
  struct ExportedSlot {
    Lsn consistent_point;
    std::string snapshot_name;
  };
  absl::StatusOr<ExportedSlot> CreateSlotWithSnapshot(const std::string& slot);

  // START_REPLICATION from the slot's confirmed position, or from `start_at`
  // when it is later (transactions committed before it are skipped by the
  // server, and `start_at` is confirmed: the caller knows they are safe).
  // `binary`: values in the types' binary send format.
  absl::Status Start(const std::string& slot, const std::string& publication, int protocol_version,
                     bool streaming, bool binary = false, Lsn start_at = Lsn());

  // The next message, answering keepalives and sending status updates while
  // it waits; std::nullopt when `timeout` passes without one. kUnavailable
  // when the connection drops.
  absl::StatusOr<std::optional<XLogData>> Next(absl::Duration timeout);

  // Records `flush` as durable downstream; sent with the next status update
  // (at once if none went out in the last second). Never moves backwards.
  void Confirm(Lsn flush);
  Lsn confirmed() const { return confirmed_; }
  // The server's WAL end from the latest keepalive or XLogData.
  Lsn server_wal_end() const { return server_wal_end_; }
  // Sends a status update now and waits until the server has it.
  absl::Status Flush();

 private:
  PgReplicationClient() = default;
  absl::Status SendStatus(bool reply_requested);

  pg_conn* sql_ = nullptr;
  pg_conn* repl_ = nullptr;
  Lsn confirmed_;
  Lsn sent_;
  Lsn server_wal_end_;
  absl::Time last_status_ = absl::InfinitePast();
  absl::Duration status_interval_ = absl::Seconds(10);
};

// `application_name`-safe slot and publication names for a job.
std::string DefaultSlotName(const std::string& job_name);
std::string DefaultPublicationName(const std::string& job_name);

}  // namespace phony::pg
