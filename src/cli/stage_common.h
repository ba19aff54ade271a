// What the stage commands share: their exit codes, the stop flag that
// SIGINT and SIGTERM set, and how a stage's final status maps to an exit
// code. One stage runs per process.
#pragma once

#include <atomic>
#include <csignal>

#include "absl/status/status.h"

namespace phony::cli {

inline constexpr int kExitConfig = 1;   // config problems
inline constexpr int kExitUsage = 2;    // bad flags
inline constexpr int kExitServer = 4;   // a source, broker or state problem
inline constexpr int kExitCorrupt = 5;  // the stream stopped on input it cannot read

// Set by SIGINT/SIGTERM once InstallStopSignals ran: stages stop cleanly.
inline std::atomic<bool>& StopFlag() {
  static std::atomic<bool> stop{false};
  return stop;
}
inline void InstallStopSignals() {
  std::signal(SIGINT, [](int) { StopFlag().store(true); });
  std::signal(SIGTERM, [](int) { StopFlag().store(true); });
}

// kDataLoss (corrupt input) → 5, kInvalidArgument → 1, anything else → 4.
inline int ExitCodeFor(const absl::Status& s) {
  if (s.code() == absl::StatusCode::kDataLoss) return kExitCorrupt;
  if (s.code() == absl::StatusCode::kInvalidArgument) return kExitConfig;
  return kExitServer;
}

}  // namespace phony::cli
