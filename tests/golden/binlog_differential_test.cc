// Our binlog decoder against an independent one: every row of every fixture
// that `mariadb-binlog --base64-output=decode-rows -vv` reads must come out of
// our decoder with the same event, table, operation, columns and values
// (after the normalizations docs/mariadb-binlog-text.md lists). Files the
// tool cannot read (MySQL JSON, transaction payloads, tagged GTIDs) are
// covered by src/capture/mysql/binlog_decoder_test.cc's upstream values.
#include <cctype>
#include <cinttypes>
#include <cstdarg>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "src/capture/mysql/binlog_decoder.h"
#include "src/capture/mysql/binlog_file.h"
#include "tests/golden/mariadb_binlog_text.h"

namespace phony::mysql {
namespace {

const std::string kFixtures = PHONY_BINLOG_FIXTURES;

struct OurRow {
  uint64_t end_log_pos = 0;
  const TableMap* table = nullptr;
  char op = 0;
  std::optional<Row> before, after;
};

struct OurFile {
  std::vector<OurRow> rows;
  std::vector<BinlogEvent> events;  // keeps the table maps alive
};

OurFile DecodeOurs(const std::string& path) {
  OurFile f;
  auto reader = BinlogFileReader::Open(path);
  EXPECT_TRUE(reader.ok()) << reader.status();
  if (!reader.ok()) return f;
  BinlogDecoder decoder;
  while (true) {
    auto next = (*reader)->Next();
    EXPECT_TRUE(next.ok()) << next.status();
    if (!next.ok() || !next->has_value()) break;
    const size_t first = f.events.size();
    absl::Status s = decoder.Decode((*next)->bytes, (*next)->offset, &f.events);
    EXPECT_TRUE(s.ok()) << s;
    if (!s.ok()) break;
    for (size_t i = first; i < f.events.size(); ++i) {
      const auto* r = std::get_if<RowsEvent>(&f.events[i].body);
      if (r == nullptr) continue;
      for (const RowChange& c : r->rows) {
        f.rows.push_back(OurRow{.end_log_pos = f.events[i].header.log_pos,
                                .table = r->table.get(),
                                .op = r->kind == RowsEvent::Kind::kInsert   ? 'c'
                                      : r->kind == RowsEvent::Kind::kUpdate ? 'u'
                                                                            : 'd',
                                .before = c.before,
                                .after = c.after});
      }
    }
  }
  return f;
}

std::string Printf(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
std::string Printf(const char* fmt, ...) {
  char buf[128];
  va_list ap;
  va_start(ap, fmt);
  const int n = std::vsnprintf(buf, sizeof(buf), fmt, ap);
  va_end(ap);
  return std::string(buf, static_cast<size_t>(n));
}

std::string Quoted(std::string_view bytes) {
  std::string out = "'";
  for (char c : bytes) {
    if (static_cast<uint8_t>(c) < 0x20) {
      out += Printf("\\x%02x", static_cast<uint8_t>(c));
    } else {
      out.push_back(c);
    }
  }
  return out + "'";
}

std::string Fraction(int64_t micros, int digits) {
  if (digits == 0) return "";
  std::string f = Printf("%06" PRId64, micros);
  return "." + f.substr(0, static_cast<size_t>(digits));
}

// Our value as mariadb-binlog -vv prints it for that column, or nullopt
// where the tool prints something we must match differently (integers).
std::string AsPrinted(const Value& v, const ColumnInfo& c) {
  switch (c.type) {
    case kTypeFloat: return Printf("%g", static_cast<double>(static_cast<float>(v.double_value())));
    case kTypeDouble: return Printf("%.20g", v.double_value());
    case kTypeNewDecimal: return v.str();
    case kTypeYear: return Printf("%04" PRId64, v.int64_value() == 0 ? 1900 : v.int64_value());
    case kTypeDate: case kTypeNewDate: {
      int64_t y;
      unsigned m, d;
      CivilFromDays(v.date_value(), &y, &m, &d);
      return Printf("'%04" PRId64 ":%02u:%02u'", y, m, d);
    }
    case kTypeTime2: {
      const int64_t a = v.int64_value() < 0 ? -v.int64_value() : v.int64_value();
      const int64_t s = a / 1000000;
      return "'" + std::string(v.int64_value() < 0 ? "-" : "") +
             Printf("%02" PRId64 ":%02" PRId64 ":%02" PRId64, s / 3600, s / 60 % 60, s % 60) +
             Fraction(a % 1000000, c.meta) + "'";
    }
    case kTypeDatetime2: {
      const int64_t micros = v.int64_value();
      int64_t days = micros / 86400000000LL, rest = micros % 86400000000LL;
      if (rest < 0) {
        rest += 86400000000LL;
        --days;
      }
      int64_t y;
      unsigned m, d;
      CivilFromDays(days, &y, &m, &d);
      const int64_t s = rest / 1000000;
      return Printf("'%04" PRId64 "-%02u-%02u %02" PRId64 ":%02" PRId64 ":%02" PRId64, y, m, d, s / 3600, s / 60 % 60,
                    s % 60) +
             Fraction(rest % 1000000, c.meta) + "'";
    }
    case kTypeTimestamp2: {
      const int64_t micros = v.int64_value();
      return Printf("%" PRId64, micros / 1000000) + Fraction(micros % 1000000, c.meta);
    }
    case kTypeEnum: {
      if (v.str().empty()) return "0";
      for (size_t i = 0; i < c.enum_values.size(); ++i) {
        if (c.enum_values[i] == v.str()) return std::to_string(i + 1);
      }
      return "?";
    }
    case kTypeSet: {
      uint64_t mask = 0;
      size_t start = 0;
      const std::string& s = v.str();
      while (!s.empty() && start <= s.size()) {
        const size_t end = std::min(s.find(',', start), s.size());
        for (size_t i = 0; i < c.enum_values.size(); ++i) {
          if (c.enum_values[i] == s.substr(start, end - start)) mask |= uint64_t{1} << i;
        }
        start = end + 1;
      }
      std::string out = "b'";
      for (int byte = 0; byte < c.meta; ++byte) {
        for (int bit = 7; bit >= 0; --bit) out.push_back(((mask >> (8 * byte + bit)) & 1) ? '1' : '0');
      }
      return out + "'";
    }
    case kTypeBit: {
      const int n = c.bits();
      uint64_t value = 0;
      if (v.kind() == ValueKind::kBool) {
        value = v.bool_value() ? 1 : 0;
      } else {
        for (char b : v.str()) value = (value << 8) | static_cast<uint8_t>(b);
      }
      std::string out = "b'";
      for (int i = n - 1; i >= 0; --i) out.push_back(((value >> i) & 1) ? '1' : '0');
      return out + "'";
    }
    case kTypeString: case kTypeVarchar: case kTypeVarString: case kTypeBlob: case kTypeGeometry:
      return Quoted(v.str());
    default: return "<" + v.DebugString() + ">";
  }
}

// Integers print signed, with the unsigned reading in parentheses when
// the signed one is negative: ours must be one of the two.
bool IntegerMatches(const Value& v, const std::string& theirs) {
  const std::string ours = v.kind() == ValueKind::kUInt64 ? std::to_string(v.uint64_value())
                                                          : std::to_string(v.int64_value());
  if (theirs == ours) return true;
  const size_t paren = theirs.find(" (");
  if (paren == std::string::npos) return false;
  return theirs.substr(0, paren) == ours || theirs.substr(paren + 2, theirs.size() - paren - 3) == ours;
}

void CompareImage(const std::string& where, const TableMap& t, const std::optional<Row>& ours,
                  const std::map<int, std::optional<std::string>>& theirs) {
  ASSERT_EQ(ours.has_value(), !theirs.empty()) << where;
  if (!ours) return;
  for (size_t i = 0; i < ours->size(); ++i) {
    const Value& v = (*ours)[i];
    auto it = theirs.find(static_cast<int>(i + 1));
    if (v.is_unchanged()) {
      EXPECT_EQ(it, theirs.end()) << where << " @" << i + 1 << ": we lack a column the tool printed";
      continue;
    }
    ASSERT_NE(it, theirs.end()) << where << " @" << i + 1 << ": the tool lacks a column we decoded";
    const ColumnInfo& c = t.columns[i];
    if (v.is_null() || !it->second) {
      // Zero dates are NULL to us and printed as stored by the tool.
      const bool zero_date = v.is_null() && it->second &&
                             (it->second->find("0000") != std::string::npos || *it->second == "0" ||
                              it->second->rfind("0.", 0) == 0);
      EXPECT_TRUE(v.is_null() == !it->second || zero_date)
          << where << " @" << i + 1 << ": " << v.DebugString() << " vs " << it->second.value_or("NULL");
      continue;
    }
    const std::string& text = *it->second;
    switch (c.type) {
      case kTypeTiny: case kTypeShort: case kTypeInt24: case kTypeLong: case kTypeLongLong:
        EXPECT_TRUE(IntegerMatches(v, text)) << where << " @" << i + 1 << ": " << v.DebugString() << " vs " << text;
        break;
      default:
        EXPECT_EQ(AsPrinted(v, c), text) << where << " @" << i + 1 << " (" << TypeName(c) << ")";
    }
  }
}

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
    EXPECT_EQ(o.end_log_pos, t.end_log_pos) << where;
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
