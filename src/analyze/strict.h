// Strict mode (issue #10): phony run and phony snapshot refuse to start
// while a PII column has no rule. A column counts as PII when the saved
// report (phony analyze --save) flags it, or, for a column the report has
// not seen (no report, or a column added since), when its name alone flags
// it. Start-up reads the catalog only; it never samples production.
#pragma once

#include <atomic>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "core/config.h"
#include "src/analyze/analyzer.h"

namespace phony::analyze {

struct UnruledColumn {
  std::string column;  // "table.column" as the config names it
  PiiType type = PiiType::kNone;
  double confidence = 0;
  bool from_report = false;  // false: flagged by its name
};

// The PII columns of `tables` without a rule, a rule inherited through a
// declared foreign key, or an entry in analyze.accept_unruled. `saved` is
// the saved report, or null.
std::vector<UnruledColumn> UnruledPii(const JobConfig& config, const std::vector<CatalogTable>& tables,
                                      const std::string& default_schema, const Report* saved);

// Reads the source's catalog and the saved report and fails with
// kFailedPrecondition listing every unruled PII column (and how to settle
// each); ok when analyze.strict is false or nothing is unruled. An
// unreachable source is retried with backoff (10 times, logged), then
// kUnavailable; kCancelled when `stop` is set meanwhile. `command` names
// the caller in the message.
absl::Status EnforceStrictMode(const JobConfig& config, const std::string& source_password, const std::string& command,
                               const std::atomic<bool>* stop = nullptr);

}  // namespace phony::analyze
