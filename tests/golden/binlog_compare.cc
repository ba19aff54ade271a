#include "tests/golden/binlog_compare.h"

#include <algorithm>
#include <cinttypes>
#include <cstdarg>
#include <cstdio>
#include <utility>
#include <variant>

#include "gtest/gtest.h"
#include "src/capture/mysql/binlog_file.h"

namespace phony::testing {
namespace {

using mysql::ColumnInfo;

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

// UTF-8 back to MySQL's latin1 (Windows-1252, with 0x81, 0x8D, 0x8F, 0x90
// and 0x9D standing for themselves), the bytes the tool prints raw. Written
// apart from the decoder's conversion so the two check each other; a code
// point latin1 lacks becomes '?' (and the comparison fails).
std::string Utf8ToLatin1(std::string_view s) {
  static constexpr uint16_t kHigh[32] = {0x20AC, 0x81,   0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021,
                                         0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0x8D,   0x017D, 0x8F,
                                         0x90,   0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014,
                                         0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x9D,   0x017E, 0x0178};
  std::string out;
  for (size_t i = 0; i < s.size();) {
    const auto b = static_cast<uint8_t>(s[i]);
    const size_t n = b < 0x80 ? 1 : b < 0xE0 ? 2 : b < 0xF0 ? 3 : 4;
    uint32_t cp = n == 1 ? b : b & (0x7F >> n);
    for (size_t k = 1; k < n && i + k < s.size(); ++k) cp = (cp << 6) | (static_cast<uint8_t>(s[i + k]) & 0x3F);
    i += n;
    char byte = '?';
    if (cp < 0x80 || (cp >= 0xA0 && cp <= 0xFF)) {
      byte = static_cast<char>(cp);
    } else {
      for (int k = 0; k < 32; ++k) {
        if (kHigh[k] == cp) byte = static_cast<char>(0x80 + k);
      }
    }
    out.push_back(byte);
  }
  return out;
}

// A zero or partial date as the tool prints it: `'0000:00:00'`,
// `'2020:00:10'`, `'2024-01-00 00:00:00'`, or TIMESTAMP `0` / `0.00`.
bool IsZeroDate(const ColumnInfo& c, std::string_view printed) {
  switch (c.type) {
    case mysql::kTypeTimestamp: case mysql::kTypeTimestamp2:
      return printed == "0" || printed.substr(0, 2) == "0.";
    case mysql::kTypeDate: case mysql::kTypeNewDate: case mysql::kTypeDatetime: case mysql::kTypeDatetime2: {
      if (printed.size() < 11 || printed[0] != '\'') return false;
      return printed.substr(1, 4) == "0000" || printed.substr(6, 2) == "00" || printed.substr(9, 2) == "00";
    }
    default: return false;
  }
}

}  // namespace

OurFile DecodeOurs(const std::string& path, const std::function<bool(const mysql::TableMap&)>& keep) {
  OurFile f;
  auto reader = mysql::BinlogFileReader::Open(path);
  if (!reader.ok()) {
    f.status = reader.status();
    ADD_FAILURE() << path << ": " << f.status;
    return f;
  }
  mysql::BinlogDecoder decoder;
  std::string gtid;
  std::vector<mysql::BinlogEvent> events;
  size_t statement_start = 0;  // the first row of the statement not yet ended
  while (true) {
    auto next = (*reader)->Next();
    if (!next.ok()) {
      f.status = next.status();
      break;
    }
    if (!next->has_value()) break;
    events.clear();
    f.status = decoder.Decode((*next)->bytes, (*next)->offset, &events);
    if (!f.status.ok()) break;
    for (mysql::BinlogEvent& e : events) {
      if (const auto* g = std::get_if<mysql::GtidEvent>(&e.body)) gtid = g->gtid;
      auto* r = std::get_if<mysql::RowsEvent>(&e.body);
      if (r == nullptr) continue;
      if (!keep || keep(*r->table)) {
        for (mysql::RowChange& c : r->rows) {
          f.rows.push_back(OurRow{.offset = e.offset,
                                  .end_log_pos = e.header.log_pos,
                                  .gtid = gtid,
                                  .table = r->table,
                                  .op = r->kind == mysql::RowsEvent::Kind::kInsert   ? 'c'
                                        : r->kind == mysql::RowsEvent::Kind::kUpdate ? 'u'
                                                                                      : 'd',
                                  .before = std::move(c.before),
                                  .after = std::move(c.after)});
        }
      }
      if (r->flags & 0x0001) {  // STMT_END_F: the statement's last rows event
        for (size_t k = statement_start; k < f.rows.size(); ++k) f.rows[k].statement_end_log_pos = e.header.log_pos;
        statement_start = f.rows.size();
      }
    }
  }
  EXPECT_TRUE(f.status.ok()) << path << ": " << f.status;
  return f;
}

std::string AsPrinted(const Value& v, const ColumnInfo& c) {
  switch (c.type) {
    case mysql::kTypeFloat: return Printf("%g", static_cast<double>(static_cast<float>(v.double_value())));
    case mysql::kTypeDouble: return Printf("%.20g", v.double_value());
    case mysql::kTypeNewDecimal: return v.str();
    case mysql::kTypeYear: return Printf("%04" PRId64, v.int64_value() == 0 ? 1900 : v.int64_value());
    case mysql::kTypeDate: case mysql::kTypeNewDate: {
      int64_t y;
      unsigned m, d;
      CivilFromDays(v.date_value(), &y, &m, &d);
      return Printf("'%04" PRId64 ":%02u:%02u'", y, m, d);
    }
    case mysql::kTypeTime2: {
      const int64_t a = v.int64_value() < 0 ? -v.int64_value() : v.int64_value();
      const int64_t s = a / 1000000;
      return "'" + std::string(v.int64_value() < 0 ? "-" : "") +
             Printf("%02" PRId64 ":%02" PRId64 ":%02" PRId64, s / 3600, s / 60 % 60, s % 60) +
             Fraction(a % 1000000, c.meta) + "'";
    }
    case mysql::kTypeDatetime2: {
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
    case mysql::kTypeTimestamp2: {
      const int64_t micros = v.int64_value();
      return Printf("%" PRId64, micros / 1000000) + Fraction(micros % 1000000, c.meta);
    }
    case mysql::kTypeEnum: {
      if (v.str().empty()) return "0";
      for (size_t i = 0; i < c.enum_values.size(); ++i) {
        if (c.enum_values[i] == v.str()) return std::to_string(i + 1);
      }
      return "?";
    }
    case mysql::kTypeSet: {
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
    case mysql::kTypeBit: {
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
    case mysql::kTypeString: case mysql::kTypeVarchar: case mysql::kTypeVarString: case mysql::kTypeBlob:
    case mysql::kTypeGeometry: {
      const std::string_view charset = c.collation ? mysql::CharsetOfCollation(*c.collation) : "";
      // The tool prints the row image's bytes: latin1 as it is stored (we
      // convert it to UTF-8), and BINARY(n) without the trailing 0x00 pad the
      // server leaves out of the image (we restore it, as SELECT returns it).
      if (charset == "latin1") return Quoted(Utf8ToLatin1(v.str()));
      if (c.type == mysql::kTypeString && charset == "binary") {
        std::string_view b = v.str();
        while (!b.empty() && b.back() == '\0') b.remove_suffix(1);
        return Quoted(b);
      }
      return Quoted(v.str());
    }
    default: return "<" + v.DebugString() + ">";
  }
}

bool IntegerMatches(const Value& v, const std::string& theirs) {
  const std::string ours = v.kind() == ValueKind::kUInt64 ? std::to_string(v.uint64_value())
                                                          : std::to_string(v.int64_value());
  if (theirs == ours) return true;
  const size_t paren = theirs.find(" (");
  if (paren == std::string::npos) return false;
  return theirs.substr(0, paren) == ours || theirs.substr(paren + 2, theirs.size() - paren - 3) == ours;
}

void CompareImage(const std::string& where, const mysql::TableMap& t, const std::optional<Row>& ours,
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
      // Zero and partial dates are NULL to us and printed as stored by the tool.
      const bool zero_date = v.is_null() && it->second && IsZeroDate(c, *it->second);
      EXPECT_TRUE(v.is_null() == !it->second || zero_date)
          << where << " @" << i + 1 << ": " << v.DebugString() << " vs " << it->second.value_or("NULL");
      continue;
    }
    const std::string& text = *it->second;
    switch (c.type) {
      case mysql::kTypeTiny: case mysql::kTypeShort: case mysql::kTypeInt24: case mysql::kTypeLong:
      case mysql::kTypeLongLong:
        EXPECT_TRUE(IntegerMatches(v, text)) << where << " @" << i + 1 << ": " << v.DebugString() << " vs " << text;
        break;
      default:
        EXPECT_EQ(AsPrinted(v, c), text) << where << " @" << i + 1 << " (" << mysql::TypeName(c) << ")";
    }
  }
}

}  // namespace phony::testing
