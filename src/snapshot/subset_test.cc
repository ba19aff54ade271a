// Subset keys held in memory, and the MySQL conditions that look them up.
#include "src/snapshot/subset.h"

#include "gtest/gtest.h"
#include "src/snapshot/my_subset.h"

namespace phony::snapshot {
namespace {

TEST(SubsetTupleTest, SeveralColumnsRoundTripWhateverTheyHold) {
  const std::vector<std::string_view> parts = {"12", "", "a:b", std::string_view("\0\n9:", 4)};
  const std::string encoded = EncodeTuple(parts);
  auto decoded = DecodeTuple(encoded);
  ASSERT_TRUE(decoded.has_value());
  ASSERT_EQ(decoded->size(), 4u);
  for (size_t i = 0; i < parts.size(); ++i) EXPECT_EQ((*decoded)[i], parts[i]);
  // Distinct tuples stay distinct however the bytes fall.
  EXPECT_NE(EncodeTuple({"1", "23"}), EncodeTuple({"12", "3"}));
  EXPECT_FALSE(DecodeTuple("5:ab").has_value());
  EXPECT_FALSE(DecodeTuple("x:ab").has_value());
  EXPECT_FALSE(DecodeTuple("2").has_value());
}

mysql::CatalogTable Table() {
  mysql::CatalogTable t;
  t.schema.id = {"shop", "items"};
  t.schema.columns = {{.name = "order_id", .kind = ValueKind::kInt64}, {.name = "sku", .kind = ValueKind::kText},
                      {.name = "blob", .kind = ValueKind::kBytes}, {.name = "flag", .kind = ValueKind::kUInt64}};
  return t;
}

TEST(MySelectionConditionTest, LiteralsKeepTheColumnsType) {
  const mysql::CatalogTable t = Table();
  SubsetSelection one{.columns = {"order_id"}, .values = {"-3", "7"}};
  EXPECT_EQ(MySelectionCondition(t, one, 0, 2), "`order_id` IN (-3, 7)");
  EXPECT_EQ(MySelectionCondition(t, one, 1, 1), "FALSE");
  // Text and bytes never go through quoting: hex, text with its charset.
  SubsetSelection text{.columns = {"sku"}, .values = {"it's"}};
  EXPECT_EQ(MySelectionCondition(t, text, 0, 1), "`sku` IN (_utf8mb4 X'69742773')");
  SubsetSelection bytes{.columns = {"blob"}, .values = {std::string("\x00\xff", 2)}};
  EXPECT_EQ(MySelectionCondition(t, bytes, 0, 1), "`blob` IN (X'00ff')");
  // A BIT column's bytes are not a number.
  SubsetSelection bit{.columns = {"flag"}, .values = {std::string("\x01", 1)}};
  EXPECT_EQ(MySelectionCondition(t, bit, 0, 1), "`flag` IN (X'01')");
  SubsetSelection pair{.columns = {"order_id", "sku"}, .values = {EncodeTuple({"1", "a"}), EncodeTuple({"2", ""})}};
  EXPECT_EQ(MySelectionCondition(t, pair, 0, 2),
            "(`order_id`, `sku`) IN ((1, _utf8mb4 X'61'), (2, _utf8mb4 X''))");
  // A numeric column's text that is not a number (never from the server)
  // cannot inject anything.
  SubsetSelection odd{.columns = {"order_id"}, .values = {"1) OR (1=1"}};
  EXPECT_EQ(MySelectionCondition(t, odd, 0, 1), "`order_id` IN (X'3129204f522028313d31')");
  SubsetSelection all{.all = true};
  EXPECT_EQ(MySelectionCondition(t, all, 0, 0), "TRUE");
  SubsetSelection cond{.values = {"`x` > 1"}};
  EXPECT_EQ(MySelectionCondition(t, cond, 0, 0), "(`x` > 1)");
}

}  // namespace
}  // namespace phony::snapshot
