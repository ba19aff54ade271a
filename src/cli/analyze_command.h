// `phony analyze`: PII columns and the foreign-key graph of a job's source
// (issue #10; src/analyze/ does the work, docs/analyze.md explains it).
#pragma once

#include <string>

namespace phony::cli {

struct AnalyzeFlags {
  std::string config_path;
  std::string format = "table";  // table | json
  std::string emit_config;       // write a starter config here
  bool save = false;             // store the report in the state directory (strict mode reads it)
  int sample_rows = 0;           // overrides analyze.sample_rows when > 0
};

// 0 done, 1 config problems, 4 a server problem.
int RunAnalyze(const AnalyzeFlags& flags);

}  // namespace phony::cli
