// The embedded pipeline of `phony run` without Kafka (DESIGN.md "Two ways to
// run, one code path"): capture → transform → apply in one process,
// connected by two bounded in-process buses. The stages are the same code
// as in Kafka mode; only the bus differs.
//
// Acks flow upstream: the applier acks an anonymized batch once staging
// committed it, which acks the raw batch it came from, which lets capture
// confirm the slot. So the slot never passes what staging does not hold: a
// crash anywhere re-sends from the slot, and the applier skips what it has
// by event position. The applier's rewinds (staging down, a bulk write that
// met bad data) re-read the batches it has not acked, which the pipeline
// keeps until then.
//
// A stop request stops capture; the batches already read drain through
// transform and apply before the pipeline returns, so a clean stop leaves
// staging at the slot's confirmed position.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <vector>
#include <optional>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "core/config.h"
#include "src/cli/pipeline_counters.h"

namespace phony::cli {

struct EmbeddedPipelineOptions {
  const JobConfig* config = nullptr;
  const ResolvedSecrets* secrets = nullptr;
  // Set by SIGINT/SIGTERM (or the caller): capture stops, the rest drains.
  const std::atomic<bool>* stop = nullptr;
  // Stop once the source was quiet this long and everything is applied.
  std::optional<absl::Duration> stop_after_idle;
  // How often new source tables matching `include` are looked for.
  absl::Duration table_refresh = absl::Seconds(30);
  PipelineCounters* counters = nullptr;  // optional
  // Tables capture added to the publication (new since the last run, or
  // created while it runs): they need a snapshot of the rows they had.
  // Called on the capture thread; the caller typically sets `pause`.
  std::function<void(const std::vector<TableId>&)> on_tables_added;
  // Like `stop`, for the caller's own reasons (a table to resync).
  const std::atomic<bool>* pause = nullptr;
};

// Runs until stopped (OK) or a stage fails for good (its status: the
// other stages are stopped, nothing unapplied is confirmed).
absl::Status RunEmbeddedPipeline(const EmbeddedPipelineOptions& options);

}  // namespace phony::cli
