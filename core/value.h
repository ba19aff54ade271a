// Value: one typed column value as it travels through the pipeline, from the
// decoders to the transformer and the appliers. Compact (a tag, two small aux
// fields, one 8-byte scalar and a string for variable-length payloads), cheap
// to move, and lossless: every source value maps onto exactly one Value and
// back. `kUnchanged` is the typed sentinel for a PostgreSQL TOAST value the
// server did not send (or a column absent from a MINIMAL binlog image); it is
// never confused with null or a string placeholder.
//
// Representations (documented in docs/values.md):
//   kDate        days since 1970-01-01 (kDateNegInfinity/kDatePosInfinity)
//   kTime        microseconds since midnight (may be negative/over 24h: MySQL TIME)
//   kTimeTz      microseconds since midnight + zone offset, seconds east of UTC
//   kTimestamp   microseconds since 1970-01-01 00:00:00, no zone
//   kTimestampTz microseconds since the Unix epoch, UTC (±infinity sentinels)
//   kInterval    months, days, microseconds (PostgreSQL's three fields)
//   kDecimal     exact decimal text: "-12.340", "NaN", "Infinity", "-Infinity"
//   kUuid        16 raw bytes
//   kJson        JSON text
// Value types are thread-compatible (no shared state).
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <utility>
#include <string_view>
#include <vector>

namespace phony {

enum class ValueKind : uint8_t {
  kNull = 0,
  kUnchanged = 1,
  kBool = 2,
  kInt64 = 3,
  kUInt64 = 4,
  kDouble = 5,
  kDecimal = 6,
  kText = 7,
  kBytes = 8,
  kDate = 9,
  kTime = 10,
  kTimeTz = 11,
  kTimestamp = 12,
  kTimestampTz = 13,
  kInterval = 14,
  kUuid = 15,
  kJson = 16,
};
inline constexpr uint8_t kMaxValueKind = 16;

const char* ValueKindName(ValueKind kind);

inline constexpr int32_t kDateNegInfinity = std::numeric_limits<int32_t>::min();
inline constexpr int32_t kDatePosInfinity = std::numeric_limits<int32_t>::max();
inline constexpr int64_t kTimestampNegInfinity = std::numeric_limits<int64_t>::min();
inline constexpr int64_t kTimestampPosInfinity = std::numeric_limits<int64_t>::max();

struct Interval {
  int32_t months = 0;
  int32_t days = 0;
  int64_t micros = 0;
  friend bool operator==(const Interval&, const Interval&) = default;
};

class Value {
 public:
  Value() = default;  // null

  static Value Null() { return Value(); }
  static Value Unchanged() { return Value(ValueKind::kUnchanged); }
  static Value Bool(bool v);
  static Value Int64(int64_t v);
  static Value UInt64(uint64_t v);
  static Value Double(double v);
  static Value Decimal(std::string text);
  static Value Text(std::string text);
  static Value Bytes(std::string bytes);
  static Value Date(int32_t days_since_epoch);
  static Value Time(int64_t micros_since_midnight);
  static Value TimeTz(int64_t micros_since_midnight, int32_t offset_seconds_east);
  static Value Timestamp(int64_t micros_since_epoch);
  static Value TimestampTz(int64_t micros_since_epoch_utc);
  static Value MakeInterval(Interval iv);
  // `bytes` must hold exactly 16 bytes; use ParseUuid for text.
  static Value Uuid(std::string_view bytes16);
  static Value Json(std::string text);

  ValueKind kind() const { return kind_; }
  bool is_null() const { return kind_ == ValueKind::kNull; }
  bool is_unchanged() const { return kind_ == ValueKind::kUnchanged; }

  // Accessors; each is valid only for its kinds (checked in debug builds).
  bool bool_value() const { return scalar_.b; }
  int64_t int64_value() const { return scalar_.i; }  // kInt64, kTime*, kTimestamp*
  uint64_t uint64_value() const { return scalar_.u; }
  double double_value() const { return scalar_.d; }
  int32_t date_value() const { return aux0_; }
  int32_t tz_offset_seconds() const { return aux0_; }  // kTimeTz
  Interval interval_value() const { return Interval{aux0_, aux1_, scalar_.i}; }
  // kDecimal, kText, kBytes, kUuid (16 bytes), kJson.
  const std::string& str() const { return str_; }
  std::string&& release_str() { return std::move(str_); }

  // In-place setters, for decoders filling a fresh (null) row slot: the
  // same values the factories make, without a temporary. The scalar setters
  // leave the string buffer as it is, so call them only on a null value.
  // `SetInt` takes kInt64, kTime, kTimestamp or kTimestampTz; `SetString`
  // kDecimal, kText, kBytes or kJson.
  void SetInt(ValueKind kind, int64_t v) {
    kind_ = kind;
    scalar_.i = v;
  }
  void SetUInt64(uint64_t v) {
    kind_ = ValueKind::kUInt64;
    scalar_.u = v;
  }
  void SetDouble(double v) {
    kind_ = ValueKind::kDouble;
    scalar_.d = v;
  }
  void SetDate(int32_t days_since_epoch) {
    kind_ = ValueKind::kDate;
    aux0_ = days_since_epoch;
  }
  void SetString(ValueKind kind, std::string_view bytes) {
    kind_ = kind;
    str_.clear();
    str_.append(bytes.data(), bytes.size());
  }

  // Rough in-memory size, for bounding queues by bytes.
  size_t ApproximateSize() const { return sizeof(Value) + str_.capacity(); }

  // A readable, unambiguous rendering for logs of *types* and for golden
  // files: `int64:42`, `text:"a\"b"`, `unchanged`. Contains the value, so it
  // must never be logged for row data.
  std::string DebugString() const;

  friend bool operator==(const Value& a, const Value& b);

 private:
  explicit Value(ValueKind kind) : kind_(kind) {}

  ValueKind kind_ = ValueKind::kNull;
  int32_t aux0_ = 0;  // date days; tz offset; interval months
  int32_t aux1_ = 0;  // interval days
  union Scalar {
    bool b;
    int64_t i;
    uint64_t u;
    double d;
  } scalar_{.u = 0};
  std::string str_;
};

// A row image aligned with a TableSchema's columns (same length, same order).
using Row = std::vector<Value>;

// Formats 16 uuid bytes as 8-4-4-4-12 lowercase hex, and parses that form.
std::string FormatUuid(std::string_view bytes16);
bool ParseUuid(std::string_view text, std::string* bytes16);

// Canonical text of an exact decimal: accepts what PostgreSQL and MySQL print
// ("-0012.50", ".5", "NaN", "Infinity", "-inf" is rejected) and normalizes the
// integer part (no leading zeros, "-0" → "0") while keeping the scale.
bool NormalizeDecimal(std::string_view text, std::string* out);

// Proleptic Gregorian calendar with astronomical years (1 BC is year 0):
// the civil date of a day count since 1970-01-01, and back.
void CivilFromDays(int64_t days, int64_t* year, unsigned* month, unsigned* day);
int64_t DaysFromCivil(int64_t year, unsigned month, unsigned day);

}  // namespace phony
