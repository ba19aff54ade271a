// The HTTP endpoint of `phony run --metrics-address HOST:PORT`: /metrics in
// Prometheus' text format and /healthz (200 "ok" while the pipeline runs,
// 503 with the reason otherwise). cpp-httplib stays inside metrics_server.cc.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace phony::cli {

class MetricsServer {
 public:
  // Binds at once (an address in use is an error here, not later) and
  // serves on its own thread until destroyed. `metrics` returns the whole
  // /metrics body; `health` returns "" when healthy, else the reason.
  static absl::StatusOr<std::unique_ptr<MetricsServer>> Start(const std::string& address,
                                                              std::function<std::string()> metrics,
                                                              std::function<std::string()> health);
  ~MetricsServer();
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;

  int port() const;

 private:
  struct Impl;
  explicit MetricsServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace phony::cli
