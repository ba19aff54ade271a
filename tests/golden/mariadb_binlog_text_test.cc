// The parser of `mariadb-binlog --base64-output=decode-rows -vv` output, on a
// sample cut from real MariaDB 10.11 output (docs/mariadb-binlog-text.md) and
// on the tool itself run over a recorded MariaDB 10.5 binlog.
#include "tests/golden/mariadb_binlog_text.h"

#include <filesystem>
#include <string>

#include "core/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace phony::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Optional;
using ::testing::Pair;

using Image = std::map<int, std::optional<std::string>>;

// Abridged from real output; the strings keep mariadb-binlog's escaping (only
// bytes below 0x20 become \xNN: quotes and backslashes print as they are).
constexpr std::string_view kSample = R"txt(# at 4
#261128 12:31:10 server id 1  end_log_pos 256 CRC32 0x7f05fc24 	Start: binlog v 4, server v 10.11.19-MariaDB-0+deb12u1-log created 261128 12:31:10
# at 2669
#261128 12:31:10 server id 1  end_log_pos 2711 CRC32 0xb9204953 	GTID 0-1-95 trans
/*M!100001 SET @@session.gtid_seq_no=95*//*!*/;
START TRANSACTION
/*!*/;
# at 2711
# at 2841
#261128 12:31:10 server id 1  end_log_pos 2841 CRC32 0xbbe279b2 	Annotate_rows:
#Q> INSERT INTO big VALUES (1, 'it''s', 'a\\b'), (2,
#Q> #261128 12:31:10 server id 1  end_log_pos 9 CRC32 0x00000000 	Write_rows: forged
#Q> ### INSERT INTO `fake`.`row`
#Q> , NULL, NULL)
#261128 12:31:10 server id 1  end_log_pos 4372 CRC32 0x1a216dc7 	Table_map: `tdb`.`big` mapped to number 38
# at 4372
#261128 12:31:10 server id 1  end_log_pos 4459 CRC32 0x39c8f7a8 	Write_rows: table id 38 flags: STMT_END_F
### INSERT INTO `tdb`.`big`
### SET
###   @1=1 /* INT meta=0 nullable=0 is_null=0 */
###   @2='it's' /* VARSTRING(20) meta=20 nullable=1 is_null=0 */
###   @3='a\b /* x */ line1\x0aline2\x0d\x09' /* BLOB/TEXT meta=2 nullable=1 is_null=0 */
###   @4=3.14159              /* FLOAT meta=4 nullable=1 is_null=0 */
### INSERT INTO `tdb`.`big`
### SET
###   @1=2 /* INT meta=0 nullable=0 is_null=0 */
###   @2=NULL /* VARSTRING(20) meta=20 nullable=1 is_null=1 */
###   @3='' /* BLOB/TEXT meta=2 nullable=1 is_null=0 */
###   @4=NULL /* FLOAT meta=4 nullable=1 is_null=1 */
# Number of rows: 2
# at 4459
#261128 12:31:10 server id 1  end_log_pos 4490 CRC32 0x046040e1 	Xid = 138
COMMIT/*!*/;
# at 4490
#261128 12:31:10 server id 1  end_log_pos 4532 CRC32 0xbfc280a7 	GTID 0-1-96 trans
START TRANSACTION
# at 4532
#261128 12:31:10 server id 1  end_log_pos 4600 CRC32 0xc308f1aa 	Query	thread_id=18	exec_time=0	error_code=0	xid=0
INSERT INTO big VALUES (5, 'stmt
### DELETE FROM `fake`.`stmt`
###   @1=777 /* INT meta=0 nullable=0 is_null=0 */', 5)
/*!*/;
# at 4600
#261128 12:31:10 server id 1  end_log_pos 6111 CRC32 0xb936ffa1 	Table_map: `tdb`.`we``ird` mapped to number 39
# at 6111
#261128 12:31:10 server id 1  end_log_pos 6253 CRC32 0xeeffd716 	Update_compressed_rows: table id 39 flags: STMT_END_F
### UPDATE `tdb`.`we``ird`
### WHERE
###   @1=-1 (4294967295) /* INT meta=0 nullable=0 is_null=0 */
###   @2='2024:02:29' /* DATE meta=0 nullable=1 is_null=0 */
### SET
###   @1=-1 (4294967295) /* INT meta=0 nullable=0 is_null=0 */
###   @2=NULL /* DATE meta=0 nullable=1 is_null=1 */
# Number of rows: 1
# at 6253
#261128 12:31:10 server id 1  end_log_pos 6300 CRC32 0xf3f5eb75 	Delete_rows: table id 39 flags: STMT_END_F
### DELETE FROM `tdb`.`we``ird`
### WHERE
###   @1=7 /* INT meta=0 nullable=0 is_null=0 */
# Number of rows: 1
# at 6300
#261128 12:31:10 server id 1  end_log_pos 6331 CRC32 0x3675b6c9 	Xid = 142
COMMIT/*!*/;
DELIMITER ;
# End of log file
ROLLBACK /* added by mysqlbinlog */;
)txt";

TEST(MariadbBinlogTextTest, ParsesInsertUpdateDeleteWithPositionsAndGtids) {
  const BinlogText text = ParseMariadbBinlogText(kSample);
  EXPECT_THAT(text.errors, IsEmpty());
  EXPECT_TRUE(text.complete);
  ASSERT_EQ(text.rows.size(), 4u);

  const BinlogTextRow& first = text.rows[0];
  EXPECT_EQ(first.op, 'c');
  EXPECT_EQ(first.db, "tdb");
  EXPECT_EQ(first.table, "big");
  EXPECT_EQ(first.end_log_pos, 4459u);
  EXPECT_EQ(first.start_pos, 4372u);
  EXPECT_EQ(first.gtid, "0-1-95");
  EXPECT_THAT(first.before, IsEmpty());
  EXPECT_THAT(first.after,
              ElementsAre(Pair(1, Optional(std::string("1"))), Pair(2, Optional(std::string("'it's'"))),
                          Pair(3, Optional(std::string(R"('a\b /* x */ line1\x0aline2\x0d\x09')"))),
                          Pair(4, Optional(std::string("3.14159")))));
  EXPECT_EQ(first.type_comment.at(1), "INT meta=0 nullable=0 is_null=0");
  EXPECT_EQ(first.type_comment.at(3), "BLOB/TEXT meta=2 nullable=1 is_null=0");
  EXPECT_EQ(first.type_comment.at(4), "FLOAT meta=4 nullable=1 is_null=0");

  const BinlogTextRow& second = text.rows[1];
  EXPECT_EQ(second.end_log_pos, 4459u);  // the same multi-row event
  EXPECT_THAT(second.after, ElementsAre(Pair(1, Optional(std::string("2"))), Pair(2, std::nullopt),
                                        Pair(3, Optional(std::string("''"))), Pair(4, std::nullopt)));
  EXPECT_EQ(second.type_comment.at(2), "VARSTRING(20) meta=20 nullable=1 is_null=1");

  // The statement-format Query event's "###" lines are SQL text, not rows.
  const BinlogTextRow& update = text.rows[2];
  EXPECT_EQ(update.op, 'u');
  EXPECT_EQ(update.table, "we`ird");
  EXPECT_EQ(update.end_log_pos, 6253u);
  EXPECT_EQ(update.start_pos, 6111u);
  EXPECT_EQ(update.gtid, "0-1-96");
  EXPECT_EQ(update.before, (Image{{1, "-1 (4294967295)"}, {2, "'2024:02:29'"}}));
  EXPECT_EQ(update.after, (Image{{1, "-1 (4294967295)"}, {2, std::nullopt}}));

  const BinlogTextRow& del = text.rows[3];
  EXPECT_EQ(del.op, 'd');
  EXPECT_EQ(del.end_log_pos, 6300u);
  EXPECT_EQ(del.before, (Image{{1, "7"}}));
  EXPECT_THAT(del.after, IsEmpty());
}

TEST(MariadbBinlogTextTest, ReportsWhatItCannotRead) {
  const BinlogText text = ParseMariadbBinlogText(
      "#261128 12:31:10 server id 1  end_log_pos 100 CRC32 0x00000000 \tWrite_rows: table id 9 "
      "flags: STMT_END_F\n"
      "### Row event for unknown table #9\n"
      "# at 100\n"
      "#261128 12:31:10 server id 1  end_log_pos 200 \tDelete_rows: table id 8 flags: STMT_END_F\n"
      "### DELETE FROM `d`.`t`\n"
      "### WHERE\n"
      "###   @1=!! Don't know how to handle column type=245 meta=4 (0004)\n"
      "###   @2=5 /* INT meta=0 nullable=1 is_null=0 */\n"
      "# Number of rows: 2\n");
  EXPECT_FALSE(text.complete);
  EXPECT_THAT(text.errors,
              ElementsAre(HasSubstr("unknown table #9"), HasSubstr("Don't know how to handle column type=245"),
                          HasSubstr("# Number of rows: 2 (rows parsed for the event ending at 200: 1)")));
  ASSERT_EQ(text.rows.size(), 1u);
  EXPECT_EQ(text.rows[0].end_log_pos, 200u);  // no checksum in this header
  EXPECT_EQ(text.rows[0].start_pos, 100u);
  EXPECT_EQ(text.rows[0].before, (Image{{2, "5"}}));
}

// Nothing is skipped (docs/testing.md): a missing tool fails with the fix.
constexpr const char* kInstallHint =
    "mariadb-binlog comes with Debian's mariadb-client (apt-get install mariadb-client); "
    "or point PHONY_MARIADB_BINLOG at one";

std::string Fixture(const std::string& name) { return std::string(PHONY_BINLOG_FIXTURES) + "/" + name; }

// mariadb-binlog itself, over rust_mysql_common's MariaDB 10.5.15 binlog:
// two single-row WRITE_ROWS_V1 into toddy_test.outbox.
TEST(MariadbBinlogTextTest, RunsTheToolOnARecordedMariadbBinlog) {
  const std::string file = Fixture("rust_mysql_common/mariadb-bin.000001");
  ASSERT_TRUE(std::filesystem::exists(file)) << "missing fixture " << file;
  auto text = RunMariadbBinlog(file);
  ASSERT_THAT(text, IsOk()) << kInstallHint;
  EXPECT_THAT(text->errors, IsEmpty());
  EXPECT_TRUE(text->complete);
  EXPECT_EQ(text->exit_status, 0);
  ASSERT_EQ(text->rows.size(), 2u);

  const std::map<int, std::string> types = {
      {1, "INT meta=0 nullable=0 is_null=0"},
      {2, "VARSTRING(1020) meta=1020 nullable=0 is_null=0"},
      {3, "ENUM(1 byte) meta=63233 nullable=1 is_null=0"},
      {4, "BLOB/TEXT meta=2 nullable=0 is_null=0"},
      {5, "TIMESTAMP(0) meta=0 nullable=0 is_null=0"},
  };
  const BinlogTextRow& first = text->rows[0];
  EXPECT_EQ(first.op, 'c');
  EXPECT_EQ(first.db, "toddy_test");
  EXPECT_EQ(first.table, "outbox");
  EXPECT_EQ(first.start_pos, 612u);
  EXPECT_EQ(first.end_log_pos, 671u);
  EXPECT_EQ(first.gtid, "0-1-1");
  EXPECT_THAT(first.before, IsEmpty());
  EXPECT_EQ(first.after, (Image{{1, "62"}, {2, "'foo'"}, {3, "2"}, {4, R"('{"foo":1}')"}, {5, "1650493084"}}));
  EXPECT_EQ(first.type_comment, types);

  const BinlogTextRow& second = text->rows[1];
  EXPECT_EQ(second.op, 'c');
  EXPECT_EQ(second.db, "toddy_test");
  EXPECT_EQ(second.table, "outbox");
  EXPECT_EQ(second.start_pos, 984u);
  EXPECT_EQ(second.end_log_pos, 1043u);
  EXPECT_EQ(second.gtid, "0-1-2");
  EXPECT_EQ(second.after, (Image{{1, "63"}, {2, "'foo'"}, {3, "2"}, {4, R"('{"foo":1}')"}, {5, "1650493195"}}));
  EXPECT_EQ(second.type_comment, types);
}

// MySQL's JSON type (245) stops mariadb-binlog 10.11 at the first rows event
// that holds one, with exit status 1 and nothing on stderr: only `complete`
// and the exit status tell.
TEST(MariadbBinlogTextTest, NoticesTheSilentStopAtMysqlJson) {
  const std::string file = Fixture("rust_mysql_common/json-opaque.binlog");
  ASSERT_TRUE(std::filesystem::exists(file)) << "missing fixture " << file;
  auto text = RunMariadbBinlog(file);
  ASSERT_THAT(text, IsOk()) << kInstallHint;
  EXPECT_THAT(text->rows, IsEmpty());
  EXPECT_FALSE(text->complete);
  EXPECT_EQ(text->exit_status, 1);
  EXPECT_THAT(text->errors, ElementsAre(HasSubstr("exited with status 1")));
}

TEST(MariadbBinlogTextTest, AMissingToolIsFailedPrecondition) {
  ASSERT_EQ(setenv("PHONY_MARIADB_BINLOG", "/nonexistent/mariadb-binlog", 1), 0);
  auto text = RunMariadbBinlog("/dev/null");
  unsetenv("PHONY_MARIADB_BINLOG");
  EXPECT_THAT(text, StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("/nonexistent/mariadb-binlog")));
}

}  // namespace
}  // namespace phony::testing
