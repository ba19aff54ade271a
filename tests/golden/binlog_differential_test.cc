// Our binlog decoder against an independent one: every row of every fixture
// that `mariadb-binlog --base64-output=decode-rows -vv` reads must come out of
// our decoder with the same event, table, operation, columns and values
// (after the normalizations docs/mariadb-binlog-text.md lists). Files the
// tool cannot read (MySQL JSON, transaction payloads, tagged GTIDs) are
// covered by src/capture/mysql/binlog_decoder_test.cc's upstream values.
#include <cctype>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "src/capture/mysql/binlog_decoder.h"
#include "tests/golden/binlog_compare.h"
#include "tests/golden/mariadb_binlog_text.h"

namespace phony::mysql {
namespace {

using ::phony::testing::CompareImage;
using ::phony::testing::DecodeOurs;
using ::phony::testing::OurFile;
using ::phony::testing::OurRow;

const std::string kFixtures = PHONY_BINLOG_FIXTURES;

class BinlogDifferentialTest : public ::testing::TestWithParam<std::string> {};

TEST_P(BinlogDifferentialTest, SameRowsAsMariadbBinlog) {
  const std::string path = kFixtures + "/" + GetParam();
  auto theirs = phony::testing::RunMariadbBinlog(path);
  ASSERT_TRUE(theirs.ok()) << theirs.status();
  ASSERT_TRUE(theirs->complete) << "mariadb-binlog did not read " << GetParam() << " to the end";
  const OurFile ours = DecodeOurs(path);
  ASSERT_EQ(ours.rows.size(), theirs->rows.size());
  ASSERT_FALSE(ours.rows.empty());
  for (size_t i = 0; i < ours.rows.size(); ++i) {
    const OurRow& o = ours.rows[i];
    const phony::testing::BinlogTextRow& t = theirs->rows[i];
    const std::string where = GetParam() + " row " + std::to_string(i) + " (end_log_pos " +
                              std::to_string(t.end_log_pos) + ")";
    EXPECT_EQ(o.statement_end_log_pos, t.end_log_pos) << where;
    EXPECT_EQ(o.table->database, t.db) << where;
    EXPECT_EQ(o.table->table, t.table) << where;
    EXPECT_EQ(o.op, t.op) << where;
    CompareImage(where + " before", *o.table, o.before, t.before);
    CompareImage(where + " after", *o.table, o.after, t.after);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Fixtures, BinlogDifferentialTest,
    ::testing::Values("go-mysql/tcb-eval002c-bin.003320", "mysql-binlog-connector-java/mysql-bin.checksum-crc32",
                      "rust_mysql_common/mariadb-bin.000001", "rust_mysql_common/binlog-invisible-columns.000001",
                      "rust_mysql_common/minimal_row_metadata.000001",
                      "rust_mysql_common/mysql-enum-string-set.000001", "rust_mysql_common/mysql_type_bit.000001",
                      "rust_mysql_common/time_issue.000001"),
    [](const ::testing::TestParamInfo<std::string>& param) {
      std::string name = param.param.substr(param.param.find('/') + 1);
      for (char& ch : name) {
        if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
      }
      return name;
    });

}  // namespace
}  // namespace phony::mysql
