#include "src/transform/rules.h"

#include <cstring>

namespace phony::transform {
namespace {

// Byte offsets of the code points of a UTF-8 string (invalid bytes count
// as one code point each), plus the end.
std::vector<size_t> CodePointStarts(std::string_view s) {
  std::vector<size_t> starts;
  for (size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if ((c & 0xC0) != 0x80 || starts.empty()) starts.push_back(i);
  }
  starts.push_back(s.size());
  return starts;
}

// 256 bits of keyed output for `value` (two SipHash-128 under a counter).
std::array<uint8_t, 32> Wide(const Key128& key, std::string_view value) {
  std::array<uint8_t, 32> out;
  std::string in(1, '\0');
  in.append(value);
  const auto a = SipHash128(key, in);
  in[0] = 1;
  const auto b = SipHash128(key, in);
  std::memcpy(out.data(), a.data(), 16);
  std::memcpy(out.data() + 16, b.data(), 16);
  return out;
}

}  // namespace

absl::StatusOr<MaskPattern> MaskPattern::Parse(std::string_view p) {
  MaskPattern m;
  auto literal = [&](std::string_view text) {
    if (m.pieces_.empty() || m.pieces_.back().kind != Kind::kLiteral) m.pieces_.push_back({Kind::kLiteral, "", 0});
    m.pieces_.back().literal.append(text);
  };
  for (size_t i = 0; i < p.size(); ++i) {
    const char c = p[i];
    if (c == '\\') {
      if (i + 1 == p.size()) {
        return absl::InvalidArgumentError("mask pattern: '\\' at the end (position " + std::to_string(i) +
                                          ") escapes nothing");
      }
      literal(p.substr(++i, 1));
    } else if (c == '#') {
      m.pieces_.push_back({Kind::kDigit, "", 0});
    } else if (c == '{') {
      const size_t close = p.find('}', i);
      if (close == std::string_view::npos) {
        return absl::InvalidArgumentError("mask pattern: '{' at position " + std::to_string(i) + " is not closed");
      }
      const std::string_view inner = p.substr(i + 1, close - i - 1);
      Kind kind;
      std::string_view digits;
      if (inner.substr(0, 5) == "first") {
        kind = Kind::kFirst;
        digits = inner.substr(5);
      } else if (inner.substr(0, 4) == "last") {
        kind = Kind::kLast;
        digits = inner.substr(4);
      } else {
        return absl::InvalidArgumentError("mask pattern: {" + std::string(inner) + "} at position " +
                                          std::to_string(i) + " is not {firstN} or {lastN}");
      }
      if (digits.empty() || digits.size() > 4 || digits.find_first_not_of("0123456789") != std::string_view::npos) {
        return absl::InvalidArgumentError("mask pattern: {" + std::string(inner) + "} at position " +
                                          std::to_string(i) + " needs a count of 1 to 9999");
      }
      m.pieces_.push_back({kind, "", static_cast<uint32_t>(std::stoul(std::string(digits)))});
      i = close;
    } else {
      literal(p.substr(i, 1));  // '*' included: emitted as is
    }
  }
  if (m.pieces_.empty()) return absl::InvalidArgumentError("mask pattern is empty");
  return m;
}

std::string MaskPattern::Apply(std::string_view original, const Key128& key) const {
  std::string out;
  std::vector<size_t> starts;
  std::array<uint8_t, 32> digits{};
  size_t digit_index = 0;
  bool have_digits = false;
  for (const Piece& piece : pieces_) {
    switch (piece.kind) {
      case Kind::kLiteral:
        out += piece.literal;
        break;
      case Kind::kDigit:
        if (!have_digits || digit_index == digits.size()) {
          // Fresh keyed bytes for every 32 digits (a counter in the input).
          std::string in(original);
          in.append(reinterpret_cast<const char*>(&digit_index), sizeof(digit_index));
          digits = Wide(key, in);
          have_digits = true;
        }
        out.push_back(static_cast<char>('0' + digits[digit_index % digits.size()] % 10));
        ++digit_index;
        break;
      case Kind::kFirst:
      case Kind::kLast: {
        if (starts.empty()) starts = CodePointStarts(original);
        const size_t points = starts.size() - 1;
        const size_t n = std::min<size_t>(piece.count, points);
        if (piece.kind == Kind::kFirst) {
          out.append(original.substr(0, starts[n]));
        } else {
          out.append(original.substr(starts[points - n]));
        }
        break;
      }
    }
  }
  return out;
}

size_t MaxHashLength(HashFormat format) { return format == HashFormat::kHex ? 64 : 51; }

absl::StatusOr<std::string> KeyedHash(const Key128& key, std::string_view value, HashFormat format,
                                      size_t length) {
  if (length == 0 || length > MaxHashLength(format)) {
    return absl::InvalidArgumentError("HASH length must be 1 to " + std::to_string(MaxHashLength(format)) +
                                      " for this format, got " + std::to_string(length));
  }
  const std::array<uint8_t, 32> bytes = Wide(key, value);
  std::string out;
  if (format == HashFormat::kHex) {
    static const char kHex[] = "0123456789abcdef";
    for (uint8_t b : bytes) {
      out.push_back(kHex[b >> 4]);
      out.push_back(kHex[b & 15]);
    }
  } else {
    static const char kBase32[] = "abcdefghijklmnopqrstuvwxyz234567";
    uint32_t buffer = 0;
    int bits = 0;
    for (uint8_t b : bytes) {
      buffer = (buffer << 8) | b;
      bits += 8;
      while (bits >= 5) {
        out.push_back(kBase32[(buffer >> (bits - 5)) & 31]);
        bits -= 5;
      }
    }
    if (bits > 0) out.push_back(kBase32[(buffer << (5 - bits)) & 31]);
  }
  out.resize(length);
  return out;
}

absl::StatusOr<int32_t> ShiftDays(const Key128& key, std::string_view entity, int32_t max_days) {
  if (max_days < 1 || max_days > 36500) {
    return absl::InvalidArgumentError("DATE_SHIFT days must be 1 to 36500, got " + std::to_string(max_days));
  }
  // 2 * max_days outcomes (zero excluded: a shift of 0 would keep the real
  // date); the 64-bit PRF output's bias over at most 73000 values is < 2^-46.
  const uint64_t span = 2 * static_cast<uint64_t>(max_days);
  const auto r = static_cast<int64_t>(SipHash64(key, entity) % span);
  return static_cast<int32_t>(r < max_days ? r - max_days : r - max_days + 1);
}

absl::StatusOr<Value> ShiftDate(const Value& value, int32_t days) {
  constexpr int64_t kMicrosPerDay = 86400LL * 1000000;
  switch (value.kind()) {
    case ValueKind::kNull:
    case ValueKind::kUnchanged:
      return value;
    case ValueKind::kDate: {
      const int32_t d = value.date_value();
      if (d == kDatePosInfinity || d == kDateNegInfinity) return value;
      const int64_t out = static_cast<int64_t>(d) + days;
      if (out <= kDateNegInfinity || out >= kDatePosInfinity) return absl::InvalidArgumentError("DATE_SHIFT leaves the date range");
      return Value::Date(static_cast<int32_t>(out));
    }
    case ValueKind::kTimestamp:
    case ValueKind::kTimestampTz: {
      const int64_t us = value.int64_value();
      if (us == kTimestampPosInfinity || us == kTimestampNegInfinity) return value;
      int64_t out;
      if (__builtin_add_overflow(us, static_cast<int64_t>(days) * kMicrosPerDay, &out) ||
          out == kTimestampPosInfinity || out == kTimestampNegInfinity) {
        return absl::InvalidArgumentError("DATE_SHIFT leaves the timestamp range");
      }
      return value.kind() == ValueKind::kTimestamp ? Value::Timestamp(out) : Value::TimestampTz(out);
    }
    default:
      return absl::InvalidArgumentError("DATE_SHIFT applies to dates and timestamps only");
  }
}

}  // namespace phony::transform
