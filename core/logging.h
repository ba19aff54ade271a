// Logging setup for every phony process: spdlog to stderr, human text by
// default or one JSON object per line (`--log-format json`). House rule: log
// messages name tables, columns, positions and counts, never row values or
// secrets, at any level (DESIGN.md "Anonymization"). Call InitLogging once,
// early in main; spdlog's default logger is thread-safe afterwards.
#pragma once

#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace phony {

enum class LogFormat { kText, kJson };

// `level`: trace, debug, info, warn, error. kInvalidArgument on a bad value.
absl::Status InitLogging(LogFormat format, std::string_view level);
absl::Status ParseLogFormat(std::string_view text, LogFormat* out);

// Escapes a string for a JSON string literal (no quotes added).
std::string JsonEscape(std::string_view s);
// The same, appended to `out` (no temporary).
void AppendJsonEscaped(std::string_view s, std::string* out);

}  // namespace phony
