// `phony transform`: the transform stage in Kafka mode (issue #5). Consumes
// the job's internal raw topic as a consumer group member, anonymizes every
// event with the job's rules, and writes, in one Kafka transaction together
// with the consumed offsets, the internal anonymized topic (each event in the
// partition it had in the raw topic) and the public per-table topics. Also
// `phony preview` (rules applied to sampled source rows, on the terminal) and
// `phony mapping` (operator overrides in the mapping store).
#pragma once

#include <string>

namespace phony::cli {

struct PipelineCounters;

struct TransformFlags {
  std::string config_path;
  int instance = 0;
  double stop_after_idle_seconds = 0;  // 0: run until signalled
  bool no_public = false;              // only the internal anonymized topic
  PipelineCounters* counters = nullptr;  // phony run's /metrics (optional)
};

// 0 done, 1 config problems, 4 a server problem, 5 corrupt input.
int RunTransform(const TransformFlags& flags);

struct PreviewFlags {
  std::string config_path;
  std::string table;
  int rows = 10;
  bool json = false;
};
int RunPreview(const PreviewFlags& flags);

struct MappingFlags {
  std::string config_path;
  std::string domain;    // as the config names it (or the default domain)
  std::string original;  // "-" reads it from stdin
  std::string fake;
  bool remove = false;
  bool unique = false;
  int instance = 0;
  int version = 1;
};
int RunMappingOverride(const MappingFlags& flags);

}  // namespace phony::cli
