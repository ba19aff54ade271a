#include "core/byte_reader.h"

#include <string>

#include "core/testing/status_matchers.h"
#include "gtest/gtest.h"

namespace phony {
namespace {

using ::phony::testing::StatusIs;
using ::testing::HasSubstr;

TEST(ByteReaderTest, ReadsFixedWidthBigAndLittleEndian) {
  const std::string data("\x01\x02\x03\x04\x05\x06\x07\x08", 8);
  ByteReader r(data);
  ASSERT_OK_AND_ASSIGN(uint16_t be16, r.ReadU16BE());
  EXPECT_EQ(be16, 0x0102);
  ASSERT_OK_AND_ASSIGN(uint16_t le16, r.ReadU16LE());
  EXPECT_EQ(le16, 0x0403);
  ASSERT_OK_AND_ASSIGN(uint32_t be32, r.ReadU32BE());
  EXPECT_EQ(be32, 0x05060708u);
  EXPECT_TRUE(r.empty());
  EXPECT_OK(r.ExpectEnd());

  ByteReader r2(data);
  ASSERT_OK_AND_ASSIGN(uint64_t be64, r2.ReadU64BE());
  EXPECT_EQ(be64, 0x0102030405060708ull);
  ByteReader r3(data);
  ASSERT_OK_AND_ASSIGN(uint64_t le64, r3.ReadU64LE());
  EXPECT_EQ(le64, 0x0807060504030201ull);
  ByteReader r4(data);
  ASSERT_OK_AND_ASSIGN(uint32_t le24, r4.ReadU24LE());
  EXPECT_EQ(le24, 0x030201u);
  ASSERT_OK_AND_ASSIGN(uint32_t le32, r4.ReadU32LE());
  EXPECT_EQ(le32, 0x07060504u);
  ByteReader r5(data);
  ASSERT_OK_AND_ASSIGN(uint64_t le48, r5.ReadU48LE());
  EXPECT_EQ(le48, 0x060504030201ull);
}

TEST(ByteReaderTest, SignedReadsSignExtend) {
  const std::string data("\xff\xfe\xff\xff\xff\xfd\xff\xff\xff\xff\xff\xff\xff\xfc", 14);
  ByteReader r(data);
  ASSERT_OK_AND_ASSIGN(int16_t a, r.ReadI16BE());
  EXPECT_EQ(a, -2);
  ASSERT_OK_AND_ASSIGN(int32_t b, r.ReadI32BE());
  EXPECT_EQ(b, -3);
  ASSERT_OK_AND_ASSIGN(int64_t c, r.ReadI64BE());
  EXPECT_EQ(c, -4);
}

// Every fixed-width read fails cleanly at every shortfall, leaving the
// cursor usable and the message naming context, offset, wanted and left.
TEST(ByteReaderTest, EveryBoundFailsWithDataLoss) {
  const std::string data(8, '\0');
  for (size_t len = 0; len < 8; ++len) {
    const std::string_view view(data.data(), len);
    struct Case {
      size_t width;
      absl::Status (*read)(ByteReader&);
    };
    const Case cases[] = {
        {2, [](ByteReader& r) { return r.ReadU16BE().status(); }},
        {2, [](ByteReader& r) { return r.ReadU16LE().status(); }},
        {3, [](ByteReader& r) { return r.ReadU24LE().status(); }},
        {4, [](ByteReader& r) { return r.ReadU32BE().status(); }},
        {4, [](ByteReader& r) { return r.ReadU32LE().status(); }},
        {6, [](ByteReader& r) { return r.ReadU48LE().status(); }},
        {8, [](ByteReader& r) { return r.ReadU64BE().status(); }},
        {8, [](ByteReader& r) { return r.ReadU64LE().status(); }},
    };
    for (const Case& c : cases) {
      ByteReader r(view, "test message", 100);
      const absl::Status s = c.read(r);
      if (len >= c.width) {
        EXPECT_OK(s);
        continue;
      }
      EXPECT_THAT(s, StatusIs(absl::StatusCode::kDataLoss,
                              HasSubstr("test message: truncated reading")));
      EXPECT_THAT(s, StatusIs(absl::StatusCode::kDataLoss,
                              HasSubstr("at offset 100: wanted " + std::to_string(c.width) +
                                        " bytes, " + std::to_string(len) + " left")));
      EXPECT_EQ(r.remaining(), len) << "a failed read must not consume";
    }
  }
}

TEST(ByteReaderTest, ReadBytesChecksRemainingWithoutOverflow) {
  const std::string data("abcdef");
  ByteReader r(data);
  ASSERT_OK(r.Skip(2));
  EXPECT_THAT(r.ReadBytes(UINT64_MAX).status(),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("wanted 18446744073709551615")));
  EXPECT_THAT(r.ReadBytes(5).status(), StatusIs(absl::StatusCode::kDataLoss, HasSubstr("4 left")));
  ASSERT_OK_AND_ASSIGN(std::string_view b, r.ReadBytes(4));
  EXPECT_EQ(b, "cdef");
  EXPECT_THAT(r.Skip(1), StatusIs(absl::StatusCode::kDataLoss, HasSubstr("offset 6")));
}

TEST(ByteReaderTest, CStringNeedsNulInsideBuffer) {
  const std::string data("ab\0cd", 5);
  ByteReader r(data);
  ASSERT_OK_AND_ASSIGN(std::string_view s, r.ReadCString());
  EXPECT_EQ(s, "ab");
  EXPECT_EQ(r.offset(), 3u);
  EXPECT_THAT(r.ReadCString().status(),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("without NUL")));
  EXPECT_EQ(r.remaining(), 2u);
}

TEST(ByteReaderTest, SubReaderKeepsAbsoluteOffsets) {
  const std::string data("0123456789");
  ByteReader r(data, "outer", 1000);
  ASSERT_OK(r.Skip(3));
  ASSERT_OK_AND_ASSIGN(ByteReader sub, r.Sub(4, "inner"));
  EXPECT_EQ(r.offset(), 1007u);
  EXPECT_EQ(sub.offset(), 1003u);
  ASSERT_OK(sub.Skip(4));
  EXPECT_THAT(sub.ReadU8().status(),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("inner: truncated reading u8 at offset 1007")));
  EXPECT_THAT(r.Sub(4).status(), StatusIs(absl::StatusCode::kDataLoss, HasSubstr("3 left")));
}

TEST(ByteReaderTest, ExpectEndReportsTrailingBytes) {
  ByteReader r("xyz", "msg");
  ASSERT_OK(r.Skip(1));
  EXPECT_THAT(r.ExpectEnd(),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("2 trailing bytes at offset 1")));
}

TEST(ByteReaderTest, CheckCountRejectsHugeCounts) {
  ByteReader r("");
  EXPECT_OK(r.CheckCount(10, 10, "columns"));
  EXPECT_THAT(r.CheckCount(11, 10, "columns"),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("columns 11 exceeds the maximum 10")));
}

TEST(ByteReaderTest, VarintRoundTripAndMalformed) {
  for (uint64_t v : std::initializer_list<uint64_t>{0, 1, 127, 128, 300, 1ull << 35, UINT64_MAX}) {
    std::string buf;
    PutVarint64(&buf, v);
    ByteReader r(buf);
    ASSERT_OK_AND_ASSIGN(uint64_t got, r.ReadVarint64());
    EXPECT_EQ(got, v);
    EXPECT_TRUE(r.empty());
    // Every strict prefix is truncated.
    for (size_t len = 0; len < buf.size(); ++len) {
      ByteReader p(std::string_view(buf.data(), len));
      EXPECT_THAT(p.ReadVarint64().status(), StatusIs(absl::StatusCode::kDataLoss, HasSubstr("varint")));
    }
  }
  for (int64_t v : std::initializer_list<int64_t>{0, -1, 1, INT64_MIN, INT64_MAX}) {
    std::string buf;
    PutSignedVarint64(&buf, v);
    ByteReader r(buf);
    ASSERT_OK_AND_ASSIGN(int64_t got, r.ReadSignedVarint64());
    EXPECT_EQ(got, v);
  }
  const std::string overlong(11, '\x80');
  ByteReader r(overlong);
  EXPECT_THAT(r.ReadVarint64().status(), StatusIs(absl::StatusCode::kDataLoss, HasSubstr("varint")));
  const std::string overflow("\xff\xff\xff\xff\xff\xff\xff\xff\xff\x02", 10);
  ByteReader r2(overflow);
  EXPECT_THAT(r2.ReadVarint64().status(),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("overflows 64 bits")));
}

TEST(ByteReaderTest, WritersMatchReaders) {
  std::string buf;
  PutU8(&buf, 7);
  PutU16BE(&buf, 0xbeef);
  PutU32BE(&buf, 0xdeadbeef);
  PutU64BE(&buf, 0x0123456789abcdefull);
  PutU32LE(&buf, 0xcafebabe);
  PutU64LE(&buf, 42);
  PutLengthPrefixed(&buf, "hello");
  ByteReader r(buf);
  EXPECT_EQ(*r.ReadU8(), 7);
  EXPECT_EQ(*r.ReadU16BE(), 0xbeef);
  EXPECT_EQ(*r.ReadU32BE(), 0xdeadbeefu);
  EXPECT_EQ(*r.ReadU64BE(), 0x0123456789abcdefull);
  EXPECT_EQ(*r.ReadU32LE(), 0xcafebabeu);
  EXPECT_EQ(*r.ReadU64LE(), 42u);
  ASSERT_OK_AND_ASSIGN(uint64_t n, r.ReadVarint64());
  EXPECT_EQ(*r.ReadBytes(n), "hello");
  EXPECT_OK(r.ExpectEnd());
}

}  // namespace
}  // namespace phony
