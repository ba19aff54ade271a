#include "src/snapshot/copy_text.h"

#include "gtest/gtest.h"

namespace phony::snapshot {
namespace {

TEST(CopyRowParserTest, SplitsFieldsAndReadsNulls) {
  CopyRowParser p;
  ASSERT_TRUE(p.Parse("1\tabc\t\\N\t\n").ok());
  ASSERT_EQ(p.fields().size(), 4u);
  EXPECT_EQ(*p.fields()[0], "1");
  EXPECT_EQ(*p.fields()[1], "abc");
  EXPECT_FALSE(p.fields()[2].has_value());
  ASSERT_TRUE(p.fields()[3].has_value());
  EXPECT_EQ(*p.fields()[3], "");
}

TEST(CopyRowParserTest, UnescapesWhatCopyEscapes) {
  CopyRowParser p;
  ASSERT_TRUE(p.Parse("a\\tb\\nc\\\\d\\r\\b\\f\\v\t\\\\N\t\\x41\\101\\7\\q").ok());
  ASSERT_EQ(p.fields().size(), 3u);
  EXPECT_EQ(*p.fields()[0], "a\tb\nc\\d\r\b\f\v");
  ASSERT_TRUE(p.fields()[1].has_value()) << "a backslash-N in the data is not null";
  EXPECT_EQ(*p.fields()[1], "\\N");
  EXPECT_EQ(*p.fields()[2], std::string("AA\x07q"));
  ASSERT_EQ(p.raw_fields().size(), 3u);
  EXPECT_EQ(p.raw_fields()[1], "\\\\N");
  EXPECT_EQ(p.raw_fields()[2], "\\x41\\101\\7\\q");
}

TEST(CopyRowParserTest, FieldsStayValidWhenTheBufferGrows) {
  CopyRowParser p;
  std::string line;
  for (int i = 0; i < 200; ++i) line += (i ? "\t" : "") + std::string(i % 7, 'x') + "\\n";
  ASSERT_TRUE(p.Parse(line).ok());
  ASSERT_EQ(p.fields().size(), 200u);
  EXPECT_EQ(*p.fields()[199], std::string(199 % 7, 'x') + "\n");
}

TEST(CopyRowParserTest, TruncatedEscapeIsDataLoss) {
  CopyRowParser p;
  EXPECT_EQ(p.Parse("abc\\").code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(p.Parse("\\777").code(), absl::StatusCode::kDataLoss);
}

}  // namespace
}  // namespace phony::snapshot
