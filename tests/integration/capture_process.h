// A `phony capture` process for integration tests (PHONY_BINARY), and the
// JSON lines its jsonl sink writes. Test-only.
#pragma once

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/integration/services_env.h"

namespace phony::testing {

// Every complete line of a JSONL file. A process killed with -9 may leave a
// partial last line (its batch was not acked, so it is sent again): that one
// is skipped when `allow_torn_tail`.
inline std::vector<nlohmann::json> ReadJsonl(const std::string& path, bool allow_torn_tail = false) {
  std::vector<nlohmann::json> out;
  const std::string text = ReadFile(path);
  std::istringstream in(text);
  std::string line;
  const bool torn = !text.empty() && text.back() != '\n';
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    if (torn && allow_torn_tail && in.eof()) break;
    out.push_back(nlohmann::json::parse(line));
  }
  return out;
}

// A `phony` process with stdout and stderr in files: `phony capture
// --config C --sink jsonl EXTRA...` by default, any subcommand with
// PhonyProcess::Command.
class CaptureProcess {
 public:
  CaptureProcess(const std::string& config, const std::string& out, const std::string& err,
                 const std::vector<std::string>& extra, const std::string& log_level = "info")
      : CaptureProcess(Command{"capture", "--config", config, "--sink", "jsonl"}, out, err, extra, log_level) {}
  using Command = std::vector<std::string>;
  CaptureProcess(const Command& command, const std::string& out, const std::string& err,
                 const std::vector<std::string>& extra, const std::string& log_level = "info") {
    pid_ = fork();
    if (pid_ == 0) {
      FILE* o = std::freopen(out.c_str(), "a", stdout);
      FILE* e = std::freopen(err.c_str(), "a", stderr);
      (void)o;
      (void)e;
      std::vector<std::string> args = {PHONY_BINARY, "--log-level", log_level};
      args.insert(args.end(), command.begin(), command.end());
      args.insert(args.end(), extra.begin(), extra.end());
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      execv(PHONY_BINARY, argv.data());
      _exit(127);
    }
  }
  // Waits for exit; returns the exit code (or 128 + signal).
  int Wait(std::chrono::seconds limit = std::chrono::seconds(120)) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    int status = 0;
    while (waitpid(pid_, &status, WNOHANG) == 0) {
      if (std::chrono::steady_clock::now() > deadline) {
        kill(pid_, SIGKILL);
        waitpid(pid_, &status, 0);
        ADD_FAILURE() << "phony capture did not stop in time";
        return -1;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
  void Terminate() { kill(pid_, SIGTERM); }
  void Kill9() {
    kill(pid_, SIGKILL);
    int status;
    waitpid(pid_, &status, 0);
  }

 private:
  pid_t pid_;
};

}  // namespace phony::testing
