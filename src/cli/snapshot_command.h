// `phony snapshot`: copies the source into staging, anonymized (issue #7;
// docs/snapshot.md). Resumes an unfinished run; `--tables` re-copies some
// tables while CDC runs; `--start-cdc` creates the job's slot with the
// snapshot it exports, so `phony capture` continues exactly where the copy
// stops.
#pragma once

#include <string>
#include <vector>

#include "src/cli/stage_common.h"

namespace phony::cli {

struct SnapshotFlags {
  std::string config_path;
  std::string tables_csv;  // --tables a,b
  bool restart = false;
  bool start_cdc = false;
  std::string report_path;  // JSON report; default <state dir>/snapshot-0/report.json
  bool quiet = false;       // no progress display
  // Strict mode's check (issue #10) before copying; phony run checks once
  // at its start instead.
  bool strict = true;
};

// 0 every table copied and every post-load step done; 1 config problems;
// 3 some tables failed or post-load steps failed (the report names them);
// 4 a server problem; 5 corrupt input.
int RunSnapshot(const SnapshotFlags& flags);
// The same for a job already loaded (phony run; flags.config_path unused).
// Stops early when StopFlag() is set.
int RunSnapshotFor(const LoadedJob& job, const SnapshotFlags& flags);

}  // namespace phony::cli
