// `phony inspect binlog`: binlog files decoded offline to JSON lines, one
// row change per line — a user's debugging tool and the harness of the
// golden tests. The format is in docs/mysql.md ("Inspecting binlog files").
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "core/value.h"

namespace phony::mysql {

struct InspectOptions {
  // Also one line per non-row event (type, position, GTID; never statement
  // text, which can hold literal values).
  bool all_events = false;
};

// Decodes `path` and calls `line` with each JSON line (no newline). Stops at
// the first error, which names the file and the offset.
absl::Status InspectBinlogFile(const std::string& path, const InspectOptions& options,
                               const std::function<void(std::string_view line)>& line);

// A value as inspect prints it (JSON): numbers and decimals as numbers,
// text as strings, bytes as "0x<hex>", dates "YYYY-MM-DD", times
// "[-]HH:MM:SS[.ffffff]", DATETIME "YYYY-MM-DD HH:MM:SS[.ffffff]", TIMESTAMP
// the same in UTC with a trailing "Z", JSON documents inline.
void AppendInspectValue(const Value& v, std::string* out);

}  // namespace phony::mysql
