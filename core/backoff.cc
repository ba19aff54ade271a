#include "core/backoff.h"

#include <algorithm>
#include <chrono>
#include <string>
#include <thread>

#include "spdlog/spdlog.h"

namespace phony {

absl::Status RetryWithBackoff(const BackoffOptions& options, const std::atomic<bool>& stop,
                              const std::function<absl::Status(bool* made_progress)>& attempt) {
  absl::Duration backoff = options.initial;
  int failures = 0;
  while (true) {
    bool made_progress = false;
    absl::Status s = attempt(&made_progress);
    if (s.ok() || s.code() != absl::StatusCode::kUnavailable) return s;
    if (made_progress) {
      backoff = options.initial;
      failures = 0;
    }
    ++failures;
    if (options.max_retries >= 0 && failures > options.max_retries) return s;
    spdlog::warn("capture: {} unavailable ({}); retry {} in {}", options.what, std::string(s.message()), failures,
                 absl::FormatDuration(backoff));
    for (absl::Time until = absl::Now() + backoff; absl::Now() < until;) {
      if (stop.load()) return absl::OkStatus();
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    backoff = std::min(backoff * 2, options.max);
  }
}

}  // namespace phony
