#include "core/value.h"

#include <cmath>
#include <cstring>
#include <string>

namespace phony {

const char* ValueKindName(ValueKind kind) {
  switch (kind) {
    case ValueKind::kNull: return "null";
    case ValueKind::kUnchanged: return "unchanged";
    case ValueKind::kBool: return "bool";
    case ValueKind::kInt64: return "int64";
    case ValueKind::kUInt64: return "uint64";
    case ValueKind::kDouble: return "double";
    case ValueKind::kDecimal: return "decimal";
    case ValueKind::kText: return "text";
    case ValueKind::kBytes: return "bytes";
    case ValueKind::kDate: return "date";
    case ValueKind::kTime: return "time";
    case ValueKind::kTimeTz: return "timetz";
    case ValueKind::kTimestamp: return "timestamp";
    case ValueKind::kTimestampTz: return "timestamptz";
    case ValueKind::kInterval: return "interval";
    case ValueKind::kUuid: return "uuid";
    case ValueKind::kJson: return "json";
  }
  return "invalid";
}

Value Value::Bool(bool v) {
  Value out(ValueKind::kBool);
  out.scalar_.b = v;
  return out;
}
Value Value::Int64(int64_t v) {
  Value out(ValueKind::kInt64);
  out.scalar_.i = v;
  return out;
}
Value Value::UInt64(uint64_t v) {
  Value out(ValueKind::kUInt64);
  out.scalar_.u = v;
  return out;
}
Value Value::Double(double v) {
  Value out(ValueKind::kDouble);
  out.scalar_.d = v;
  return out;
}
Value Value::Decimal(std::string text) {
  Value out(ValueKind::kDecimal);
  out.str_ = std::move(text);
  return out;
}
Value Value::Text(std::string text) {
  Value out(ValueKind::kText);
  out.str_ = std::move(text);
  return out;
}
Value Value::Bytes(std::string bytes) {
  Value out(ValueKind::kBytes);
  out.str_ = std::move(bytes);
  return out;
}
Value Value::Date(int32_t days) {
  Value out(ValueKind::kDate);
  out.aux0_ = days;
  return out;
}
Value Value::Time(int64_t micros) {
  Value out(ValueKind::kTime);
  out.scalar_.i = micros;
  return out;
}
Value Value::TimeTz(int64_t micros, int32_t offset_seconds_east) {
  Value out(ValueKind::kTimeTz);
  out.scalar_.i = micros;
  out.aux0_ = offset_seconds_east;
  return out;
}
Value Value::Timestamp(int64_t micros) {
  Value out(ValueKind::kTimestamp);
  out.scalar_.i = micros;
  return out;
}
Value Value::TimestampTz(int64_t micros) {
  Value out(ValueKind::kTimestampTz);
  out.scalar_.i = micros;
  return out;
}
Value Value::MakeInterval(Interval iv) {
  Value out(ValueKind::kInterval);
  out.aux0_ = iv.months;
  out.aux1_ = iv.days;
  out.scalar_.i = iv.micros;
  return out;
}
Value Value::Uuid(std::string_view bytes16) {
  Value out(ValueKind::kUuid);
  out.str_.assign(bytes16.data(), bytes16.size());
  return out;
}
Value Value::Json(std::string text) {
  Value out(ValueKind::kJson);
  out.str_ = std::move(text);
  return out;
}

bool operator==(const Value& a, const Value& b) {
  if (a.kind_ != b.kind_) return false;
  switch (a.kind_) {
    case ValueKind::kNull:
    case ValueKind::kUnchanged:
      return true;
    case ValueKind::kBool:
      return a.scalar_.b == b.scalar_.b;
    case ValueKind::kDouble:
      // Bitwise: NaN equals NaN, -0 differs from +0; this is a lossless
      // pipeline, not arithmetic.
      return std::memcmp(&a.scalar_.d, &b.scalar_.d, sizeof(double)) == 0;
    case ValueKind::kInt64:
    case ValueKind::kUInt64:
    case ValueKind::kTime:
    case ValueKind::kTimestamp:
    case ValueKind::kTimestampTz:
      return a.scalar_.u == b.scalar_.u;
    case ValueKind::kTimeTz:
      return a.scalar_.i == b.scalar_.i && a.aux0_ == b.aux0_;
    case ValueKind::kDate:
      return a.aux0_ == b.aux0_;
    case ValueKind::kInterval:
      return a.interval_value() == b.interval_value();
    case ValueKind::kDecimal:
    case ValueKind::kText:
    case ValueKind::kBytes:
    case ValueKind::kUuid:
    case ValueKind::kJson:
      return a.str_ == b.str_;
  }
  return false;
}

static void AppendQuoted(std::string* out, std::string_view s) {
  static const char kHex[] = "0123456789abcdef";
  out->push_back('"');
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out->push_back('\\');
      out->push_back(static_cast<char>(c));
    } else if (c < 0x20 || c >= 0x7f) {
      out->append("\\x");
      out->push_back(kHex[c >> 4]);
      out->push_back(kHex[c & 15]);
    } else {
      out->push_back(static_cast<char>(c));
    }
  }
  out->push_back('"');
}

std::string Value::DebugString() const {
  std::string out = ValueKindName(kind_);
  switch (kind_) {
    case ValueKind::kNull:
    case ValueKind::kUnchanged:
      return out;
    case ValueKind::kBool:
      return out + (scalar_.b ? ":true" : ":false");
    case ValueKind::kInt64:
    case ValueKind::kTime:
    case ValueKind::kTimestamp:
    case ValueKind::kTimestampTz:
      return out + ":" + std::to_string(scalar_.i);
    case ValueKind::kUInt64:
      return out + ":" + std::to_string(scalar_.u);
    case ValueKind::kDouble: {
      char buf[64];
      std::snprintf(buf, sizeof(buf), "%.17g", scalar_.d);
      return out + ":" + buf;
    }
    case ValueKind::kTimeTz:
      return out + ":" + std::to_string(scalar_.i) + "@" + std::to_string(aux0_);
    case ValueKind::kDate:
      return out + ":" + std::to_string(aux0_);
    case ValueKind::kInterval:
      return out + ":" + std::to_string(aux0_) + "m" + std::to_string(aux1_) + "d" +
             std::to_string(scalar_.i) + "us";
    case ValueKind::kUuid:
      return out + ":" + FormatUuid(str_);
    case ValueKind::kDecimal:
      return out + ":" + str_;
    case ValueKind::kText:
    case ValueKind::kBytes:
    case ValueKind::kJson:
      out.push_back(':');
      AppendQuoted(&out, str_);
      return out;
  }
  return out;
}

std::string FormatUuid(std::string_view b) {
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  if (b.size() != 16) return "<invalid uuid>";
  out.reserve(36);
  for (size_t i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out.push_back('-');
    const auto c = static_cast<unsigned char>(b[i]);
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 15]);
  }
  return out;
}

static int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool ParseUuid(std::string_view text, std::string* bytes16) {
  if (text.size() != 36 || text[8] != '-' || text[13] != '-' || text[18] != '-' ||
      text[23] != '-') {
    return false;
  }
  char out[16];
  size_t n = 0;
  for (size_t i = 0; i < 36; i += 2) {
    if (i == 8 || i == 13 || i == 18 || i == 23) ++i;
    const int hi = HexDigit(text[i]), lo = HexDigit(text[i + 1]);
    if (hi < 0 || lo < 0) return false;
    out[n++] = static_cast<char>(hi * 16 + lo);
  }
  bytes16->assign(out, 16);
  return true;
}

bool NormalizeDecimal(std::string_view text, std::string* out) {
  if (text == "NaN" || text == "Infinity" || text == "-Infinity") {
    out->assign(text);
    return true;
  }
  bool negative = false;
  if (!text.empty() && (text[0] == '-' || text[0] == '+')) {
    negative = text[0] == '-';
    text.remove_prefix(1);
  }
  const size_t dot = text.find('.');
  std::string_view int_part = text.substr(0, dot);
  std::string_view frac_part =
      dot == std::string_view::npos ? std::string_view() : text.substr(dot + 1);
  if (int_part.empty() && frac_part.empty()) return false;
  if (dot != std::string_view::npos && frac_part.empty() && int_part.empty()) return false;
  for (char c : int_part) if (c < '0' || c > '9') return false;
  for (char c : frac_part) if (c < '0' || c > '9') return false;
  while (int_part.size() > 1 && int_part[0] == '0') int_part.remove_prefix(1);
  if (int_part.empty()) int_part = "0";
  bool zero = int_part == "0";
  for (char c : frac_part) zero = zero && c == '0';
  std::string result;
  if (negative && !zero) result.push_back('-');
  result.append(int_part);
  if (!frac_part.empty()) {
    result.push_back('.');
    result.append(frac_part);
  }
  *out = std::move(result);
  return true;
}

void CivilFromDays(int64_t z, int64_t* y, unsigned* m, unsigned* d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  *d = static_cast<unsigned>(doy - (153 * mp + 2) / 5 + 1);
  *m = static_cast<unsigned>(mp < 10 ? mp + 3 : mp - 9);
  *y = yoe + era * 400 + (*m <= 2);
}

int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

}  // namespace phony
