// Reads the connection settings scripts/services.sh writes to
// build/services.env (exported into the environment by scripts/test.sh).
// A missing setting fails the test with the fix, never skips it.
#pragma once

#include <cstdio>
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

#ifdef PHONY_SOURCE_DIR
// Runs scripts/kafka_broker.sh CMD DIR (start|stop|kill) for a test's
// private broker; returns what it prints (the bootstrap address on start).
inline std::string Broker(const std::string& cmd, const std::string& dir) {
  const std::string line = std::string(PHONY_SOURCE_DIR) + "/scripts/kafka_broker.sh " + cmd + " " + dir;
  FILE* p = popen(line.c_str(), "r");
  std::string out;
  char buf[256];
  while (p && fgets(buf, sizeof(buf), p)) out += buf;
  const int rc = p ? pclose(p) : -1;
  EXPECT_EQ(rc, 0) << line;
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  return out;
}
#endif

}  // namespace phony::testing
