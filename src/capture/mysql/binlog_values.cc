#include "src/capture/mysql/binlog_values.h"

#include <bit>
#include <charconv>
#include <cmath>
#include <cstring>

#include "core/status_macros.h"
#include "src/capture/mysql/binlog_json.h"

namespace phony::mysql {
namespace {

constexpr int64_t kMicrosPerSecond = 1000000;
constexpr int64_t kMicrosPerDay = 86400 * kMicrosPerSecond;

// The row's little-endian integers, read as whole words where the size
// allows (the decoder already assumes a little-endian host: see the CRC).
uint64_t LoadLE(const char* p, int n) {
  static_assert(std::endian::native == std::endian::little);
  switch (n) {
    case 1: return static_cast<uint8_t>(p[0]);
    case 2: { uint16_t v; std::memcpy(&v, p, 2); return v; }
    case 4: { uint32_t v; std::memcpy(&v, p, 4); return v; }
    case 8: { uint64_t v; std::memcpy(&v, p, 8); return v; }
    default: {
      uint64_t v = 0;
      for (int i = n - 1; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(p[i]);
      return v;
    }
  }
}

uint64_t LoadBE(const char* p, int n) {
  uint64_t v = 0;
  for (int i = 0; i < n; ++i) v = (v << 8) | static_cast<uint8_t>(p[i]);
  return v;
}

absl::StatusOr<uint64_t> ReadBE(ByteReader& in, int n, const char* what) {
  PHONY_ASSIGN_OR_RETURN(std::string_view b, in.ReadBytes(static_cast<uint64_t>(n)));
  (void)what;
  return LoadBE(b.data(), n);
}

absl::StatusOr<uint64_t> ReadLE(ByteReader& in, int n) {
  PHONY_ASSIGN_OR_RETURN(std::string_view b, in.ReadBytes(static_cast<uint64_t>(n)));
  return LoadLE(b.data(), n);
}

int64_t SignExtend(uint64_t v, int bytes) {
  const int shift = 64 - 8 * bytes;
  return static_cast<int64_t>(v << shift) >> shift;
}

// The fractional seconds of DATETIME2/TIMESTAMP2 (unsigned), in micros.
absl::StatusOr<int64_t> ReadFraction(ByteReader& in, int fsp) {
  switch (fsp) {
    case 0: return 0;
    case 1: case 2: { PHONY_ASSIGN_OR_RETURN(uint64_t v, ReadBE(in, 1, "fraction")); return static_cast<int64_t>(v) * 10000; }
    case 3: case 4: { PHONY_ASSIGN_OR_RETURN(uint64_t v, ReadBE(in, 2, "fraction")); return static_cast<int64_t>(v) * 100; }
    case 5: case 6: { PHONY_ASSIGN_OR_RETURN(uint64_t v, ReadBE(in, 3, "fraction")); return static_cast<int64_t>(v); }
    default: return in.Error("fractional seconds precision above 6");
  }
}

absl::Status CheckFraction(ByteReader& in, int64_t micros) {
  if (micros < 0 || micros >= kMicrosPerSecond) return in.Error("fractional seconds out of range");
  return absl::OkStatus();
}

// A calendar date and time of day as micros since 1970-01-01 00:00, or
// nullopt for MySQL's zero and partial dates ('0000-00-00', '2020-00-10'),
// which no calendar has: they decode as NULL (docs/mysql.md).
absl::StatusOr<std::optional<int64_t>> CivilMicros(ByteReader& in, int64_t year, int64_t month, int64_t day,
                                                   int64_t hour, int64_t minute, int64_t second, int64_t micros) {
  if (year == 0 || month == 0 || day == 0) return std::optional<int64_t>();
  if (year > 9999 || month > 12 || day > 31 || hour > 23 || minute > 59 || second > 59) {
    return in.Error("date or time field out of range");
  }
  PHONY_RETURN_IF_ERROR(CheckFraction(in, micros));
  const int64_t days = DaysFromCivil(year, static_cast<unsigned>(month), static_cast<unsigned>(day));
  return std::optional<int64_t>(days * kMicrosPerDay + ((hour * 60 + minute) * 60 + second) * kMicrosPerSecond +
                                micros);
}

absl::StatusOr<Value> TimeValue(ByteReader& in, bool negative, int64_t hour, int64_t minute, int64_t second,
                                int64_t micros) {
  if (minute > 59 || second > 59) return in.Error("TIME minute or second out of range");
  PHONY_RETURN_IF_ERROR(CheckFraction(in, micros));
  const int64_t v = ((hour * 60 + minute) * 60 + second) * kMicrosPerSecond + micros;
  return Value::Time(negative ? -v : v);
}

// TIME2 (MySQL 5.6.4+): my_time_packed_from_binary's layout.
absl::StatusOr<Value> DecodeTime2(ByteReader& in, int fsp) {
  int64_t packed = 0;
  switch (fsp) {
    case 0: {
      PHONY_ASSIGN_OR_RETURN(uint64_t v, ReadBE(in, 3, "TIME2"));
      packed = (static_cast<int64_t>(v) - 0x800000) * (int64_t{1} << 24);
      break;
    }
    case 1: case 2: case 3: case 4: {
      PHONY_ASSIGN_OR_RETURN(uint64_t v, ReadBE(in, 3, "TIME2"));
      int64_t intpart = static_cast<int64_t>(v) - 0x800000;
      const int n = fsp <= 2 ? 1 : 2;
      PHONY_ASSIGN_OR_RETURN(uint64_t f, ReadBE(in, n, "TIME2 fraction"));
      int64_t frac = static_cast<int64_t>(f);
      if (intpart < 0 && frac != 0) {
        ++intpart;
        frac -= int64_t{1} << (8 * n);
      }
      packed = intpart * (int64_t{1} << 24) + frac * (n == 1 ? 10000 : 100);
      break;
    }
    case 5: case 6: {
      PHONY_ASSIGN_OR_RETURN(uint64_t v, ReadBE(in, 6, "TIME2"));
      packed = static_cast<int64_t>(v) - 0x800000000000LL;
      break;
    }
    default: return in.Error("TIME2 precision above 6");
  }
  const bool negative = packed < 0;
  const uint64_t tmp = negative ? static_cast<uint64_t>(-packed) : static_cast<uint64_t>(packed);
  const uint64_t hms = tmp >> 24;
  return TimeValue(in, negative, static_cast<int64_t>((hms >> 12) & 0x3ff), static_cast<int64_t>((hms >> 6) & 0x3f),
                   static_cast<int64_t>(hms & 0x3f), static_cast<int64_t>(tmp & 0xffffff));
}

}  // namespace

// Windows-1252, which is what MySQL calls latin1, to UTF-8.
void AppendLatin1AsUtf8(std::string_view in, std::string* out) {
  static constexpr uint16_t kHigh[32] = {0x20AC, 0x81,   0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021,
                                         0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0x8D,   0x017D, 0x8F,
                                         0x90,   0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014,
                                         0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x9D,   0x017E, 0x0178};
  out->reserve(out->size() + in.size());
  for (char ch : in) {
    const auto c = static_cast<uint8_t>(ch);
    uint32_t cp = c;
    if (c >= 0x80 && c < 0xA0) cp = kHigh[c - 0x80];
    if (cp < 0x80) {
      out->push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
      out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
      out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
      out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
      out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
  }
}

namespace {

// Bytes of a character column as UTF-8 text; kBytes for binary.
absl::StatusOr<Value> CharacterValue(const ColumnInfo& c, std::string_view bytes, ByteReader& in) {
  if (!c.collation) {
    // No charset in the table map (binlog_row_metadata=MINIMAL): strings
    // are taken as UTF-8, BLOB/TEXT bodies as bytes (the two share a type).
    if (c.type == kTypeBlob) return Value::Bytes(std::string(bytes));
    return Value::Text(std::string(bytes));
  }
  // The common collations first, without comparing charset names.
  switch (*c.collation) {
    case 63: return Value::Bytes(std::string(bytes));
    case 45: case 46: case 33: case 83: case 224: case 255: case 2048: case 2304:
      return Value::Text(std::string(bytes));
    default: break;
  }
  const std::string_view cs = CharsetOfCollation(*c.collation);
  if (cs == "binary") return Value::Bytes(std::string(bytes));
  if (cs == "utf8mb4" || cs == "utf8mb3" || cs == "ascii") return Value::Text(std::string(bytes));
  if (cs == "latin1") {
    std::string out;
    AppendLatin1AsUtf8(bytes, &out);
    return Value::Text(std::move(out));
  }
  return absl::UnimplementedError("collation " + std::to_string(*c.collation) + " at offset " +
                                  std::to_string(in.offset()) +
                                  " has a character set phony does not decode (utf8mb4, utf8mb3, latin1, ascii "
                                  "and binary are supported)");
}

std::string SetText(const ColumnInfo& c, uint64_t bits) {
  std::string out;
  for (size_t i = 0; i < c.enum_values.size() && i < 64; ++i) {
    if ((bits >> i) & 1) {
      if (!out.empty()) out.push_back(',');
      out += c.enum_values[i];
    }
  }
  return out;
}

}  // namespace

int ColumnInfo::bits() const { return (meta >> 8) * 8 + (meta & 0xff); }

bool ColumnInfo::is_character() const {
  switch (type) {
    case kTypeString: case kTypeVarchar: case kTypeVarString: case kTypeBlob:
      return true;
    default:
      return false;
  }
}

bool ColumnInfo::is_numeric() const {
  switch (type) {
    case kTypeTiny: case kTypeShort: case kTypeInt24: case kTypeLong: case kTypeLongLong:
    case kTypeFloat: case kTypeDouble: case kTypeNewDecimal: case kTypeDecimal:
      return true;
    default:
      return false;
  }
}

std::string_view CharsetOfCollation(uint32_t id) {
  if (id >= 2048 && id < 2560) return id < 2304 ? "utf8mb3" : "utf8mb4";  // MariaDB UCA 14.0 collations
  if (id >= 1024 && id < 2048) id -= 1024;                                  // MariaDB NO PAD variants
  switch (id) {
    case 63: return "binary";
    case 5: case 8: case 15: case 31: case 47: case 48: case 49: case 94: return "latin1";
    case 11: case 65: return "ascii";
    case 33: case 76: case 83: case 223: return "utf8mb3";
    case 45: case 46: return "utf8mb4";
    default: break;
  }
  if (id >= 192 && id <= 215) return "utf8mb3";
  if ((id >= 224 && id <= 247) || (id >= 255 && id <= 323)) return "utf8mb4";
  return "";
}

ValueKind KindOf(const ColumnInfo& c) {
  switch (c.type) {
    case kTypeTiny: case kTypeShort: case kTypeInt24: case kTypeLong: case kTypeYear:
      return ValueKind::kInt64;
    case kTypeLongLong: return c.is_unsigned ? ValueKind::kUInt64 : ValueKind::kInt64;
    case kTypeFloat: case kTypeDouble: return ValueKind::kDouble;
    case kTypeNewDecimal: return ValueKind::kDecimal;
    case kTypeDate: case kTypeNewDate: return ValueKind::kDate;
    case kTypeTime: case kTypeTime2: return ValueKind::kTime;
    case kTypeDatetime: case kTypeDatetime2: return ValueKind::kTimestamp;
    case kTypeTimestamp: case kTypeTimestamp2: return ValueKind::kTimestampTz;
    case kTypeJson: return ValueKind::kJson;
    case kTypeEnum: return c.enum_values.empty() ? ValueKind::kInt64 : ValueKind::kText;
    case kTypeSet: return c.enum_values.empty() ? ValueKind::kUInt64 : ValueKind::kText;
    case kTypeBit: return c.bits() == 1 ? ValueKind::kBool : ValueKind::kBytes;
    case kTypeGeometry: case kTypeVector: return ValueKind::kBytes;
    case kTypeNull: return ValueKind::kNull;
    case kTypeBlob:
      if (!c.collation) return ValueKind::kBytes;
      return CharsetOfCollation(*c.collation) == "binary" ? ValueKind::kBytes : ValueKind::kText;
    case kTypeString: case kTypeVarchar: case kTypeVarString:
      if (c.collation && CharsetOfCollation(*c.collation) == "binary") return ValueKind::kBytes;
      return ValueKind::kText;
    default: return ValueKind::kBytes;
  }
}

std::string TypeName(const ColumnInfo& c) {
  const std::string u = c.is_unsigned ? " unsigned" : "";
  const bool binary = c.collation && CharsetOfCollation(*c.collation) == "binary";
  // CHAR and VARCHAR lengths are in bytes in the table map: in characters
  // when the charset says how many bytes one takes.
  const std::string_view cs = c.collation ? CharsetOfCollation(*c.collation) : "";
  const int per_char = cs == "utf8mb4" ? 4 : cs == "utf8mb3" ? 3 : 1;
  const int chars = c.meta % per_char == 0 ? c.meta / per_char : c.meta;
  auto fsp = [&](const char* base) { return c.meta == 0 ? std::string(base) : std::string(base) + "(" + std::to_string(c.meta) + ")"; };
  switch (c.type) {
    case kTypeTiny: return "tinyint" + u;
    case kTypeShort: return "smallint" + u;
    case kTypeInt24: return "mediumint" + u;
    case kTypeLong: return "int" + u;
    case kTypeLongLong: return "bigint" + u;
    case kTypeFloat: return "float" + u;
    case kTypeDouble: return "double" + u;
    case kTypeNewDecimal: return "decimal(" + std::to_string(c.meta >> 8) + "," + std::to_string(c.meta & 0xff) + ")" + u;
    case kTypeYear: return "year";
    case kTypeDate: case kTypeNewDate: return "date";
    case kTypeTime: return "time";
    case kTypeTime2: return fsp("time");
    case kTypeDatetime: return "datetime";
    case kTypeDatetime2: return fsp("datetime");
    case kTypeTimestamp: return "timestamp";
    case kTypeTimestamp2: return fsp("timestamp");
    case kTypeJson: return "json";
    case kTypeBit: return "bit(" + std::to_string(c.bits()) + ")";
    case kTypeGeometry: return "geometry";
    case kTypeVector: return "vector";
    case kTypeNull: return "null";
    case kTypeEnum: case kTypeSet: {
      std::string out = c.type == kTypeEnum ? "enum(" : "set(";
      for (size_t i = 0; i < c.enum_values.size(); ++i) {
        if (i > 0) out += ",";
        out += "'";
        for (char ch : c.enum_values[i]) {
          if (ch == '\'') out += "'";
          out.push_back(ch);
        }
        out += "'";
      }
      return out + ")";
    }
    case kTypeVarchar: case kTypeVarString:
      return std::string(binary ? "varbinary" : "varchar") + "(" + std::to_string(chars) + ")";
    case kTypeString: return std::string(binary ? "binary" : "char") + "(" + std::to_string(chars) + ")";
    case kTypeBlob: {
      static constexpr const char* kBlob[] = {"blob", "tinyblob", "blob", "mediumblob", "longblob"};
      static constexpr const char* kText[] = {"text", "tinytext", "text", "mediumtext", "longtext"};
      const int i = c.meta <= 4 ? c.meta : 0;
      return (binary || !c.collation) ? kBlob[i] : kText[i];
    }
    default: return "type" + std::to_string(c.type);
  }
}

absl::StatusOr<uint64_t> ReadPackedInt(ByteReader& in) {
  PHONY_ASSIGN_OR_RETURN(uint8_t first, in.ReadU8());
  if (first < 0xfb) return first;
  switch (first) {
    case 0xfc: return ReadLE(in, 2);
    case 0xfd: return ReadLE(in, 3);
    case 0xfe: return ReadLE(in, 8);
    default: return in.Error("packed integer with first byte 0x" + std::string(first == 0xfb ? "fb (NULL)" : "ff"));
  }
}

absl::StatusOr<std::string_view> ReadLengthPrefixed(ByteReader& in, int prefix_bytes, const char* what) {
  if (prefix_bytes < 1 || prefix_bytes > 4) return in.Error(std::string(what) + ": length prefix of " +
                                                            std::to_string(prefix_bytes) + " bytes");
  PHONY_ASSIGN_OR_RETURN(uint64_t n, ReadLE(in, prefix_bytes));
  return in.ReadBytes(n);
}

namespace {
constexpr int kDigitsPerGroup = 9;
constexpr int kDigitBytes[10] = {0, 1, 1, 2, 2, 3, 3, 4, 4, 4};
constexpr uint32_t kPow10[10] = {1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000, 1000000000};
}  // namespace

int DecimalBinarySize(int precision, int scale) {
  const int intg = precision - scale;
  return (intg / kDigitsPerGroup) * 4 + kDigitBytes[intg % kDigitsPerGroup] + (scale / kDigitsPerGroup) * 4 +
         kDigitBytes[scale % kDigitsPerGroup];
}

namespace {

// DECIMAL(precision, scale) as text in `text` (at least kDecimalTextSize
// bytes): the view into it, or an error.
constexpr size_t kDecimalTextSize = 72;  // a sign, two spare bytes, 65 digits and a point
absl::StatusOr<std::string_view> DecimalText(ByteReader& in, int precision, int scale, char* text) {
  // MySQL allows 30 fraction digits, MariaDB (10.2.1 and later) 38.
  if (precision < 1 || precision > 65 || scale < 0 || scale > 38 || scale > precision) {
    return in.Error("DECIMAL(" + std::to_string(precision) + "," + std::to_string(scale) + ") is not a valid type");
  }
  const int size = DecimalBinarySize(precision, scale);
  PHONY_ASSIGN_OR_RETURN(std::string_view raw, in.ReadBytes(static_cast<uint64_t>(size)));
  uint8_t buf[40];
  std::memcpy(buf, raw.data(), static_cast<size_t>(size));
  const bool negative = (buf[0] & 0x80) == 0;
  buf[0] ^= 0x80;
  if (negative) {
    for (int i = 0; i < size; ++i) buf[i] = static_cast<uint8_t>(~buf[i]);
  }
  size_t pos = 0;
  auto group = [&](int digits, uint32_t* v) -> bool {
    const int n = digits == kDigitsPerGroup ? 4 : kDigitBytes[digits];
    uint32_t x = 0;
    for (int i = 0; i < n; ++i) x = (x << 8) | buf[pos++];
    *v = x;
    return x < kPow10[digits];
  };
  text[0] = text[1] = '0';
  size_t len = 0;
  // Two digits per division, from the right.
  auto append = [&](uint32_t v, int width) {
    int i = width;
    while (i >= 2) {
      const uint32_t two = v % 100;
      v /= 100;
      i -= 2;
      text[len + static_cast<size_t>(i)] = static_cast<char>('0' + two / 10);
      text[len + static_cast<size_t>(i) + 1] = static_cast<char>('0' + two % 10);
    }
    if (i == 1) text[len] = static_cast<char>('0' + v % 10);
    len += static_cast<size_t>(width);
  };
  const int intg = precision - scale;
  len = 2;  // room for a sign and a lone zero before the digits
  uint32_t v;
  if (intg % kDigitsPerGroup != 0) {
    if (!group(intg % kDigitsPerGroup, &v)) return in.Error("DECIMAL digit group out of range");
    append(v, intg % kDigitsPerGroup);
  }
  for (int i = 0; i < intg / kDigitsPerGroup; ++i) {
    if (!group(kDigitsPerGroup, &v)) return in.Error("DECIMAL digit group out of range");
    append(v, kDigitsPerGroup);
  }
  // The integer part without its leading zeros ("0" when all are).
  size_t first = 2;
  while (first < len && text[first] == '0') ++first;
  if (first == len) text[--first] = '0';
  if (scale > 0) {
    text[len++] = '.';
    for (int i = 0; i < scale / kDigitsPerGroup; ++i) {
      if (!group(kDigitsPerGroup, &v)) return in.Error("DECIMAL digit group out of range");
      append(v, kDigitsPerGroup);
    }
    if (scale % kDigitsPerGroup != 0) {
      if (!group(scale % kDigitsPerGroup, &v)) return in.Error("DECIMAL digit group out of range");
      append(v, scale % kDigitsPerGroup);
    }
  }
  // Negative zero ("-0.00", which MySQL can store) is zero.
  bool zero = true;
  for (size_t i = first; i < len && zero; ++i) zero = text[i] == '0' || text[i] == '.';
  if (negative && !zero) text[--first] = '-';
  return std::string_view(text + first, len - first);
}

}  // namespace

absl::StatusOr<std::string> DecodeDecimal(ByteReader& in, int precision, int scale) {
  char text[kDecimalTextSize];
  PHONY_ASSIGN_OR_RETURN(std::string_view v, DecimalText(in, precision, scale, text));
  return std::string(v);
}

absl::StatusOr<Value> DecodeColumnValue(const ColumnInfo& c, ByteReader& in) {
  switch (c.type) {
    case kTypeTiny: case kTypeShort: case kTypeInt24: case kTypeLong: case kTypeLongLong: {
      const int n = c.type == kTypeTiny ? 1 : c.type == kTypeShort ? 2 : c.type == kTypeInt24 ? 3 : c.type == kTypeLong ? 4 : 8;
      PHONY_ASSIGN_OR_RETURN(uint64_t v, ReadLE(in, n));
      if (c.is_unsigned) return n == 8 ? Value::UInt64(v) : Value::Int64(static_cast<int64_t>(v));
      return Value::Int64(SignExtend(v, n));
    }
    case kTypeYear: {
      PHONY_ASSIGN_OR_RETURN(uint8_t v, in.ReadU8());
      return Value::Int64(v == 0 ? 0 : 1900 + v);
    }
    case kTypeFloat: {
      PHONY_ASSIGN_OR_RETURN(uint32_t bits, in.ReadU32LE());
      float f;
      std::memcpy(&f, &bits, sizeof(f));
      if (!std::isfinite(f)) return Value::Double(static_cast<double>(f));
      // The float's shortest decimal form, read as a double: 1.1f stays 1.1
      // instead of becoming 1.100000023841858.
      char buf[32];
      auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), f);
      double d = 0;
      std::from_chars(buf, end, d);
      (void)ec;
      return Value::Double(d);
    }
    case kTypeDouble: {
      PHONY_ASSIGN_OR_RETURN(uint64_t bits, in.ReadU64LE());
      double d;
      std::memcpy(&d, &bits, sizeof(d));
      return Value::Double(d);
    }
    case kTypeNewDecimal: {
      PHONY_ASSIGN_OR_RETURN(std::string text, DecodeDecimal(in, c.meta >> 8, c.meta & 0xff));
      return Value::Decimal(std::move(text));
    }
    case kTypeDate: case kTypeNewDate: {
      PHONY_ASSIGN_OR_RETURN(uint64_t v, ReadLE(in, 3));
      PHONY_ASSIGN_OR_RETURN(std::optional<int64_t> micros,
                             CivilMicros(in, static_cast<int64_t>(v >> 9), static_cast<int64_t>((v >> 5) & 15),
                                         static_cast<int64_t>(v & 31), 0, 0, 0, 0));
      if (!micros) return Value::Null();
      return Value::Date(static_cast<int32_t>(*micros / kMicrosPerDay));
    }
    case kTypeTime: {
      PHONY_ASSIGN_OR_RETURN(uint64_t v, ReadLE(in, 3));
      const int64_t i = SignExtend(v, 3);
      const int64_t a = i < 0 ? -i : i;
      return TimeValue(in, i < 0, a / 10000, (a / 100) % 100, a % 100, 0);
    }
    case kTypeTime2: return DecodeTime2(in, c.meta);
    case kTypeDatetime: {
      PHONY_ASSIGN_OR_RETURN(uint64_t v, in.ReadU64LE());
      const uint64_t date = v / 1000000, time = v % 1000000;
      PHONY_ASSIGN_OR_RETURN(std::optional<int64_t> micros,
                             CivilMicros(in, static_cast<int64_t>(date / 10000), static_cast<int64_t>(date / 100 % 100),
                                         static_cast<int64_t>(date % 100), static_cast<int64_t>(time / 10000),
                                         static_cast<int64_t>(time / 100 % 100), static_cast<int64_t>(time % 100), 0));
      return micros ? Value::Timestamp(*micros) : Value::Null();
    }
    case kTypeDatetime2: {
      PHONY_ASSIGN_OR_RETURN(uint64_t v, ReadBE(in, 5, "DATETIME2"));
      PHONY_ASSIGN_OR_RETURN(int64_t frac, ReadFraction(in, c.meta));
      const int64_t packed = static_cast<int64_t>(v) - 0x8000000000LL;
      if (packed < 0) return in.Error("negative DATETIME2");
      const int64_t ymd = packed >> 17, hms = packed & 0x1ffff, ym = ymd >> 5;
      PHONY_ASSIGN_OR_RETURN(std::optional<int64_t> micros,
                             CivilMicros(in, ym / 13, ym % 13, ymd & 31, hms >> 12, (hms >> 6) & 63, hms & 63, frac));
      return micros ? Value::Timestamp(*micros) : Value::Null();
    }
    case kTypeTimestamp: {
      PHONY_ASSIGN_OR_RETURN(uint32_t secs, in.ReadU32LE());
      if (secs == 0) return Value::Null();  // '0000-00-00 00:00:00'
      return Value::TimestampTz(static_cast<int64_t>(secs) * kMicrosPerSecond);
    }
    case kTypeTimestamp2: {
      PHONY_ASSIGN_OR_RETURN(uint64_t secs, ReadBE(in, 4, "TIMESTAMP2"));
      PHONY_ASSIGN_OR_RETURN(int64_t frac, ReadFraction(in, c.meta));
      PHONY_RETURN_IF_ERROR(CheckFraction(in, frac));
      if (secs == 0 && frac == 0) return Value::Null();
      return Value::TimestampTz(static_cast<int64_t>(secs) * kMicrosPerSecond + frac);
    }
    case kTypeVarchar: case kTypeVarString: case kTypeString: {
      PHONY_ASSIGN_OR_RETURN(std::string_view bytes, ReadLengthPrefixed(in, c.meta > 255 ? 2 : 1, "string"));
      PHONY_ASSIGN_OR_RETURN(Value v, CharacterValue(c, bytes, in));
      // BINARY(n) (and MariaDB's INET4, INET6, UUID): the row image leaves
      // out the trailing 0x00 pad, which SELECT returns; put it back.
      if (c.type == kTypeString && v.kind() == ValueKind::kBytes && c.collation && bytes.size() < c.meta) {
        std::string padded = v.release_str();
        padded.resize(c.meta, '\0');
        return Value::Bytes(std::move(padded));
      }
      return v;
    }
    case kTypeBlob: {
      PHONY_ASSIGN_OR_RETURN(std::string_view bytes, ReadLengthPrefixed(in, c.meta, "BLOB/TEXT"));
      return CharacterValue(c, bytes, in);
    }
    case kTypeGeometry: case kTypeVector: {
      PHONY_ASSIGN_OR_RETURN(std::string_view bytes, ReadLengthPrefixed(in, c.meta, "GEOMETRY"));
      return Value::Bytes(std::string(bytes));
    }
    case kTypeJson: {
      const uint64_t at = in.offset();
      PHONY_ASSIGN_OR_RETURN(std::string_view bytes, ReadLengthPrefixed(in, c.meta, "JSON"));
      std::string text;
      if (absl::Status s = BinaryJsonToText(bytes, &text); !s.ok()) {
        return absl::DataLossError("JSON value at offset " + std::to_string(at) + ": " + std::string(s.message()));
      }
      return Value::Json(std::move(text));
    }
    case kTypeEnum: {
      if (c.meta != 1 && c.meta != 2) return in.Error("ENUM with a pack length of " + std::to_string(c.meta));
      PHONY_ASSIGN_OR_RETURN(uint64_t index, ReadLE(in, c.meta));
      if (c.enum_values.empty()) return Value::Int64(static_cast<int64_t>(index));
      if (index == 0) return Value::Text("");  // the error value MySQL stores for an invalid string
      if (index > c.enum_values.size()) return in.Error("ENUM index beyond the type's values");
      return Value::Text(c.enum_values[index - 1]);
    }
    case kTypeSet: {
      if (c.meta < 1 || c.meta > 8) return in.Error("SET with a pack length of " + std::to_string(c.meta));
      PHONY_ASSIGN_OR_RETURN(uint64_t bits, ReadLE(in, c.meta));
      if (c.enum_values.empty()) return Value::UInt64(bits);
      if (c.enum_values.size() < 64 && (bits >> c.enum_values.size()) != 0) {
        return in.Error("SET bits beyond the type's values");
      }
      return Value::Text(SetText(c, bits));
    }
    case kTypeBit: {
      const int nbits = c.bits();
      if (nbits < 1 || nbits > 64) return in.Error("BIT(" + std::to_string(nbits) + ")");
      PHONY_ASSIGN_OR_RETURN(std::string_view bytes, in.ReadBytes(static_cast<uint64_t>((nbits + 7) / 8)));
      if (nbits == 1) return Value::Bool((static_cast<uint8_t>(bytes[0]) & 1) != 0);
      return Value::Bytes(std::string(bytes));
    }
    case kTypeNull: return Value::Null();
    default:
      return absl::DataLossError("column type " + std::to_string(c.type) + " at offset " + std::to_string(in.offset()) +
                                 " cannot appear in a row event");
  }
}

}  // namespace phony::mysql

namespace phony::mysql {
namespace {

// Bytes of a DATETIME2/TIMESTAMP2/TIME2 fraction with `fsp` digits; -1 when
// fsp is out of range.
int FractionBytes(int fsp) { return fsp < 0 || fsp > 6 ? -1 : (fsp + 1) / 2; }

// The fraction's micros from its big-endian bytes.
int64_t FractionMicros(const char* p, int fsp) {
  switch ((fsp + 1) / 2) {
    case 1: return static_cast<int64_t>(LoadBE(p, 1)) * 10000;
    case 2: return static_cast<int64_t>(LoadBE(p, 2)) * 100;
    case 3: return static_cast<int64_t>(LoadBE(p, 3));
    default: return 0;
  }
}

// How a character column's bytes become a Value without conversion:
// kText (UTF-8 and ASCII) or kBytes (binary); kNull when they need the
// general path (latin1, an unsupported charset).
ValueKind DirectStringKind(const ColumnInfo& c) {
  if (!c.collation) return c.type == kTypeBlob ? ValueKind::kBytes : ValueKind::kText;
  switch (*c.collation) {
    case 63: return ValueKind::kBytes;
    case 45: case 46: case 33: case 83: case 224: case 255: case 2048: case 2304:
      return ValueKind::kText;
    default: return ValueKind::kNull;
  }
}

}  // namespace

// The common types are decoded straight into the slot; anything unusual
// (latin1 text, out-of-range fields, short input, every other type) goes
// through DecodeColumnValue, which also words every error. A fast path
// consumes nothing unless it completes.
absl::Status DecodeColumnInto(const ColumnInfo& c, ByteReader& in, Value* out) {
  switch (c.type) {
    case kTypeTiny: case kTypeShort: case kTypeInt24: case kTypeLong: case kTypeLongLong: {
      const int n = c.type == kTypeTiny ? 1 : c.type == kTypeShort ? 2 : c.type == kTypeInt24 ? 3 : c.type == kTypeLong ? 4 : 8;
      const char* p = in.TryTake(static_cast<size_t>(n));
      if (p == nullptr) break;
      const uint64_t v = LoadLE(p, n);
      if (!c.is_unsigned) {
        out->SetInt(ValueKind::kInt64, SignExtend(v, n));
      } else if (n == 8) {
        out->SetUInt64(v);
      } else {
        out->SetInt(ValueKind::kInt64, static_cast<int64_t>(v));
      }
      return absl::OkStatus();
    }
    case kTypeDouble: {
      const char* p = in.TryTake(8);
      if (p == nullptr) break;
      const uint64_t bits = LoadLE(p, 8);
      double d;
      std::memcpy(&d, &bits, sizeof(d));
      out->SetDouble(d);
      return absl::OkStatus();
    }
    case kTypeVarchar: case kTypeVarString: case kTypeString: case kTypeBlob: {
      const int prefix = c.type == kTypeBlob ? c.meta : c.meta > 255 ? 2 : 1;
      const ValueKind kind = DirectStringKind(c);
      const std::string_view rest = in.Peek();
      if (kind == ValueKind::kNull || prefix < 1 || prefix > 4 || rest.size() < static_cast<size_t>(prefix)) break;
      const uint64_t n = LoadLE(rest.data(), prefix);
      if (n > rest.size() - static_cast<size_t>(prefix)) break;
      in.TryTake(static_cast<size_t>(prefix) + n);
      out->SetString(kind, rest.substr(static_cast<size_t>(prefix), n));
      // BINARY(n) (and MariaDB's INET4, INET6, UUID): the row image leaves
      // out the trailing 0x00 pad, which SELECT returns; put it back.
      if (c.type == kTypeString && kind == ValueKind::kBytes && c.collation && n < c.meta) {
        std::string padded = out->release_str();
        padded.resize(c.meta, '\0');
        out->SetString(ValueKind::kBytes, padded);
      }
      return absl::OkStatus();
    }
    case kTypeNewDecimal: {
      char text[kDecimalTextSize];
      PHONY_ASSIGN_OR_RETURN(std::string_view v, DecimalText(in, c.meta >> 8, c.meta & 0xff, text));
      out->SetString(ValueKind::kDecimal, v);
      return absl::OkStatus();
    }
    case kTypeDatetime2: {
      const int fb = FractionBytes(c.meta);
      const std::string_view rest = in.Peek();
      if (fb < 0 || rest.size() < static_cast<size_t>(5 + fb)) break;
      const int64_t packed = static_cast<int64_t>(LoadBE(rest.data(), 5)) - 0x8000000000LL;
      const int64_t frac = FractionMicros(rest.data() + 5, c.meta);
      if (packed < 0 || frac >= kMicrosPerSecond) break;
      const int64_t ymd = packed >> 17, hms = packed & 0x1ffff, ym = ymd >> 5;
      const int64_t year = ym / 13, month = ym % 13, day = ymd & 31;
      const int64_t hour = hms >> 12, minute = (hms >> 6) & 63, second = hms & 63;
      if (year > 9999 || month > 12 || hour > 23 || minute > 59 || second > 59) break;
      in.TryTake(static_cast<size_t>(5 + fb));
      if (year == 0 || month == 0 || day == 0) return absl::OkStatus();  // a zero date is NULL
      const int64_t days = DaysFromCivil(year, static_cast<unsigned>(month), static_cast<unsigned>(day));
      out->SetInt(ValueKind::kTimestamp,
                  days * kMicrosPerDay + ((hour * 60 + minute) * 60 + second) * kMicrosPerSecond + frac);
      return absl::OkStatus();
    }
    case kTypeTimestamp2: {
      const int fb = FractionBytes(c.meta);
      const std::string_view rest = in.Peek();
      if (fb < 0 || rest.size() < static_cast<size_t>(4 + fb)) break;
      const int64_t secs = static_cast<int64_t>(LoadBE(rest.data(), 4));
      const int64_t frac = FractionMicros(rest.data() + 4, c.meta);
      if (frac >= kMicrosPerSecond) break;
      in.TryTake(static_cast<size_t>(4 + fb));
      if (secs == 0 && frac == 0) return absl::OkStatus();  // '0000-00-00 00:00:00' is NULL
      out->SetInt(ValueKind::kTimestampTz, secs * kMicrosPerSecond + frac);
      return absl::OkStatus();
    }
    default:
      break;
  }
  PHONY_ASSIGN_OR_RETURN(*out, DecodeColumnValue(c, in));
  return absl::OkStatus();
}

}  // namespace phony::mysql
