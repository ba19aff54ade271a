// Statements run through the `mariadb` command-line client as root over the
// socket of the server scripts/services.sh starts, for tests that compare
// what a user would see: its output (tab-separated, no headers) and its
// errors, as text. A command line holds about 128 KB. Test-only.
#pragma once

#include <cstdio>
#include <string>

#include "tests/integration/services_env.h"

namespace phony::testing {

inline std::string MariaDbCli(const std::string& statements) {
  const std::string cmd = "mariadb --no-defaults -N -B -uroot -S '" + ServiceEnv("PHONY_MARIADB_SOCKET") + "' -e \"" +
                          statements + "\" 2>&1";
  std::string out;
  if (FILE* p = popen(cmd.c_str(), "r")) {
    char buf[4096];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof(buf), p)) > 0) out.append(buf, n);
    pclose(p);
  }
  return out;
}

}  // namespace phony::testing
