// `phony capture`: runs the capture stage for the job's source. With a
// `kafka` section (or `--sink kafka`) it writes the job's internal raw topic
// and confirms the slot only up to what the broker acknowledged. With
// `--sink jsonl` it streams Debezium-style envelopes to stdout through the
// embedded bus, acking each batch once written, so the slot is confirmed
// only for what was printed.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "core/schema.h"

namespace phony::cli {

struct CaptureFlags {
  std::string config_path;
  std::string sink;
  std::string stop_at_lsn;
  double stop_after_idle_seconds = 0;
  bool check_only = false;
  bool binary = false;
  double table_refresh_seconds = 30;
  double heartbeat_seconds = 0;
  std::string slot;
  std::string publication;
  // Tables capture added to the publication (phony run copies them).
  std::function<void(const std::vector<TableId>&)> on_tables_added;
};

// Returns the process exit code: 0 done, 1 config problems, 2 usage,
// 4 source/preflight problems, 5 stream stopped on corrupt input.
int RunCapture(const CaptureFlags& flags);

}  // namespace phony::cli
