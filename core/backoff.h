// RetryWithBackoff: runs a stage's connection attempt again while it fails
// with kUnavailable (a server down, a network cut), waiting with exponential
// backoff in between and reporting each retry; any other outcome ends it. An
// attempt that made progress (it connected before failing) resets the
// backoff and the count. Thread-compatible.
#pragma once

#include <atomic>
#include <functional>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace phony {

struct BackoffOptions {
  const char* what = "source";  // for the log line: "<what> unavailable (...)"
  absl::Duration initial = absl::Seconds(1);
  absl::Duration max = absl::Seconds(30);
  int max_retries = -1;  // consecutive failed attempts before giving up (-1: never)
};

// OK as soon as `stop` is set while waiting.
absl::Status RetryWithBackoff(const BackoffOptions& options, const std::atomic<bool>& stop,
                              const std::function<absl::Status(bool* made_progress)>& attempt);

}  // namespace phony
