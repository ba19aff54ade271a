// A slot the server invalidated (wal_status = 'lost', after it removed WAL
// the slot still needed because of max_slot_wal_keep_size) must stop
// capture with a clear error, never a silent restart from "now". Needs a
// server with a tiny max_slot_wal_keep_size, so the test runs a private
// PostgreSQL 15 instance of its own (the shared ones must not lose slots).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/integration/pg_test_util.h"

namespace phony {
namespace {

using ::phony::testing::PgConn;
using ::phony::testing::PgQuery;
using ::phony::testing::ReadFile;
using ::phony::testing::ServiceEnv;

int FreePort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a));
  socklen_t len = sizeof(a);
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  close(fd);
  return ntohs(a.sin_port);
}

int Sh(const std::string& cmd) {
  const int rc = std::system(cmd.c_str());
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

class PrivatePostgres {
 public:
  PrivatePostgres() {
    bin_ = ServiceEnv("PHONY_PG15_BIN");
    dir_ = "/tmp/phony-private-pg-" + std::to_string(getpid());
    port_ = FreePort();
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    as_ = getuid() == 0 ? "runuser -u postgres -- " : "";
    if (getuid() == 0) Sh("chown postgres " + dir_);
    ok_ = Sh(as_ + bin_ + "/initdb -D " + dir_ + "/data -U postgres --auth=trust >" + dir_ + "/initdb.log 2>&1") == 0 &&
          Sh(as_ + bin_ + "/pg_ctl -D " + dir_ + "/data -l " + dir_ + "/server.log -w -o \"-p " +
             std::to_string(port_) + " -c listen_addresses=127.0.0.1 -c unix_socket_directories=" + dir_ +
             " -c wal_level=logical -c max_slot_wal_keep_size=1MB -c wal_keep_size=0 -c fsync=off\" start >/dev/null") == 0;
  }
  ~PrivatePostgres() {
    Sh(as_ + bin_ + "/pg_ctl -D " + dir_ + "/data -m immediate -w stop >/dev/null 2>&1");
    std::filesystem::remove_all(dir_);
  }
  bool ok() const { return ok_; }
  int port() const { return port_; }
  PgConn Connect() const {
    PgConn c(PQconnectdb(("host=127.0.0.1 port=" + std::to_string(port_) + " user=postgres dbname=postgres").c_str()));
    EXPECT_EQ(PQstatus(c.get()), CONNECTION_OK) << PQerrorMessage(c.get());
    return c;
  }

 private:
  std::string bin_, dir_, as_;
  int port_ = 0;
  bool ok_ = false;
};

TEST(PgSlotInvalidatedTest, LostSlotStopsCaptureWithAClearError) {
  PrivatePostgres pg;
  ASSERT_TRUE(pg.ok()) << "the private PostgreSQL 15 did not start";
  PgConn sql = pg.Connect();
  PgQuery(sql.get(), "CREATE TABLE t (id int PRIMARY KEY, v text)");
  const std::string dir = ::testing::TempDir() + "/lost_" + std::to_string(getpid());
  std::filesystem::create_directories(dir);
  std::ofstream(dir + "/job.json") << nlohmann::json{
      {"name", "lost"},
      {"source", {{"type", "postgresql"}, {"port", pg.port()}, {"database", "postgres"}, {"user", "postgres"}}},
      {"target", {{"type", "postgresql"}, {"port", pg.port()}, {"database", "staging"}, {"user", "postgres"}}},
      {"state", {{"dir", dir + "/state"}}},
      {"anonymization", {{"secret_ref", "env://PHONY_TEST_SECRET"}}}}.dump();
  setenv("PHONY_TEST_SECRET", "0123456789abcdef0123456789abcdef", 1);
  const std::string run = std::string(PHONY_BINARY) + " capture --config " + dir + "/job.json --sink jsonl --stop-after-idle 1";
  ASSERT_EQ(Sh(run + " >" + dir + "/out1 2>" + dir + "/err1"), 0) << ReadFile(dir + "/err1");

  // While capture is stopped, write well past max_slot_wal_keep_size and
  // checkpoint: the server invalidates the slot.
  for (int i = 0; i < 4; ++i) {
    PgQuery(sql.get(), "INSERT INTO t SELECT g, repeat('x', 200) FROM generate_series(" + std::to_string(i * 20000 + 1) +
                           ", " + std::to_string((i + 1) * 20000) + ") g");
    PgQuery(sql.get(), "SELECT pg_switch_wal()");
  }
  PgQuery(sql.get(), "CHECKPOINT");
  const auto status = PgQuery(sql.get(), "SELECT wal_status FROM pg_replication_slots WHERE slot_name = 'phony_lost'");
  ASSERT_EQ(status.size(), 1u);
  ASSERT_EQ(status[0][0], "lost") << "the server did not invalidate the slot; the test cannot judge capture";

  EXPECT_EQ(Sh(run + " >" + dir + "/out2 2>" + dir + "/err2"), 4);
  const std::string err = ReadFile(dir + "/err2");
  EXPECT_NE(err.find("is invalidated (wal_status = lost)"), std::string::npos) << err;
  EXPECT_NE(err.find("new snapshot"), std::string::npos) << err;
  EXPECT_TRUE(ReadFile(dir + "/out2").empty()) << "nothing may be streamed from a lost slot";
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace phony
