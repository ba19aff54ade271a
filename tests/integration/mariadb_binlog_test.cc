// MariaDB: open a binlog dump through Connector/C's replication API at the
// current position, insert a row, and receive the table map and the rows
// event carrying it, with the row's bytes inside.
// mariadb_rpl.h needs mysql.h first.
#include <mysql.h>
#include <mariadb_rpl.h>
#include <unistd.h>

#include <memory>
#include <string>

#include "gtest/gtest.h"
#include "tests/integration/mariadb_admin.h"
#include "tests/integration/services_env.h"

namespace phony {
namespace {

using ::phony::testing::ServiceEnv;

using ::phony::testing::ConnectAsPhony;
using ::phony::testing::MysqlConn;

void Query(MYSQL* m, const std::string& sql) {
  ASSERT_EQ(mysql_query(m, sql.c_str()), 0) << sql << ": " << mysql_error(m);
  if (MYSQL_RES* res = mysql_store_result(m)) mysql_free_result(res);
}

TEST(MariaDbBinlogTest, DumpDeliversRowsEventForInsert) {
  MysqlConn sql = ConnectAsPhony();
  ASSERT_NE(sql, nullptr);
  // The server the scripts start must be configured as capture requires.
  for (const auto& [var, want] : {std::pair{"binlog_format", "ROW"},
                                  std::pair{"binlog_row_image", "FULL"},
                                  std::pair{"binlog_row_metadata", "FULL"},
                                  std::pair{"log_bin", "1"}}) {
    ASSERT_EQ(mysql_query(sql.get(), (std::string("SELECT @@GLOBAL.") + var).c_str()), 0);
    MYSQL_RES* res = mysql_store_result(sql.get());
    MYSQL_ROW row = mysql_fetch_row(res);
    ASSERT_NE(row, nullptr);
    EXPECT_STREQ(row[0], want) << var;
    mysql_free_result(res);
  }

  const std::string suffix = std::to_string(getpid());
  const std::string db = "harness_" + suffix;
  Query(sql.get(), "CREATE DATABASE " + db);
  Query(sql.get(), "CREATE TABLE " + db + ".items (id INT PRIMARY KEY, note VARCHAR(64)) ENGINE=InnoDB");

  ASSERT_EQ(mysql_query(sql.get(), "SHOW MASTER STATUS"), 0);
  MYSQL_RES* res = mysql_store_result(sql.get());
  MYSQL_ROW row = mysql_fetch_row(res);
  ASSERT_NE(row, nullptr) << "binary logging is off";
  const std::string file = row[0];
  const unsigned long pos = std::stoul(row[1]);
  mysql_free_result(res);

  const std::string marker = "phony-binlog-" + suffix;
  Query(sql.get(), "INSERT INTO " + db + ".items VALUES (7, '" + marker + "')");

  MysqlConn repl = ConnectAsPhony();
  ASSERT_NE(repl, nullptr);
  Query(repl.get(), "SET @master_binlog_checksum = @@global.binlog_checksum");
  Query(repl.get(), "SET @mariadb_slave_capability = 4");
  MARIADB_RPL* rpl = mariadb_rpl_init(repl.get());
  ASSERT_NE(rpl, nullptr);
  unsigned int server_id = 100000 + static_cast<unsigned>(getpid() % 100000);
  unsigned int flags = MARIADB_RPL_BINLOG_DUMP_NON_BLOCK;
  ASSERT_EQ(mariadb_rpl_optionsv(rpl, MARIADB_RPL_FILENAME, file.c_str(), file.size()), 0);
  ASSERT_EQ(mariadb_rpl_optionsv(rpl, MARIADB_RPL_START, pos), 0);
  ASSERT_EQ(mariadb_rpl_optionsv(rpl, MARIADB_RPL_SERVER_ID, server_id), 0);
  ASSERT_EQ(mariadb_rpl_optionsv(rpl, MARIADB_RPL_FLAGS, flags), 0);
  ASSERT_EQ(mariadb_rpl_open(rpl), 0) << mysql_error(repl.get());

  bool saw_table_map = false, saw_rows = false, saw_xid = false;
  MARIADB_RPL_EVENT* event = nullptr;
  for (int i = 0; i < 1000 && !saw_xid; ++i) {
    event = mariadb_rpl_fetch(rpl, event);
    ASSERT_NE(event, nullptr) << "stream ended before the transaction: " << mysql_error(repl.get());
    const std::string raw(reinterpret_cast<const char*>(event->raw_data), event->raw_data_size);
    switch (event->event_type) {
      case TABLE_MAP_EVENT:
        if (raw.find("items") != std::string::npos && raw.find(db) != std::string::npos) {
          saw_table_map = true;
        }
        break;
      case WRITE_ROWS_EVENT_V1:
      case WRITE_ROWS_EVENT:
        EXPECT_TRUE(saw_table_map) << "rows event before its table map";
        EXPECT_NE(raw.find(marker), std::string::npos) << "inserted value not in the rows event";
        saw_rows = true;
        break;
      case XID_EVENT:
        saw_xid = saw_rows;
        break;
      default:
        break;
    }
  }
  mariadb_free_rpl_event(event);
  mariadb_rpl_close(rpl);
  EXPECT_TRUE(saw_table_map);
  EXPECT_TRUE(saw_rows);
  EXPECT_TRUE(saw_xid);
  Query(sql.get(), "DROP DATABASE " + db);
}

}  // namespace
}  // namespace phony
