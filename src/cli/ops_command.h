// `phony status` (where a job stands: the slot, staging's progress, the
// state directories) and `phony teardown` (retiring a job: its slot,
// publication, state and Kafka topics). Neither prints a value or a secret.
#pragma once

#include <string>

namespace phony::cli {

struct StatusFlags {
  std::string config_path;
  std::string format = "table";  // table | json
};
// 0 reported, 1 config problems, 4 a server could not be read (what could
// be read is still printed).
int RunStatus(const StatusFlags& flags);

struct TeardownFlags {
  std::string config_path;
  bool yes = false;    // without it: say what would be dropped, drop nothing
  bool force = false;  // stop a capture still streaming from the slot
};
// 0 done (or the plan printed), 1 config problems, 4 a server refused.
int RunTeardown(const TeardownFlags& flags);

}  // namespace phony::cli
