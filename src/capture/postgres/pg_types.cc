// The binary wire format of PostgreSQL's container and catalog-defined
// types (arrays, ranges, multiranges, composites, enums, domains) and of
// money and the geometric types, rendered as the text the server prints for
// them; plus PgTextOut, the server's output text of a decoded scalar, which
// array elements, range bounds and composite fields need.
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>

#include "core/byte_reader.h"
#include "core/status_macros.h"
#include "src/capture/postgres/pg_types_internal.h"
#include "src/capture/postgres/pg_values.h"

namespace phony::pg {
namespace {

constexpr int64_t kMicrosPerDay = 86400LL * 1000000;
constexpr uint32_t kFirstNormalObjectId = 16384;
constexpr int kMaxArrayDims = 6;  // MAXDIM

using Kind = PgTypeInfo::Kind;

struct BuiltinContainer {
  uint32_t oid;
  Kind kind;
  uint32_t target;
};
// pg_type.dat: the built-in arrays of the types this decoder reads, the
// built-in ranges and their multiranges.
constexpr BuiltinContainer kBuiltinContainers[] = {
    {1000, Kind::kArray, kBoolOid},        {1001, Kind::kArray, kByteaOid},
    {1002, Kind::kArray, kCharOid},        {1003, Kind::kArray, kNameOid},
    {1016, Kind::kArray, kInt8Oid},        {1005, Kind::kArray, kInt2Oid},
    {1007, Kind::kArray, kInt4Oid},        {1009, Kind::kArray, kTextOid},
    {1028, Kind::kArray, kOidOid},         {199, Kind::kArray, kJsonOid},
    {143, Kind::kArray, kXmlOid},          {1017, Kind::kArray, kPointOid},
    {1018, Kind::kArray, kLsegOid},        {1019, Kind::kArray, kPathOid},
    {1020, Kind::kArray, kBoxOid},         {1027, Kind::kArray, kPolygonOid},
    {629, Kind::kArray, kLineOid},         {719, Kind::kArray, kCircleOid},
    {1021, Kind::kArray, kFloat4Oid},      {1022, Kind::kArray, kFloat8Oid},
    {791, Kind::kArray, kMoneyOid},        {1040, Kind::kArray, kMacaddrOid},
    {1041, Kind::kArray, kInetOid},        {651, Kind::kArray, kCidrOid},
    {1014, Kind::kArray, kBpcharOid},      {1015, Kind::kArray, kVarcharOid},
    {1182, Kind::kArray, kDateOid},        {1183, Kind::kArray, kTimeOid},
    {1115, Kind::kArray, kTimestampOid},   {1185, Kind::kArray, kTimestampTzOid},
    {1187, Kind::kArray, kIntervalOid},    {1270, Kind::kArray, kTimeTzOid},
    {1561, Kind::kArray, kBitOid},         {1563, Kind::kArray, kVarbitOid},
    {1231, Kind::kArray, kNumericOid},     {2951, Kind::kArray, kUuidOid},
    {3807, Kind::kArray, kJsonbOid},       {3905, Kind::kArray, 3904},
    {3907, Kind::kArray, 3906},            {3909, Kind::kArray, 3908},
    {3911, Kind::kArray, 3910},            {3913, Kind::kArray, 3912},
    {3927, Kind::kArray, 3926},            {3904, Kind::kRange, kInt4Oid},
    {3906, Kind::kRange, kNumericOid},     {3908, Kind::kRange, kTimestampOid},
    {3910, Kind::kRange, kTimestampTzOid}, {3912, Kind::kRange, kDateOid},
    {3926, Kind::kRange, kInt8Oid},        {4451, Kind::kMultirange, 3904},
    {4532, Kind::kMultirange, 3906},       {4533, Kind::kMultirange, 3908},
    {4534, Kind::kMultirange, 3910},       {4535, Kind::kMultirange, 3912},
    {4536, Kind::kMultirange, 3926},
};

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }

// array_out's element quoting.
void AppendArrayElement(std::string_view v, char delimiter, std::string* out) {
  bool quote = v.empty() || (v.size() == 4 && (v[0] | 0x20) == 'n' && (v[1] | 0x20) == 'u' &&
                             (v[2] | 0x20) == 'l' && (v[3] | 0x20) == 'l');
  for (char c : v) {
    if (c == '"' || c == '\\' || c == '{' || c == '}' || c == delimiter || IsSpace(c)) quote = true;
  }
  if (!quote) {
    out->append(v);
    return;
  }
  out->push_back('"');
  for (char c : v) {
    if (c == '"' || c == '\\') out->push_back('\\');
    out->push_back(c);
  }
  out->push_back('"');
}

// range_out's and record_out's bound/field quoting (`brackets`: ranges also
// quote '[' and ']').
void AppendQuotedField(std::string_view v, bool brackets, std::string* out) {
  bool quote = v.empty();
  for (char c : v) {
    if (c == '"' || c == '\\' || c == '(' || c == ')' || c == ',' || IsSpace(c) ||
        (brackets && (c == '[' || c == ']'))) {
      quote = true;
    }
  }
  if (quote) out->push_back('"');
  for (char c : v) {
    if (c == '"' || c == '\\') out->push_back(c);
    out->push_back(c);
  }
  if (quote) out->push_back('"');
}

// Reads one binary value of `oid` and appends its output text.
absl::Status AppendElementText(uint32_t oid, std::string_view bytes, PgTypeCache* types,
                               std::string* out) {
  PHONY_ASSIGN_OR_RETURN(Value v, ParseBinaryValue(oid, bytes, types));
  PHONY_ASSIGN_OR_RETURN(uint32_t effective, types->Effective(oid));
  out->append(PgTextOut(effective, v));
  return absl::OkStatus();
}

absl::StatusOr<std::string> ArrayText(const PgTypeInfo& info, std::string_view b, PgTypeCache* types) {
  ByteReader r(b, "binary array value");
  PHONY_ASSIGN_OR_RETURN(int32_t ndim, r.ReadI32BE());
  PHONY_ASSIGN_OR_RETURN(int32_t flags, r.ReadI32BE());
  PHONY_ASSIGN_OR_RETURN(uint32_t elem, r.ReadU32BE());
  if (ndim < 0 || ndim > kMaxArrayDims) return r.Error("bad number of dimensions " + std::to_string(ndim));
  if (flags != 0 && flags != 1) return r.Error("bad flags");
  if (elem != info.target) {
    return r.Error("element type " + std::to_string(elem) + " where " + std::to_string(info.target) +
                   " was expected");
  }
  int32_t dims[kMaxArrayDims], lbounds[kMaxArrayDims];
  uint64_t count = ndim == 0 ? 0 : 1;
  bool decorate = false;
  for (int32_t i = 0; i < ndim; ++i) {
    PHONY_ASSIGN_OR_RETURN(dims[i], r.ReadI32BE());
    PHONY_ASSIGN_OR_RETURN(lbounds[i], r.ReadI32BE());
    if (dims[i] < 0) return r.Error("negative dimension");
    count *= static_cast<uint64_t>(dims[i]);
    if (count > r.remaining() / 4) return r.Error("more elements than bytes");
    if (lbounds[i] != 1) decorate = true;
  }
  std::string out;
  if (count == 0) {
    PHONY_RETURN_IF_ERROR(r.ExpectEnd());
    return std::string("{}");
  }
  if (decorate) {
    for (int32_t i = 0; i < ndim; ++i) {
      out += "[" + std::to_string(lbounds[i]) + ":" +
             std::to_string(static_cast<int64_t>(lbounds[i]) + dims[i] - 1) + "]";
    }
    out += "=";
  }
  // Walks the elements in storage order, opening and closing braces where
  // each dimension's index wraps.
  int32_t index[kMaxArrayDims] = {};
  for (int32_t i = 0; i < ndim; ++i) out.push_back('{');
  for (uint64_t n = 0; n < count; ++n) {
    PHONY_ASSIGN_OR_RETURN(int32_t len, r.ReadI32BE());
    if (len == -1) {
      out += "NULL";
    } else {
      if (len < 0) return r.Error("bad element length");
      PHONY_ASSIGN_OR_RETURN(std::string_view bytes, r.ReadBytes(static_cast<size_t>(len)));
      std::string text;
      PHONY_RETURN_IF_ERROR(AppendElementText(elem, bytes, types, &text));
      AppendArrayElement(text, info.delimiter, &out);
    }
    int32_t d = ndim - 1;
    while (d >= 0 && ++index[d] == dims[d]) {
      index[d] = 0;
      out.push_back('}');
      --d;
    }
    if (d >= 0) {
      out.push_back(info.delimiter);
      for (int32_t k = d + 1; k < ndim; ++k) out.push_back('{');
    }
  }
  PHONY_RETURN_IF_ERROR(r.ExpectEnd());
  return out;
}

// range_send flags (rangetypes.h).
constexpr uint8_t kRangeEmpty = 0x01, kRangeLbInc = 0x02, kRangeUbInc = 0x04, kRangeLbInf = 0x08,
                  kRangeUbInf = 0x10, kRangeLbNull = 0x20, kRangeUbNull = 0x40;

absl::StatusOr<std::string> RangeText(const PgTypeInfo& info, std::string_view b, PgTypeCache* types) {
  ByteReader r(b, "binary range value");
  PHONY_ASSIGN_OR_RETURN(uint8_t flags, r.ReadU8());
  if (flags & kRangeEmpty) {
    PHONY_RETURN_IF_ERROR(r.ExpectEnd());
    return std::string("empty");
  }
  std::string out(1, (flags & kRangeLbInc) ? '[' : '(');
  auto bound = [&](uint8_t absent) -> absl::Status {
    if (flags & absent) return absl::OkStatus();
    PHONY_ASSIGN_OR_RETURN(int32_t len, r.ReadI32BE());
    if (len < 0) return r.Error("bad bound length");
    PHONY_ASSIGN_OR_RETURN(std::string_view bytes, r.ReadBytes(static_cast<size_t>(len)));
    std::string text;
    PHONY_RETURN_IF_ERROR(AppendElementText(info.target, bytes, types, &text));
    AppendQuotedField(text, true, &out);
    return absl::OkStatus();
  };
  PHONY_RETURN_IF_ERROR(bound(kRangeLbInf | kRangeLbNull));
  out.push_back(',');
  PHONY_RETURN_IF_ERROR(bound(kRangeUbInf | kRangeUbNull));
  out.push_back((flags & kRangeUbInc) ? ']' : ')');
  PHONY_RETURN_IF_ERROR(r.ExpectEnd());
  return out;
}

absl::StatusOr<std::string> MultirangeText(const PgTypeInfo& info, std::string_view b,
                                           PgTypeCache* types) {
  ByteReader r(b, "binary multirange value");
  PHONY_ASSIGN_OR_RETURN(uint32_t count, r.ReadU32BE());
  if (count > r.remaining() / 5) return r.Error("more ranges than bytes");
  PHONY_ASSIGN_OR_RETURN(const PgTypeInfo* range, types->Find(info.target));
  if (range == nullptr || range->kind != Kind::kRange) return r.Error("not a multirange of a range type");
  std::string out = "{";
  for (uint32_t i = 0; i < count; ++i) {
    PHONY_ASSIGN_OR_RETURN(int32_t len, r.ReadI32BE());
    if (len < 0) return r.Error("bad range length");
    PHONY_ASSIGN_OR_RETURN(std::string_view bytes, r.ReadBytes(static_cast<size_t>(len)));
    PHONY_ASSIGN_OR_RETURN(std::string text, RangeText(*range, bytes, types));
    if (i > 0) out.push_back(',');
    out += text;
  }
  out.push_back('}');
  PHONY_RETURN_IF_ERROR(r.ExpectEnd());
  return out;
}

absl::StatusOr<std::string> CompositeText(std::string_view b, PgTypeCache* types) {
  ByteReader r(b, "binary composite value");
  PHONY_ASSIGN_OR_RETURN(int32_t n, r.ReadI32BE());
  if (n < 0 || static_cast<uint64_t>(n) > r.remaining() / 8) return r.Error("bad field count");
  std::string out = "(";
  for (int32_t i = 0; i < n; ++i) {
    if (i > 0) out.push_back(',');
    PHONY_ASSIGN_OR_RETURN(uint32_t oid, r.ReadU32BE());
    PHONY_ASSIGN_OR_RETURN(int32_t len, r.ReadI32BE());
    if (len == -1) continue;
    if (len < 0) return r.Error("bad field length");
    PHONY_ASSIGN_OR_RETURN(std::string_view bytes, r.ReadBytes(static_cast<size_t>(len)));
    std::string text;
    PHONY_RETURN_IF_ERROR(AppendElementText(oid, bytes, types, &text));
    AppendQuotedField(text, false, &out);
  }
  out.push_back(')');
  PHONY_RETURN_IF_ERROR(r.ExpectEnd());
  return out;
}

// cash_out under lc_monetary=C: "-$1,234.56".
std::string MoneyText(int64_t cents) {
  const bool negative = cents < 0;
  uint64_t mag = negative ? 0 - static_cast<uint64_t>(cents) : static_cast<uint64_t>(cents);
  char frac[3] = {static_cast<char>('0' + mag / 10 % 10), static_cast<char>('0' + mag % 10), 0};
  std::string digits = std::to_string(mag / 100);
  std::string grouped;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) grouped.push_back(',');
    grouped.push_back(digits[i]);
  }
  return std::string(negative ? "-$" : "$") + grouped + "." + frac;
}

absl::StatusOr<std::string> Points(ByteReader& r, uint64_t n) {
  if (n > r.remaining() / 16) return r.Error("more points than bytes");
  std::string out;
  for (uint64_t i = 0; i < n; ++i) {
    PHONY_ASSIGN_OR_RETURN(uint64_t xb, r.ReadU64BE());
    PHONY_ASSIGN_OR_RETURN(uint64_t yb, r.ReadU64BE());
    double x, y;
    std::memcpy(&x, &xb, 8);
    std::memcpy(&y, &yb, 8);
    if (i > 0) out.push_back(',');
    out += "(" + FormatPgFloat8(x) + "," + FormatPgFloat8(y) + ")";
  }
  return out;
}

absl::StatusOr<std::string> GeometricText(uint32_t oid, std::string_view b) {
  ByteReader r(b, "binary geometric value");
  std::string out;
  switch (oid) {
    case kPointOid: {
      PHONY_ASSIGN_OR_RETURN(out, Points(r, 1));
      break;
    }
    case kLsegOid: {
      PHONY_ASSIGN_OR_RETURN(std::string p, Points(r, 2));
      out = "[" + p + "]";
      break;
    }
    case kBoxOid: {
      PHONY_ASSIGN_OR_RETURN(out, Points(r, 2));
      break;
    }
    case kPathOid: {
      PHONY_ASSIGN_OR_RETURN(uint8_t closed, r.ReadU8());
      PHONY_ASSIGN_OR_RETURN(int32_t n, r.ReadI32BE());
      if (n < 0) return r.Error("negative point count");
      PHONY_ASSIGN_OR_RETURN(std::string p, Points(r, static_cast<uint64_t>(n)));
      out = closed ? "(" + p + ")" : "[" + p + "]";
      break;
    }
    case kPolygonOid: {
      PHONY_ASSIGN_OR_RETURN(int32_t n, r.ReadI32BE());
      if (n < 0) return r.Error("negative point count");
      PHONY_ASSIGN_OR_RETURN(std::string p, Points(r, static_cast<uint64_t>(n)));
      out = "(" + p + ")";
      break;
    }
    case kLineOid:
    case kCircleOid: {
      double f[3];
      for (double& x : f) {
        PHONY_ASSIGN_OR_RETURN(uint64_t bits, r.ReadU64BE());
        std::memcpy(&x, &bits, 8);
      }
      out = oid == kLineOid ? "{" + FormatPgFloat8(f[0]) + "," + FormatPgFloat8(f[1]) + "," +
                                  FormatPgFloat8(f[2]) + "}"
                            : "<(" + FormatPgFloat8(f[0]) + "," + FormatPgFloat8(f[1]) + ")," +
                                  FormatPgFloat8(f[2]) + ">";
      break;
    }
    default:
      return absl::InternalError("not a geometric type");
  }
  PHONY_RETURN_IF_ERROR(r.ExpectEnd());
  return out;
}

// Shortest round-trip digits in PostgreSQL's layout: fixed notation for
// decimal exponents in [-4, fixed_limit), else d.ddde±XX.
template <typename F>
std::string FormatShortest(F f, int fixed_limit) {
  if (std::isnan(f)) return "NaN";
  if (std::isinf(f)) return f > 0 ? "Infinity" : "-Infinity";
  char buf[64];
  auto sci = std::to_chars(buf, buf + sizeof(buf), f, std::chars_format::scientific);
  std::string s(buf, sci.ptr);
  const size_t e = s.find('e');
  const int exp = std::atoi(s.c_str() + e + 1);
  if (exp >= -4 && exp < fixed_limit) {
    auto fixed = std::to_chars(buf, buf + sizeof(buf), f, std::chars_format::fixed);
    return std::string(buf, fixed.ptr);
  }
  return s;
}

void AppendTime(int64_t micros, std::string* out) {
  char buf[32];
  const int64_t secs = micros / 1000000, frac = micros % 1000000;
  std::snprintf(buf, sizeof(buf), "%02lld:%02lld:%02lld", static_cast<long long>(secs / 3600),
                static_cast<long long>(secs / 60 % 60), static_cast<long long>(secs % 60));
  out->append(buf);
  if (frac != 0) {
    std::snprintf(buf, sizeof(buf), ".%06lld", static_cast<long long>(frac));
    std::string f(buf);
    while (f.back() == '0') f.pop_back();
    out->append(f);
  }
}

// EncodeTimezone: "+05:30", "-15:59", "+00".
void AppendZone(int32_t east, std::string* out) {
  const int32_t a = east < 0 ? -east : east;
  char buf[32];
  if (a % 60 != 0) {
    std::snprintf(buf, sizeof(buf), "%c%02d:%02d:%02d", east < 0 ? '-' : '+', a / 3600, a / 60 % 60, a % 60);
  } else if (a / 60 % 60 != 0) {
    std::snprintf(buf, sizeof(buf), "%c%02d:%02d", east < 0 ? '-' : '+', a / 3600, a / 60 % 60);
  } else {
    std::snprintf(buf, sizeof(buf), "%c%02d", east < 0 ? '-' : '+', a / 3600);
  }
  out->append(buf);
}

// "YYYY-MM-DD" with the BC year, returning whether it is BC.
bool AppendDate(int64_t days, std::string* out) {
  int64_t y;
  unsigned m, d;
  CivilFromDays(days, &y, &m, &d);
  const bool bc = y <= 0;
  char buf[48];
  std::snprintf(buf, sizeof(buf), "%04lld-%02u-%02u", static_cast<long long>(bc ? 1 - y : y), m, d);
  out->append(buf);
  return bc;
}

std::string IntervalText(const Interval& iv) {
  const int64_t year = iv.months / 12, mon = iv.months % 12;
  const int64_t hour = iv.micros / 3600000000LL, min = iv.micros / 60000000 % 60;
  const int64_t sec = iv.micros / 1000000 % 60, fsec = iv.micros % 1000000;
  if (year == 0 && mon == 0 && iv.days == 0 && iv.micros == 0) return "PT0S";
  std::string out = "P";
  auto part = [&](int64_t v, char unit) {
    if (v != 0) out += std::to_string(v) + unit;
  };
  part(year, 'Y');
  part(mon, 'M');
  part(iv.days, 'D');
  if (iv.micros != 0) out.push_back('T');
  part(hour, 'H');
  part(min, 'M');
  if (sec != 0 || fsec != 0) {
    if (sec < 0 || fsec < 0) out.push_back('-');
    out += std::to_string(sec < 0 ? -sec : sec);
    if (fsec != 0) {
      char buf[16];
      std::snprintf(buf, sizeof(buf), ".%06lld", static_cast<long long>(fsec < 0 ? -fsec : fsec));
      std::string f(buf);
      while (f.back() == '0') f.pop_back();
      out += f;
    }
    out.push_back('S');
  }
  return out;
}

}  // namespace

absl::StatusOr<const PgTypeInfo*> PgTypeCache::Find(uint32_t oid) {
  if (auto it = cache_.find(oid); it != cache_.end()) return &it->second;
  for (const BuiltinContainer& c : kBuiltinContainers) {
    if (c.oid == oid) {
      PgTypeInfo info{.kind = c.kind, .target = c.target, .delimiter = c.target == kBoxOid ? ';' : ','};
      return &cache_.emplace(oid, std::move(info)).first->second;
    }
  }
  if (oid < kFirstNormalObjectId || !lookup_) return nullptr;
  PHONY_ASSIGN_OR_RETURN(PgTypeInfo info, lookup_(oid));
  return &cache_.emplace(oid, std::move(info)).first->second;
}

absl::StatusOr<uint32_t> PgTypeCache::Effective(uint32_t oid) {
  for (int depth = 0; depth < 32; ++depth) {
    PHONY_ASSIGN_OR_RETURN(const PgTypeInfo* info, Find(oid));
    if (info == nullptr || info->kind != Kind::kDomain) return oid;
    oid = info->target;
  }
  return absl::FailedPreconditionError("domain chain of type " + std::to_string(oid) + " is too deep");
}

absl::StatusOr<Value> ParseContainerBinary(uint32_t oid, std::string_view b, PgTypeCache* types) {
  if (oid == kMoneyOid) {
    ByteReader r(b, "binary money value");
    PHONY_ASSIGN_OR_RETURN(int64_t cents, r.ReadI64BE());
    PHONY_RETURN_IF_ERROR(r.ExpectEnd());
    return Value::Text(MoneyText(cents));
  }
  if (oid == kPointOid || oid == kLsegOid || oid == kPathOid || oid == kBoxOid || oid == kPolygonOid ||
      oid == kLineOid || oid == kCircleOid) {
    PHONY_ASSIGN_OR_RETURN(std::string text, GeometricText(oid, b));
    return Value::Text(std::move(text));
  }
  PgTypeCache builtin_only;
  if (types == nullptr) types = &builtin_only;
  PHONY_ASSIGN_OR_RETURN(const PgTypeInfo* info, types->Find(oid));
  if (info == nullptr) {
    return absl::UnimplementedError("binary format of type OID " + std::to_string(oid) +
                                    " is not supported; capture this table in text mode");
  }
  switch (info->kind) {
    case Kind::kEnum:
      return Value::Text(std::string(b));
    case Kind::kDomain:
      return ParseBinaryValue(info->target, b, types);
    case Kind::kArray: {
      PHONY_ASSIGN_OR_RETURN(std::string text, ArrayText(*info, b, types));
      return Value::Text(std::move(text));
    }
    case Kind::kRange: {
      PHONY_ASSIGN_OR_RETURN(std::string text, RangeText(*info, b, types));
      return Value::Text(std::move(text));
    }
    case Kind::kMultirange: {
      PHONY_ASSIGN_OR_RETURN(std::string text, MultirangeText(*info, b, types));
      return Value::Text(std::move(text));
    }
    case Kind::kComposite: {
      PHONY_ASSIGN_OR_RETURN(std::string text, CompositeText(b, types));
      return Value::Text(std::move(text));
    }
    case Kind::kOther:
      break;
  }
  return absl::UnimplementedError("binary format of type " + info->name + " (OID " + std::to_string(oid) +
                                  ") is not supported; capture this table in text mode");
}

absl::StatusOr<bool> BinaryReadable(uint32_t oid, PgTypeCache* types) {
  for (int depth = 0; depth < 32; ++depth) {
    if (SupportsBinary(oid)) return true;
    PHONY_ASSIGN_OR_RETURN(const PgTypeInfo* info, types->Find(oid));
    if (info == nullptr || info->kind == Kind::kOther) return false;
    // Composite fields are checked as they are read (record_send names them).
    if (info->kind == Kind::kEnum || info->kind == Kind::kComposite) return true;
    oid = info->target;
  }
  return false;
}

std::string FormatPgFloat4(float f) { return FormatShortest(f, 6); }
std::string FormatPgFloat8(double d) { return FormatShortest(d, 15); }

std::string PgTextOut(uint32_t oid, const Value& v) {
  std::string out;
  switch (v.kind()) {
    case ValueKind::kBool:
      return v.bool_value() ? "t" : "f";
    case ValueKind::kInt64:
      return std::to_string(v.int64_value());
    case ValueKind::kUInt64:
      return std::to_string(v.uint64_value());
    case ValueKind::kDouble:
      return oid == kFloat4Oid ? FormatPgFloat4(static_cast<float>(v.double_value()))
                               : FormatPgFloat8(v.double_value());
    case ValueKind::kBytes: {
      static const char kHex[] = "0123456789abcdef";
      out = "\\x";
      for (unsigned char c : v.str()) {
        out.push_back(kHex[c >> 4]);
        out.push_back(kHex[c & 15]);
      }
      return out;
    }
    case ValueKind::kUuid:
      return FormatUuid(v.str());
    case ValueKind::kDate: {
      if (v.date_value() == kDatePosInfinity) return "infinity";
      if (v.date_value() == kDateNegInfinity) return "-infinity";
      if (AppendDate(v.date_value(), &out)) out += " BC";
      return out;
    }
    case ValueKind::kTime:
      AppendTime(v.int64_value(), &out);
      return out;
    case ValueKind::kTimeTz:
      AppendTime(v.int64_value(), &out);
      AppendZone(v.tz_offset_seconds(), &out);
      return out;
    case ValueKind::kTimestamp:
    case ValueKind::kTimestampTz: {
      const int64_t us = v.int64_value();
      if (us == kTimestampPosInfinity) return "infinity";
      if (us == kTimestampNegInfinity) return "-infinity";
      int64_t days = us / kMicrosPerDay, tod = us % kMicrosPerDay;
      if (tod < 0) {
        tod += kMicrosPerDay;
        --days;
      }
      const bool bc = AppendDate(days, &out);
      out.push_back(' ');
      AppendTime(tod, &out);
      if (v.kind() == ValueKind::kTimestampTz) out += "+00";
      if (bc) out += " BC";
      return out;
    }
    case ValueKind::kInterval:
      return IntervalText(v.interval_value());
    case ValueKind::kDecimal:
    case ValueKind::kText:
    case ValueKind::kJson:
      return v.str();
    default:
      return v.DebugString();
  }
}

}  // namespace phony::pg
