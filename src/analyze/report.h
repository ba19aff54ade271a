// The analyzer's report as JSON (the shape issue #10 gives: one entry per
// flagged column keyed "table.column", the foreign-key graph under "fks",
// and what was analyzed under "analyzed"), as a terminal table, and as a
// starter job config; saved in and loaded from the job's state directory.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "core/config.h"
#include "nlohmann/json.hpp"
#include "src/analyze/analyzer.h"

namespace phony::analyze {

nlohmann::json ReportToJson(const Report& report);
absl::StatusOr<Report> ReportFromJson(const nlohmann::json& doc);

// One line per flagged column, then the foreign keys, aligned for a terminal.
std::string ReportTable(const Report& report);

// The rule a flagged column starts with in a starter config (KEEP for
// columns that are not flagged), as the config's JSON.
nlohmann::json StarterRule(const ColumnFinding& finding);

// `base` (the job config as read) with a rule for every analyzed column the
// config has no rule for, and strict mode on. Rules already in `base` stay.
nlohmann::json StarterConfig(const Report& report, const nlohmann::json& base);

// <state.dir>/analyze/report.json
std::string ReportPath(const JobConfig& config);
absl::Status SaveReport(const JobConfig& config, const Report& report);
// The saved report; kNotFound when there is none.
absl::StatusOr<Report> LoadReport(const JobConfig& config);

}  // namespace phony::analyze
