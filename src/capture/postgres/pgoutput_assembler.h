// PgoutputAssembler: turns the stream of pgoutput messages of one slot into
// core events, whole source transactions at a time, in commit order
// (DESIGN.md "Events and positions"). It keeps the Relation and Type caches,
// versions table schemas (a Relation whose shape differs from the cached one
// yields a SchemaEvent with the next version), parses tuple values, and
// assembles streamed in-progress transactions (protocol ≥ 2): their changes
// are buffered per top-level xid, a Stream Abort discards the aborted
// (sub)transaction's changes, and only a Stream Commit emits them.
//
// Positions: every event of a transaction is positioned at (commit end LSN,
// seq) with seq 0 for TxBegin, 1… for schema and change events in order, and
// the last for TxCommit. Transactions with no change for a published table
// produce no events; their end LSN is reported so the client can confirm it
// when nothing is in flight.
//
// Pure: no I/O, no clock, no logging. Not thread-safe (one per slot stream).
// Two-phase messages mean the slot was created with two_phase on, which the
// client never does: they are kFailedPrecondition.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "absl/status/statusor.h"
#include "core/event.h"
#include "src/capture/postgres/pg_values.h"
#include "src/capture/postgres/pgoutput_decoder.h"
#include "src/capture/postgres/spill_file.h"

namespace phony::pg {

class PgoutputAssembler {
 public:
  struct Options {
    std::string database;  // the source database, for TableIds
    int protocol_version = 1;
    bool parallel_streaming = false;
    // Completes a new schema version from the source catalog (nullability,
    // defaults, full type names, declared foreign keys): pgoutput's Relation
    // message carries only names, type OIDs, typmods and key flags. Optional;
    // an error stops the stream.
    std::function<absl::Status(uint32_t relation_oid, TableSchema* schema)> enrich;
    // Describes a type that is not built in (enum, domain, array, range,
    // composite) from the source catalog, once per type OID: domains then
    // decode as their base type and binary values of such types can be
    // read. Optional; without it they pass through as text (text format) or
    // fail closed (binary format). An error stops the stream.
    PgTypeCache::Lookup describe_type;
    // Above this many bytes of buffered row data, the transaction being
    // appended to moves to a spill file in `spill_dir` (bounded memory for
    // transactions of any size).
    size_t spill_threshold_bytes = 64 << 20;
    std::string spill_dir = "/tmp";
    // At most this many events are appended to `out` per Feed()/Drain()
    // call; the rest of a completed transaction waits for Drain().
    size_t max_emit_events = SIZE_MAX;
  };

  struct FeedResult {
    // End LSN of a transaction that produced no events (nothing published
    // changed), which the client may confirm once nothing is in flight.
    std::optional<Lsn> empty_commit_end;
  };

  explicit PgoutputAssembler(Options options);

  // Decodes one message and appends the events of every transaction it
  // completes to `out` (at most max_emit_events; see Drain()). kDataLoss for corrupt input and for protocol
  // violations (a change for an unknown relation, a tuple whose width does
  // not match its relation, a commit without a begin); the message is not
  // consumed and the stream must stop there.
  absl::StatusOr<FeedResult> Feed(std::string_view message, std::vector<Event>* out);

  // Appends more events of completed transactions (up to max_emit_events).
  absl::Status Drain(std::vector<Event>* out);
  // True while completed transactions still have events to hand out.
  bool draining() const { return !completed_.empty(); }
  // Events written to spill files so far (for tests and metrics).
  uint64_t spilled_events() const { return spilled_events_; }

  // Schema versions known so far, to persist and to seed the next run.
  const std::map<uint32_t, TableSchema>& schemas() const { return schemas_; }
  // Seeds a table's last known version (from the state store) so versions
  // keep growing across restarts.
  void SeedSchema(uint32_t relation_oid, TableSchema schema);

  // Forgets open transactions (the server re-sends them after a reconnect)
  // but keeps the relation, type and schema caches.
  void ResetStream();

  bool in_transaction() const { return current_.has_value(); }
  size_t streamed_transactions() const { return streams_.size(); }
  // Bytes of row data held for open transactions (streamed or not).
  size_t buffered_bytes() const { return buffered_bytes_; }

 private:
  // A change whose commit position is not known yet.
  struct Pending {
    Event event;
    uint32_t subxid = 0;  // streamed changes: the (sub)transaction that made it
    size_t bytes = 0;     // ApproximateSize(event), counted in buffered_bytes_
  };
  struct OpenTx {
    uint32_t xid = 0;
    int64_t commit_ts_us = 0;
    // Events in order: the spill file's first, then `events` in memory.
    std::unique_ptr<SpillFile> spill;
    std::vector<Pending> events;
    size_t change_count = 0;
    // Streamed: index (over spill + memory) of each subtransaction's first
    // event, and for those in the spill file its (offset, count) there.
    std::unordered_map<uint32_t, uint64_t> first_index;
    std::unordered_map<uint32_t, std::pair<uint64_t, uint64_t>> first_spill_pos;
    // Relations whose schema event this transaction carries.
    std::set<uint32_t> schema_oids;
    uint64_t total() const { return (spill ? spill->count() : 0) + events.size(); }
  };
  // A committed transaction whose events are being handed out.
  struct Completed {
    OpenTx tx;
    Lsn commit_end;
    uint64_t seq = 0;
    bool begun = false;
    size_t mem_index = 0;
  };

  absl::Status OnRelation(const PgRelation& rel, OpenTx* tx, uint32_t subxid);
  absl::Status OnChange(const PgMessage& m, OpenTx* tx, uint32_t subxid);
  absl::StatusOr<Row> ParseTuple(const PgTuple& tuple, const TableSchema& schema,
                                 const std::vector<uint32_t>& type_oids, const char* what);
  void Complete(OpenTx tx, Lsn commit_end, FeedResult* result);
  absl::Status Push(OpenTx* tx, Event event, uint32_t subxid);
  absl::Status Spill(OpenTx* tx);
  absl::Status AbortSubtransaction(OpenTx* tx, uint32_t subxid);
  // Emits the current schema of `oid` into `tx` again if an earlier
  // announcement may have been lost (reconnect, aborted transaction).
  absl::Status Reannounce(uint32_t oid, OpenTx* tx);
  OpenTx* StreamTx(std::optional<uint32_t> xid);

  Options options_;
  bool in_stream_ = false;
  uint32_t stream_xid_ = 0;
  std::optional<OpenTx> current_;              // non-streamed transaction
  std::map<uint32_t, OpenTx> streams_;         // streamed, by top-level xid
  std::map<uint32_t, TableSchema> schemas_;    // by relation OID, as emitted (enriched)
  std::map<uint32_t, TableSchema> shapes_;     // by relation OID, as the Relation message said
  PgTypeCache types_;
  std::map<uint32_t, std::vector<uint32_t>> type_oids_;  // by relation OID: the types values parse as
  std::map<uint32_t, std::vector<uint16_t>> key_columns_;  // by relation OID
  std::map<uint32_t, std::string> type_names_;  // Type messages: OID -> "schema.name"
  std::deque<Completed> completed_;
  // Relations whose latest schema event may not have reached the stream:
  // announced again (same version) before their next change.
  std::set<uint32_t> reannounce_;
  size_t buffered_bytes_ = 0;
  uint64_t spilled_events_ = 0;
};

}  // namespace phony::pg
