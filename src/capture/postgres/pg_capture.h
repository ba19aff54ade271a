// PgCapture: the PostgreSQL capture stage. It drives PgReplicationClient and
// PgoutputAssembler, publishes whole source transactions (grouped into
// batches) to a BusProducer in commit order, and confirms to the slot only
// the end of the unbroken prefix of acked batches (core/ack_tracker.h);
// while nothing is in flight it confirms the server's WAL end so an idle
// slot does not hold WAL back. A dropped connection is retried with
// exponential backoff and resumes from the slot's confirmed position
// (at-least-once); corrupt input and configuration problems stop it with
// the reason. Logs name tables, positions and counts, never row values.
//
// Threading: Run() on one thread; OnAck() from the bus's acking thread.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "core/ack_tracker.h"
#include "core/bus.h"
#include "core/config.h"
#include "core/state_store.h"
#include "src/capture/postgres/pgoutput_assembler.h"
#include "src/capture/postgres/replication_client.h"

namespace phony::pg {

struct PgCaptureOptions {
  PgConnectOptions connect;
  TableFilter filter;
  std::string slot;
  std::string publication;
  bool streaming = true;
  // Binary value format (see PgReplicationClient::Start).
  bool binary = false;
  size_t max_batch_events = 10000;
  // Open transactions beyond this many bytes of row data spill to files in
  // spill_dir (the capture's state directory: raw data is sensitive).
  size_t spill_threshold_bytes = 16 << 20;
  std::string spill_dir = "/tmp";
  absl::Duration max_batch_delay = absl::Milliseconds(50);
  // Stop once everything up to this LSN is confirmed.
  std::optional<Lsn> stop_at_lsn;
  // Stop after this long without a message, once everything is confirmed.
  std::optional<absl::Duration> stop_after_idle;
  // How often tables created after the start that match `include` are
  // looked for and added to the publication (reported when added).
  absl::Duration table_refresh_interval = absl::Seconds(30);
  // When set: after this long without a message, write a heartbeat logical
  // message so the slot keeps moving.
  std::optional<absl::Duration> heartbeat_interval;
  absl::Duration initial_backoff = absl::Seconds(1);
  absl::Duration max_backoff = absl::Seconds(30);
  // Give up after this many consecutive failed connection attempts (-1: never).
  int max_retries = -1;
  // The capture's state directory: remembers that the slot was in use and
  // the last confirmed LSN, so a slot that disappears is an error instead of
  // a silent new start from "now". Optional (tests).
  StateStore* state = nullptr;
  // Where the stream's consumer already holds everything up to (exactly-once
  // Kafka: the position record of the last committed Kafka transaction),
  // read at every (re)start; streaming resumes after it. Optional.
  std::function<absl::StatusOr<std::optional<Lsn>>()> resume_after;
  // Called (on the capture thread) with the tables this capture added to
  // the publication, at start and at each refresh: their rows from before
  // need a snapshot. Optional; without it they are only logged.
  std::function<void(const std::vector<TableId>&)> on_tables_added;
};

class PgCapture {
 public:
  PgCapture(PgCaptureOptions options, BusProducer* producer);

  // The bus's AckCallback must forward here.
  void OnAck(uint64_t batch_id);
  // A bus that can fail to deliver an accepted batch (Kafka) reports it
  // here: confirmation stops before the batch and the stream restarts from
  // the confirmed position (which re-sends it).
  void OnNack(uint64_t batch_id, const absl::Status& why);

  // Preflight only: connects, checks, and returns the report.
  absl::StatusOr<PreflightReport> Check();

  // Streams until `stop` is set or a stop condition is met (OK), or a
  // non-retryable error (its status, naming the WAL position for corrupt
  // input). On stop it waits briefly for in-flight acks and confirms them.
  absl::Status Run(const std::atomic<bool>& stop);

  Lsn confirmed() const { return confirmed_; }
  uint64_t transactions_published() const { return transactions_; }

 private:
  absl::Status RunOnce(const std::atomic<bool>& stop, bool* made_progress);
  // options_.binary, unless a published column's type has no binary reader.
  absl::StatusOr<bool> UseBinary(PgReplicationClient& client);
  absl::Status Publish(std::vector<Event>* batch, PgReplicationClient& client,
                       const std::atomic<bool>& stop);
  absl::Status CheckSlotContinuity(const PreflightReport& report);
  absl::Status PersistConfirmed(Lsn lsn, bool force);
  absl::Status LoadSchemas();
  absl::Status PersistSchema(const TableSchema& schema);

  PgCaptureOptions options_;
  BusProducer* producer_;
  AckTracker tracker_;
  std::mutex nack_mu_;
  absl::Status nack_reason_;  // the first undelivered batch's reason
  uint64_t next_batch_id_ = 0;
  uint64_t transactions_ = 0;
  Lsn confirmed_;
  Lsn persisted_;
  absl::Time last_persist_ = absl::InfinitePast();
  // Lives across reconnects (caches and schema versions); its catalog
  // lookups go through the current connection.
  std::unique_ptr<PgoutputAssembler> assembler_;
  PgReplicationClient* client_ = nullptr;
};

// Every table version a capture with this state directory has described
// (oldest first per table): what the stages after it in one process learn
// at start, since a restarted capture does not describe a known table again.
absl::StatusOr<std::vector<TableSchema>> ReadSchemaHistory(const StateStore& state);

}  // namespace phony::pg
