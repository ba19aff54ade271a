// PgReplicationClient against the real servers: preflight findings, the
// exported-snapshot slot the snapshot path relies on, and the refusal of
// slots Phony Sync cannot use safely.
#include <unistd.h>

#include <string>

#include "core/testing/status_matchers.h"
#include "gtest/gtest.h"
#include "src/capture/postgres/replication_client.h"
#include "tests/integration/pg_test_util.h"

namespace phony::pg {
namespace {

using ::phony::testing::ConnectPg;
using ::phony::testing::DropDatabaseAndSlots;
using ::phony::testing::DropSlot;
using ::phony::testing::PgConn;
using ::phony::testing::PgQuery;
using ::phony::testing::ServiceEnv;
using ::phony::testing::StatusIs;
using ::testing::HasSubstr;

class PgReplicationClientTest : public ::testing::TestWithParam<const char*> {
 protected:
  void SetUp() override {
    server_ = GetParam();
    db_name_ = std::string("rc_") + std::to_string(getpid()) + "_" + server_;
    for (char& c : db_name_) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    admin_ = ConnectPg(server_, false);
    PgQuery(admin_.get(), "CREATE DATABASE " + db_name_);
    db_ = ConnectPg(server_, false, "dbname=" + db_name_);
    options_.host = ServiceEnv("PHONY_" + server_ + "_HOST");
    options_.port = std::stoi(ServiceEnv("PHONY_" + server_ + "_PORT"));
    options_.database = db_name_;
    options_.user = ServiceEnv("PHONY_" + server_ + "_USER");
  }
  void TearDown() override {
    db_.reset();
    DropDatabaseAndSlots(admin_.get(), db_name_);
  }
  std::string server_, db_name_;
  PgConn admin_, db_;
  PgConnectOptions options_;
};

TEST_P(PgReplicationClientTest, ExportedSnapshotIsTheStateAtTheConsistentPoint) {
  PgQuery(db_.get(), "CREATE TABLE t (id int PRIMARY KEY)");
  PgQuery(db_.get(), "INSERT INTO t SELECT generate_series(1, 10)");
  ASSERT_OK_AND_ASSIGN(auto client, PgReplicationClient::Connect(options_));
  ASSERT_OK_AND_ASSIGN(auto exported, client->CreateSlotWithSnapshot(db_name_ + "_snap"));
  EXPECT_TRUE(exported.consistent_point.is_valid());
  EXPECT_FALSE(exported.snapshot_name.empty());
  PgQuery(db_.get(), "INSERT INTO t SELECT generate_series(11, 15)");  // after the consistent point
  PgConn reader = ConnectPg(server_, false, "dbname=" + db_name_);
  PgQuery(reader.get(), "BEGIN ISOLATION LEVEL REPEATABLE READ");
  PgQuery(reader.get(), "SET TRANSACTION SNAPSHOT '" + exported.snapshot_name + "'");
  EXPECT_EQ(PgQuery(reader.get(), "SELECT count(*) FROM t")[0][0], "10");
  PgQuery(reader.get(), "COMMIT");
  EXPECT_EQ(PgQuery(db_.get(), "SELECT count(*) FROM t")[0][0], "15");
  const auto slot = PgQuery(admin_.get(), "SELECT plugin, two_phase FROM pg_replication_slots "
                                          "WHERE slot_name = '" + db_name_ + "_snap'");
  ASSERT_EQ(slot.size(), 1u);
  EXPECT_EQ(slot[0][0], "pgoutput");
  EXPECT_EQ(slot[0][1], "f");
}

TEST_P(PgReplicationClientTest, PreflightReportsReplicaIdentityAndUnusableSlots) {
  PgQuery(db_.get(), "CREATE TABLE with_pk (id int PRIMARY KEY)");
  PgQuery(db_.get(), "CREATE TABLE no_pk (a int)");
  PgQuery(db_.get(), "CREATE TABLE full_ri (a int)");
  PgQuery(db_.get(), "ALTER TABLE full_ri REPLICA IDENTITY FULL");
  PgQuery(db_.get(), "SELECT pg_create_logical_replication_slot('" + db_name_ + "_td', 'test_decoding')");
  ASSERT_OK_AND_ASSIGN(auto client, PgReplicationClient::Connect(options_));
  ASSERT_OK_AND_ASSIGN(auto report, client->Preflight(TableFilter({}, {}, "public"), db_name_ + "_td"));
  EXPECT_GE(report.protocol_version, 3);
  ASSERT_EQ(report.tables.size(), 3u);
  for (const auto& t : report.tables) {
    EXPECT_EQ(t.usable_identity, t.id.table != "no_pk") << t.id.table;
  }
  EXPECT_TRUE(report.slot_exists);
  ASSERT_FALSE(report.errors.empty());
  EXPECT_THAT(report.errors[0], HasSubstr("uses plugin 'test_decoding', not pgoutput"));
  EXPECT_THAT(client->EnsureSlot(db_name_ + "_td"),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("not pgoutput")));
  ASSERT_OK_AND_ASSIGN(auto added, client->EnsurePublication(db_name_ + "_pub", report));
  EXPECT_EQ(added.size(), 2u);
  // The table without a replica identity is not published, so UPDATE works.
  PgQuery(db_.get(), "INSERT INTO no_pk VALUES (1)");
  PgQuery(db_.get(), "UPDATE no_pk SET a = 2");
}

TEST_P(PgReplicationClientTest, UnreachableServerIsUnavailableMissingDatabaseIsNot) {
  PgConnectOptions dead = options_;
  dead.port = 1;  // nothing listens there
  EXPECT_THAT(PgReplicationClient::Connect(dead).status(), StatusIs(absl::StatusCode::kUnavailable));
  PgConnectOptions nodb = options_;
  nodb.database = "no_such_database_here";
  EXPECT_THAT(PgReplicationClient::Connect(nodb).status(),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("does not exist")));
}

INSTANTIATE_TEST_SUITE_P(Servers, PgReplicationClientTest, ::testing::Values("PG15", "PG17"));

}  // namespace
}  // namespace phony::pg
