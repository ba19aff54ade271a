// Reads the connection settings scripts/services.sh writes to
// build/services.env (exported into the environment by scripts/test.sh).
// A missing setting fails the test with the fix, never skips it.
#pragma once

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "gtest/gtest.h"

namespace phony::testing {

inline std::string ServiceEnv(const std::string& name) {
  const char* v = std::getenv(name.c_str());
  if (v == nullptr || *v == '\0') {
    ADD_FAILURE() << name << " is not set: start the servers with scripts/services.sh start and "
                  << "export build/services.env (scripts/test.sh does both)";
    return "";
  }
  return v;
}

// A whole file (empty when missing): logs and outputs of child processes.
inline std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace phony::testing
