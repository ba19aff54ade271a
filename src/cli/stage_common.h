// What the stage commands share: their exit codes, the stop flag that
// SIGINT and SIGTERM set, and how a stage's final status maps to an exit
// code. One stage runs per process.
#pragma once

#include <pthread.h>

#include <atomic>
#include <csignal>
#include <iostream>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "core/config.h"

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

// Names the calling thread (top -H, perf --sort comm, gdb); at most 15
// characters are kept.
inline void NameThisThread(const char* name) { pthread_setname_np(pthread_self(), name); }

// The replica server id a job presents to a MySQL/MariaDB source: stable per
// job name, distinct between jobs, away from the small ids servers use.
inline uint32_t ReplicaServerId(const std::string& job) {
  uint32_t h = 2166136261u;  // FNV-1a
  for (char c : job) h = (h ^ static_cast<uint8_t>(c)) * 16777619u;
  return 1000000000u + h % 1000000000u;
}

// A resolved password reference's value, "" when the config gives none.
inline std::string PasswordOf(const std::optional<Secret>& secret) {
  return secret ? std::string(secret->value()) : std::string();
}

// What a stage command loads first: the job config and its secrets. Prints
// every problem (the config's, then the secrets') and returns nullopt: the
// command then exits with kExitConfig.
struct LoadedJob {
  JobConfig config;
  ResolvedSecrets secrets;
};
inline std::optional<LoadedJob> LoadJob(const std::string& path, const char* command) {
  auto config = LoadJobConfigFile(path);
  if (!config.ok()) {
    std::cerr << config.status().message() << "\n";
    return std::nullopt;
  }
  LoadedJob out{*std::move(config), {}};
  if (auto problems = ResolveSecrets(out.config, &out.secrets); !problems.empty()) {
    std::cerr << "phony " << command << ": " << path << ":\n" << JoinProblems(problems) << "\n";
    return std::nullopt;
  }
  return out;
}

}  // namespace phony::cli
