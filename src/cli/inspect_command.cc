#include "src/cli/inspect_command.h"

#include <cstdio>
#include <iostream>

#include "src/capture/mysql/binlog_inspect.h"

namespace phony::cli {

int RunInspectBinlog(const InspectBinlogFlags& flags) {
  std::string buffer;
  auto flush = [&] {
    std::fwrite(buffer.data(), 1, buffer.size(), stdout);
    buffer.clear();
  };
  for (const std::string& file : flags.files) {
    absl::Status s = mysql::InspectBinlogFile(file, {.all_events = flags.all_events}, [&](std::string_view line) {
      buffer.append(line);
      buffer.push_back('\n');
      if (buffer.size() >= (1 << 16)) flush();
    });
    flush();
    if (!s.ok()) {
      std::fflush(stdout);
      std::cerr << "phony inspect binlog: " << s.message() << "\n";
      return 1;
    }
  }
  std::fflush(stdout);
  return 0;
}

}  // namespace phony::cli
