// `phony apply`: the apply stage in Kafka mode (issue #6). Consumes the
// job's internal anonymized topic as a member of the consumer group
// "phony-apply-<job>", starting each partition where staging's progress says
// (phony.apply_progress), and writes staging with the target's applier.
#pragma once

#include <memory>
#include <string>

#include "core/config.h"
#include "src/apply/apply_stage.h"
#include "src/apply/staging_writer.h"

namespace phony::cli {

struct PipelineCounters;

struct ApplyFlags {
  std::string config_path;
  // One per process of a job: the consumer group's static member id.
  int instance = 0;
  double stop_after_idle_seconds = 0;  // 0: run until signalled
  PipelineCounters* counters = nullptr;  // phony run's /metrics (optional)
};

// 0 done, 1 config problems, 4 a server problem (or staging refused a
// change and the stage stopped), 5 corrupt input.
int RunApply(const ApplyFlags& flags);

// The writer for the job's target (PostgreSQL or MariaDB/MySQL), and the
// stage's options from the config's apply section: shared with phony run.
std::unique_ptr<apply::StagingWriter> MakeStagingWriter(const JobConfig& config, const ResolvedSecrets& secrets);
apply::ApplyOptions ApplyOptionsFor(const JobConfig& config, int partitions);

}  // namespace phony::cli
