// Convergence after a snapshot that CDC replays over (DESIGN.md "Snapshot
// and CDC"): the unique indexes and constraints a snapshot deferred
// (phony.deferred_ddl) are created once replay has passed the snapshot's
// position, and not before — until then replay may write older states over
// newer rows. `phony run` drives this while its pipeline streams.
#pragma once

#include <atomic>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "core/config.h"
#include "core/position.h"

namespace phony::snapshot {

struct ConvergeOptions {
  const JobConfig* config = nullptr;
  std::string source_password;
  std::string target_password;
  std::string slot;
  // Embedded mode: the slot's confirmed position is staging's (capture
  // confirms only what staging committed), which also moves while the
  // source is idle. Kafka mode: only the applier's progress counts.
  bool slot_means_applied = false;
  absl::Duration poll = absl::Seconds(2);
  absl::Duration sequence_every = absl::Seconds(10);
};

struct ConvergeState {
  int pending = 0;   // deferred statements not yet run
  int done = 0;      // run this call
  int failed = 0;    // refused by staging this call (recorded in phony.deferred_ddl.error)
  std::optional<Lsn> reached;  // how far replay has provably applied
};

// One pass: reads the pending statements and how far replay got; runs
// those whose after_lsn it passed, in order. A statement staging refuses
// (say, a unique index over values the anonymization made equal) is
// recorded with its error and left pending; the others still run.
absl::StatusOr<ConvergeState> ConvergeOnce(const ConvergeOptions& options);

// Sequences: logical replication does not carry their values, so staging's
// sequences (created by the snapshot under the source's names) are moved
// up to the source's values — never backwards, so rows inserted in staging
// keep their ids and later source ids do not collide with them. Returns how
// many were advanced.
absl::StatusOr<int> SyncSequences(const ConvergeOptions& options);

// Whether staging holds a finished snapshot of the job (phony.snapshot_runs).
absl::StatusOr<bool> StagingHasSnapshot(const JobConfig& config, const std::string& target_password);

// Passes every `poll` until `stop` is set (and syncs sequences every
// `sequence_every`). Logs what it creates, what waits
// and what staging refuses (each once), never values.
void RunConverger(const ConvergeOptions& options, const std::atomic<bool>& stop);

}  // namespace phony::snapshot
