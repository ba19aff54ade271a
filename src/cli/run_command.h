// `phony run`: the product as users meet it (issue #8). Takes a snapshot
// when staging has none (config snapshot.on_run), then streams changes
// continuously — capture → transform → apply, embedded without a `kafka`
// section, over Kafka with one — until SIGINT/SIGTERM. While it streams it
// creates the unique indexes and constraints the snapshot deferred once
// replay has converged, and snapshots tables that appear in the source.
#pragma once

#include <string>

namespace phony::cli {

struct RunFlags {
  std::string config_path;
  // Stop once the source was quiet this long and everything is applied
  // (tests, demos and one-shot catch-ups; in Kafka mode each stage stops
  // once idle, the later ones waiting a little longer). 0: until signalled.
  double stop_after_idle_seconds = 0;
  double table_refresh_seconds = 30;
  bool quiet = false;  // no snapshot progress display
  // Serve /metrics and /healthz here (HOST:PORT; port 0 picks one and logs
  // it). Empty: no endpoint.
  std::string metrics_address;
};

// 0 stopped cleanly, 1 config problems, 3 the snapshot left tables
// incomplete, 4 a server problem, 5 corrupt input.
int RunRun(const RunFlags& flags);

}  // namespace phony::cli
