// What the preflight says about a source's settings (the live checks are
// in tests/integration/mariadb_binlog_client_test.cc; changing a shared
// server's global settings there would disturb the tests running beside).
#include "src/capture/mysql/binlog_client.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace phony::mysql {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

SourceInfo Good() {
  SourceInfo i;
  i.log_bin = true;
  i.binlog_format = "ROW";
  i.row_image = "FULL";
  i.row_metadata = "FULL";
  return i;
}

TEST(BinlogClientTest, AGoodSourceHasNothingToSay) {
  SourceInfo i = Good();
  JudgeSettings(&i);
  EXPECT_TRUE(i.errors.empty());
  EXPECT_TRUE(i.warnings.empty());
}

TEST(BinlogClientTest, EachProblemNamesTheSettingAndTheFix) {
  SourceInfo i = Good();
  i.log_bin = false;
  i.binlog_format = "MIXED";
  i.row_metadata = "MINIMAL";
  i.row_value_options = "PARTIAL_JSON";
  i.row_image = "MINIMAL";
  JudgeSettings(&i);
  ASSERT_EQ(i.errors.size(), 4u);
  EXPECT_THAT(i.errors[0], HasSubstr("--log-bin"));
  EXPECT_THAT(i.errors[1], HasSubstr("binlog_format is MIXED, not ROW"));
  EXPECT_THAT(i.errors[2], HasSubstr("binlog_row_metadata is MINIMAL, not FULL"));
  EXPECT_THAT(i.errors[3], HasSubstr("SET GLOBAL binlog_row_value_options = ''"));
  ASSERT_EQ(i.warnings.size(), 1u);
  EXPECT_THAT(i.warnings[0], HasSubstr("partial rows"));
  SourceInfo old = Good();
  old.row_metadata = "";
  JudgeSettings(&old);
  EXPECT_THAT(old.errors, ElementsAre(HasSubstr("has no binlog_row_metadata")));
}

}  // namespace
}  // namespace phony::mysql
