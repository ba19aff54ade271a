// Retrying a step that needs a server which may be down (a broker, a
// database): kUnavailable is retried with exponential backoff (1 s doubling
// to 30 s) and reported each time; any other result returns at once, as
// does a stop request. Shared by the stage commands.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <type_traits>

#include "absl/status/status.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "spdlog/spdlog.h"

namespace phony::cli {

template <typename Attempt>
auto RetryWhileUnavailable(const char* stage, const char* what, const std::atomic<bool>& stop, Attempt attempt) {
  absl::Duration backoff = absl::Seconds(1);
  for (int failures = 1;; ++failures) {
    auto result = attempt();
    absl::Status s = [&] {
      if constexpr (std::is_same_v<decltype(result), absl::Status>) {
        return result;
      } else {
        return result.status();
      }
    }();
    if (s.ok() || !absl::IsUnavailable(s) || stop.load()) return result;
    spdlog::warn("{} unavailable while {} ({}); retry {} in {}", stage, what, std::string(s.message()), failures,
                 absl::FormatDuration(backoff));
    for (absl::Time until = absl::Now() + backoff; absl::Now() < until && !stop.load();) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    backoff = std::min(backoff * 2, absl::Seconds(30));
  }
}

}  // namespace phony::cli
