#include "src/capture/mysql/binlog_json.h"

#include <cmath>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "core/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace phony::mysql {
namespace {

using ::phony::testing::StatusIs;
using ::testing::HasSubstr;

// ---------------------------------------------------------------------------
// A small writer for the binary format (json_binary.h), so documents can be
// spelled out in tests. Hand-written byte strings below check it.

std::string Le16(uint16_t v) { return {static_cast<char>(v & 0xff), static_cast<char>(v >> 8)}; }
std::string Le32(uint32_t v) { return Le16(static_cast<uint16_t>(v)) + Le16(static_cast<uint16_t>(v >> 16)); }
std::string Le64(uint64_t v) { return Le32(static_cast<uint32_t>(v)) + Le32(static_cast<uint32_t>(v >> 32)); }
std::string Bytes(std::initializer_list<int> bytes) {
  std::string s;
  for (int b : bytes) s.push_back(static_cast<char>(b));
  return s;
}

std::string VarLen(uint64_t n) {
  std::string s;
  do {
    uint8_t byte = n & 0x7f;
    n >>= 7;
    if (n != 0) byte |= 0x80;
    s.push_back(static_cast<char>(byte));
  } while (n != 0);
  return s;
}

struct J {
  uint8_t type;
  std::string body;  // the bytes after the type byte
};

J Null() { return {0x04, Bytes({0x00})}; }
J True() { return {0x04, Bytes({0x01})}; }
J False() { return {0x04, Bytes({0x02})}; }
J I16(int16_t v) { return {0x05, Le16(static_cast<uint16_t>(v))}; }
J U16(uint16_t v) { return {0x06, Le16(v)}; }
J I32(int32_t v) { return {0x07, Le32(static_cast<uint32_t>(v))}; }
J U32(uint32_t v) { return {0x08, Le32(v)}; }
J I64(int64_t v) { return {0x09, Le64(static_cast<uint64_t>(v))}; }
J U64(uint64_t v) { return {0x0a, Le64(v)}; }
J Dbl(double d) {
  uint64_t bits;
  std::memcpy(&bits, &d, sizeof bits);
  return {0x0b, Le64(bits)};
}
J Str(std::string_view s) { return {0x0c, VarLen(s.size()) + std::string(s)}; }
J Opaque(uint8_t field_type, std::string_view bytes) {
  return {0x0f, std::string(1, static_cast<char>(field_type)) + VarLen(bytes.size()) + std::string(bytes)};
}

bool InlinedType(uint8_t type, bool large) {
  return type == 0x04 || type == 0x05 || type == 0x06 || (large && (type == 0x07 || type == 0x08));
}

J Container(bool object, bool large, const std::vector<std::pair<std::string, J>>& members) {
  const size_t osz = large ? 4 : 2;
  const size_t n = members.size();
  const size_t header = 2 * osz + (object ? n * (osz + 2) : 0) + n * (osz + 1);
  auto offset = [&](size_t v) { return large ? Le32(static_cast<uint32_t>(v)) : Le16(static_cast<uint16_t>(v)); };
  std::string keys, key_entries, values, value_entries;
  if (object) {
    for (const auto& [k, v] : members) {
      key_entries += offset(header + keys.size()) + Le16(static_cast<uint16_t>(k.size()));
      keys += k;
    }
  }
  for (const auto& [k, v] : members) {
    value_entries.push_back(static_cast<char>(v.type));
    if (InlinedType(v.type, large)) {
      std::string field = v.body;
      field.resize(osz, '\0');
      value_entries += field;
    } else {
      value_entries += offset(header + keys.size() + values.size());
      values += v.body;
    }
  }
  const size_t size = header + keys.size() + values.size();
  const uint8_t type = static_cast<uint8_t>((object ? 0x00 : 0x02) + (large ? 1 : 0));
  return {type, offset(n) + offset(size) + key_entries + value_entries + keys + values};
}
J Arr(const std::vector<J>& elems, bool large = false) {
  std::vector<std::pair<std::string, J>> members;
  for (const J& e : elems) members.emplace_back("", e);
  return Container(false, large, members);
}
J Obj(const std::vector<std::pair<std::string, J>>& members, bool large = false) {
  return Container(true, large, members);
}

std::string Doc(const J& j) { return std::string(1, static_cast<char>(j.type)) + j.body; }

// Packed temporals, as TIME_to_longlong_datetime_packed / _time_packed build them.
int64_t DatetimePacked(int64_t y, int64_t mo, int64_t d, int64_t h, int64_t mi, int64_t s, int64_t us) {
  const int64_t ymd = ((y * 13 + mo) << 5) | d;
  const int64_t hms = (h << 12) | (mi << 6) | s;
  return (((ymd << 17) | hms) << 24) + us;
}
int64_t TimePacked(bool negative, int64_t h, int64_t mi, int64_t s, int64_t us) {
  const int64_t v = ((((h << 12) | (mi << 6) | s)) << 24) + us;
  return negative ? -v : v;
}
J Temporal(uint8_t field_type, int64_t packed) { return Opaque(field_type, Le64(static_cast<uint64_t>(packed))); }

// decimal2bin of the digits `integer`.`fraction` with the given precision and scale.
std::string DecimalBin(int precision, int scale, std::string integer, std::string fraction, bool negative) {
  static constexpr int kDigitBytes[10] = {0, 1, 1, 2, 2, 3, 3, 4, 4, 4};
  const int intg = precision - scale;
  integer.insert(0, static_cast<size_t>(intg) - integer.size(), '0');
  fraction.append(static_cast<size_t>(scale) - fraction.size(), '0');
  std::string out;
  auto put = [&](std::string_view digits) {
    const uint32_t v = static_cast<uint32_t>(std::stoul(std::string(digits)));
    const int n = digits.size() == 9 ? 4 : kDigitBytes[digits.size()];
    for (int k = n - 1; k >= 0; --k) out.push_back(static_cast<char>((v >> (8 * k)) & 0xff));
  };
  const size_t lead = integer.size() % 9;
  if (lead > 0) put(std::string_view(integer).substr(0, lead));
  for (size_t i = lead; i < integer.size(); i += 9) put(std::string_view(integer).substr(i, 9));
  size_t i = 0;
  for (; i + 9 <= fraction.size(); i += 9) put(std::string_view(fraction).substr(i, 9));
  if (i < fraction.size()) put(std::string_view(fraction).substr(i));
  if (negative) {
    for (char& c : out) c = static_cast<char>(~c);
  }
  out[0] = static_cast<char>(out[0] ^ 0x80);
  return std::string(1, static_cast<char>(precision)) + std::string(1, static_cast<char>(scale)) + out;
}

std::string Text(std::string_view data) {
  std::string out;
  absl::Status s = BinaryJsonToText(data, &out);
  EXPECT_TRUE(s.ok()) << s;
  return out;
}
std::string Text(const J& j) { return Text(Doc(j)); }

absl::Status Decode(std::string_view data) {
  std::string out;
  return BinaryJsonToText(data, &out);
}

// ---------------------------------------------------------------------------

TEST(BinlogJsonTest, EmptyDocumentIsNull) {
  EXPECT_EQ(Text(""), "null");
  std::string out = "x=";
  ASSERT_OK(BinaryJsonToText("", &out));
  EXPECT_EQ(out, "x=null");  // appends
}

TEST(BinlogJsonTest, Literals) {
  EXPECT_EQ(Text(Null()), "null");
  EXPECT_EQ(Text(True()), "true");
  EXPECT_EQ(Text(False()), "false");
}

TEST(BinlogJsonTest, Integers) {
  EXPECT_EQ(Text(I16(-32768)), "-32768");
  EXPECT_EQ(Text(I16(7)), "7");
  EXPECT_EQ(Text(U16(65535)), "65535");
  EXPECT_EQ(Text(I32(std::numeric_limits<int32_t>::min())), "-2147483648");
  EXPECT_EQ(Text(U32(4294967295u)), "4294967295");
  EXPECT_EQ(Text(I64(std::numeric_limits<int64_t>::min())), "-9223372036854775808");
  EXPECT_EQ(Text(U64(std::numeric_limits<uint64_t>::max())), "18446744073709551615");
  // Hand-written: int16 -2 is fe ff.
  EXPECT_EQ(Text(Bytes({0x05, 0xfe, 0xff})), "-2");
}

TEST(BinlogJsonTest, DoublesPrintLikeMySqlGcvt) {
  EXPECT_EQ(Text(Dbl(1.5)), "1.5");
  EXPECT_EQ(Text(Dbl(100.0)), "100.0");  // ".0" marks a double without a fraction
  EXPECT_EQ(Text(Dbl(0.0)), "0.0");
  EXPECT_EQ(Text(Dbl(-0.0)), "-0.0");
  EXPECT_EQ(Text(Dbl(-0.25)), "-0.25");
  EXPECT_EQ(Text(Dbl(0.1)), "0.1");
  EXPECT_EQ(Text(Dbl(3.141592653589793)), "3.141592653589793");
  EXPECT_EQ(Text(Dbl(1e14)), "100000000000000.0");
  EXPECT_EQ(Text(Dbl(1e15)), "1e15");  // decpt 16 > 15: 'e' format
  EXPECT_EQ(Text(Dbl(-1e15)), "-1e15");
  EXPECT_EQ(Text(Dbl(1234567890123456.7)), "1234567890123456.8");  // 17 digits past the point: 'f'
  EXPECT_EQ(Text(Dbl(1.2345678901234568e20)), "1.2345678901234568e20");
  EXPECT_EQ(Text(Dbl(1.5e300)), "1.5e300");
  EXPECT_EQ(Text(Dbl(1.7976931348623157e308)), "1.7976931348623157e308");
  EXPECT_EQ(Text(Dbl(0.00001)), "0.00001");
  EXPECT_EQ(Text(Dbl(1.5e-15)), "0.0000000000000015");  // decpt -14: still 'f'
  EXPECT_EQ(Text(Dbl(1e-16)), "1e-16");
  EXPECT_EQ(Text(Dbl(-2.5e-100)), "-2.5e-100");
  EXPECT_EQ(Text(Dbl(5e-324)), "5e-324");
}

TEST(BinlogJsonTest, NonFiniteDoubleIsDataLoss) {
  EXPECT_THAT(Decode(Doc(Dbl(std::numeric_limits<double>::infinity()))),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("not finite at offset 1")));
  EXPECT_THAT(Decode(Doc(Dbl(std::nan("")))), StatusIs(absl::StatusCode::kDataLoss));
}

TEST(BinlogJsonTest, StringsEscapeAndPassUnicodeThrough) {
  EXPECT_EQ(Text(Str("")), "\"\"");
  EXPECT_EQ(Text(Str("plain/text")), "\"plain/text\"");
  EXPECT_EQ(Text(Str("q\"b\\\b\f\n\r\t")), R"("q\"b\\\b\f\n\r\t")");
  EXPECT_EQ(Text(Str(std::string("\x01\x1f\x7f", 3) + std::string(1, '\0'))), "\"\\u0001\\u001f\x7f\\u0000\"");
  EXPECT_EQ(Text(Str("caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x98\x80")),
            "\"caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x98\x80\"");
  // Hand-written: 0c 03 'a' 'b' 'c'.
  EXPECT_EQ(Text(Bytes({0x0c, 0x03, 'a', 'b', 'c'})), "\"abc\"");
}

TEST(BinlogJsonTest, VariableLengthStringSizes) {
  const std::string s200(200, 'a');      // 2-byte length: c8 01
  const std::string s20000(20000, 'b');  // 3-byte length
  EXPECT_EQ(VarLen(200), Bytes({0xc8, 0x01}));
  EXPECT_EQ(Text(Str(s200)), "\"" + s200 + "\"");
  EXPECT_EQ(Text(Str(s20000)), "\"" + s20000 + "\"");
  // A length spread over 5 bytes is allowed when it fits in 32 bits.
  EXPECT_EQ(Text(Bytes({0x0c, 0x82, 0x80, 0x80, 0x80, 0x00, 'h', 'i'})), "\"hi\"");
}

TEST(BinlogJsonTest, DocumentedArrayAndItsPartialUpdates) {
  // ["abc", "def"] and the three in-place updates of it shown in MySQL's
  // json_binary.cc (Value::update_in_shadow), including freed bytes.
  const std::string original = Bytes({0x02, 0x02, 0x00, 0x12, 0x00, 0x0c, 0x0a, 0x00, 0x0c, 0x0e, 0x00, 0x03,
                                      'a', 'b', 'c', 0x03, 'd', 'e', 'f'});
  EXPECT_EQ(Text(original), R"(["abc", "def"])");
  EXPECT_EQ(Doc(Arr({Str("abc"), Str("def")})), original);  // the test writer agrees

  const std::string xy = Bytes({0x02, 0x02, 0x00, 0x12, 0x00, 0x0c, 0x0a, 0x00, 0x0c, 0x0e, 0x00, 0x02, 'X', 'Y',
                                'c', 0x03, 'd', 'e', 'f'});
  EXPECT_EQ(Text(xy), R"(["XY", "def"])");
  const std::string xyzw = Bytes({0x02, 0x02, 0x00, 0x12, 0x00, 0x0c, 0x0a, 0x00, 0x0c, 0x0d, 0x00, 0x02, 'X', 'Y',
                                  0x04, 'X', 'Y', 'Z', 'W'});
  EXPECT_EQ(Text(xyzw), R"(["XY", "XYZW"])");
  const std::string inlined = Bytes({0x02, 0x02, 0x00, 0x12, 0x00, 0x0c, 0x0a, 0x00, 0x05, 0xc8, 0x01, 0x02, 'X',
                                     'Y', 0x04, 'X', 'Y', 'Z', 'W'});
  EXPECT_EQ(Text(inlined), R"(["XY", 456])");
}

TEST(BinlogJsonTest, InlinedAndNonInlinedValues) {
  // Small format: literals and 16-bit ints inline, 32-bit ints stored apart.
  const J small = Arr({I16(-1), U16(65535), I32(70000), U32(3000000000u), True(), False(), Null(), I64(-5),
                       U64(5), Dbl(2.5), Str("s")});
  EXPECT_EQ(Text(small), "[-1, 65535, 70000, 3000000000, true, false, null, -5, 5, 2.5, \"s\"]");
  // Large format: 32-bit ints inline too.
  const J large = Arr({I16(-1), U16(65535), I32(-70000), U32(3000000000u), True(), Null(), I64(-5)}, true);
  EXPECT_EQ(Text(large), "[-1, 65535, -70000, 3000000000, true, null, -5]");
  // Hand-written large array [-70000]: int32 inlined in the 4-byte field.
  EXPECT_EQ(Text(Bytes({0x03, 0x01, 0, 0, 0, 0x0d, 0, 0, 0, 0x07, 0x90, 0xee, 0xfe, 0xff})), "[-70000]");
  // Hand-written small array [70000]: int32 stored after the entries.
  EXPECT_EQ(Text(Bytes({0x02, 0x01, 0x00, 0x0b, 0x00, 0x07, 0x07, 0x00, 0x70, 0x11, 0x01, 0x00})), "[70000]");
}

TEST(BinlogJsonTest, SmallAndLargeObjects) {
  EXPECT_EQ(Text(Obj({})), "{}");
  EXPECT_EQ(Text(Arr({})), "[]");
  EXPECT_EQ(Text(Obj({}, true)), "{}");
  EXPECT_EQ(Text(Arr({}, true)), "[]");
  const std::vector<std::pair<std::string, J>> members = {
      {"a", I16(1)}, {"bb", Str("x")}, {"ccc", Arr({I16(1), I16(2)})}, {"d", Null()}};
  EXPECT_EQ(Text(Obj(members)), R"({"a": 1, "bb": "x", "ccc": [1, 2], "d": null})");
  EXPECT_EQ(Text(Obj(members, true)), R"({"a": 1, "bb": "x", "ccc": [1, 2], "d": null})");
  // Keys print in stored order, escaped like strings.
  EXPECT_EQ(Text(Obj({{"z", I16(1)}, {"a\"\n", I16(2)}})), R"({"z": 1, "a\"\n": 2})");
  // A value too big for 16-bit offsets, as MySQL would store it.
  const std::string big(70000, 'x');
  EXPECT_EQ(Text(Obj({{"k", Str(big)}, {"n", I32(7)}}, true)), "{\"k\": \"" + big + "\", \"n\": 7}");
}

TEST(BinlogJsonTest, NestedDocument) {
  const J doc = Obj({{"id", I32(123456)},
                     {"tags", Arr({Str("a"), Str("b"), Arr({Arr({})})})},
                     {"meta", Obj({{"ok", True()}, {"ratio", Dbl(0.5)}, {"deep", Obj({{"x", Null()}}, true)}})},
                     {"list", Arr({Obj({{"n", I16(1)}}), Obj({{"n", I16(2)}})}, true)}});
  EXPECT_EQ(Text(doc),
            R"({"id": 123456, "tags": ["a", "b", [[]]], "meta": {"ok": true, "ratio": 0.5, "deep": {"x": null}}, )"
            R"("list": [{"n": 1}, {"n": 2}]})");
}

TEST(BinlogJsonTest, DepthLimitIsOneHundredContainers) {
  J doc = I16(1);
  for (int i = 0; i < 100; ++i) doc = Arr({doc});
  std::string expected = std::string(100, '[') + "1" + std::string(100, ']');
  EXPECT_EQ(Text(doc), expected);
  EXPECT_THAT(Decode(Doc(Arr({doc}))), StatusIs(absl::StatusCode::kDataLoss, HasSubstr("nested deeper than 100")));
}

TEST(BinlogJsonTest, OpaqueDateAndTimes) {
  EXPECT_EQ(Text(Temporal(10, DatetimePacked(2012, 3, 18, 0, 0, 0, 0))), R"("2012-03-18")");
  EXPECT_EQ(Text(Temporal(10, DatetimePacked(0, 0, 0, 0, 0, 0, 0))), R"("0000-00-00")");
  EXPECT_EQ(Text(Temporal(12, DatetimePacked(2012, 3, 18, 11, 30, 45, 0))), R"("2012-03-18 11:30:45.000000")");
  EXPECT_EQ(Text(Temporal(7, DatetimePacked(1999, 12, 31, 23, 59, 59, 999999))),
            R"("1999-12-31 23:59:59.999999")");
  EXPECT_EQ(Text(Temporal(11, TimePacked(false, 87, 31, 46, 654321))), R"("87:31:46.654321")");
  EXPECT_EQ(Text(Temporal(11, TimePacked(true, 838, 59, 59, 0))), R"("-838:59:59.000000")");
  EXPECT_EQ(Text(Temporal(11, TimePacked(true, 0, 0, 1, 500))), R"("-00:00:01.000500")");
  EXPECT_EQ(Text(Temporal(11, 0)), R"("00:00:00.000000")");
  // Hand-written: the DATE 2012-03-18 as MySQL 9.0.1 stored it (json-opaque.binlog row 2).
  EXPECT_EQ(Text(Bytes({0x0f, 0x0a, 0x08, 0, 0, 0, 0, 0, 0xe4, 0x8b, 0x19})), R"("2012-03-18")");
}

TEST(BinlogJsonTest, OpaqueTemporalErrors) {
  EXPECT_THAT(Decode(Doc(Opaque(10, "1234567"))),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("7 bytes, want 8")));
  EXPECT_THAT(Decode(Doc(Temporal(12, DatetimePacked(2012, 3, 18, 11, 60, 0, 0)))),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("out of range")));
  EXPECT_THAT(Decode(Doc(Temporal(12, DatetimePacked(2012, 3, 18, 11, 0, 0, 1000000)))),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("out of range")));
  EXPECT_THAT(Decode(Doc(Temporal(12, -1))), StatusIs(absl::StatusCode::kDataLoss, HasSubstr("negative")));
  EXPECT_THAT(Decode(Doc(Temporal(11, std::numeric_limits<int64_t>::min()))),
              StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_THAT(Decode(Doc(Temporal(11, TimePacked(false, 2000, 0, 0, 0)))),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("out of range")));
}

TEST(BinlogJsonTest, OpaqueDecimalKeepsScale) {
  // Hand-written from json-opaque.binlog: DECIMAL(6,3) 123.456 and DECIMAL(11,2) 9.00.
  EXPECT_EQ(Text(Bytes({0x0f, 0xf6, 0x06, 0x06, 0x03, 0x80, 0x7b, 0x01, 0xc8})), "123.456");
  EXPECT_EQ(Text(Bytes({0x0f, 0xf6, 0x07, 0x0b, 0x02, 0x80, 0x00, 0x00, 0x09, 0x00})), "9.00");
  EXPECT_EQ(DecimalBin(6, 3, "123", "456", false), Bytes({0x06, 0x03, 0x80, 0x7b, 0x01, 0xc8}));
  // Negative: every byte inverted, then the top bit of the first flipped.
  EXPECT_EQ(DecimalBin(6, 3, "123", "456", true), Bytes({0x06, 0x03, 0x7f, 0x84, 0xfe, 0x37}));
  EXPECT_EQ(Text(Opaque(246, DecimalBin(6, 3, "123", "456", true))), "-123.456");
  EXPECT_EQ(Text(Opaque(246, DecimalBin(2, 2, "", "5", false))), "0.50");
  EXPECT_EQ(Text(Opaque(246, DecimalBin(5, 0, "42", "", false))), "42");
  EXPECT_EQ(Text(Opaque(246, DecimalBin(10, 4, "0", "0", false))), "0.0000");
  EXPECT_EQ(Text(Opaque(246, DecimalBin(65, 30, "12345678901234567890123456789012345",
                                        "123456789012345678901234567890", true))),
            "-12345678901234567890123456789012345.123456789012345678901234567890");
  EXPECT_EQ(Text(Opaque(246, DecimalBin(20, 10, "1000000000", "0000000001", false))), "1000000000.0000000001");
  // Inside a container a decimal stays a bare number.
  EXPECT_EQ(Text(Arr({Opaque(246, DecimalBin(4, 2, "1", "5", false))})), "[1.50]");
}

TEST(BinlogJsonTest, OpaqueDecimalErrors) {
  EXPECT_THAT(Decode(Doc(Opaque(246, Bytes({0x00, 0x00})))),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("bad precision")));
  EXPECT_THAT(Decode(Doc(Opaque(246, Bytes({0x42, 0x00, 0x80})))),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("bad precision")));
  EXPECT_THAT(Decode(Doc(Opaque(246, Bytes({0x02, 0x03, 0x80})))),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("bad precision")));
  EXPECT_THAT(Decode(Doc(Opaque(246, Bytes({0x06, 0x03, 0x80, 0x7b, 0x01})))),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("wants 4 bytes, has 3")));
  EXPECT_THAT(Decode(Doc(Opaque(246, Bytes({0x06})))), StatusIs(absl::StatusCode::kDataLoss));
  // A 3-digit group holding 1000.
  EXPECT_THAT(Decode(Doc(Opaque(246, Bytes({0x06, 0x03, 0x80, 0x7b, 0x03, 0xe8})))),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("more than 3 digits")));
}

TEST(BinlogJsonTest, OtherOpaqueTypesPrintAsBase64) {
  EXPECT_EQ(Text(Opaque(15, "U")), R"("base64:type15:VQ==")");
  EXPECT_EQ(Text(Opaque(252, "ab")), R"("base64:type252:YWI=")");
  EXPECT_EQ(Text(Opaque(16, "abc")), R"("base64:type16:YWJj")");
  EXPECT_EQ(Text(Opaque(255, "")), R"("base64:type255:")");
  // MySQL's base64_encode breaks lines every 76 characters; the newline is escaped.
  const std::string bytes(60, '\0');  // 80 base64 characters
  EXPECT_EQ(Text(Opaque(249, bytes)), "\"base64:type249:" + std::string(76, 'A') + "\\n" + std::string(4, 'A') + "\"");
  // VAR_STRING opaques print as plain strings.
  EXPECT_EQ(Text(Opaque(253, "hi\"")), R"("hi\"")");
}

// A realistic document with every kind of value, for the broken-input tests.
std::string RealisticDocument() {
  return Doc(Obj({{"id", I32(1001)},
                  {"name", Str("caf\xc3\xa9 \"quoted\"")},
                  {"price", Opaque(246, DecimalBin(11, 2, "9", "0", false))},
                  {"ratio", Dbl(0.25)},
                  {"when", Temporal(12, DatetimePacked(2024, 2, 29, 12, 0, 1, 5))},
                  {"blob", Opaque(15, "xyz")},
                  {"tags", Arr({Str("a"), I16(2), True(), Null(), U64(1ull << 40)})},
                  {"nested", Obj({{"deep", Arr({Obj({{"k", I64(-1)}})}, true)}}, true)}}));
}

TEST(BinlogJsonTest, RealisticDocument) {
  EXPECT_EQ(Text(RealisticDocument()),
            R"({"id": 1001, "name": "café \"quoted\"", "price": 9.00, "ratio": 0.25, )"
            R"("when": "2024-02-29 12:00:01.000005", "blob": "base64:type15:eHl6", )"
            R"("tags": ["a", 2, true, null, 1099511627776], "nested": {"deep": [{"k": -1}]}})");
}

TEST(BinlogJsonTest, EveryTruncationIsDataLoss) {
  const std::string doc = RealisticDocument();
  for (size_t n = 1; n < doc.size(); ++n) {
    std::string out = "keep";
    EXPECT_THAT(BinaryJsonToText(std::string_view(doc).substr(0, n), &out),
                StatusIs(absl::StatusCode::kDataLoss))
        << "prefix of " << n << " bytes";
    EXPECT_EQ(out, "keep") << "output left as it was on error";
  }
}

TEST(BinlogJsonTest, EveryByteCorruptionIsOkOrDataLoss) {
  const std::string doc = RealisticDocument();
  for (size_t i = 0; i < doc.size(); ++i) {
    for (int v : {0x00, 0x01, 0x0f, 0x7f, 0x80, 0xff}) {
      std::string bad = doc;
      bad[i] = static_cast<char>(v);
      absl::Status s = Decode(bad);
      EXPECT_TRUE(s.ok() || s.code() == absl::StatusCode::kDataLoss) << i << ": " << s;
    }
  }
}

TEST(BinlogJsonTest, UnknownTypeAndBadLiteral) {
  EXPECT_THAT(Decode(Bytes({0x0d, 0x00})),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("unknown value type 0x0d at offset 1")));
  EXPECT_THAT(Decode(Bytes({0x04, 0x03})), StatusIs(absl::StatusCode::kDataLoss, HasSubstr("bad literal 0x03")));
  // An unknown type in a value entry.
  EXPECT_THAT(Decode(Bytes({0x02, 0x01, 0x00, 0x08, 0x00, 0x10, 0x07, 0x00, 0x00})),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("unknown value type 0x10")));
}

TEST(BinlogJsonTest, MalformedOffsets) {
  // ["abc", "def"] with element 1 pointing past the array's 18 bytes.
  std::string doc = Doc(Arr({Str("abc"), Str("def")}));
  doc[9] = 0x40;
  EXPECT_THAT(Decode(doc), StatusIs(absl::StatusCode::kDataLoss,
                                    HasSubstr("value 1 (type 0x0c) at offset 64 lies outside [10, 18)")));
  // ... and pointing back into the header.
  doc[9] = 0x02;
  EXPECT_THAT(Decode(doc), StatusIs(absl::StatusCode::kDataLoss, HasSubstr("lies outside [10, 18)")));
  // A string whose length runs past the end of its container.
  doc = Doc(Arr({Str("abc"), Str("def")}));
  doc[15] = 0x09;
  EXPECT_THAT(Decode(doc), StatusIs(absl::StatusCode::kDataLoss, HasSubstr("truncated")));
  // A key offset outside the object.
  doc = Doc(Obj({{"k", I16(1)}}));
  doc[5] = 0x30;
  EXPECT_THAT(Decode(doc), StatusIs(absl::StatusCode::kDataLoss, HasSubstr("key 0 at 48+1 lies outside")));
  // A key length past the end.
  doc = Doc(Obj({{"k", I16(1)}}));
  doc[7] = 0x05;
  EXPECT_THAT(Decode(doc), StatusIs(absl::StatusCode::kDataLoss, HasSubstr("key 0 at")));
}

TEST(BinlogJsonTest, CountsAndSizesTooBig) {
  // The declared size exceeds the bytes present.
  std::string doc = Doc(Arr({I16(1)}));
  doc[3] = 0x7f;
  EXPECT_THAT(Decode(doc), StatusIs(absl::StatusCode::kDataLoss,
                                    HasSubstr("small array at offset 1: size 127 exceeds the 7 bytes available")));
  // The element count needs a header bigger than the size.
  doc = Doc(Arr({I16(1)}));
  doc[1] = 0x09;
  EXPECT_THAT(Decode(doc), StatusIs(absl::StatusCode::kDataLoss, HasSubstr("9 entries need a 31-byte header")));
  // A large object claiming 4 billion members.
  doc = Doc(Obj({{"k", I16(1)}}, true));
  doc[1] = doc[2] = doc[3] = doc[4] = static_cast<char>(0xff);
  EXPECT_THAT(Decode(doc), StatusIs(absl::StatusCode::kDataLoss, HasSubstr("4294967295 entries")));
  // A nested container larger than its parent's remaining bytes.
  doc = Doc(Arr({Arr({I16(1), I16(2)})}));
  doc[10] = 0x30;  // inner size
  EXPECT_THAT(Decode(doc), StatusIs(absl::StatusCode::kDataLoss, HasSubstr("size 48 exceeds")));
}

TEST(BinlogJsonTest, BadVariableLengths) {
  EXPECT_THAT(Decode(Bytes({0x0c, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01})),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("longer than 5 bytes at offset 1")));
  EXPECT_THAT(Decode(Bytes({0x0c, 0xff, 0xff, 0xff, 0xff, 0x7f})),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("exceeds 32 bits")));
  EXPECT_THAT(Decode(Bytes({0x0c, 0x85})), StatusIs(absl::StatusCode::kDataLoss, HasSubstr("truncated")));
  EXPECT_THAT(Decode(Bytes({0x0c, 0x05, 'a'})),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("at offset 2: wanted 5 bytes, 1 left")));
}

TEST(BinlogJsonTest, TrailingBytesAfterTheTopLevelValueAreIgnored) {
  // MySQL's parse_binary() reads the value and ignores what follows.
  EXPECT_EQ(Text(Doc(I16(5)) + "zz"), "5");
  EXPECT_EQ(Text(Doc(Arr({I16(5)})) + "zz"), "[5]");
}

// ---------------------------------------------------------------------------
// Partial JSON diffs.

std::string Diff(JsonDiff::Op op, std::string_view path, const std::string* value) {
  std::string s(1, static_cast<char>(op));
  s.push_back(static_cast<char>(path.size()));
  s += path;
  if (value != nullptr) {
    s.push_back(static_cast<char>(value->size()));
    s += *value;
  }
  return s;
}

TEST(BinlogJsonDiffTest, AllThreeOperations) {
  const std::string v1 = Doc(Obj({{"x", Str("y")}}));
  const std::string v2 = Doc(I16(7));
  const std::string data = Diff(JsonDiff::Op::kReplace, "$.a", &v1) + Diff(JsonDiff::Op::kInsert, "$.b[1]", &v2) +
                           Diff(JsonDiff::Op::kRemove, "$.\"c d\"", nullptr);
  ASSERT_OK_AND_ASSIGN(std::vector<JsonDiff> diffs, DecodeJsonDiffs(data));
  ASSERT_EQ(diffs.size(), 3u);
  EXPECT_EQ(diffs[0].op, JsonDiff::Op::kReplace);
  EXPECT_EQ(diffs[0].path, "$.a");
  EXPECT_EQ(diffs[0].value_json, R"({"x": "y"})");
  EXPECT_EQ(diffs[1].op, JsonDiff::Op::kInsert);
  EXPECT_EQ(diffs[1].path, "$.b[1]");
  EXPECT_EQ(diffs[1].value_json, "7");
  EXPECT_EQ(diffs[2].op, JsonDiff::Op::kRemove);
  EXPECT_EQ(diffs[2].path, "$.\"c d\"");
  EXPECT_FALSE(diffs[2].value_json.has_value());
}

TEST(BinlogJsonDiffTest, HandWrittenReplaceFromMySql) {
  // The first diff in json.binlog.000001's PARTIAL_UPDATE_ROWS_EVENT:
  // REPLACE '$.age' with int16 26.
  ASSERT_OK_AND_ASSIGN(std::vector<JsonDiff> diffs,
                       DecodeJsonDiffs(Bytes({0x00, 0x05, '$', '.', 'a', 'g', 'e', 0x03, 0x05, 0x1a, 0x00})));
  ASSERT_EQ(diffs.size(), 1u);
  EXPECT_EQ(diffs[0].op, JsonDiff::Op::kReplace);
  EXPECT_EQ(diffs[0].path, "$.age");
  EXPECT_EQ(diffs[0].value_json, "26");
}

TEST(BinlogJsonDiffTest, EmptyListAndLongLengths) {
  ASSERT_OK_AND_ASSIGN(std::vector<JsonDiff> none, DecodeJsonDiffs(""));
  EXPECT_TRUE(none.empty());
  // A 300-byte value behind a 0xfc two-byte length; an empty value is null.
  const std::string long_string(296, 'q');
  const std::string value = Doc(Str(long_string));
  ASSERT_EQ(value.size(), 299u);
  std::string data = Bytes({0x01, 0x03, '$', '[', '0'}) + Bytes({0xfc}) + Le16(299) + value;
  data += Bytes({0x00, 0x01, '$', 0x00});
  ASSERT_OK_AND_ASSIGN(std::vector<JsonDiff> diffs, DecodeJsonDiffs(data));
  ASSERT_EQ(diffs.size(), 2u);
  EXPECT_EQ(diffs[0].value_json, "\"" + long_string + "\"");
  EXPECT_EQ(diffs[1].path, "$");
  EXPECT_EQ(diffs[1].value_json, "null");
}

TEST(BinlogJsonDiffTest, BrokenDiffs) {
  const std::string v = Doc(Arr({I16(1), Str("two")}));
  const std::string good = Diff(JsonDiff::Op::kReplace, "$.a", &v) + Diff(JsonDiff::Op::kRemove, "$.b", nullptr);
  ASSERT_OK(DecodeJsonDiffs(good).status());
  for (size_t n = 1; n < good.size(); ++n) {
    if (n == good.size() - 5) continue;  // the boundary between the two diffs is a valid list
    EXPECT_THAT(DecodeJsonDiffs(std::string_view(good).substr(0, n)), StatusIs(absl::StatusCode::kDataLoss))
        << "prefix of " << n << " bytes";
  }
  EXPECT_THAT(DecodeJsonDiffs(Bytes({0x03, 0x01, '$'})),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("bad operation 3 at offset 0")));
  EXPECT_THAT(DecodeJsonDiffs(Bytes({0x02, 0x02, 'a', 'b'})),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("path does not start with '$' at offset 1")));
  EXPECT_THAT(DecodeJsonDiffs(Bytes({0x02, 0x00})), StatusIs(absl::StatusCode::kDataLoss, HasSubstr("'$'")));
  EXPECT_THAT(DecodeJsonDiffs(Bytes({0x02, 0xfb})),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("bad path length prefix 0xfb")));
  // A broken value names its offset within the diff list.
  EXPECT_THAT(DecodeJsonDiffs(Bytes({0x00, 0x01, '$', 0x02, 0x04, 0x09})),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("bad literal 0x09 at offset 5")));
}

// ---------------------------------------------------------------------------
// Real binlogs written by MySQL servers (tests/fixtures/binlog/SOURCES.md).

std::string ReadFixture(const std::string& name) {
  std::ifstream f(std::string(PHONY_BINLOG_FIXTURES) + "/" + name, std::ios::binary);
  EXPECT_TRUE(f.good()) << "missing fixture " << name;
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

uint32_t GetLe32(std::string_view s, size_t at) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(s[at + static_cast<size_t>(i)]);
  return v;
}

struct Event {
  uint8_t type;
  std::string_view body;  // after the 19-byte header, without the CRC32
};

// The events of a v4 binlog whose events all end in a CRC32.
std::vector<Event> Events(std::string_view file) {
  std::vector<Event> events;
  size_t pos = 4;  // \xfe bin
  while (pos + 19 <= file.size()) {
    const uint32_t size = GetLe32(file, pos + 9);
    if (size < 23 || size > file.size() - pos) {
      ADD_FAILURE() << "bad event size at " << pos;
      break;
    }
    events.push_back({static_cast<uint8_t>(file[pos + 4]), file.substr(pos + 19, size - 23)});
    pos += size;
  }
  return events;
}

constexpr uint8_t kWriteRowsV2 = 30;
constexpr uint8_t kUpdateRowsV2 = 31;
constexpr uint8_t kPartialUpdateRows = 39;

// Position of the column count after the rows post-header and extra data.
size_t RowsStart(std::string_view body) {
  return 8 + (static_cast<uint8_t>(body[8]) | (static_cast<uint8_t>(body[9]) << 8));
}

TEST(BinlogJsonFixtureTest, JsonOpaqueFromMySql901) {
  // Table foo.test(a JSON); each WRITE_ROWS_V2 holds one row: column count 1,
  // columns-present bitmap, null bitmap, 4-byte length, the JSON bytes.
  const std::string file = ReadFixture("rust_mysql_common/json-opaque.binlog");
  std::vector<std::string> got;
  for (const Event& e : Events(file)) {
    if (e.type != kWriteRowsV2) continue;
    size_t pos = RowsStart(e.body);
    ASSERT_EQ(e.body[pos], 1);  // one column
    pos += 2;                   // count, present bitmap
    ASSERT_EQ(e.body[pos] & 1, 0) << "null JSON";
    pos += 1;
    const uint32_t length = GetLe32(e.body, pos);
    pos += 4;
    ASSERT_EQ(pos + length, e.body.size());
    got.push_back(Text(e.body.substr(pos, length)));
  }
  // Upstream's expectations (rust_mysql_common prints compactly and quotes
  // decimals), written the way MySQL prints them.
  EXPECT_THAT(got, ::testing::ElementsAre(R"({"a": "base64:type15:VQ=="})", R"({"b": "2012-03-18"})",
                                          R"({"c": "2012-03-18 11:30:45.000000"})", R"({"c": "87:31:46.654321"})",
                                          R"({"d": 123.456})", R"({"e": 9.00})", R"({"e": [0, 1, true, false]})",
                                          R"({"e": null})"));
}

// Table mysql.t(id INT, json_col JSON, name VARCHAR(100) utf8mb4 (2-byte
// length), age INT): reads one row image of the present columns.
void ReadImage(std::string_view body, size_t* pos, uint8_t present, std::vector<std::string>* json_texts,
               std::vector<std::vector<JsonDiff>>* diffs, bool json_is_partial) {
  const uint8_t nulls = static_cast<uint8_t>(body[*pos]);
  *pos += 1;
  int k = 0;
  for (int c = 0; c < 4; ++c) {
    if (!((present >> c) & 1)) continue;
    if ((nulls >> k++) & 1) continue;
    switch (c) {
      case 0: case 3: *pos += 4; break;
      case 1: {
        const uint32_t length = GetLe32(body, *pos);
        *pos += 4;
        std::string_view bytes = body.substr(*pos, length);
        *pos += length;
        if (json_is_partial) {
          auto d = DecodeJsonDiffs(bytes);
          ASSERT_TRUE(d.ok()) << d.status();
          diffs->push_back(*d);
        } else {
          json_texts->push_back(Text(bytes));
        }
        break;
      }
      case 2: *pos += 2 + (static_cast<uint8_t>(body[*pos]) | (static_cast<uint8_t>(body[*pos + 1]) << 8)); break;
    }
  }
}

TEST(BinlogJsonFixtureTest, JsonAndPartialUpdatesFromMySql8022) {
  const std::string file = ReadFixture("rust_mysql_common/json.binlog.000001");
  std::vector<std::string> texts;
  std::vector<std::vector<JsonDiff>> diffs;
  for (const Event& e : Events(file)) {
    if (e.type != kWriteRowsV2 && e.type != kUpdateRowsV2 && e.type != kPartialUpdateRows) continue;
    size_t pos = RowsStart(e.body);
    ASSERT_EQ(e.body[pos], 4);
    const uint8_t before = static_cast<uint8_t>(e.body[pos + 1]) & 0x0f;
    pos += 2;
    uint8_t after = 0;
    if (e.type != kWriteRowsV2) after = static_cast<uint8_t>(e.body[pos++]) & 0x0f;
    while (pos < e.body.size()) {
      ReadImage(e.body, &pos, before, &texts, &diffs, false);
      if (e.type == kWriteRowsV2) continue;
      bool partial = false;
      if (e.type == kPartialUpdateRows) {
        const uint8_t value_options = static_cast<uint8_t>(e.body[pos++]);
        if (value_options & 1) partial = (e.body[pos++] & 1) != 0;  // one JSON column
      }
      ReadImage(e.body, &pos, after, &texts, &diffs, partial);
    }
    ASSERT_EQ(pos, e.body.size());
  }
  auto doc = [](int age, const std::string& data, const std::string& name) {
    return "{\"age\": " + std::to_string(age) + ", \"data\": \"" + data + "\", \"name\": \"" + name + "\"}";
  };
  const std::string joe = doc(24, "xxxxxxxxxx", "Joe"), sue = doc(32, "yyyyyyyyyy", "Sue"),
                    pete = doc(40, "zzzzzzzzzz", "Pete");
  std::vector<std::string> expected = {joe, sue, pete, joe, sue, pete};
  for (int round = 0; round < 2; ++round) {
    expected.push_back(joe);
    expected.push_back(doc(25, "xxxxxxxxxx", "Joe"));
    expected.push_back(sue);
    expected.push_back(doc(33, "yyyyyyyyyy", "Sue"));
    expected.push_back(pete);
    expected.push_back(doc(41, "zzzzzzzzzz", "Pete"));
  }
  EXPECT_EQ(texts, expected);
  ASSERT_EQ(diffs.size(), 6u);
  const int ages[] = {26, 34, 42, 26, 34, 42};
  for (size_t i = 0; i < diffs.size(); ++i) {
    ASSERT_EQ(diffs[i].size(), 1u);
    EXPECT_EQ(diffs[i][0].op, JsonDiff::Op::kReplace);
    EXPECT_EQ(diffs[i][0].path, "$.age");
    EXPECT_EQ(diffs[i][0].value_json, std::to_string(ages[i]));
  }
}

}  // namespace
}  // namespace phony::mysql
