// Reads the connection settings scripts/services.sh writes to
// build/services.env (exported into the environment by scripts/test.sh).
// A missing setting fails the test with the fix, never skips it.
#pragma once

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

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

#ifdef PHONY_BINARY
// Starts `phony ARGS…` with its stderr appended to DIR/LOG.
inline pid_t SpawnPhony(const std::string& dir, const std::vector<std::string>& args, const std::string& log) {
  const pid_t pid = fork();
  if (pid == 0) {
    FILE* e = std::freopen((dir + "/" + log).c_str(), "a", stderr);
    (void)e;
    std::vector<char*> argv;
    argv.push_back(const_cast<char*>(PHONY_BINARY));
    for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execv(PHONY_BINARY, argv.data());
    _exit(127);
  }
  return pid;
}

// The exit code (128 + signal when killed), or -1 after `seconds` (the
// process is then killed).
inline int WaitForExit(pid_t pid, int seconds) {
  int status = 0;
  for (int i = 0; i < seconds * 10; ++i) {
    if (waitpid(pid, &status, WNOHANG) == pid) return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  kill(pid, SIGKILL);
  waitpid(pid, &status, 0);
  return -1;
}
#endif

#ifdef PHONY_SOURCE_DIR
// Runs scripts/kafka_broker.sh CMD DIR (start|stop|kill) for a test's
// private broker; returns what it prints (the bootstrap address on start).
// Runs one of the repo's scripts (`scripts/NAME ARGS`), failing the test
// when it fails; returns what it prints, trailing whitespace trimmed.
inline std::string RunScript(const std::string& name_and_args) {
  const std::string line = std::string(PHONY_SOURCE_DIR) + "/scripts/" + name_and_args;
  FILE* p = popen(line.c_str(), "r");
  std::string out;
  char buf[256];
  while (p && fgets(buf, sizeof(buf), p)) out += buf;
  const int rc = p ? pclose(p) : -1;
  EXPECT_EQ(rc, 0) << line;
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  return out;
}

inline std::string Broker(const std::string& cmd, const std::string& dir) {
  return RunScript("kafka_broker.sh " + cmd + " " + dir);
}
#endif

}  // namespace phony::testing
