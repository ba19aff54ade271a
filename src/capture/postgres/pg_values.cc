#include "src/capture/postgres/pg_values.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <vector>
#include <cstdlib>
#include <limits>
#include <string>

#include "core/byte_reader.h"
#include "core/status_macros.h"
#include "src/capture/postgres/pg_types_internal.h"
#include "src/capture/postgres/pgoutput_decoder.h"

namespace phony::pg {
namespace {

constexpr int64_t kMicrosPerSecond = 1000000;
constexpr int64_t kMicrosPerDay = 86400 * kMicrosPerSecond;

absl::Status Bad(const char* type, const char* why) {
  return absl::DataLossError(std::string("pgoutput value of type ") + type + ": " + why);
}

// A small cursor for the text forms.
class Scanner {
 public:
  explicit Scanner(std::string_view s) : s_(s) {}
  bool done() const { return pos_ == s_.size(); }
  char peek() const { return done() ? '\0' : s_[pos_]; }
  bool Consume(char c) {
    if (peek() != c) return false;
    ++pos_;
    return true;
  }
  bool ConsumeStr(std::string_view t) {
    if (s_.substr(pos_, t.size()) != t) return false;
    pos_ += t.size();
    return true;
  }
  // Reads at least `min` and at most `max` digits.
  bool Digits(int64_t* out, size_t min = 1, size_t max = 18) {
    size_t n = 0;
    int64_t v = 0;
    while (n < max && pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9') {
      v = v * 10 + (s_[pos_++] - '0');
      ++n;
    }
    *out = v;
    return n >= min;
  }
  // ".ffffff" → microseconds (up to 6 digits; more is an error).
  bool Fraction(int64_t* micros) {
    *micros = 0;
    if (!Consume('.')) return true;
    size_t n = 0;
    int64_t v = 0;
    while (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9') {
      if (++n > 6) return false;
      v = v * 10 + (s_[pos_++] - '0');
    }
    if (n == 0) return false;
    for (size_t i = n; i < 6; ++i) v *= 10;
    *micros = v;
    return true;
  }

 private:
  std::string_view s_;
  size_t pos_ = 0;
};

// "YYYY-MM-DD" → days; a trailing " BC" is handled by the caller.
bool ParseDateParts(Scanner& sc, int64_t* year, int64_t* month, int64_t* day) {
  return sc.Digits(year, 4, 9) && sc.Consume('-') && sc.Digits(month, 2, 2) && sc.Consume('-') &&
         sc.Digits(day, 2, 2) && *month >= 1 && *month <= 12 && *day >= 1 && *day <= 31;
}

bool ParseTimeParts(Scanner& sc, int64_t* micros) {
  int64_t h, m, s, frac;
  if (!(sc.Digits(&h, 2, 2) && sc.Consume(':') && sc.Digits(&m, 2, 2) && sc.Consume(':') &&
        sc.Digits(&s, 2, 2) && sc.Fraction(&frac))) {
    return false;
  }
  if (h > 24 || m > 59 || s > 60) return false;
  *micros = ((h * 60 + m) * 60 + s) * kMicrosPerSecond + frac;
  return *micros <= kMicrosPerDay;
}

// "+HH[:MM[:SS]]" → seconds east of UTC.
bool ParseZone(Scanner& sc, int32_t* offset_east) {
  const bool neg = sc.peek() == '-';
  if (!sc.Consume('+') && !sc.Consume('-')) return false;
  int64_t h = 0, m = 0, s = 0;
  if (!sc.Digits(&h, 2, 2)) return false;
  if (sc.Consume(':') && !sc.Digits(&m, 2, 2)) return false;
  if (sc.Consume(':') && !sc.Digits(&s, 2, 2)) return false;
  const int64_t secs = h * 3600 + m * 60 + s;
  if (secs > 16 * 3600) return false;  // PostgreSQL allows up to ±15:59:59
  *offset_east = static_cast<int32_t>(neg ? -secs : secs);
  return true;
}

bool ParseBc(Scanner& sc, int64_t* year) {
  if (sc.ConsumeStr(" BC")) {
    if (*year == 0) return false;
    *year = 1 - *year;  // 1 BC is astronomical year 0
  }
  return true;
}

absl::StatusOr<Value> ParseDate(std::string_view t) {
  if (t == "infinity") return Value::Date(kDatePosInfinity);
  if (t == "-infinity") return Value::Date(kDateNegInfinity);
  Scanner sc(t);
  int64_t y, mo, d;
  if (!ParseDateParts(sc, &y, &mo, &d) || !ParseBc(sc, &y) || !sc.done()) {
    return Bad("date", "not YYYY-MM-DD[ BC]");
  }
  const int64_t days = DaysFromCivil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d));
  if (days <= kDateNegInfinity || days >= kDatePosInfinity) return Bad("date", "out of range");
  return Value::Date(static_cast<int32_t>(days));
}

absl::StatusOr<Value> ParseTimestamp(std::string_view t, bool with_zone) {
  const char* type = with_zone ? "timestamptz" : "timestamp";
  if (t == "infinity") {
    return with_zone ? Value::TimestampTz(kTimestampPosInfinity) : Value::Timestamp(kTimestampPosInfinity);
  }
  if (t == "-infinity") {
    return with_zone ? Value::TimestampTz(kTimestampNegInfinity) : Value::Timestamp(kTimestampNegInfinity);
  }
  Scanner sc(t);
  int64_t y, mo, d, tod;
  if (!ParseDateParts(sc, &y, &mo, &d) || !sc.Consume(' ') || !ParseTimeParts(sc, &tod)) {
    return Bad(type, "not YYYY-MM-DD HH:MM:SS[.ffffff]");
  }
  int32_t offset = 0;
  if (with_zone && !ParseZone(sc, &offset)) return Bad(type, "missing zone offset");
  if (!ParseBc(sc, &y) || !sc.done()) return Bad(type, "trailing text");
  const int64_t days = DaysFromCivil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d));
  // PostgreSQL's range (4713 BC to 294276 AD) fits int64 microseconds.
  const int64_t micros = days * kMicrosPerDay + tod - static_cast<int64_t>(offset) * kMicrosPerSecond;
  return with_zone ? Value::TimestampTz(micros) : Value::Timestamp(micros);
}

// ISO 8601 interval as IntervalStyle=iso_8601 prints it: "P1Y2M3DT4H5M6.5S",
// each field possibly negative, "PT0S" for zero.
absl::StatusOr<Value> ParseInterval(std::string_view t) {
  if (t.empty() || t[0] != 'P') return Bad("interval", "not ISO 8601 (IntervalStyle=iso_8601)");
  size_t i = 1;
  bool in_time = false;
  Interval iv;
  bool any = false;
  while (i < t.size()) {
    if (t[i] == 'T') {
      if (in_time) return Bad("interval", "two T separators");
      in_time = true;
      ++i;
      continue;
    }
    // number: -?digits[.digits]
    const size_t start = i;
    if (t[i] == '-') ++i;
    while (i < t.size() && ((t[i] >= '0' && t[i] <= '9') || t[i] == '.')) ++i;
    if (i == start || i >= t.size()) return Bad("interval", "malformed field");
    const std::string_view num = t.substr(start, i - start);
    const char unit = t[i++];
    any = true;
    const bool neg = num[0] == '-';
    const std::string_view digits = neg ? num.substr(1) : num;
    const size_t dot = digits.find('.');
    int64_t whole = 0, frac_us = 0;
    const std::string_view wpart = digits.substr(0, dot);
    if (wpart.empty() ||
        std::from_chars(wpart.data(), wpart.data() + wpart.size(), whole).ec != std::errc()) {
      return Bad("interval", "malformed number");
    }
    if (dot != std::string_view::npos) {
      if (!(in_time && unit == 'S')) return Bad("interval", "fraction outside seconds");
      std::string_view f = digits.substr(dot + 1);
      if (f.empty() || f.size() > 6) return Bad("interval", "bad fraction");
      for (char c : f) {
        if (c < '0' || c > '9') return Bad("interval", "bad fraction");
        frac_us = frac_us * 10 + (c - '0');
      }
      for (size_t k = f.size(); k < 6; ++k) frac_us *= 10;
    }
    const int64_t sign = neg ? -1 : 1;
    if (!in_time) {
      switch (unit) {
        case 'Y': iv.months += static_cast<int32_t>(sign * whole * 12); break;
        case 'M': iv.months += static_cast<int32_t>(sign * whole); break;
        case 'W': iv.days += static_cast<int32_t>(sign * whole * 7); break;
        case 'D': iv.days += static_cast<int32_t>(sign * whole); break;
        default: return Bad("interval", "unknown date unit");
      }
    } else {
      switch (unit) {
        case 'H': iv.micros += sign * whole * 3600 * kMicrosPerSecond; break;
        case 'M': iv.micros += sign * whole * 60 * kMicrosPerSecond; break;
        case 'S': iv.micros += sign * (whole * kMicrosPerSecond + frac_us); break;
        default: return Bad("interval", "unknown time unit");
      }
    }
  }
  if (!any) return Bad("interval", "no fields");
  return Value::MakeInterval(iv);
}

absl::StatusOr<Value> ParseFloat(std::string_view t, const char* type) {
  if (t == "NaN") return Value::Double(std::numeric_limits<double>::quiet_NaN());
  if (t == "Infinity") return Value::Double(std::numeric_limits<double>::infinity());
  if (t == "-Infinity") return Value::Double(-std::numeric_limits<double>::infinity());
  double d;
  const auto [ptr, ec] = std::from_chars(t.data(), t.data() + t.size(), d);
  if (ec != std::errc() || ptr != t.data() + t.size()) return Bad(type, "not a number");
  return Value::Double(d);
}

template <typename T>
absl::StatusOr<Value> ParseInt(std::string_view t, const char* type) {
  T v;
  const auto [ptr, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
  if (ec != std::errc() || ptr != t.data() + t.size()) return Bad(type, "not an integer in range");
  return Value::Int64(static_cast<int64_t>(v));
}

int HexNibble(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

ValueKind KindForType(uint32_t oid) {
  switch (oid) {
    case kBoolOid: return ValueKind::kBool;
    case kByteaOid: return ValueKind::kBytes;
    case kInt2Oid:
    case kInt4Oid:
    case kInt8Oid:
    case kOidOid: return ValueKind::kInt64;
    case kFloat4Oid:
    case kFloat8Oid: return ValueKind::kDouble;
    case kNumericOid: return ValueKind::kDecimal;
    case kDateOid: return ValueKind::kDate;
    case kTimeOid: return ValueKind::kTime;
    case kTimeTzOid: return ValueKind::kTimeTz;
    case kTimestampOid: return ValueKind::kTimestamp;
    case kTimestampTzOid: return ValueKind::kTimestampTz;
    case kIntervalOid: return ValueKind::kInterval;
    case kUuidOid: return ValueKind::kUuid;
    case kJsonOid:
    case kJsonbOid: return ValueKind::kJson;
    default: return ValueKind::kText;
  }
}

absl::StatusOr<Value> ParseTextValue(uint32_t oid, std::string_view t) {
  switch (oid) {
    case kBoolOid:
      if (t == "t") return Value::Bool(true);
      if (t == "f") return Value::Bool(false);
      return Bad("bool", "not t or f");
    case kInt2Oid: return ParseInt<int16_t>(t, "int2");
    case kInt4Oid: return ParseInt<int32_t>(t, "int4");
    case kInt8Oid: return ParseInt<int64_t>(t, "int8");
    case kOidOid: return ParseInt<uint32_t>(t, "oid");
    case kFloat4Oid: return ParseFloat(t, "float4");
    case kFloat8Oid: return ParseFloat(t, "float8");
    case kNumericOid: {
      std::string out;
      if (!NormalizeDecimal(t, &out)) return Bad("numeric", "not a decimal");
      return Value::Decimal(std::move(out));
    }
    case kByteaOid: {
      if (t.size() < 2 || t[0] != '\\' || t[1] != 'x' || t.size() % 2 != 0) {
        return Bad("bytea", "not hex output (bytea_output=hex)");
      }
      std::string out;
      out.reserve((t.size() - 2) / 2);
      for (size_t i = 2; i < t.size(); i += 2) {
        const int hi = HexNibble(t[i]), lo = HexNibble(t[i + 1]);
        if (hi < 0 || lo < 0) return Bad("bytea", "bad hex digit");
        out.push_back(static_cast<char>(hi * 16 + lo));
      }
      return Value::Bytes(std::move(out));
    }
    case kDateOid: return ParseDate(t);
    case kTimeOid: {
      Scanner sc(t);
      int64_t micros;
      if (!ParseTimeParts(sc, &micros) || !sc.done()) return Bad("time", "not HH:MM:SS[.ffffff]");
      return Value::Time(micros);
    }
    case kTimeTzOid: {
      Scanner sc(t);
      int64_t micros;
      int32_t offset;
      if (!ParseTimeParts(sc, &micros) || !ParseZone(sc, &offset) || !sc.done()) {
        return Bad("timetz", "not HH:MM:SS[.ffffff]+HH[:MM]");
      }
      return Value::TimeTz(micros, offset);
    }
    case kTimestampOid: return ParseTimestamp(t, false);
    case kTimestampTzOid: return ParseTimestamp(t, true);
    case kIntervalOid: return ParseInterval(t);
    case kUuidOid: {
      std::string bytes;
      if (!ParseUuid(t, &bytes)) return Bad("uuid", "not 8-4-4-4-12 hex");
      return Value::Uuid(bytes);
    }
    case kJsonOid:
    case kJsonbOid:
      return Value::Json(std::string(t));
    default:
      return Value::Text(std::string(t));
  }
}

namespace {

constexpr int32_t kPgEpochDays = 10957;  // 2000-01-01 - 1970-01-01

absl::StatusOr<Value> ParseNumericBinary(std::string_view b) {
  ByteReader r(b, "numeric binary value");
  PHONY_ASSIGN_OR_RETURN(uint16_t ndigits, r.ReadU16BE());
  PHONY_ASSIGN_OR_RETURN(int16_t weight, r.ReadI16BE());
  PHONY_ASSIGN_OR_RETURN(uint16_t sign, r.ReadU16BE());
  PHONY_ASSIGN_OR_RETURN(uint16_t dscale_raw, r.ReadU16BE());
  if (sign == 0xC000) return Value::Decimal("NaN");
  if (sign == 0xD000) return Value::Decimal("Infinity");
  if (sign == 0xF000) return Value::Decimal("-Infinity");
  if (sign != 0x0000 && sign != 0x4000) return r.Error("bad numeric sign");
  const int dscale = dscale_raw & 0x3FFF;
  PHONY_RETURN_IF_ERROR(r.CheckCount(ndigits, 1000, "numeric digit count"));
  std::vector<int> digits(ndigits);
  for (auto& d : digits) {
    PHONY_ASSIGN_OR_RETURN(uint16_t v, r.ReadU16BE());
    if (v > 9999) return r.Error("numeric digit out of range");
    d = v;
  }
  PHONY_RETURN_IF_ERROR(r.ExpectEnd());
  // Integer part: base-10000 digits with index <= weight.
  std::string out;
  if (weight < 0) {
    out = "0";
  } else {
    for (int i = 0; i <= weight; ++i) {
      const int d = i < ndigits ? digits[static_cast<size_t>(i)] : 0;
      char buf[8];
      std::snprintf(buf, sizeof(buf), i == 0 ? "%d" : "%04d", d);
      out += buf;
    }
  }
  if (dscale > 0) {
    std::string frac;
    for (int i = weight + 1; static_cast<int>(frac.size()) < dscale; ++i) {
      const int d = (i >= 0 && i < ndigits) ? digits[static_cast<size_t>(i)] : 0;
      char buf[8];
      std::snprintf(buf, sizeof(buf), "%04d", d);
      frac += buf;
    }
    out += "." + frac.substr(0, static_cast<size_t>(dscale));
  }
  bool zero = true;
  for (char c : out) zero = zero && (c == '0' || c == '.');
  if (sign == 0x4000 && !zero) out = "-" + out;
  return Value::Decimal(std::move(out));
}

int64_t PgTimestampToUnix(int64_t pg) {
  if (pg == INT64_MIN || pg == INT64_MAX) return pg;  // -infinity / infinity
  return pg + kPgEpochOffsetMicros;
}

}  // namespace

// inet/cidr send format: family (2 = IPv4, 3 = IPv6), mask bits, is_cidr,
// address length, address bytes. Rendered as PostgreSQL's inet_out does:
// the mask is omitted for a host address of inet, always shown for cidr.
absl::StatusOr<Value> ParseInetBinary(std::string_view b, bool cidr) {
  ByteReader r(b, cidr ? "cidr binary value" : "inet binary value");
  PHONY_ASSIGN_OR_RETURN(uint8_t family, r.ReadU8());
  PHONY_ASSIGN_OR_RETURN(uint8_t bits, r.ReadU8());
  PHONY_ASSIGN_OR_RETURN(uint8_t is_cidr, r.ReadU8());
  PHONY_ASSIGN_OR_RETURN(uint8_t nb, r.ReadU8());
  (void)is_cidr;
  const bool v4 = family == 2;
  if ((!v4 && family != 3) || nb != (v4 ? 4 : 16) || bits > (v4 ? 32 : 128)) {
    return r.Error("bad inet header");
  }
  PHONY_ASSIGN_OR_RETURN(std::string_view addr, r.ReadBytes(nb));
  PHONY_RETURN_IF_ERROR(r.ExpectEnd());
  std::string out;
  char buf[64];
  if (v4) {
    std::snprintf(buf, sizeof(buf), "%u.%u.%u.%u", static_cast<uint8_t>(addr[0]),
                  static_cast<uint8_t>(addr[1]), static_cast<uint8_t>(addr[2]), static_cast<uint8_t>(addr[3]));
    out = buf;
  } else {
    uint16_t g[8];
    for (int i = 0; i < 8; ++i) {
      g[i] = static_cast<uint16_t>((static_cast<uint8_t>(addr[2 * i]) << 8) | static_cast<uint8_t>(addr[2 * i + 1]));
    }
    // The longest run of two or more zero groups becomes "::" (first wins).
    int best = -1, best_len = 0;
    for (int i = 0; i < 8;) {
      if (g[i] != 0) {
        ++i;
        continue;
      }
      int j = i;
      while (j < 8 && g[j] == 0) ++j;
      if (j - i > best_len && j - i >= 2) best = i, best_len = j - i;
      i = j;
    }
    const bool mapped = best == 0 && best_len == 5 && g[5] == 0xffff;  // ::ffff:a.b.c.d
    const bool compat = best == 0 && best_len == 6;                      // ::a.b.c.d
    if (mapped || compat) {
      std::snprintf(buf, sizeof(buf), "%s%u.%u.%u.%u", mapped ? "::ffff:" : "::", static_cast<uint8_t>(addr[12]),
                    static_cast<uint8_t>(addr[13]), static_cast<uint8_t>(addr[14]), static_cast<uint8_t>(addr[15]));
      out = buf;
    } else {
      for (int i = 0; i < 8; ++i) {
        if (i == best) {
          out += "::";
          i += best_len - 1;
          continue;
        }
        if (!out.empty() && out.back() != ':') out += ":";
        std::snprintf(buf, sizeof(buf), "%x", g[i]);
        out += buf;
      }
    }
  }
  if (cidr || bits != (v4 ? 32 : 128)) out += "/" + std::to_string(bits);
  return Value::Text(std::move(out));
}

bool SupportsBinary(uint32_t oid) {
  switch (oid) {
    case kCharOid: case kInetOid: case kCidrOid: case kMacaddrOid: case kBitOid: case kVarbitOid:
    case kBoolOid: case kByteaOid: case kInt2Oid: case kInt4Oid: case kInt8Oid: case kOidOid:
    case kFloat4Oid: case kFloat8Oid: case kNumericOid: case kTextOid: case kVarcharOid:
    case kBpcharOid: case kNameOid: case kJsonOid: case kJsonbOid: case kXmlOid: case kDateOid:
    case kTimeOid: case kTimeTzOid: case kTimestampOid: case kTimestampTzOid: case kIntervalOid:
    case kUuidOid: case kMoneyOid: case kPointOid: case kLsegOid: case kPathOid: case kBoxOid:
    case kPolygonOid: case kLineOid: case kCircleOid:
      return true;
    default:
      return false;
  }
}

absl::StatusOr<Value> ParseBinaryValue(uint32_t oid, std::string_view b, PgTypeCache* types) {
  ByteReader r(b, "binary column value");
  absl::StatusOr<Value> v;
  switch (oid) {
    case kBoolOid: {
      PHONY_ASSIGN_OR_RETURN(uint8_t x, r.ReadU8());
      v = Value::Bool(x != 0);
      break;
    }
    case kInt2Oid: {
      PHONY_ASSIGN_OR_RETURN(int16_t x, r.ReadI16BE());
      v = Value::Int64(x);
      break;
    }
    case kInt4Oid: {
      PHONY_ASSIGN_OR_RETURN(int32_t x, r.ReadI32BE());
      v = Value::Int64(x);
      break;
    }
    case kOidOid: {
      PHONY_ASSIGN_OR_RETURN(uint32_t x, r.ReadU32BE());
      v = Value::Int64(x);
      break;
    }
    case kInt8Oid: {
      PHONY_ASSIGN_OR_RETURN(int64_t x, r.ReadI64BE());
      v = Value::Int64(x);
      break;
    }
    case kFloat4Oid: {
      PHONY_ASSIGN_OR_RETURN(uint32_t bits, r.ReadU32BE());
      float f;
      std::memcpy(&f, &bits, 4);
      v = Value::Double(static_cast<double>(f));
      break;
    }
    case kFloat8Oid: {
      PHONY_ASSIGN_OR_RETURN(uint64_t bits, r.ReadU64BE());
      double d;
      std::memcpy(&d, &bits, 8);
      v = Value::Double(d);
      break;
    }
    case kNumericOid:
      return ParseNumericBinary(b);
    case kTextOid: case kVarcharOid: case kBpcharOid: case kNameOid: case kXmlOid:
      return Value::Text(std::string(b));
    case kJsonOid:
      return Value::Json(std::string(b));
    case kJsonbOid: {
      PHONY_ASSIGN_OR_RETURN(uint8_t version, r.ReadU8());
      if (version != 1) return r.Error("unknown jsonb version " + std::to_string(version));
      return Value::Json(std::string(r.Peek()));
    }
    case kByteaOid:
      return Value::Bytes(std::string(b));
    case kUuidOid: {
      PHONY_ASSIGN_OR_RETURN(std::string_view u, r.ReadBytes(16));
      v = Value::Uuid(u);
      break;
    }
    case kDateOid: {
      PHONY_ASSIGN_OR_RETURN(int32_t days, r.ReadI32BE());
      if (days == INT32_MAX || days == INT32_MIN) {
        v = Value::Date(days);
      } else {
        v = Value::Date(days + kPgEpochDays);
      }
      break;
    }
    case kTimeOid: {
      PHONY_ASSIGN_OR_RETURN(int64_t us, r.ReadI64BE());
      v = Value::Time(us);
      break;
    }
    case kTimeTzOid: {
      PHONY_ASSIGN_OR_RETURN(int64_t us, r.ReadI64BE());
      PHONY_ASSIGN_OR_RETURN(int32_t zone_west, r.ReadI32BE());
      v = Value::TimeTz(us, -zone_west);
      break;
    }
    case kTimestampOid: {
      PHONY_ASSIGN_OR_RETURN(int64_t us, r.ReadI64BE());
      v = Value::Timestamp(PgTimestampToUnix(us));
      break;
    }
    case kTimestampTzOid: {
      PHONY_ASSIGN_OR_RETURN(int64_t us, r.ReadI64BE());
      v = Value::TimestampTz(PgTimestampToUnix(us));
      break;
    }
    case kIntervalOid: {
      Interval iv;
      PHONY_ASSIGN_OR_RETURN(iv.micros, r.ReadI64BE());
      PHONY_ASSIGN_OR_RETURN(iv.days, r.ReadI32BE());
      PHONY_ASSIGN_OR_RETURN(iv.months, r.ReadI32BE());
      v = Value::MakeInterval(iv);
      break;
    }
    case kCharOid:  // "char": one byte, printed as itself
      return Value::Text(std::string(b));
    case kInetOid:
    case kCidrOid:
      return ParseInetBinary(b, oid == kCidrOid);
    case kMacaddrOid: {
      PHONY_ASSIGN_OR_RETURN(std::string_view m, r.ReadBytes(6));
      char buf[32];
      std::snprintf(buf, sizeof(buf), "%02x:%02x:%02x:%02x:%02x:%02x", static_cast<uint8_t>(m[0]),
                    static_cast<uint8_t>(m[1]), static_cast<uint8_t>(m[2]), static_cast<uint8_t>(m[3]),
                    static_cast<uint8_t>(m[4]), static_cast<uint8_t>(m[5]));
      v = Value::Text(buf);
      break;
    }
    case kBitOid:
    case kVarbitOid: {
      PHONY_ASSIGN_OR_RETURN(int32_t nbits, r.ReadI32BE());
      if (nbits < 0 || static_cast<uint64_t>(nbits) > r.remaining() * 8) return r.Error("bad bit length");
      PHONY_ASSIGN_OR_RETURN(std::string_view bits, r.ReadBytes((static_cast<uint64_t>(nbits) + 7) / 8));
      std::string out;
      out.reserve(static_cast<size_t>(nbits));
      for (int32_t i = 0; i < nbits; ++i) {
        out.push_back((static_cast<uint8_t>(bits[static_cast<size_t>(i / 8)]) >> (7 - i % 8)) & 1 ? '1' : '0');
      }
      v = Value::Text(std::move(out));
      break;
    }
    default:
      return ParseContainerBinary(oid, b, types);
  }
  PHONY_RETURN_IF_ERROR(r.ExpectEnd());
  return v;
}

}  // namespace phony::pg
