#include "src/capture/mysql/binlog_json.h"

#include <algorithm>
#include <bit>
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <utility>

#include "core/byte_reader.h"
#include "core/status_macros.h"

namespace phony::mysql {
namespace {

// Value type bytes (json_binary.h).
constexpr uint8_t kSmallObject = 0x00;
constexpr uint8_t kLargeObject = 0x01;
constexpr uint8_t kSmallArray = 0x02;
constexpr uint8_t kLargeArray = 0x03;
constexpr uint8_t kLiteral = 0x04;
constexpr uint8_t kInt16 = 0x05;
constexpr uint8_t kUint16 = 0x06;
constexpr uint8_t kInt32 = 0x07;
constexpr uint8_t kUint32 = 0x08;
constexpr uint8_t kInt64 = 0x09;
constexpr uint8_t kUint64 = 0x0a;
constexpr uint8_t kDouble = 0x0b;
constexpr uint8_t kString = 0x0c;
constexpr uint8_t kOpaque = 0x0f;

constexpr uint8_t kNullLiteral = 0x00;
constexpr uint8_t kTrueLiteral = 0x01;
constexpr uint8_t kFalseLiteral = 0x02;

// MySQL field types that an opaque value prints specially (enum_field_types).
constexpr uint8_t kFieldTimestamp = 7;
constexpr uint8_t kFieldDate = 10;
constexpr uint8_t kFieldTime = 11;
constexpr uint8_t kFieldDatetime = 12;
constexpr uint8_t kFieldNewDecimal = 246;
constexpr uint8_t kFieldVarString = 253;

// JSON_DOCUMENT_MAX_DEPTH in json_syntax_check.h.
constexpr int kMaxDepth = 100;

std::string Hex8(uint8_t v) {
  static constexpr char kDigits[] = "0123456789abcdef";
  return std::string("0x") + kDigits[v >> 4] + kDigits[v & 0xf];
}

// A reader over the bytes of `base` starting `offset` bytes after its current
// position (offsets inside a container are relative to its start).
absl::StatusOr<ByteReader> At(ByteReader base, uint64_t offset) {
  PHONY_RETURN_IF_ERROR(base.Skip(offset));
  return base;
}

// The 7-bit variable-length size of strings and opaque values: up to 5 bytes,
// low groups first, high bit set on all but the last; at most 2^32-1.
absl::StatusOr<uint32_t> ReadVariableLength(ByteReader& in) {
  const uint64_t at = in.offset();
  uint64_t value = 0;
  for (int i = 0; i < 5; ++i) {
    PHONY_ASSIGN_OR_RETURN(uint8_t byte, in.ReadU8());
    value |= static_cast<uint64_t>(byte & 0x7f) << (7 * i);
    if ((byte & 0x80) == 0) {
      if (value > std::numeric_limits<uint32_t>::max()) {
        return absl::DataLossError(std::string(in.context()) + ": length " + std::to_string(value) +
                                   " exceeds 32 bits at offset " + std::to_string(at));
      }
      return static_cast<uint32_t>(value);
    }
  }
  return absl::DataLossError(std::string(in.context()) +
                             ": variable-length size longer than 5 bytes at offset " + std::to_string(at));
}

void AppendQuoted(std::string_view s, std::string* out) {
  static constexpr char kHex[] = "0123456789abcdef";
  out->push_back('"');
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    switch (c) {
      case '"': out->append("\\\""); continue;
      case '\\': out->append("\\\\"); continue;
      case '\b': out->append("\\b"); continue;
      case '\f': out->append("\\f"); continue;
      case '\n': out->append("\\n"); continue;
      case '\r': out->append("\\r"); continue;
      case '\t': out->append("\\t"); continue;
      default: break;
    }
    if (u < 0x20) {
      out->append("\\u00");
      out->push_back(kHex[u >> 4]);
      out->push_back(kHex[u & 0xf]);
    } else {
      out->push_back(c);
    }
  }
  out->push_back('"');
}

template <typename T>
void AppendInteger(T v, std::string* out) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v);
  (void)ec;  // 24 bytes hold any 64-bit integer
  out->append(buf, end);
}

// A double as MySQL's my_gcvt(d, MY_GCVT_ARG_DOUBLE, MY_GCVT_MAX_FIELD_WIDTH)
// writes it: dtoa mode 4 with a 34-digit budget yields the shortest
// round-trip digits (what std::to_chars gives); with `decpt` the position of
// the decimal point relative to those digits, fixed notation is used when
// -14 <= decpt <= 15 or the digits extend past the point, else
// d[.ddd]e[-]X with no '+' and no exponent padding. Json_wrapper::to_string
// then appends ".0" when the text has neither '.' nor 'e'.
void AppendDouble(double d, std::string* out) {
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), d, std::chars_format::scientific);
  (void)ec;  // 64 bytes hold any shortest scientific double
  std::string_view sci(buf, static_cast<size_t>(end - buf));
  const bool negative = !sci.empty() && sci.front() == '-';
  if (negative) sci.remove_prefix(1);
  const size_t e = sci.find('e');
  std::string digits;
  for (char c : sci.substr(0, e)) {
    if (c != '.') digits.push_back(c);
  }
  int exponent = 0;
  std::string_view exp_text = sci.substr(e + 1);
  if (!exp_text.empty() && exp_text.front() == '+') exp_text.remove_prefix(1);
  std::from_chars(exp_text.data(), exp_text.data() + exp_text.size(), exponent);
  const int len = static_cast<int>(digits.size());
  const int decpt = exponent + 1;

  const size_t start = out->size();
  if (negative) out->push_back('-');
  if (decpt >= -14 && (decpt <= 15 || len > decpt)) {
    if (decpt <= 0) {
      out->append("0.");
      out->append(static_cast<size_t>(-decpt), '0');
      out->append(digits);
    } else if (decpt < len) {
      out->append(digits, 0, static_cast<size_t>(decpt));
      out->push_back('.');
      out->append(digits, static_cast<size_t>(decpt));
    } else {
      out->append(digits);
      out->append(static_cast<size_t>(decpt - len), '0');
    }
  } else {
    out->push_back(digits[0]);
    if (len > 1) {
      out->push_back('.');
      out->append(digits, 1);
    }
    out->push_back('e');
    AppendInteger(decpt - 1, out);
  }
  if (out->find_first_of(".e", start) == std::string::npos) out->append(".0");
}

// Standard base64 with padding and, like MySQL's base64_encode(), a newline
// before every 77th output character of a line.
std::string Base64(std::string_view bytes) {
  static constexpr char kTable[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t line = 0;
  for (size_t i = 0; i < bytes.size(); i += 3) {
    if (line == 76) {
      out.push_back('\n');
      line = 0;
    }
    const size_t n = std::min<size_t>(3, bytes.size() - i);
    uint32_t group = 0;
    for (size_t k = 0; k < 3; ++k) {
      group <<= 8;
      if (k < n) group |= static_cast<unsigned char>(bytes[i + k]);
    }
    out.push_back(kTable[(group >> 18) & 0x3f]);
    out.push_back(kTable[(group >> 12) & 0x3f]);
    out.push_back(n > 1 ? kTable[(group >> 6) & 0x3f] : '=');
    out.push_back(n > 2 ? kTable[group & 0x3f] : '=');
    line += 4;
  }
  return out;
}

// `v` zero-padded to at least `width` digits (printf's %0*u).
void AppendPadded(uint64_t v, size_t width, std::string* out) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v);
  (void)ec;
  const size_t n = static_cast<size_t>(end - buf);
  if (n < width) out->append(width - n, '0');
  out->append(buf, n);
}

// The packed longlong temporal of a DATE/DATETIME/TIMESTAMP/TIME opaque
// (TIME_to_longlong_packed, stored with int8store): the low 24 bits are
// microseconds; above them a datetime holds ((year*13+month)<<5|day)<<17 |
// hour<<12 | minute<<6 | second, a time holds hour<<12 | minute<<6 | second
// (hour in 10 bits); a negative time is the negated packed value.
absl::Status AppendTemporal(uint8_t field_type, ByteReader& in, std::string* out) {
  const uint64_t at = in.offset();
  auto bad = [&](const std::string& what) {
    return absl::DataLossError(std::string(in.context()) + ": opaque field type " +
                               std::to_string(field_type) + ": " + what + " at offset " + std::to_string(at));
  };
  if (in.remaining() != 8) return bad("packed temporal of " + std::to_string(in.remaining()) + " bytes, want 8");
  PHONY_ASSIGN_OR_RETURN(uint64_t raw, in.ReadU64LE());
  int64_t packed = static_cast<int64_t>(raw);
  constexpr int64_t kFracMask = (int64_t{1} << 24) - 1;

  if (field_type == kFieldTime) {
    const bool negative = packed < 0;
    if (packed == std::numeric_limits<int64_t>::min()) return bad("packed TIME out of range");
    if (negative) packed = -packed;
    const int64_t micros = packed & kFracMask;
    const int64_t hms = packed >> 24;
    const int64_t hour = hms >> 12, minute = (hms >> 6) & 0x3f, second = hms & 0x3f;
    if (hour >= 1024 || minute > 59 || second > 59 || micros > 999999) {
      return bad("packed TIME " + std::to_string(packed) + " has fields out of range");
    }
    out->push_back('"');
    if (negative) out->push_back('-');
    AppendPadded(static_cast<uint64_t>(hour), 2, out);
    out->push_back(':');
    AppendPadded(static_cast<uint64_t>(minute), 2, out);
    out->push_back(':');
    AppendPadded(static_cast<uint64_t>(second), 2, out);
    out->push_back('.');
    AppendPadded(static_cast<uint64_t>(micros), 6, out);
    out->push_back('"');
    return absl::OkStatus();
  }

  if (packed < 0) return bad("negative packed date/datetime");
  const int64_t micros = packed & kFracMask;
  const int64_t ymdhms = packed >> 24;
  const int64_t ymd = ymdhms >> 17, hms = ymdhms & ((1 << 17) - 1);
  const int64_t day = ymd & 0x1f, ym = ymd >> 5;
  const int64_t month = ym % 13, year = ym / 13;
  const int64_t hour = hms >> 12, minute = (hms >> 6) & 0x3f, second = hms & 0x3f;
  if (year > 9999 || hour > 23 || minute > 59 || second > 59 || micros > 999999) {
    return bad("packed datetime " + std::to_string(packed) + " has fields out of range");
  }
  out->push_back('"');
  AppendPadded(static_cast<uint64_t>(year), 4, out);
  out->push_back('-');
  AppendPadded(static_cast<uint64_t>(month), 2, out);
  out->push_back('-');
  AppendPadded(static_cast<uint64_t>(day), 2, out);
  if (field_type != kFieldDate) {
    out->push_back(' ');
    AppendPadded(static_cast<uint64_t>(hour), 2, out);
    out->push_back(':');
    AppendPadded(static_cast<uint64_t>(minute), 2, out);
    out->push_back(':');
    AppendPadded(static_cast<uint64_t>(second), 2, out);
    out->push_back('.');
    AppendPadded(static_cast<uint64_t>(micros), 6, out);
  }
  out->push_back('"');
  return absl::OkStatus();
}

// A NEWDECIMAL opaque: precision byte, scale byte, then decimal2bin's form:
// the integer digits then the fraction digits, in groups of 9 digits stored as
// 4-byte big-endian words, a partial group of n digits in
// {0,1,1,2,2,3,3,4,4,4}[n] bytes (leading for the integer part, trailing for
// the fraction); the top bit of the first byte is set for non-negative values
// and a negative value has every byte inverted. Printed like decimal2string():
// sign, the integer part without leading zeros (at least "0"), and exactly
// `scale` fraction digits.
absl::Status AppendDecimal(ByteReader& in, std::string* out) {
  static constexpr int kDigitBytes[10] = {0, 1, 1, 2, 2, 3, 3, 4, 4, 4};
  static constexpr uint32_t kPow10[10] = {1,      10,      100,      1000,      10000,
                                          100000, 1000000, 10000000, 100000000, 1000000000};
  const uint64_t at = in.offset();
  PHONY_ASSIGN_OR_RETURN(uint8_t precision, in.ReadU8());
  PHONY_ASSIGN_OR_RETURN(uint8_t scale, in.ReadU8());
  auto bad = [&](const std::string& what) {
    return absl::DataLossError(std::string(in.context()) + ": decimal(" + std::to_string(precision) + "," +
                               std::to_string(scale) + "): " + what + " at offset " + std::to_string(at));
  };
  if (precision == 0 || precision > 65 || scale > 30 || scale > precision) return bad("bad precision or scale");
  const int intg = precision - scale;
  const int intg_full = intg / 9, intg_part = intg % 9;
  const int frac_full = scale / 9, frac_part = scale % 9;
  const size_t size = static_cast<size_t>(intg_full * 4 + kDigitBytes[intg_part] + frac_full * 4 +
                                          kDigitBytes[frac_part]);
  if (in.remaining() != size) {
    return bad("wants " + std::to_string(size) + " bytes, has " + std::to_string(in.remaining()));
  }
  PHONY_ASSIGN_OR_RETURN(std::string_view raw, in.ReadBytes(size));
  std::string bytes(raw);
  const bool negative = (static_cast<uint8_t>(bytes[0]) & 0x80) == 0;
  bytes[0] = static_cast<char>(bytes[0] ^ 0x80);
  if (negative) {
    for (char& c : bytes) c = static_cast<char>(~c);
  }
  size_t pos = 0;
  // Reads `digits` digits stored in kDigitBytes[digits] (or 4) bytes.
  auto group = [&](int digits, std::string* text, bool pad) -> absl::Status {
    const int n = digits == 9 ? 4 : kDigitBytes[digits];
    uint32_t v = 0;
    for (int k = 0; k < n; ++k) v = (v << 8) | static_cast<uint8_t>(bytes[pos++]);
    if (v >= kPow10[digits]) return bad("group value " + std::to_string(v) + " has more than " +
                                        std::to_string(digits) + " digits");
    const size_t before = text->size();
    AppendInteger(v, text);
    if (pad && text->size() - before < static_cast<size_t>(digits)) {
      text->insert(before, static_cast<size_t>(digits) - (text->size() - before), '0');
    }
    return absl::OkStatus();
  };
  std::string integer, fraction;
  if (intg_part > 0) PHONY_RETURN_IF_ERROR(group(intg_part, &integer, false));
  for (int i = 0; i < intg_full; ++i) PHONY_RETURN_IF_ERROR(group(9, &integer, true));
  for (int i = 0; i < frac_full; ++i) PHONY_RETURN_IF_ERROR(group(9, &fraction, true));
  if (frac_part > 0) PHONY_RETURN_IF_ERROR(group(frac_part, &fraction, true));
  const size_t first = integer.find_first_not_of('0');
  if (negative) out->push_back('-');
  out->append(first == std::string::npos ? std::string("0") : integer.substr(first));
  if (scale > 0) {
    out->push_back('.');
    out->append(fraction);
  }
  return absl::OkStatus();
}

absl::Status AppendOpaque(ByteReader& in, std::string* out) {
  PHONY_ASSIGN_OR_RETURN(uint8_t field_type, in.ReadU8());
  PHONY_ASSIGN_OR_RETURN(uint32_t length, ReadVariableLength(in));
  PHONY_ASSIGN_OR_RETURN(ByteReader payload, in.Sub(length));
  switch (field_type) {
    case kFieldDate:
    case kFieldTime:
    case kFieldDatetime:
    case kFieldTimestamp:
      return AppendTemporal(field_type, payload, out);
    case kFieldNewDecimal:
      return AppendDecimal(payload, out);
    case kFieldVarString: {
      // Json_wrapper::to_string prints VAR_STRING opaques as plain strings.
      AppendQuoted(payload.Peek(), out);
      return absl::OkStatus();
    }
    default: {
      std::string text = "base64:type" + std::to_string(field_type) + ":" + Base64(payload.Peek());
      AppendQuoted(text, out);
      return absl::OkStatus();
    }
  }
}

// A scalar of `type` whose bytes start at `in` (for an inlined value, `in`
// covers the entry's offset field).
absl::Status AppendScalar(uint8_t type, ByteReader& in, std::string* out) {
  switch (type) {
    case kLiteral: {
      const uint64_t at = in.offset();
      PHONY_ASSIGN_OR_RETURN(uint8_t literal, in.ReadU8());
      switch (literal) {
        case kNullLiteral: out->append("null"); return absl::OkStatus();
        case kTrueLiteral: out->append("true"); return absl::OkStatus();
        case kFalseLiteral: out->append("false"); return absl::OkStatus();
        default:
          return absl::DataLossError(std::string(in.context()) + ": bad literal " + Hex8(literal) +
                                     " at offset " + std::to_string(at));
      }
    }
    case kInt16: {
      PHONY_ASSIGN_OR_RETURN(uint16_t v, in.ReadU16LE());
      AppendInteger(static_cast<int16_t>(v), out);
      return absl::OkStatus();
    }
    case kUint16: {
      PHONY_ASSIGN_OR_RETURN(uint16_t v, in.ReadU16LE());
      AppendInteger(v, out);
      return absl::OkStatus();
    }
    case kInt32: {
      PHONY_ASSIGN_OR_RETURN(uint32_t v, in.ReadU32LE());
      AppendInteger(static_cast<int32_t>(v), out);
      return absl::OkStatus();
    }
    case kUint32: {
      PHONY_ASSIGN_OR_RETURN(uint32_t v, in.ReadU32LE());
      AppendInteger(v, out);
      return absl::OkStatus();
    }
    case kInt64: {
      PHONY_ASSIGN_OR_RETURN(uint64_t v, in.ReadU64LE());
      AppendInteger(static_cast<int64_t>(v), out);
      return absl::OkStatus();
    }
    case kUint64: {
      PHONY_ASSIGN_OR_RETURN(uint64_t v, in.ReadU64LE());
      AppendInteger(v, out);
      return absl::OkStatus();
    }
    case kDouble: {
      const uint64_t at = in.offset();
      PHONY_ASSIGN_OR_RETURN(uint64_t bits, in.ReadU64LE());
      const double d = std::bit_cast<double>(bits);
      if (!std::isfinite(d)) {
        return absl::DataLossError(std::string(in.context()) + ": double is not finite at offset " +
                                   std::to_string(at));
      }
      AppendDouble(d, out);
      return absl::OkStatus();
    }
    case kString: {
      PHONY_ASSIGN_OR_RETURN(uint32_t length, ReadVariableLength(in));
      PHONY_ASSIGN_OR_RETURN(std::string_view s, in.ReadBytes(length));
      AppendQuoted(s, out);
      return absl::OkStatus();
    }
    case kOpaque:
      return AppendOpaque(in, out);
    default:
      return absl::DataLossError(std::string(in.context()) + ": unknown value type " + Hex8(type) +
                                 " at offset " + std::to_string(in.offset()));
  }
}

// Literals and 16-bit integers always live in the value entry; 32-bit
// integers too in the large format (json_binary::inlined_type).
bool Inlined(uint8_t type, bool large) {
  switch (type) {
    case kLiteral:
    case kInt16:
    case kUint16:
      return true;
    case kInt32:
    case kUint32:
      return large;
    default:
      return false;
  }
}

absl::Status AppendValue(uint8_t type, ByteReader& in, int depth, std::string* out);

// An object or array whose element count starts at `in`; `in` ends where the
// enclosing container (or the document) ends. Entries give offsets relative
// to the container's start, which must fall after the header and inside the
// container's declared size.
absl::Status AppendContainer(bool is_object, bool large, ByteReader& in, int depth, std::string* out) {
  const uint64_t start = in.offset();
  const char* what = is_object ? "object" : "array";
  auto bad = [&](const std::string& why) {
    return absl::DataLossError(std::string(in.context()) + ": " + (large ? "large " : "small ") + what +
                               " at offset " + std::to_string(start) + ": " + why);
  };
  if (depth > kMaxDepth) return bad("nested deeper than " + std::to_string(kMaxDepth));
  ByteReader header = in;
  auto read_offset = [large](ByteReader& r) -> absl::StatusOr<uint32_t> {
    if (large) return r.ReadU32LE();
    PHONY_ASSIGN_OR_RETURN(uint16_t v, r.ReadU16LE());
    return static_cast<uint32_t>(v);
  };
  PHONY_ASSIGN_OR_RETURN(uint32_t count, read_offset(header));
  PHONY_ASSIGN_OR_RETURN(uint32_t size, read_offset(header));
  if (size > in.remaining()) {
    return bad("size " + std::to_string(size) + " exceeds the " + std::to_string(in.remaining()) +
               " bytes available");
  }
  PHONY_ASSIGN_OR_RETURN(ByteReader body, in.Sub(size));
  const uint64_t offset_size = large ? 4 : 2;
  const uint64_t key_entry_size = offset_size + 2;
  const uint64_t value_entry_size = offset_size + 1;
  const uint64_t key_entries = 2 * offset_size;
  const uint64_t value_entries = key_entries + (is_object ? count * key_entry_size : 0);
  const uint64_t header_size = value_entries + count * value_entry_size;
  if (header_size > size) {
    return bad(std::to_string(count) + " entries need a " + std::to_string(header_size) +
               "-byte header, larger than the size " + std::to_string(size));
  }

  out->push_back(is_object ? '{' : '[');
  for (uint64_t i = 0; i < count; ++i) {
    if (i > 0) out->append(", ");
    if (is_object) {
      PHONY_ASSIGN_OR_RETURN(ByteReader entry, At(body, key_entries + i * key_entry_size));
      PHONY_ASSIGN_OR_RETURN(uint32_t key_offset, read_offset(entry));
      PHONY_ASSIGN_OR_RETURN(uint16_t key_length, entry.ReadU16LE());
      if (key_offset < header_size || uint64_t{key_offset} + key_length > size) {
        return bad("key " + std::to_string(i) + " at " + std::to_string(key_offset) + "+" +
                   std::to_string(key_length) + " lies outside [" + std::to_string(header_size) + ", " +
                   std::to_string(size) + ")");
      }
      PHONY_ASSIGN_OR_RETURN(ByteReader key, At(body, key_offset));
      PHONY_ASSIGN_OR_RETURN(std::string_view key_bytes, key.ReadBytes(key_length));
      AppendQuoted(key_bytes, out);
      out->append(": ");
    }
    PHONY_ASSIGN_OR_RETURN(ByteReader entry, At(body, value_entries + i * value_entry_size));
    PHONY_ASSIGN_OR_RETURN(uint8_t type, entry.ReadU8());
    if (Inlined(type, large)) {
      PHONY_ASSIGN_OR_RETURN(ByteReader inlined, entry.Sub(offset_size));
      PHONY_RETURN_IF_ERROR(AppendScalar(type, inlined, out));
      continue;
    }
    PHONY_ASSIGN_OR_RETURN(uint32_t value_offset, read_offset(entry));
    if (value_offset < header_size || value_offset >= size) {
      return bad("value " + std::to_string(i) + " (type " + Hex8(type) + ") at offset " +
                 std::to_string(value_offset) + " lies outside [" + std::to_string(header_size) + ", " +
                 std::to_string(size) + ")");
    }
    PHONY_ASSIGN_OR_RETURN(ByteReader value, At(body, value_offset));
    PHONY_RETURN_IF_ERROR(AppendValue(type, value, depth, out));
  }
  out->push_back(is_object ? '}' : ']');
  return absl::OkStatus();
}

// A value of `type` whose bytes (after the type byte) start at `in`; `depth`
// counts the containers around it.
absl::Status AppendValue(uint8_t type, ByteReader& in, int depth, std::string* out) {
  switch (type) {
    case kSmallObject: return AppendContainer(true, false, in, depth + 1, out);
    case kLargeObject: return AppendContainer(true, true, in, depth + 1, out);
    case kSmallArray: return AppendContainer(false, false, in, depth + 1, out);
    case kLargeArray: return AppendContainer(false, true, in, depth + 1, out);
    default: return AppendScalar(type, in, out);
  }
}

// BinaryJsonToText with offsets reported relative to `base_offset`.
absl::Status AppendDocument(std::string_view data, uint64_t base_offset, const char* context,
                            std::string* out) {
  if (data.empty()) {
    out->append("null");
    return absl::OkStatus();
  }
  const size_t original_size = out->size();
  ByteReader in(data, context, base_offset);
  absl::Status status = [&]() -> absl::Status {
    PHONY_ASSIGN_OR_RETURN(uint8_t type, in.ReadU8());
    return AppendValue(type, in, 0, out);
  }();
  if (!status.ok()) out->resize(original_size);
  return status;
}

// net_field_length(): < 251 is the value; 252, 253, 254 prefix 2, 3, 8
// little-endian bytes; 251 (SQL NULL) and 255 are not lengths.
absl::StatusOr<uint64_t> ReadPackedLength(ByteReader& in, const char* what) {
  const uint64_t at = in.offset();
  PHONY_ASSIGN_OR_RETURN(uint8_t first, in.ReadU8());
  if (first < 251) return first;
  switch (first) {
    case 252: {
      PHONY_ASSIGN_OR_RETURN(uint16_t v, in.ReadU16LE());
      return v;
    }
    case 253: return in.ReadU24LE();
    case 254: return in.ReadU64LE();
    default:
      return absl::DataLossError(std::string(in.context()) + ": bad " + what + " length prefix " + Hex8(first) +
                                 " at offset " + std::to_string(at));
  }
}

}  // namespace

absl::Status BinaryJsonToText(std::string_view data, std::string* out) {
  return AppendDocument(data, 0, "MySQL JSON", out);
}

absl::StatusOr<std::vector<JsonDiff>> DecodeJsonDiffs(std::string_view data) {
  ByteReader in(data, "MySQL JSON diff");
  std::vector<JsonDiff> diffs;
  while (!in.empty()) {
    const uint64_t at = in.offset();
    PHONY_ASSIGN_OR_RETURN(uint8_t op, in.ReadU8());
    if (op > static_cast<uint8_t>(JsonDiff::Op::kRemove)) {
      return absl::DataLossError("MySQL JSON diff: bad operation " + std::to_string(op) + " at offset " +
                                 std::to_string(at));
    }
    JsonDiff diff;
    diff.op = static_cast<JsonDiff::Op>(op);
    const uint64_t path_at = in.offset();
    PHONY_ASSIGN_OR_RETURN(uint64_t path_length, ReadPackedLength(in, "path"));
    PHONY_ASSIGN_OR_RETURN(std::string_view path, in.ReadBytes(path_length));
    if (path.empty() || path.front() != '$') {
      return absl::DataLossError("MySQL JSON diff: path does not start with '$' at offset " +
                                 std::to_string(path_at));
    }
    diff.path = std::string(path);
    if (diff.op != JsonDiff::Op::kRemove) {
      PHONY_ASSIGN_OR_RETURN(uint64_t value_length, ReadPackedLength(in, "value"));
      const uint64_t value_at = in.offset();
      PHONY_ASSIGN_OR_RETURN(std::string_view value, in.ReadBytes(value_length));
      std::string text;
      PHONY_RETURN_IF_ERROR(AppendDocument(value, value_at, "MySQL JSON diff value", &text));
      diff.value_json = std::move(text);
    }
    diffs.push_back(std::move(diff));
  }
  return diffs;
}

}  // namespace phony::mysql
