// What /metrics shows of the stages' work: counters the embedded pipeline
// and, in Kafka mode, phony run's transform and apply threads update
// (relaxed atomics: monotonic counts, read by the metrics server).
#pragma once

#include <atomic>
#include <cstdint>

namespace phony::cli {

struct PipelineCounters {
  std::atomic<uint64_t> captured_transactions{0};
  std::atomic<uint64_t> transformed_events{0};
  std::atomic<uint64_t> transformed_transactions{0};
  std::atomic<uint64_t> applied_rows{0};
  std::atomic<uint64_t> applied_transactions{0};
  std::atomic<uint64_t> dead_letters{0};
  // Unix micros of the source commit of the last transaction staging holds.
  std::atomic<int64_t> applied_commit_micros{0};
  std::atomic<bool> running{false};  // the pipeline streams (false while a table is copied)
};

}  // namespace phony::cli
