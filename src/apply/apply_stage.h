// The apply stage, independent of the staging engine: reads deliveries of
// the internal anonymized stream, skips re-deliveries by event position,
// groups whole source transactions into staging transactions (by count, by
// rows and by time), coalesces row changes per key into chunks for the
// writer's bulk path, and commits each staging transaction together with
// its progress (DESIGN.md "Delivery", rule 4). docs/apply.md has the design.
//
// Recovery is always "roll back and re-read from the stored progress":
// Add and Idle return kUnavailable (staging is down: back off first) or
// kAborted (re-read at once); the caller then calls Rewind and re-delivers
// every partition from StartOffset. When the bulk path fails on data, the
// stage re-reads the same events in exact mode — one event at a time, each
// isolated — so the event that cannot apply is found and goes to the dead
// letters, and the bulk path resumes after it.
//
// Not thread-safe: one thread drives a stage and its writer.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "core/bus.h"
#include "core/event.h"
#include "src/apply/staging_writer.h"

namespace phony::apply {

struct ApplyOptions {
  // A staging transaction ends at the first source transaction boundary
  // after any of these is reached (a source transaction is never split).
  size_t batch_transactions = 1000;
  size_t batch_rows = 100000;
  absl::Duration batch_delay = absl::Milliseconds(500);
  // Coalesced rows handed to the writer at once (bounds memory inside a
  // large source transaction).
  size_t chunk_rows = 20000;
  // An event that can never apply: stop the stage (true) or record it in
  // the dead letters and go on (false).
  bool stop_on_dead_letter = false;
  // Partitions of the stream (kafka.partitions). Above 1, a truncate (which
  // capture writes to every partition) is a barrier: applied once every
  // partition reached it, which needs one applier holding all partitions.
  size_t partitions = 1;
};

struct ApplyStats {
  uint64_t events = 0;          // change events applied (rows)
  uint64_t transactions = 0;    // source transactions applied
  uint64_t commits = 0;         // staging transactions committed
  uint64_t skipped = 0;         // re-delivered events skipped by position
  uint64_t before_copy = 0;     // events a later copy of their table already holds
  uint64_t schema_changes = 0;  // DDL applied to staging
  uint64_t dead_letters = 0;
  uint64_t rewinds = 0;
  uint64_t exact_events = 0;    // events applied one at a time after a bulk failure
};

class ApplyStage {
 public:
  ApplyStage(StagingWriter* writer, ApplyOptions options);
  ~ApplyStage();

  // Connects the writer and loads the stored progress and applied schemas.
  absl::Status Start();
  // A table version described elsewhere (the compacted schema topic), so
  // events of any version can be applied wherever reading resumes.
  void LearnSchema(const TableSchema& schema);

  // Where to resume reading a partition: the stored next offset, or -1 when
  // staging has nothing from it (read from the beginning).
  int64_t StartOffset(const StreamPartition& stream) const;

  // Applies one delivery (possibly committing staging transactions on the
  // way). `durable` receives the offsets of deliveries whose every event is
  // now committed in staging: ack them. Rows are moved out of `delivery`.
  absl::Status Add(Delivery& delivery, std::vector<KafkaOffset>* durable);
  // Nothing arrived for a while: commits what is complete.
  absl::Status Idle(std::vector<KafkaOffset>* durable);
  // Commits what is complete and ends (a clean stop).
  absl::Status Finish(std::vector<KafkaOffset>* durable);
  // Rolls back, reconnects and returns to the stored progress. kUnavailable
  // while staging is still down.
  absl::Status Rewind();

  const ApplyStats& stats() const { return stats_; }
  uint64_t barriers() const { return barriers_; }

  // Partitions to pause (false) while they wait at a barrier and to resume
  // (true) after it, since the last call: the loop passes them to the source.
  std::vector<std::pair<StreamPartition, bool>> TakeFlowChanges();
  bool waiting_at_barrier() const;

 private:
  struct Part;
  struct Chunk;

  absl::Status Process(const StreamPartition& sp, Part& part, Event& event, const Delivery& delivery);
  absl::Status ProcessChange(const StreamPartition& sp, ChangeEvent& event, bool exact,
                             const Delivery& delivery);
  absl::Status EnsureOpen();
  absl::Status EnsureTable(const TableId& table, uint32_t version);
  absl::Status ApplySchema(const TableSchema& schema);
  absl::Status FlushChunk();
  absl::Status ApplyOne(const ChangeEvent& event, const TableSchema& applied, bool exact, const StreamPartition& sp,
                        const Delivery& delivery);
  absl::Status MaybeCommit(bool force, std::vector<KafkaOffset>* durable);
  absl::Status Commit(std::vector<KafkaOffset>* durable);
  bool AtBoundary() const;
  // A recoverable failure of the open transaction.
  absl::Status Fail(absl::Status s);
  // A failure staging cannot get past (a DDL it refuses; a dead letter in
  // stop mode): the stage rewinds, commits everything before the source
  // transaction that holds it, records the dead letter, and returns `why`.
  absl::Status HaltAt(absl::Status why, const DeadLetter* letter);
  absl::Status Stop(std::vector<KafkaOffset>* durable);
  absl::Status TryBarrier(const std::string& topic, std::vector<KafkaOffset>* durable);
  const TableSchema* FindSchema(const TableId& table, uint32_t version) const;

  StagingWriter* writer_;
  const ApplyOptions options_;
  std::map<StreamPartition, std::unique_ptr<Part>> parts_;
  // Every table version seen, and the version staging has (including the
  // open transaction; a rewind reloads it from staging).
  std::map<std::pair<TableId, uint32_t>, TableSchema> schemas_;
  std::map<TableId, TableSchema> applied_;
  struct Halt {
    StreamPartition stream;
    EventPosition at;
    absl::Status status;
    std::optional<ChangeEvent> event;  // a dead letter to record
    TableSchema schema;
    int64_t offset = -1;
    std::string error;
  };
  std::optional<Halt> halt_;
  StreamPartition current_;  // of the delivery being applied
  std::vector<KafkaOffset>* durable_ = nullptr;  // of the Add or Idle call running
  std::vector<std::pair<StreamPartition, bool>> flow_;
  uint64_t barriers_ = 0;
  std::unique_ptr<Chunk> chunk_;
  bool open_ = false;
  absl::Time opened_at_;
  size_t tx_in_batch_ = 0;
  size_t rows_in_batch_ = 0;
  ApplyStats stats_;
};

}  // namespace phony::apply
