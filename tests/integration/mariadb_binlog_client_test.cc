// The replica client against the live MariaDB that scripts/services.sh
// starts: preflight, a dump from a file:position and from a GTID set, the
// same bytes as the binlog file on disk, heartbeats, and the errors a
// purged file, bad credentials and a dead server give.
#include "src/capture/mysql/binlog_client.h"

#include <mysql.h>
#include <unistd.h>

#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "src/capture/mysql/binlog_decoder.h"
#include "tests/integration/mariadb_admin.h"
#include "src/capture/mysql/binlog_file.h"

namespace phony::mysql {
namespace {

using ::testing::HasSubstr;

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v == nullptr ? "" : v;
}

using Admin = ::phony::testing::MariaDbAdmin;

BinlogClientOptions Options() {
  BinlogClientOptions o;
  o.host = Env("PHONY_MARIADB_HOST");
  o.port = static_cast<uint16_t>(std::atoi(Env("PHONY_MARIADB_PORT").c_str()));
  o.user = Env("PHONY_MARIADB_USER");
  o.password = Env("PHONY_MARIADB_PASSWORD");
  o.server_id = 1000 + static_cast<uint32_t>(getpid() % 10000);
  o.non_blocking = true;
  return o;
}

struct Streamed {
  std::vector<std::string> raw;    // events as sent
  std::vector<BinlogEvent> events;  // decoded
  absl::Status status;
};

Streamed Stream(BinlogClient& client) {
  Streamed s;
  BinlogDecoder decoder;
  decoder.AssumeChecksum(client.crc32() ? 1 : 0);
  while (true) {
    auto next = client.Next();
    if (!next.ok()) {
      s.status = next.status();
      return s;
    }
    if (!next->has_value()) return s;
    s.raw.emplace_back(**next);
    auto h = BinlogDecoder::ParseHeader(s.raw.back(), 0);
    if (!h.ok()) {
      s.status = h.status();
      return s;
    }
    const uint64_t offset = h->log_pos >= h->event_size ? h->log_pos - h->event_size : 0;
    s.status = decoder.Decode(s.raw.back(), offset, &s.events);
    if (!s.status.ok()) return s;
  }
}

TEST(MariaDbBinlogClientTest, PreflightPassesOnTheTestServer) {
  auto info = BinlogClient::Preflight(Options());
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_TRUE(info->mariadb);
  EXPECT_TRUE(info->log_bin);
  EXPECT_EQ(info->binlog_format, "ROW");
  EXPECT_EQ(info->row_metadata, "FULL");
  EXPECT_TRUE(info->errors.empty()) << info->errors[0];
  EXPECT_FALSE(info->current_file.empty());
  EXPECT_FALSE(info->files.empty());
}

// Rows streamed from a position are the rows written, and every event the
// server sends (but its artificial ROTATE and FORMAT_DESCRIPTION) is
// byte for byte the event in the binlog file.
TEST(MariaDbBinlogClientTest, DumpFromAPositionMatchesTheFile) {
  Admin admin;
  const std::string db = "client_" + std::to_string(getpid());
  admin.Exec("CREATE DATABASE " + db);
  admin.Exec("CREATE TABLE " + db + ".t (id INT PRIMARY KEY, name VARCHAR(32), amount DECIMAL(10,2)) "
             "DEFAULT CHARSET utf8mb4");
  const std::vector<std::string> status = admin.Row("SHOW MASTER STATUS");
  ASSERT_GE(status.size(), 2u);
  const std::string file = status[0];
  const uint64_t pos = std::stoull(status[1]);
  admin.Exec("INSERT INTO " + db + ".t VALUES (1, 'Ayşe', 10.50), (2, 'Émile', -3.25)");
  admin.Exec("UPDATE " + db + ".t SET amount = 11.00 WHERE id = 1");
  admin.Exec("DELETE FROM " + db + ".t WHERE id = 2");
  const std::string datadir = admin.Row("SELECT @@datadir")[0];
  admin.Exec("FLUSH BINARY LOGS");

  auto client = BinlogClient::Start(Options(), {.file = file, .position = pos});
  ASSERT_TRUE(client.ok()) << client.status();
  EXPECT_TRUE((*client)->mariadb());
  Streamed s = Stream(**client);
  ASSERT_TRUE(s.status.ok()) << s.status;

  // The artificial ROTATE that opens the stream names the file (its
  // checksum, sent before any format description, is stripped).
  const auto* first = std::get_if<Rotate>(&s.events.front().body);
  ASSERT_NE(first, nullptr);
  EXPECT_EQ(first->next_file, file);
  EXPECT_EQ(first->position, pos);
  std::vector<std::string> ops;
  for (const BinlogEvent& e : s.events) {
    const auto* r = std::get_if<RowsEvent>(&e.body);
    if (r == nullptr || r->table->database != db) continue;
    for (const RowChange& c : r->rows) {
      const Row& row = c.after ? *c.after : *c.before;
      ops.push_back(std::string(r->kind == RowsEvent::Kind::kInsert ? "c" : r->kind == RowsEvent::Kind::kUpdate ? "u" : "d") +
                    std::to_string(row[0].int64_value()) + ":" + row[1].str() + ":" + row[2].str());
    }
  }
  EXPECT_THAT(ops, ::testing::ElementsAre("c1:Ayşe:10.50", "c2:Émile:-3.25", "u1:Ayşe:11.00", "d2:Émile:-3.25"));

  // The file on disk, from the same position.
  auto reader = BinlogFileReader::Open(datadir + "/" + file);
  ASSERT_TRUE(reader.ok()) << reader.status();
  std::map<uint64_t, std::string> on_disk;  // end position -> bytes
  while (true) {
    auto next = (*reader)->Next();
    ASSERT_TRUE(next.ok()) << next.status();
    if (!next->has_value()) break;
    on_disk[(*next)->offset + (*next)->bytes.size()] = std::string((*next)->bytes);
  }
  // Only the events of `file`: after its closing ROTATE the stream goes on
  // in the next file, whose end positions repeat the first file's.
  size_t compared = 0;
  for (size_t i = 0; i < s.raw.size(); ++i) {
    const std::string& raw = s.raw[i];
    auto h = BinlogDecoder::ParseHeader(raw, 0);
    ASSERT_TRUE(h.ok());
    if (h->log_pos == 0 || (h->flags & 0x20) != 0) continue;  // artificial (LOG_EVENT_ARTIFICIAL_F)
    auto it = on_disk.find(h->log_pos);
    ASSERT_NE(it, on_disk.end()) << "no event of " << file << " ends at " << h->log_pos;
    EXPECT_EQ(it->second, raw) << "the event ending at " << h->log_pos << " differs from the file";
    ++compared;
    if (h->type == kRotateEvent) break;  // the end of `file`
  }
  EXPECT_GE(compared, 8u);
}

// From a GTID set: only the transactions after it arrive.
TEST(MariaDbBinlogClientTest, DumpFromAGtidSet) {
  Admin admin;
  const std::string db = "gtid_" + std::to_string(getpid());
  admin.Exec("CREATE DATABASE " + db);
  admin.Exec("CREATE TABLE " + db + ".t (id INT PRIMARY KEY)");
  admin.Exec("INSERT INTO " + db + ".t VALUES (1)");
  const std::string before = admin.Row("SELECT @@gtid_binlog_pos")[0];
  admin.Exec("INSERT INTO " + db + ".t VALUES (2)");
  admin.Exec("INSERT INTO " + db + ".t VALUES (3)");
  auto gtids = GtidSet::Parse(GtidFlavor::kMariaDb, before);
  ASSERT_TRUE(gtids.ok()) << gtids.status();
  auto client = BinlogClient::Start(Options(), {.gtids = *gtids});
  ASSERT_TRUE(client.ok()) << client.status();
  Streamed s = Stream(**client);
  ASSERT_TRUE(s.status.ok()) << s.status;
  std::vector<int64_t> ids;
  for (const BinlogEvent& e : s.events) {
    const auto* r = std::get_if<RowsEvent>(&e.body);
    if (r == nullptr || r->table->database != db) continue;
    for (const RowChange& c : r->rows) ids.push_back((*c.after)[0].int64_value());
  }
  EXPECT_THAT(ids, ::testing::ElementsAre(2, 3));
}

TEST(MariaDbBinlogClientTest, HeartbeatsArriveWhenNothingHappens) {
  BinlogClientOptions o = Options();
  o.non_blocking = false;
  o.heartbeat = absl::Seconds(1);
  auto info = BinlogClient::Preflight(o);
  ASSERT_TRUE(info.ok()) << info.status();
  auto client = BinlogClient::Start(o, {.file = info->current_file, .position = info->current_position});
  ASSERT_TRUE(client.ok()) << client.status();
  BinlogDecoder decoder;
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  bool heartbeat = false;
  while (!heartbeat && absl::Now() < deadline) {
    auto next = (*client)->Next();
    ASSERT_TRUE(next.ok()) << next.status();
    ASSERT_TRUE(next->has_value());
    std::vector<BinlogEvent> out;
    ASSERT_TRUE(decoder.Decode(**next, 0, &out).ok());
    for (const BinlogEvent& e : out) {
      if (const auto* h = std::get_if<Heartbeat>(&e.body)) {
        heartbeat = true;
        // The file being written: the one at the start, or a later one when
        // another test flushed the binary logs meanwhile.
        EXPECT_GE(h->log_file, info->current_file);
        EXPECT_EQ(h->log_file.substr(0, h->log_file.rfind('.')),
                  info->current_file.substr(0, info->current_file.rfind('.')));
      }
    }
  }
  EXPECT_TRUE(heartbeat);
}

TEST(MariaDbBinlogClientTest, ErrorsSayWhatIsWrong) {
  auto purged = BinlogClient::Start(Options(), {.file = "mariadb-bin.999999", .position = 4});
  absl::Status s = purged.ok() ? Stream(**purged).status : purged.status();
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;
  EXPECT_THAT(s.message(), HasSubstr("1236"));

  BinlogClientOptions bad = Options();
  bad.password = "wrong-password";
  auto denied = BinlogClient::Preflight(bad);
  EXPECT_EQ(denied.status().code(), absl::StatusCode::kPermissionDenied) << denied.status();
  EXPECT_THAT(denied.status().message(), ::testing::Not(HasSubstr("wrong-password")));

  BinlogClientOptions dead = Options();
  dead.port = 1;  // nothing listens there
  dead.connect_timeout = absl::Seconds(2);
  auto down = BinlogClient::Preflight(dead);
  EXPECT_EQ(down.status().code(), absl::StatusCode::kUnavailable) << down.status();
  EXPECT_THAT(down.status().message(), HasSubstr(":1"));
}

}  // namespace
}  // namespace phony::mysql
