// PostgreSQL 15 and 17: create a publication and a logical slot, start
// pgoutput replication through libpq's copy-both protocol, insert a row, and
// find its bytes in the Insert message; then confirm the commit's end LSN
// and see the slot's confirmed_flush_lsn move.
#include <libpq-fe.h>
#include <unistd.h>

#include <chrono>
#include <memory>
#include <thread>
#include <string>

#include "core/byte_reader.h"
#include "core/position.h"
#include "core/testing/status_matchers.h"
#include "gtest/gtest.h"
#include "tests/integration/pg_test_util.h"

namespace phony {
namespace {

using ::phony::testing::ConnectPg;
using ::phony::testing::DropSlot;
using ::phony::testing::PgConn;
using ::phony::testing::PgQuery;

std::string Exec(PGconn* conn, const std::string& sql) {
  const auto rows = PgQuery(conn, sql);
  return rows.empty() ? "" : rows[0][0];
}

void SendStandbyStatus(PGconn* conn, Lsn flush) {
  std::string msg;
  msg.push_back('r');
  PutU64BE(&msg, flush.value());  // written
  PutU64BE(&msg, flush.value());  // flushed
  PutU64BE(&msg, flush.value());  // applied
  PutU64BE(&msg, 0);              // client time (unused by the server here)
  msg.push_back(1);               // reply requested
  ASSERT_EQ(PQputCopyData(conn, msg.data(), static_cast<int>(msg.size())), 1);
  ASSERT_EQ(PQflush(conn), 0);
}

class PgReplicationTest : public ::testing::TestWithParam<const char*> {};

TEST_P(PgReplicationTest, PgoutputDeliversAnInsert) {
  const std::string prefix = GetParam();
  PgConn sql = ConnectPg(prefix, false);
  ASSERT_EQ(PQstatus(sql.get()), CONNECTION_OK);
  const int version = PQserverVersion(sql.get());
  ASSERT_GE(version, 150000);
  // The newest protocol each server speaks: v3 on 15, v4 on 16+.
  const int proto = version >= 160000 ? 4 : 3;

  const std::string suffix = std::to_string(getpid());
  const std::string table = "harness_" + suffix, pub = "harness_pub_" + suffix,
                    slot = "harness_slot_" + suffix;
  Exec(sql.get(), "CREATE TABLE " + table + " (id int PRIMARY KEY, note text)");
  Exec(sql.get(), "CREATE PUBLICATION " + pub + " FOR TABLE " + table);
  Exec(sql.get(), "SELECT pg_create_logical_replication_slot('" + slot + "', 'pgoutput')");

  PgConn repl = ConnectPg(prefix, true);
  ASSERT_EQ(PQstatus(repl.get()), CONNECTION_OK);
  const std::string start = "START_REPLICATION SLOT " + slot + " LOGICAL 0/0 (proto_version '" +
                            std::to_string(proto) + "', publication_names '" + pub + "')";
  PGresult* r = PQexec(repl.get(), start.c_str());
  ASSERT_EQ(PQresultStatus(r), PGRES_COPY_BOTH) << PQresultErrorMessage(r);
  PQclear(r);

  const std::string marker = "phony-harness-" + suffix;
  Exec(sql.get(), "INSERT INTO " + table + " VALUES (42, '" + marker + "')");

  bool saw_begin = false, saw_relation = false, saw_insert = false;
  Lsn commit_end;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (!commit_end.is_valid() && std::chrono::steady_clock::now() < deadline) {
    char* buf = nullptr;
    const int n = PQgetCopyData(repl.get(), &buf, /*async=*/0);
    ASSERT_GT(n, 0) << "replication stream ended: " << PQerrorMessage(repl.get());
    const std::string data(buf, static_cast<size_t>(n));
    PQfreemem(buf);
    ByteReader reader(data, "replication message");
    ASSERT_OK_AND_ASSIGN(uint8_t kind, reader.ReadU8());
    if (kind == 'k') continue;  // keepalive
    ASSERT_EQ(kind, 'w') << "unexpected copy message";
    ASSERT_OK(reader.Skip(24));  // wal start, wal end, send time
    ASSERT_OK_AND_ASSIGN(uint8_t tag, reader.ReadU8());
    switch (tag) {
      case 'B':
        saw_begin = true;
        break;
      case 'R': {
        ASSERT_OK(reader.Skip(4));  // relation oid
        ASSERT_OK_AND_ASSIGN(std::string_view nspname, reader.ReadCString());
        ASSERT_OK_AND_ASSIGN(std::string_view relname, reader.ReadCString());
        EXPECT_EQ(nspname, "public");
        EXPECT_EQ(relname, table);
        saw_relation = true;
        break;
      }
      case 'I': {
        ASSERT_OK(reader.Skip(4));  // relation oid
        ASSERT_OK_AND_ASSIGN(uint8_t n_marker, reader.ReadU8());
        EXPECT_EQ(n_marker, 'N');
        ASSERT_OK_AND_ASSIGN(int16_t ncols, reader.ReadI16BE());
        ASSERT_EQ(ncols, 2);
        std::string cols[2];
        for (auto& col : cols) {
          ASSERT_OK_AND_ASSIGN(uint8_t ck, reader.ReadU8());
          ASSERT_EQ(ck, 't');
          ASSERT_OK_AND_ASSIGN(uint32_t len, reader.ReadU32BE());
          ASSERT_OK_AND_ASSIGN(std::string_view v, reader.ReadBytes(len));
          col = std::string(v);
        }
        ASSERT_OK(reader.ExpectEnd());
        EXPECT_EQ(cols[0], "42");
        EXPECT_EQ(cols[1], marker);
        saw_insert = true;
        break;
      }
      case 'C': {
        ASSERT_OK(reader.Skip(1 + 8));  // flags, commit lsn
        ASSERT_OK_AND_ASSIGN(uint64_t end, reader.ReadU64BE());
        commit_end = Lsn(end);
        break;
      }
      default:
        break;
    }
  }
  EXPECT_TRUE(saw_begin);
  EXPECT_TRUE(saw_relation);
  ASSERT_TRUE(saw_insert);
  ASSERT_TRUE(commit_end.is_valid());

  // Confirm the commit's end LSN; the slot must report it.
  SendStandbyStatus(repl.get(), commit_end);
  std::string confirmed;
  for (int i = 0; i < 100; ++i) {
    confirmed = Exec(sql.get(), "SELECT confirmed_flush_lsn FROM pg_replication_slots WHERE slot_name = '" + slot + "'");
    if (confirmed == commit_end.ToString()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(confirmed, commit_end.ToString());

  repl.reset();
  DropSlot(sql.get(), slot);
  Exec(sql.get(), "DROP PUBLICATION " + pub);
  Exec(sql.get(), "DROP TABLE " + table);
}

INSTANTIATE_TEST_SUITE_P(Servers, PgReplicationTest, ::testing::Values("PG15", "PG17"));

}  // namespace
}  // namespace phony
