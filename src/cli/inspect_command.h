// `phony inspect binlog FILE...`: MySQL/MariaDB binlog files decoded
// offline to JSON lines on stdout (src/capture/mysql/binlog_inspect.h).
#pragma once

#include <string>
#include <vector>

namespace phony::cli {

struct InspectBinlogFlags {
  std::vector<std::string> files;
  bool all_events = false;
};

// 0 when every file decoded; 1 (after the lines decoded so far) when one
// did not, with the error on stderr.
int RunInspectBinlog(const InspectBinlogFlags& flags);

}  // namespace phony::cli
