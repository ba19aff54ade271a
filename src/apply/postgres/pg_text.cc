#include "src/apply/postgres/pg_text.h"

#include <charconv>
#include <cmath>
#include <cstdio>

namespace phony::apply::pg {

namespace {

constexpr int64_t kMicrosPerDay = 86400LL * 1000000;

int64_t FloorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

// Appends `v` in decimal, zero-padded to `width` digits.
void AppendPadded(uint64_t v, int width, std::string* out) {
  char buf[24];
  int n = 0;
  do {
    buf[n++] = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v != 0);
  for (int i = n; i < width; ++i) out->push_back('0');
  while (n > 0) out->push_back(buf[--n]);
}

void AppendDate(int64_t days, std::string* out) {
  int64_t year;
  unsigned month, day;
  CivilFromDays(days, &year, &month, &day);
  const bool bc = year <= 0;
  AppendPadded(static_cast<uint64_t>(bc ? 1 - year : year), 4, out);
  out->push_back('-');
  AppendPadded(month, 2, out);
  out->push_back('-');
  AppendPadded(day, 2, out);
  if (bc) out->append(" BC");  // appended after the time by callers that have one
}

// HH:MM:SS.ffffff; hours may exceed 24 and the value may be negative (MySQL TIME).
void AppendClock(int64_t micros, std::string* out) {
  uint64_t m = static_cast<uint64_t>(micros);
  if (micros < 0) {
    out->push_back('-');
    m = 0 - m;
  }
  const uint64_t secs = m / 1000000;
  AppendPadded(secs / 3600, 2, out);
  out->push_back(':');
  AppendPadded(secs / 60 % 60, 2, out);
  out->push_back(':');
  AppendPadded(secs % 60, 2, out);
  out->push_back('.');
  AppendPadded(m % 1000000, 6, out);
}

void AppendTimestamp(int64_t micros, bool with_zone, std::string* out) {
  if (micros == kTimestampPosInfinity) {
    out->append("infinity");
    return;
  }
  if (micros == kTimestampNegInfinity) {
    out->append("-infinity");
    return;
  }
  const int64_t days = FloorDiv(micros, kMicrosPerDay);
  const size_t start = out->size();
  AppendDate(days, out);
  const bool bc = out->size() - start > 3 && out->compare(out->size() - 3, 3, " BC") == 0;
  if (bc) out->resize(out->size() - 3);
  out->push_back(' ');
  AppendClock(micros - days * kMicrosPerDay, out);
  if (with_zone) out->append("+00");
  if (bc) out->append(" BC");
}

}  // namespace

void AppendText(const Value& v, std::string* out) {
  switch (v.kind()) {
    case ValueKind::kNull:
    case ValueKind::kUnchanged:
      return;
    case ValueKind::kBool:
      out->push_back(v.bool_value() ? 't' : 'f');
      return;
    case ValueKind::kInt64: {
      char buf[24];
      auto r = std::to_chars(buf, buf + sizeof(buf), v.int64_value());
      out->append(buf, r.ptr);
      return;
    }
    case ValueKind::kUInt64: {
      char buf[24];
      auto r = std::to_chars(buf, buf + sizeof(buf), v.uint64_value());
      out->append(buf, r.ptr);
      return;
    }
    case ValueKind::kDouble: {
      const double d = v.double_value();
      if (std::isnan(d)) {
        out->append("NaN");
      } else if (std::isinf(d)) {
        out->append(d > 0 ? "Infinity" : "-Infinity");
      } else {
        char buf[32];
        auto r = std::to_chars(buf, buf + sizeof(buf), d);
        out->append(buf, r.ptr);
      }
      return;
    }
    case ValueKind::kDecimal:
    case ValueKind::kText:
    case ValueKind::kJson:
      out->append(v.str());
      return;
    case ValueKind::kBytes: {
      static const char kHex[] = "0123456789abcdef";
      out->append("\\x");
      for (unsigned char c : v.str()) {
        out->push_back(kHex[c >> 4]);
        out->push_back(kHex[c & 15]);
      }
      return;
    }
    case ValueKind::kDate:
      if (v.date_value() == kDatePosInfinity) {
        out->append("infinity");
      } else if (v.date_value() == kDateNegInfinity) {
        out->append("-infinity");
      } else {
        AppendDate(v.date_value(), out);
      }
      return;
    case ValueKind::kTime:
      AppendClock(v.int64_value(), out);
      return;
    case ValueKind::kTimeTz: {
      AppendClock(v.int64_value(), out);
      int32_t off = v.tz_offset_seconds();
      out->push_back(off < 0 ? '-' : '+');
      off = off < 0 ? -off : off;
      char buf[16];
      std::snprintf(buf, sizeof(buf), "%02d:%02d:%02d", off / 3600, off / 60 % 60, off % 60);
      out->append(buf);
      return;
    }
    case ValueKind::kTimestamp:
      AppendTimestamp(v.int64_value(), false, out);
      return;
    case ValueKind::kTimestampTz:
      AppendTimestamp(v.int64_value(), true, out);
      return;
    case ValueKind::kInterval: {
      const Interval iv = v.interval_value();
      out->append(std::to_string(iv.months));
      out->append(" mons ");
      out->append(std::to_string(iv.days));
      out->append(" days ");
      AppendClock(iv.micros, out);
      return;
    }
    case ValueKind::kUuid:
      out->append(FormatUuid(v.str()));
      return;
  }
}

std::string Text(const Value& value) {
  std::string out;
  AppendText(value, &out);
  return out;
}

void AppendCopyField(const Value& value, std::string* out) {
  if (value.is_null() || value.is_unchanged()) {
    out->append("\\N");
    return;
  }
  const ValueKind k = value.kind();
  if (k != ValueKind::kText && k != ValueKind::kJson && k != ValueKind::kBytes && k != ValueKind::kDecimal) {
    AppendText(value, out);  // nothing in these forms needs escaping
    return;
  }
  if (k == ValueKind::kBytes) out->push_back('\\');  // the \x prefix's backslash
  if (k == ValueKind::kBytes || k == ValueKind::kDecimal) {
    AppendText(value, out);
    return;
  }
  const std::string& s = value.str();
  size_t start = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    const char* esc = nullptr;
    switch (c) {
      case '\\': esc = "\\\\"; break;
      case '\n': esc = "\\n"; break;
      case '\r': esc = "\\r"; break;
      case '\t': esc = "\\t"; break;
      default: continue;
    }
    out->append(s, start, i - start);
    out->append(esc);
    start = i + 1;
  }
  out->append(s, start, std::string::npos);
}

std::string QuoteIdent(std::string_view name) {
  std::string out = "\"";
  for (char c : name) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

std::string QuoteTable(const TableId& table) { return QuoteIdent(table.schema) + "." + QuoteIdent(table.table); }

std::string StagingType(const ColumnDef& column, bool source_is_postgres) {
  if (source_is_postgres) {
    constexpr uint32_t kFirstNormalObjectId = 16384;
    if (column.type_id != 0 && column.type_id < kFirstNormalObjectId && !column.type_name.empty()) {
      return column.type_name;
    }
    return "text";
  }
  switch (column.kind) {
    case ValueKind::kBool: return "boolean";
    case ValueKind::kInt64: return "bigint";
    case ValueKind::kUInt64: return "numeric(20,0)";
    case ValueKind::kDouble: return "double precision";
    case ValueKind::kDecimal: return "numeric";
    case ValueKind::kBytes: return "bytea";
    case ValueKind::kDate: return "date";
    case ValueKind::kTime: return "interval";  // MySQL TIME spans ±838 hours
    case ValueKind::kTimeTz: return "time with time zone";
    case ValueKind::kTimestamp: return "timestamp without time zone";
    case ValueKind::kTimestampTz: return "timestamp with time zone";
    case ValueKind::kInterval: return "interval";
    case ValueKind::kUuid: return "uuid";
    case ValueKind::kJson: return "jsonb";
    default: return "text";
  }
}

}  // namespace phony::apply::pg
