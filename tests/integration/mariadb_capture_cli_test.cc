// `phony capture --sink jsonl` on a MariaDB source, run as a user runs it,
// killed with -9 in the middle of a stream of transactions and started
// again: every committed row reaches the output (at-least-once).
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <thread>

#include "gtest/gtest.h"
#include "tests/integration/capture_process.h"

namespace phony {
namespace {

using ::phony::testing::CaptureProcess;
using ::phony::testing::ReadFile;
using ::phony::testing::ReadJsonl;
using ::phony::testing::ServiceEnv;

int Sql(const std::string& statements) {
  const std::string cmd = "mariadb --no-defaults -uroot -S '" + ServiceEnv("PHONY_MARIADB_SOCKET") + "' -e \"" +
                          statements + "\"";
  return std::system(cmd.c_str());
}

std::set<int> IdsIn(const std::string& path) {
  std::set<int> ids;
  for (const auto& line : ReadJsonl(path, /*allow_torn_tail=*/true)) {
    if (line["op"] == "c") ids.insert(line["after"]["id"].get<int>());
  }
  return ids;
}

TEST(MariaDbCaptureCliTest, NothingCommittedIsLostAcrossKill9) {
  const std::string tag = "kill_" + std::to_string(getpid());
  ASSERT_EQ(Sql("CREATE DATABASE " + tag + "; CREATE TABLE " + tag + ".t (id INT PRIMARY KEY, note VARCHAR(32))"), 0);
  const std::string dir = ::testing::TempDir() + "/" + tag;
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const std::string config = dir + "/job.json";
  {
    std::ofstream f(config);
    f << "{\"name\": \"" << tag << "\", \"source\": {\"type\": \"mariadb\", \"host\": \"127.0.0.1\", \"port\": "
      << ServiceEnv("PHONY_MARIADB_PORT") << ", \"database\": \"" << tag << "\", \"user\": \""
      << ServiceEnv("PHONY_MARIADB_USER") << "\", \"password_ref\": \"env://PHONY_MARIADB_PASSWORD\"}, "
      << "\"target\": {\"type\": \"mariadb\", \"host\": \"127.0.0.1\", \"port\": " << ServiceEnv("PHONY_MARIADB_PORT")
      << ", \"database\": \"" << tag << "_staging\", \"user\": \"phony\", \"password_ref\": "
         "\"env://PHONY_MARIADB_PASSWORD\"}, \"state\": {\"dir\": \""
      << dir << "/state\"}, \"anonymization\": {\"secret_ref\": \"env://PHONY_SECRET\", \"unlisted_columns\": "
         "\"keep\"}, \"tables\": {}}";
  }
  setenv("PHONY_SECRET", "0123456789abcdef0123456789abcdef", 1);
  constexpr int kRows = 300;
  auto first = std::make_unique<CaptureProcess>(config, dir + "/out1.jsonl", dir + "/err1.log",
                                                std::vector<std::string>{});
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));  // streaming "from now"
  std::thread writer([&] {
    for (int i = 1; i <= kRows; ++i) {
      std::string batch;
      for (int k = 0; k < 10 && i <= kRows; ++k, ++i) {
        batch += "INSERT INTO " + tag + ".t VALUES (" + std::to_string(i) + ", 'n" + std::to_string(i) + "');";
      }
      --i;
      ASSERT_EQ(Sql(batch), 0);
    }
  });
  // Kill it once part of the stream is out.
  for (int i = 0; i < 200 && IdsIn(dir + "/out1.jsonl").size() < 50; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  first->Kill9();
  const std::set<int> before = IdsIn(dir + "/out1.jsonl");
  ASSERT_FALSE(before.empty()) << ReadFile(dir + "/err1.log");
  writer.join();
  CaptureProcess second(config, dir + "/out2.jsonl", dir + "/err2.log", {"--stop-after-idle", "3"});
  EXPECT_EQ(second.Wait(), 0) << ReadFile(dir + "/err2.log");
  std::set<int> all = before;
  for (int id : IdsIn(dir + "/out2.jsonl")) all.insert(id);
  std::vector<int> missing;
  for (int id = 1; id <= kRows; ++id) {
    if (!all.count(id)) missing.push_back(id);
  }
  EXPECT_TRUE(missing.empty()) << missing.size() << " committed rows never reached the output, first "
                               << missing.front();
  EXPECT_EQ(all.size(), static_cast<size_t>(kRows));
}

}  // namespace
}  // namespace phony
