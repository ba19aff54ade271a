// A job's footprint on its servers, for `phony status`, `/metrics` and
// `phony teardown`: the replication slot and publication at the source, the
// bookkeeping in staging. Reads never show a value or a secret.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/config.h"

namespace phony::snapshot {

// The job's slot as the source sees it (for /metrics and phony status).
struct SlotStats {
  bool exists = false;
  bool active = false;
  int64_t retained_bytes = 0;  // WAL the slot holds back (current LSN - restart_lsn)
  int64_t lag_bytes = 0;       // WAL not yet confirmed (current LSN - confirmed_flush_lsn)
  std::string confirmed;       // confirmed_flush_lsn
  std::string wal_status;      // reserved, extended, unreserved, lost
  int active_pid = 0;
  int publication_tables = -1;  // -1: no such publication
};
absl::StatusOr<SlotStats> ReadSlotStats(const JobConfig& config, const std::string& source_password,
                                        const std::string& slot, const std::string& publication);

// What staging's bookkeeping says (for /metrics and phony status).
struct StagingStats {
  int64_t dead_letters = 0;
  int64_t deferred_pending = 0;
  struct Progress {
    std::string stream;
    int partition = 0;
    int64_t next_offset = 0;
    std::string position;
    double seconds_since = 0;  // since that progress was committed
  };
  std::vector<Progress> progress;
  std::string last_snapshot;  // "run 3 done at …", "" when none
};
absl::StatusOr<StagingStats> ReadStagingStats(const JobConfig& config, const std::string& target_password);

// At the source: drops the slot (kFailedPrecondition naming the process
// when a capture still streams from it, unless `force`, which terminates
// that walsender first) and the publication. Returns what it dropped.
absl::StatusOr<std::vector<std::string>> DropSlotAndPublication(const JobConfig& config,
                                                                const std::string& source_password,
                                                                const std::string& slot,
                                                                const std::string& publication, bool force);

}  // namespace phony::snapshot
