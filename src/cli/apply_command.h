// `phony apply`: the apply stage in Kafka mode (issue #6). Consumes the
// job's internal anonymized topic as a member of the consumer group
// "phony-apply-<job>", starting each partition where staging's progress says
// (phony.apply_progress), and writes staging with the target's applier.
#pragma once

#include <string>

namespace phony::cli {

struct ApplyFlags {
  std::string config_path;
  // One per process of a job: the consumer group's static member id.
  int instance = 0;
  double stop_after_idle_seconds = 0;  // 0: run until signalled
};

// 0 done, 1 config problems, 4 a server problem (or staging refused a
// change and the stage stopped), 5 corrupt input.
int RunApply(const ApplyFlags& flags);

}  // namespace phony::cli
