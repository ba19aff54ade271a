#include "core/position.h"

#include <algorithm>
#include <random>
#include <vector>

#include "core/byte_reader.h"
#include "core/event_codec.h"
#include "core/testing/status_matchers.h"
#include "gtest/gtest.h"

namespace phony {
namespace {

using ::phony::testing::StatusIs;
using ::testing::HasSubstr;

TEST(LsnTest, ParseAndFormat) {
  ASSERT_OK_AND_ASSIGN(Lsn lsn, Lsn::Parse("16/B374D848"));
  EXPECT_EQ(lsn.value(), (0x16ull << 32) | 0xB374D848ull);
  EXPECT_EQ(lsn.ToString(), "16/B374D848");
  EXPECT_EQ(Lsn(0).ToString(), "0/0");
  EXPECT_FALSE(Lsn(0).is_valid());
  EXPECT_LT(*Lsn::Parse("0/FFFFFFFF"), *Lsn::Parse("1/0"));
  for (const char* bad : {"", "16", "16/", "/5", "G/1", "1/2/3", "100000000/0"}) {
    EXPECT_THAT(Lsn::Parse(bad).status(),
                StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("invalid LSN"))) << bad;
  }
}

TEST(BinlogPositionTest, OrdersByFileIndexThenOffset) {
  ASSERT_OK_AND_ASSIGN(auto a, BinlogPosition::Make("mysql-bin.000009", 5000));
  ASSERT_OK_AND_ASSIGN(auto b, BinlogPosition::Make("mysql-bin.000010", 4));
  ASSERT_OK_AND_ASSIGN(auto c, BinlogPosition::Make("mysql-bin.000010", 120));
  EXPECT_LT(a, b);  // numeric, not lexical and not by offset
  EXPECT_LT(b, c);
  EXPECT_EQ(b.file_index(), 10u);
  EXPECT_EQ(c.ToString(), "mysql-bin.000010:120");
  EXPECT_THAT(BinlogPosition::Make("mysql-bin", 4).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("numeric extension")));
}

TEST(GtidTest, ParsesBothFlavors) {
  ASSERT_OK_AND_ASSIGN(Gtid m, Gtid::Parse("0-1-42"));
  EXPECT_EQ(m.flavor, GtidFlavor::kMariaDb);
  EXPECT_EQ(m.domain, 0u);
  EXPECT_EQ(m.server_id, 1u);
  EXPECT_EQ(m.sequence, 42u);
  EXPECT_EQ(m.ToString(), "0-1-42");
  ASSERT_OK_AND_ASSIGN(Gtid y, Gtid::Parse("3E11FA47-71CA-11E1-9E33-C80AA9429562:23"));
  EXPECT_EQ(y.flavor, GtidFlavor::kMySql);
  EXPECT_EQ(y.gno, 23u);
  EXPECT_EQ(y.ToString(), "3e11fa47-71ca-11e1-9e33-c80aa9429562:23");
  ASSERT_OK_AND_ASSIGN(Gtid t, Gtid::Parse("3e11fa47-71ca-11e1-9e33-c80aa9429562:Blue:7"));
  EXPECT_EQ(t.tag, "blue");
  EXPECT_EQ(t.ToString(), "3e11fa47-71ca-11e1-9e33-c80aa9429562:blue:7");
  for (const char* bad : {"0-1", "a-b-c", "3e11fa47:1", "3e11fa47-71ca-11e1-9e33-c80aa9429562:0",
                          "3e11fa47-71ca-11e1-9e33-c80aa9429562:9bad:1"}) {
    EXPECT_FALSE(Gtid::Parse(bad).ok()) << bad;
  }
}

TEST(GtidSetTest, MariaDbKeepsLastPerDomain) {
  ASSERT_OK_AND_ASSIGN(GtidSet set, GtidSet::Parse(GtidFlavor::kMariaDb, "1-2-5,0-1-100"));
  EXPECT_EQ(set.ToString(), "0-1-100,1-2-5");
  EXPECT_TRUE(set.Contains(Gtid::MariaDb(0, 1, 100)));
  EXPECT_TRUE(set.Contains(Gtid::MariaDb(0, 7, 50)));
  EXPECT_FALSE(set.Contains(Gtid::MariaDb(0, 1, 101)));
  EXPECT_FALSE(set.Contains(Gtid::MariaDb(2, 1, 1)));
  ASSERT_OK(set.Add(Gtid::MariaDb(0, 3, 101)));
  ASSERT_OK(set.Add(Gtid::MariaDb(2, 1, 1)));
  EXPECT_EQ(set.ToString(), "0-3-101,1-2-5,2-1-1");
  EXPECT_THAT(GtidSet::Parse(GtidFlavor::kMariaDb, "0-1-1,0-2-2").status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("domain 0 twice")));
  EXPECT_FALSE(set.Add(Gtid::Parse("3e11fa47-71ca-11e1-9e33-c80aa9429562:1").value()).ok());
}

TEST(GtidSetTest, MySqlMergesIntervalsAndTags) {
  ASSERT_OK_AND_ASSIGN(
      GtidSet set,
      GtidSet::Parse(GtidFlavor::kMySql,
                     "3E11FA47-71CA-11E1-9E33-C80AA9429562:1-5:11-18, "
                     "2174B383-5441-11E8-B90A-C80AA9429562:1-3:tag_a:4-6"));
  EXPECT_EQ(set.ToString(),
            "2174b383-5441-11e8-b90a-c80aa9429562:1-3:tag_a:4-6,"
            "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5:11-18");
  ASSERT_OK_AND_ASSIGN(Gtid g6, Gtid::Parse("3e11fa47-71ca-11e1-9e33-c80aa9429562:6"));
  EXPECT_FALSE(set.Contains(g6));
  for (uint64_t n = 6; n <= 10; ++n) {
    Gtid g = g6;
    g.gno = n;
    ASSERT_OK(set.Add(g));
  }
  EXPECT_EQ(set.ToString(),
            "2174b383-5441-11e8-b90a-c80aa9429562:1-3:tag_a:4-6,"
            "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-18");
  ASSERT_OK_AND_ASSIGN(Gtid tagged, Gtid::Parse("2174b383-5441-11e8-b90a-c80aa9429562:tag_a:5"));
  EXPECT_TRUE(set.Contains(tagged));
  ASSERT_OK_AND_ASSIGN(Gtid untagged, Gtid::Parse("2174b383-5441-11e8-b90a-c80aa9429562:5"));
  EXPECT_FALSE(set.Contains(untagged));
  EXPECT_FALSE(GtidSet::Parse(GtidFlavor::kMySql, "3e11fa47-71ca-11e1-9e33-c80aa9429562:5-2").ok());
  EXPECT_FALSE(GtidSet::Parse(GtidFlavor::kMySql, "nonsense:1").ok());
}

TEST(GtidSetTest, EncodingRoundTrips) {
  for (auto [flavor, text] :
       {std::pair{GtidFlavor::kMariaDb, "0-1-100,1-2-5"},
        std::pair{GtidFlavor::kMySql, "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5:11-18:t:1"},
        std::pair{GtidFlavor::kMySql, ""}}) {
    ASSERT_OK_AND_ASSIGN(GtidSet set, GtidSet::Parse(flavor, text));
    std::string buf;
    EncodeGtidSet(set, &buf);
    ByteReader r(buf);
    ASSERT_OK_AND_ASSIGN(GtidSet back, DecodeGtidSet(r));
    EXPECT_EQ(back, set);
    EXPECT_OK(r.ExpectEnd());
  }
}

TEST(EventPositionTest, TotalOrderWithinEachKind) {
  std::vector<EventPosition> sorted = {
      EventPosition::Snapshot("public.a", 0, 0),
      EventPosition::Snapshot("public.a", 0, 1),
      EventPosition::Snapshot("public.a", 1, 0),
      EventPosition::Snapshot("public.b", 0, 0),
      EventPosition::Postgres(Lsn(100), 0),
      EventPosition::Postgres(Lsn(100), 1),
      EventPosition::Postgres(Lsn(100), 2),
      EventPosition::Postgres(Lsn(101), 0),
      EventPosition::MySql(3, 900, 0, 0),
      EventPosition::MySql(3, 900, 0, 1),
      EventPosition::MySql(3, 900, 1, 0),
      EventPosition::MySql(3, 1200, 0, 0),
      EventPosition::MySql(4, 4, 0, 0),
  };
  std::vector<EventPosition> shuffled = sorted;
  std::mt19937 rng(7);
  std::shuffle(shuffled.begin(), shuffled.end(), rng);
  std::sort(shuffled.begin(), shuffled.end());
  EXPECT_EQ(shuffled, sorted);
  for (size_t i = 0; i + 1 < sorted.size(); ++i) {
    EXPECT_LT(sorted[i], sorted[i + 1]) << sorted[i].ToString();
    EXPECT_NE(sorted[i], sorted[i + 1]);
  }
  // The GTID is a function of the position and does not change ordering.
  EXPECT_EQ(EventPosition::MySql(3, 900, 0, 0, Gtid::MariaDb(0, 1, 9)) <=>
                EventPosition::MySql(3, 900, 0, 0),
            std::strong_ordering::equal);
}

TEST(EventPositionTest, EncodingRoundTrips) {
  for (const EventPosition& p :
       {EventPosition(), EventPosition::Postgres(Lsn(0x16B374D848ull), 17),
        EventPosition::MySql(12, 4567, 3, 99, Gtid::MariaDb(1, 2, 3)),
        EventPosition::MySql(12, 4567, 3, 99,
                             Gtid::Parse("3e11fa47-71ca-11e1-9e33-c80aa9429562:tg:77").value()),
        EventPosition::Snapshot("sales.orders", 42, 1000)}) {
    std::string buf;
    EncodePosition(p, &buf);
    ByteReader r(buf);
    ASSERT_OK_AND_ASSIGN(EventPosition back, DecodePosition(r));
    EXPECT_EQ(back, p) << p.ToString();
    EXPECT_EQ(back.ToString(), p.ToString());
    EXPECT_OK(r.ExpectEnd());
  }
}

TEST(KafkaOffsetTest, OrdersAndPrints) {
  KafkaOffset a{"t", 0, 5}, b{"t", 0, 6}, c{"t", 1, 0};
  EXPECT_LT(a, b);
  EXPECT_LT(b, c);
  EXPECT_EQ(a.ToString(), "t[0]@5");
}

}  // namespace
}  // namespace phony
