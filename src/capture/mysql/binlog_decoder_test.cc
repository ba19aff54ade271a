// The binlog decoder on real binlog files written by MySQL 5.6/5.7/8.0/9.x
// and MariaDB 10.5 (tests/fixtures/binlog/, SOURCES.md says where each comes
// from and what its upstream tests assert), and on damaged copies of them.
#include "src/capture/mysql/binlog_decoder.h"

#include <zlib.h>

#include <cstring>
#include <fstream>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "src/capture/mysql/binlog_file.h"
#include "src/capture/mysql/binlog_inspect.h"

namespace phony::mysql {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

const std::string kFixtures = PHONY_BINLOG_FIXTURES;

struct Decoded {
  std::vector<BinlogEvent> events;
  std::vector<std::string> raw;  // each event's bytes, in file order
  absl::Status status;
};

Decoded DecodeFile(const std::string& rel) {
  Decoded d;
  auto reader = BinlogFileReader::Open(kFixtures + "/" + rel);
  if (!reader.ok()) {
    d.status = reader.status();
    return d;
  }
  BinlogDecoder decoder;
  while (true) {
    auto next = (*reader)->Next();
    if (!next.ok()) {
      d.status = next.status();
      return d;
    }
    if (!next->has_value()) break;
    d.raw.emplace_back((*next)->bytes);
    d.status = decoder.Decode((*next)->bytes, (*next)->offset, &d.events);
    if (!d.status.ok()) return d;
  }
  return d;
}

std::vector<const RowsEvent*> RowsOf(const Decoded& d) {
  std::vector<const RowsEvent*> out;
  for (const BinlogEvent& e : d.events) {
    if (const auto* r = std::get_if<RowsEvent>(&e.body)) out.push_back(r);
  }
  return out;
}

std::vector<std::string> InspectLines(const std::string& rel) {
  std::vector<std::string> lines;
  absl::Status s = InspectBinlogFile(kFixtures + "/" + rel, {}, [&](std::string_view l) { lines.emplace_back(l); });
  EXPECT_TRUE(s.ok()) << s;
  return lines;
}

std::string Render(const Value& v) {
  std::string out;
  AppendInspectValue(v, &out);
  return out;
}

const std::vector<std::string> kAllFixtures = {
    "rust_mysql_common/mariadb-bin.000001",
    "rust_mysql_common/json.binlog.000001",
    "rust_mysql_common/json-opaque.binlog",
    "rust_mysql_common/mysql-enum-string-set.000001",
    "rust_mysql_common/mysql_type_bit.000001",
    "rust_mysql_common/time_issue.000001",
    "rust_mysql_common/transaction_compression.000001",
    "rust_mysql_common/binlog-invisible-columns.000001",
    "rust_mysql_common/minimal_row_metadata.000001",
    "rust_mysql_common/binlog_transaction_with_GTID_TAG.000001",
    "mysql-binlog-connector-java/mysql-bin.checksum-crc32",
    "go-mysql/tcb-eval002c-bin.003320",
};

TEST(BinlogDecoderTest, EveryFixtureDecodesToTheEnd) {
  for (const std::string& f : kAllFixtures) {
    const Decoded d = DecodeFile(f);
    EXPECT_TRUE(d.status.ok()) << f << ": " << d.status;
    EXPECT_FALSE(RowsOf(d).empty()) << f;
    for (const RowsEvent* r : RowsOf(d)) {
      for (const RowChange& c : r->rows) {
        if (c.before) {
          EXPECT_EQ(c.before->size(), r->table->columns.size()) << f;
        }
        if (c.after) {
          EXPECT_EQ(c.after->size(), r->table->columns.size()) << f;
        }
      }
    }
  }
}

TEST(BinlogDecoderTest, MariaDbFullMetadataAndV1Rows) {
  const Decoded d = DecodeFile("rust_mysql_common/mariadb-bin.000001");
  ASSERT_TRUE(d.status.ok()) << d.status;
  const auto* fde = std::get_if<FormatDescription>(&d.events[0].body);
  ASSERT_NE(fde, nullptr);
  EXPECT_EQ(fde->flavor, Flavor::kMariaDB);
  EXPECT_EQ(fde->checksum_alg, 1);
  std::vector<std::string> gtids;
  for (const BinlogEvent& e : d.events) {
    if (const auto* g = std::get_if<GtidEvent>(&e.body)) gtids.push_back(g->gtid);
  }
  ASSERT_EQ(gtids.size(), 2u);
  EXPECT_THAT(gtids[0], ::testing::StartsWith("0-"));
  EXPECT_THAT(gtids[0], ::testing::EndsWith("-1"));
  EXPECT_THAT(gtids[1], ::testing::EndsWith("-2"));
  const auto rows = RowsOf(d);
  ASSERT_EQ(rows.size(), 2u);
  const TableMap& t = *rows[0]->table;
  EXPECT_EQ(t.database, "toddy_test");
  EXPECT_EQ(t.table, "outbox");
  std::vector<std::string> names;
  std::vector<uint16_t> keys;
  std::vector<std::optional<uint32_t>> collations;
  for (const ColumnInfo& c : t.columns) {
    names.push_back(c.name);
    keys.push_back(c.key_ordinal);
    collations.push_back(c.collation);
  }
  EXPECT_THAT(names, ElementsAre("id", "topic", "event_type", "event", "created"));
  EXPECT_THAT(keys, ElementsAre(1, 0, 0, 0, 0));
  EXPECT_THAT(collations, ElementsAre(std::nullopt, 45u, 45u, 63u, std::nullopt));
  EXPECT_EQ(KindOf(t.columns[3]), ValueKind::kBytes);  // BLOB with the binary charset
  EXPECT_EQ(KindOf(t.columns[4]), ValueKind::kTimestampTz);
  for (const RowsEvent* r : rows) {
    EXPECT_EQ(r->kind, RowsEvent::Kind::kInsert);
    ASSERT_EQ(r->rows.size(), 1u);
    EXPECT_EQ((*r->rows[0].after)[0].kind(), ValueKind::kInt64);
  }
}

// The upstream test's 303 events, with the row events SOURCES.md counts.
TEST(BinlogDecoderTest, MySql57FileHasEveryEvent) {
  const Decoded d = DecodeFile("mysql-binlog-connector-java/mysql-bin.checksum-crc32");
  ASSERT_TRUE(d.status.ok()) << d.status;
  EXPECT_EQ(d.raw.size(), 303u);
  std::map<RowsEvent::Kind, int> kinds;
  for (const RowsEvent* r : RowsOf(d)) ++kinds[r->kind];
  EXPECT_EQ(kinds[RowsEvent::Kind::kInsert], 34);
  EXPECT_EQ(kinds[RowsEvent::Kind::kUpdate], 20);
  EXPECT_EQ(kinds[RowsEvent::Kind::kDelete], 6);
  const auto* last = std::get_if<Rotate>(&d.events.back().body);
  ASSERT_NE(last, nullptr);
  EXPECT_FALSE(last->next_file.empty());
}

// SOURCES.md's expected values; MySQL prints JSON with ", " and ": ", and
// decimals inside JSON as numbers.
TEST(BinlogDecoderTest, JsonOpaqueScalars) {
  const Decoded d = DecodeFile("rust_mysql_common/json-opaque.binlog");
  ASSERT_TRUE(d.status.ok()) << d.status;
  std::vector<std::string> docs;
  for (const RowsEvent* r : RowsOf(d)) {
    for (const RowChange& c : r->rows) docs.push_back((*c.after)[0].str());
  }
  EXPECT_THAT(docs, ElementsAre("{\"a\": \"base64:type15:VQ==\"}", "{\"b\": \"2012-03-18\"}",
                                "{\"c\": \"2012-03-18 11:30:45.000000\"}", "{\"c\": \"87:31:46.654321\"}",
                                "{\"d\": 123.456}", "{\"e\": 9.00}", "{\"e\": [0, 1, true, false]}",
                                "{\"e\": null}"));
}

TEST(BinlogDecoderTest, PartialJsonUpdate) {
  const Decoded d = DecodeFile("rust_mysql_common/json.binlog.000001");
  ASSERT_TRUE(d.status.ok()) << d.status;
  const RowsEvent* partial = nullptr;
  for (const RowsEvent* r : RowsOf(d)) {
    if (r->partial_json) partial = r;
  }
  ASSERT_NE(partial, nullptr);
  ASSERT_FALSE(partial->rows.empty());
  const RowChange& c = partial->rows[0];
  // MINIMAL image: the before image has the key only.
  EXPECT_EQ((*c.before)[0].kind(), ValueKind::kInt64);
  EXPECT_TRUE((*c.before)[1].is_unchanged());
  ASSERT_EQ(c.json_diffs.size(), 1u);
  EXPECT_EQ(c.json_diffs[0].first, 1u);
  EXPECT_FALSE(c.json_diffs[0].second.empty());
  EXPECT_TRUE((*c.after)[1].is_unchanged());
}

TEST(BinlogDecoderTest, EnumAndSetAsStrings) {
  const std::vector<std::string> lines = InspectLines("rust_mysql_common/mysql-enum-string-set.000001");
  ASSERT_FALSE(lines.empty());
  const Decoded d = DecodeFile("rust_mysql_common/mysql-enum-string-set.000001");
  ASSERT_TRUE(d.status.ok()) << d.status;
  const TableMap& t = *RowsOf(d)[0]->table;
  ASSERT_EQ(t.columns.size(), 5u);
  EXPECT_EQ(t.columns[2].type, kTypeEnum);
  EXPECT_THAT(t.columns[2].enum_values, ElementsAre("var1", "variant2", "foo"));
  EXPECT_EQ(t.columns[3].type, kTypeSet);
  EXPECT_THAT(t.columns[3].enum_values, ElementsAre("one", "two", "three", "four"));
  EXPECT_EQ(TypeName(t.columns[2]), "enum('var1','variant2','foo')");
  std::map<RowsEvent::Kind, int> kinds;
  for (const RowsEvent* r : RowsOf(d)) {
    ++kinds[r->kind];
    for (const RowChange& c : r->rows) {
      for (const std::optional<Row>* img : {&c.before, &c.after}) {
        if (!*img) continue;
        const Value& e = (**img)[2];
        const Value& s = (**img)[3];
        if (!e.is_null()) {
          EXPECT_EQ(e.kind(), ValueKind::kText);
          EXPECT_THAT(t.columns[2].enum_values, ::testing::Contains(e.str()));
        }
        if (!s.is_null()) {
          EXPECT_EQ(s.kind(), ValueKind::kText);
        }
      }
    }
  }
  EXPECT_GT(kinds[RowsEvent::Kind::kInsert], 0);
  EXPECT_GT(kinds[RowsEvent::Kind::kUpdate], 0);
  EXPECT_GT(kinds[RowsEvent::Kind::kDelete], 0);
}

TEST(BinlogDecoderTest, BitColumns) {
  const Decoded d = DecodeFile("rust_mysql_common/mysql_type_bit.000001");
  ASSERT_TRUE(d.status.ok()) << d.status;
  const RowsEvent& r = *RowsOf(d)[0];
  EXPECT_EQ(TypeName(r.table->columns[0]), "bit(3)");
  EXPECT_EQ(TypeName(r.table->columns[2]), "bit(8)");
  const Row& row = *r.rows[0].after;
  EXPECT_EQ(row[0].kind(), ValueKind::kBytes);
  EXPECT_EQ(row[0].str().size(), 1u);
  EXPECT_EQ(row[2].str().size(), 1u);
}

TEST(BinlogDecoderTest, InvisibleColumns) {
  const Decoded d = DecodeFile("rust_mysql_common/binlog-invisible-columns.000001");
  ASSERT_TRUE(d.status.ok()) << d.status;
  const TableMap& t = *RowsOf(d)[0]->table;
  std::vector<bool> visible;
  std::vector<bool> is_unsigned;
  for (const ColumnInfo& c : t.columns) {
    visible.push_back(c.visible);
    is_unsigned.push_back(c.is_unsigned);
  }
  EXPECT_THAT(visible, ElementsAre(false, false, true, true, true, false));
  EXPECT_THAT(is_unsigned, ElementsAre(true, true, false, false, false, true));
  EXPECT_EQ(TypeName(t.columns[5]), "bigint unsigned");
  EXPECT_EQ(KindOf(t.columns[5]), ValueKind::kUInt64);
}

TEST(BinlogDecoderTest, MinimalMetadataAndAPartialImage) {
  const Decoded d = DecodeFile("rust_mysql_common/minimal_row_metadata.000001");
  ASSERT_TRUE(d.status.ok()) << d.status;
  const RowsEvent& r = *RowsOf(d)[0];
  EXPECT_FALSE(r.table->has_names);
  ASSERT_EQ(r.table->columns.size(), 5u);
  const Row& row = *r.rows[0].after;
  EXPECT_FALSE(row[0].is_unchanged());
  EXPECT_TRUE(row[1].is_unchanged());
  EXPECT_FALSE(row[2].is_unchanged());
  EXPECT_TRUE(row[3].is_unchanged());
  EXPECT_FALSE(row[4].is_unchanged());
  const std::vector<std::string> lines = InspectLines("rust_mysql_common/minimal_row_metadata.000001");
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_THAT(lines[0], HasSubstr("\"@1\":"));
  EXPECT_THAT(lines[0], ::testing::Not(HasSubstr("\"@2\":")));
}

TEST(BinlogDecoderTest, CompressedTransactionPayload) {
  const Decoded d = DecodeFile("rust_mysql_common/transaction_compression.000001");
  ASSERT_TRUE(d.status.ok()) << d.status;
  bool table_map = false, xid = false;
  for (const BinlogEvent& e : d.events) {
    table_map |= std::holds_alternative<std::shared_ptr<const TableMap>>(e.body);
    xid |= std::holds_alternative<Xid>(e.body);
  }
  EXPECT_TRUE(table_map);
  EXPECT_TRUE(xid);
  EXPECT_EQ(RowsOf(d).size(), 1u);
}

TEST(BinlogDecoderTest, TaggedGtid) {
  const Decoded d = DecodeFile("rust_mysql_common/binlog_transaction_with_GTID_TAG.000001");
  ASSERT_TRUE(d.status.ok()) << d.status;
  std::string gtid;
  for (const BinlogEvent& e : d.events) {
    if (const auto* g = std::get_if<GtidEvent>(&e.body)) gtid = g->gtid;
  }
  // uuid:tag:gno
  EXPECT_THAT(gtid, ::testing::MatchesRegex("[0-9a-f-]{36}:[a-z_0-9]+:[0-9]+")) << gtid;
  const RowsEvent& r = *RowsOf(d)[0];
  EXPECT_EQ(r.table->table, "orders");
  EXPECT_EQ((*r.rows[0].after)[2].kind(), ValueKind::kDecimal);
}

TEST(BinlogDecoderTest, LargeTime2Hours) {
  const Decoded d = DecodeFile("rust_mysql_common/time_issue.000001");
  ASSERT_TRUE(d.status.ok()) << d.status;
  const Value& v = (*RowsOf(d)[0]->rows[0].after)[0];
  ASSERT_EQ(v.kind(), ValueKind::kTime);
  // The upstream case: hours beyond 24 (an "hour overflow").
  EXPECT_GT(std::abs(v.int64_value()), int64_t{24} * 3600 * 1000000) << Render(v);
}

// go-mysql's decimal table: one literal per row into eleven DECIMAL
// columns of growing precision; the server rounded or clipped it per column.
TEST(BinlogDecoderTest, DecimalsOfEveryPrecision) {
  const Decoded d = DecodeFile("go-mysql/tcb-eval002c-bin.003320");
  ASSERT_TRUE(d.status.ok()) << d.status;
  const RowsEvent& r = *RowsOf(d)[0];
  ASSERT_EQ(r.rows.size(), 17u);
  std::vector<std::string> v4_2, v30_25;
  for (const RowChange& c : r.rows) {
    v4_2.push_back(Render((*c.after)[1]));
    v30_25.push_back(Render((*c.after)[11]));
  }
  // -10.55 fits DECIMAL(4,2); 12345 is clipped to 99.99; 0.0123... rounds to 0.01.
  EXPECT_EQ(v4_2[0], "-10.55");
  EXPECT_EQ(v4_2[1], "0.01");
  EXPECT_EQ(v4_2[2], "99.99");
  EXPECT_EQ(v30_25[0], "-10.5500000000000000000000000");
  EXPECT_EQ(v30_25[1], "0.0123456789012345678912345");
}

TEST(BinlogDecoderTest, CrcMismatchIsCaughtAndNamed) {
  Decoded d = DecodeFile("rust_mysql_common/mariadb-bin.000001");
  ASSERT_TRUE(d.status.ok());
  BinlogDecoder decoder;
  std::vector<BinlogEvent> out;
  uint64_t offset = 4;
  for (size_t i = 0; i < d.raw.size(); ++i) {
    std::string bytes = d.raw[i];
    if (i == d.raw.size() - 1) bytes[kEventHeaderSize] ^= 0x40;
    absl::Status s = decoder.Decode(bytes, offset, &out);
    if (i == d.raw.size() - 1) {
      EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
      EXPECT_THAT(s.message(), HasSubstr("CRC32 mismatch"));
      EXPECT_THAT(s.message(), HasSubstr("at offset " + std::to_string(offset)));
    } else {
      ASSERT_TRUE(s.ok()) << s;
    }
    offset += bytes.size();
  }
}

// Rewrites the CRC32 of a damaged event so that the decoder's own checks,
// not the checksum, must catch the damage.
void Reseal(std::string* event) {
  const uint32_t size = static_cast<uint32_t>(event->size());
  std::memcpy(event->data() + 9, &size, 4);
  const uint32_t crc = static_cast<uint32_t>(
      crc32(0, reinterpret_cast<const Bytef*>(event->data()), static_cast<uInt>(event->size() - 4)));
  std::memcpy(event->data() + event->size() - 4, &crc, 4);
}

// Every event of every CRC32 fixture cut short at every length (and
// resealed with a valid CRC), and every byte of its body flipped: the
// decoder returns an error or a value, never crashes or reads out of bounds.
TEST(BinlogDecoderTest, DamagedEventsFailCleanly) {
  for (const std::string& f : kAllFixtures) {
    const Decoded d = DecodeFile(f);
    ASSERT_TRUE(d.status.ok()) << f;
    BinlogDecoder seen;  // has decoded every event before event i
    std::vector<BinlogEvent> ignored;
    ASSERT_TRUE(seen.Decode(d.raw[0], 4, &ignored).ok());
    uint64_t offset = 4 + d.raw[0].size();
    for (size_t i = 1; i < d.raw.size(); ++i) {
      const std::string& ev = d.raw[i];
      const bool crc = seen.format().checksum_alg == 1;
      const size_t tail = crc ? 4 : 0;
      for (size_t len = kEventHeaderSize + tail; len < ev.size(); ++len) {
        std::string cut = ev.substr(0, len - tail) + std::string(tail, '\0');
        if (crc) Reseal(&cut);
        BinlogDecoder dec = seen;
        std::vector<BinlogEvent> out;
        (void)dec.Decode(cut, offset, &out);  // must return; some cuts are valid events
      }
      for (size_t b = kEventHeaderSize; b + tail < ev.size(); ++b) {
        std::string flipped = ev;
        flipped[b] = static_cast<char>(~flipped[b]);
        if (crc) Reseal(&flipped);
        BinlogDecoder dec = seen;
        std::vector<BinlogEvent> out;
        (void)dec.Decode(flipped, offset, &out);
      }
      ASSERT_TRUE(seen.Decode(ev, offset, &ignored).ok());
      offset += ev.size();
    }
  }
}

TEST(BinlogDecoderTest, UnknownEventsStopUnlessIgnorable) {
  BinlogDecoder decoder;
  std::string ev(kEventHeaderSize + 3, '\0');
  ev[4] = static_cast<char>(99);  // an unknown type
  const uint32_t size = static_cast<uint32_t>(ev.size());
  std::memcpy(ev.data() + 9, &size, 4);
  std::vector<BinlogEvent> out;
  absl::Status s = decoder.Decode(ev, 120, &out);
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(s.message(), HasSubstr("unknown binlog event type 99 at offset 120"));
  ev[17] = static_cast<char>(kIgnorableFlag);
  EXPECT_TRUE(decoder.Decode(ev, 120, &out).ok());
  ASSERT_EQ(out.size(), 1u);
  EXPECT_TRUE(std::holds_alternative<Skipped>(out[0].body));
}

TEST(BinlogDecoderTest, TruncatedFileNamesTheOffset) {
  std::string bytes;
  {
    std::FILE* f = std::fopen((kFixtures + "/rust_mysql_common/mariadb-bin.000001").c_str(), "rb");
    ASSERT_NE(f, nullptr);
    char buf[4096];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof(buf), f)) > 0) bytes.append(buf, n);
    std::fclose(f);
  }
  const std::string path = ::testing::TempDir() + "/truncated.000001";
  std::ofstream(path, std::ios::binary) << bytes.substr(0, bytes.size() - 10);
  absl::Status s = InspectBinlogFile(path, {}, [](std::string_view) {});
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(s.message(), HasSubstr("ends inside the XID event at offset"));
  std::ofstream(path, std::ios::binary) << "not a binlog";
  s = InspectBinlogFile(path, {}, [](std::string_view) {});
  EXPECT_THAT(s.message(), HasSubstr("is not a binlog file"));
}

TEST(BinlogDecoderTest, DecimalBinaryForm) {
  // DECIMAL(10,2) 1234.56 built by hand: the 8 integer digits in 4 bytes,
  // the 2 fraction digits in 1, the sign bit flipped on the first byte.
  std::string b;
  const uint32_t ip = 1234;
  b.push_back(static_cast<char>(((ip >> 24) & 0xff) ^ 0x80));
  b.push_back(static_cast<char>((ip >> 16) & 0xff));
  b.push_back(static_cast<char>((ip >> 8) & 0xff));
  b.push_back(static_cast<char>(ip & 0xff));
  b.push_back(static_cast<char>(56));
  ByteReader r(b);
  auto v = DecodeDecimal(r, 10, 2);
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(*v, "1234.56");
  // Its negation: every byte inverted.
  std::string n = b;
  for (char& c : n) c = static_cast<char>(~c);
  ByteReader rn(n);
  EXPECT_EQ(*DecodeDecimal(rn, 10, 2), "-1234.56");
  EXPECT_EQ(DecimalBinarySize(10, 2), 5);
  // No integer digits, zero, negative zero and a negative fraction.
  auto decimal = [](int precision, int scale, bool negative, std::vector<uint8_t> magnitude) {
    std::string bytes(magnitude.begin(), magnitude.end());
    bytes[0] = static_cast<char>(bytes[0] ^ 0x80);
    if (negative) {
      for (char& c : bytes) c = static_cast<char>(~c);
    }
    ByteReader in(bytes);
    auto out = DecodeDecimal(in, precision, scale);
    return out.ok() ? *out : std::string(out.status().message());
  };
  EXPECT_EQ(decimal(5, 5, false, {0x00, 0x30, 0x39}), "0.12345");
  EXPECT_EQ(decimal(5, 5, true, {0x00, 0x30, 0x39}), "-0.12345");
  EXPECT_EQ(decimal(5, 5, true, {0x00, 0x00, 0x00}), "0.00000");
  EXPECT_EQ(decimal(4, 2, true, {0x00, 0x00}), "0.00");
  EXPECT_EQ(decimal(4, 2, false, {0x00, 0x07}), "0.07");
  EXPECT_EQ(decimal(4, 0, true, {0x00, 0x2a}), "-42");
  EXPECT_EQ(decimal(4, 0, false, {0x00, 0x00}), "0");
  EXPECT_EQ(DecimalBinarySize(65, 30), 30);
}

// A MariaDB table map built by hand (after the MariaDB fixture's format
// description): MariaDB gives YEAR a signedness bit and lists GEOMETRY among
// the charset columns, which MySQL does not; ENUM strings arrive in the
// column's charset (latin1 here). As the live MariaDB 10.11 writes them
// (tests/integration/mariadb_binlog_types_test.cc).
TEST(BinlogDecoderTest, MariaDbTableMapCountsYearAndGeometry) {
  const Decoded d = DecodeFile("rust_mysql_common/mariadb-bin.000001");
  ASSERT_TRUE(d.status.ok()) << d.status;
  BinlogDecoder decoder;
  std::vector<BinlogEvent> out;
  ASSERT_TRUE(decoder.Decode(d.raw[0], 4, &out).ok());
  ASSERT_EQ(decoder.format().flavor, Flavor::kMariaDB);

  std::string body("\x4d\0\0\0\0\0" "\0\0" "\x01" "d\0" "\x01" "t\0", 14);
  body += "\x05";                                           // columns
  body += std::string("\x0d\x03\xff\x0f\xfe", 5);         // YEAR INT GEOMETRY VARCHAR STRING
  body += std::string("\x05" "\x04" "\x0a\x00" "\xf7\x01", 6);  // GEOMETRY 4, VARCHAR(10), ENUM 1 byte
  body += "\x1f";                                           // all nullable
  body += std::string("\x01\x01\x80", 3);                   // SIGNEDNESS: YEAR unsigned, INT signed
  body += std::string("\x02\x03\x3f\x01\x08", 5);         // DEFAULT_CHARSET binary; the 2nd (VARCHAR) latin1
  body += std::string("\x06\x05\x02\x01\xe9\x01\x80", 7); // ENUM_STR_VALUE 'é', '€' in latin1
  body += std::string("\x0a\x01\x08", 3);                   // ENUM_AND_SET_DEFAULT_CHARSET latin1
  std::string ev(kEventHeaderSize, '\0');
  ev[4] = static_cast<char>(kTableMapEvent);
  ev += body + std::string(4, '\0');
  Reseal(&ev);
  out.clear();
  absl::Status s = decoder.Decode(ev, 1000, &out);
  ASSERT_TRUE(s.ok()) << s;
  const auto* map = std::get_if<std::shared_ptr<const TableMap>>(&out[0].body);
  ASSERT_NE(map, nullptr);
  const std::vector<ColumnInfo>& c = (*map)->columns;
  ASSERT_EQ(c.size(), 5u);
  EXPECT_TRUE(c[0].is_unsigned);   // YEAR takes the first bit
  EXPECT_FALSE(c[1].is_unsigned);  // so the INT's is the second
  EXPECT_EQ(c[2].collation, 63u);  // GEOMETRY takes the first charset
  EXPECT_EQ(c[3].collation, 8u);   // so the VARCHAR's is the second
  EXPECT_THAT(c[4].enum_values, ElementsAre("é", "€"));
  EXPECT_EQ(TypeName(c[3]), "varchar(10)");
  EXPECT_EQ(TypeName(c[4]), "enum('é','€')");
}

TEST(BinlogDecoderTest, BinaryColumnsGetTheirPadBack) {
  // BINARY(8) x'01' as the row image carries it: the trailing zeros left out.
  ColumnInfo binary{.type = kTypeString, .meta = 8, .collation = 63};
  std::string image("\x01\x01", 2);
  ByteReader r(image);
  auto v = DecodeColumnValue(binary, r);
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(v->str(), std::string("\x01\0\0\0\0\0\0\0", 8));
  // VARBINARY and CHAR keep what the image holds.
  ColumnInfo varbinary{.type = kTypeVarchar, .meta = 8, .collation = 63};
  ByteReader r2(image);
  EXPECT_EQ(DecodeColumnValue(varbinary, r2)->str(), "\x01");
  ColumnInfo chr{.type = kTypeString, .meta = 32, .collation = 45};
  std::string text("\x02" "ab", 3);
  ByteReader r3(text);
  EXPECT_EQ(DecodeColumnValue(chr, r3)->str(), "ab");
  EXPECT_EQ(TypeName(binary), "binary(8)");
  EXPECT_EQ(TypeName(chr), "char(8)");  // 32 bytes of utf8mb4
}

TEST(BinlogDecoderTest, MariaDbDecimalScaleUpTo38) {
  // DECIMAL(65,38) 0.000...01: 27 integer digits (3 groups of 9), 38
  // fraction digits (4 groups of 9 and 2 in one byte), all zero but the last.
  std::string b(DecimalBinarySize(65, 38), '\0');
  ASSERT_EQ(b.size(), 29u);
  b[0] = static_cast<char>(0x80);
  b.back() = 1;
  ByteReader r(b);
  auto v = DecodeDecimal(r, 65, 38);
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(*v, "0." + std::string(37, '0') + "1");
  ByteReader r2(b);
  EXPECT_FALSE(DecodeDecimal(r2, 65, 39).ok());
}

}  // namespace
}  // namespace phony::mysql
