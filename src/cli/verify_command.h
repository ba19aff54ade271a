// `phony verify`: is staging equal to the deterministic transform of the
// source? (issue #8; src/snapshot/pg_verify.h says how it compares.)
#pragma once

#include <string>

namespace phony::cli {

struct VerifyFlags {
  std::string config_path;
  std::string tables_csv;      // --tables a,b
  std::string format = "table";  // table | json
  // Compare again (every few seconds) until equal or this long has passed:
  // for a mirror that is still catching up. 0: compare once.
  double wait_seconds = 0;
};

// 0 equal, 1 config problems, 3 differences (listed), 4 a server problem.
int RunVerify(const VerifyFlags& flags);

}  // namespace phony::cli
