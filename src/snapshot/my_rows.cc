#include "src/snapshot/my_rows.h"

#include <charconv>
#include <cstdlib>

#include "core/status_macros.h"
#include "src/apply/postgres/pg_text.h"
#include "src/capture/mysql/binlog_values.h"

namespace phony::snapshot {
namespace {

using mysql::ColumnInfo;

constexpr int64_t kMicrosPerSecond = 1000000;
constexpr int64_t kMicrosPerDay = 86400LL * kMicrosPerSecond;

absl::Status Bad(const ColumnInfo& c, const char* what) {
  return absl::DataLossError(std::string("a ") + what + " value of type " + mysql::TypeName(c) + " that does not parse");
}

// Reads exactly `n` digits.
bool Digits(std::string_view& s, size_t n, int64_t* out) {
  if (s.size() < n) return false;
  int64_t v = 0;
  for (size_t i = 0; i < n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  *out = v;
  s.remove_prefix(n);
  return true;
}
bool Take(std::string_view& s, char c) {
  if (s.empty() || s[0] != c) return false;
  s.remove_prefix(1);
  return true;
}
// ".ffffff" (1-6 digits) as micros, or nothing.
bool Fraction(std::string_view& s, int64_t* micros) {
  *micros = 0;
  if (!Take(s, '.')) return true;
  int64_t v = 0;
  size_t n = 0;
  while (!s.empty() && s[0] >= '0' && s[0] <= '9' && n < 6) {
    v = v * 10 + (s[0] - '0');
    s.remove_prefix(1);
    ++n;
  }
  if (n == 0 || (!s.empty() && s[0] >= '0' && s[0] <= '9')) return false;
  for (; n < 6; ++n) v *= 10;
  *micros = v;
  return true;
}

// "YYYY-MM-DD[ HH:MM:SS[.f]]": micros since the epoch, nullopt for a zero
// or partial date; false when it does not parse.
bool Civil(std::string_view s, bool with_time, std::optional<int64_t>* out) {
  int64_t y, mo, d, h = 0, mi = 0, se = 0, f = 0;
  if (!Digits(s, 4, &y) || !Take(s, '-') || !Digits(s, 2, &mo) || !Take(s, '-') || !Digits(s, 2, &d)) return false;
  if (with_time) {
    if (!Take(s, ' ') || !Digits(s, 2, &h) || !Take(s, ':') || !Digits(s, 2, &mi) || !Take(s, ':') ||
        !Digits(s, 2, &se) || !Fraction(s, &f)) {
      return false;
    }
  }
  if (!s.empty()) return false;
  if (y == 0 || mo == 0 || d == 0) {
    *out = std::nullopt;
    return true;
  }
  if (mo > 12 || d > 31 || h > 23 || mi > 59 || se > 59) return false;
  const int64_t days = DaysFromCivil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d));
  *out = days * kMicrosPerDay + ((h * 60 + mi) * 60 + se) * kMicrosPerSecond + f;
  return true;
}

}  // namespace

absl::StatusOr<Value> ParseMySqlText(const ColumnInfo& c, ValueKind kind, std::string_view text) {
  using namespace mysql;
  switch (c.type) {
    case kTypeTiny: case kTypeShort: case kTypeInt24: case kTypeLong: case kTypeLongLong: case kTypeYear: {
      if (kind == ValueKind::kUInt64) {
        uint64_t v = 0;
        auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
        if (ec != std::errc() || p != text.data() + text.size()) return Bad(c, "integer");
        return Value::UInt64(v);
      }
      int64_t v = 0;
      auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
      if (ec != std::errc() || p != text.data() + text.size()) return Bad(c, "integer");
      return Value::Int64(v);
    }
    case kTypeFloat: {
      // As the decoder: the float's shortest decimal form, read as a double.
      float f = 0;
      auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), f);
      if (ec != std::errc() || p != text.data() + text.size()) return Bad(c, "FLOAT");
      char buf[32];
      auto [end, ec2] = std::to_chars(buf, buf + sizeof(buf), f);
      (void)ec2;
      double d = 0;
      std::from_chars(buf, end, d);
      return Value::Double(d);
    }
    case kTypeDouble: {
      double d = 0;
      auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), d);
      if (ec != std::errc() || p != text.data() + text.size()) return Bad(c, "DOUBLE");
      return Value::Double(d);
    }
    case kTypeNewDecimal: {
      if (text.empty() || text.find_first_not_of("-0123456789.") != std::string_view::npos) return Bad(c, "DECIMAL");
      std::string t(text);
      if (t[0] == '-' && t.find_first_not_of("-0.") == std::string::npos) t.erase(0, 1);  // -0.00 is 0.00
      return Value::Decimal(std::move(t));
    }
    case kTypeDate: case kTypeNewDate: {
      std::optional<int64_t> micros;
      if (!Civil(text, false, &micros)) return Bad(c, "DATE");
      if (!micros) return Value::Null();
      return Value::Date(static_cast<int32_t>(*micros / kMicrosPerDay));
    }
    case kTypeDatetime: case kTypeDatetime2: case kTypeTimestamp: case kTypeTimestamp2: {
      std::optional<int64_t> micros;
      if (!Civil(text, true, &micros)) return Bad(c, "DATETIME/TIMESTAMP");
      if (!micros) return Value::Null();
      return kind == ValueKind::kTimestampTz ? Value::TimestampTz(*micros) : Value::Timestamp(*micros);
    }
    case kTypeTime: case kTypeTime2: {
      std::string_view s = text;
      const bool negative = Take(s, '-');
      int64_t h = 0;
      size_t n = 0;
      while (!s.empty() && s[0] >= '0' && s[0] <= '9' && n < 4) {
        h = h * 10 + (s[0] - '0');
        s.remove_prefix(1);
        ++n;
      }
      int64_t mi, se, f;
      if (n < 2 || !Take(s, ':') || !Digits(s, 2, &mi) || !Take(s, ':') || !Digits(s, 2, &se) || !Fraction(s, &f) ||
          !s.empty() || mi > 59 || se > 59) {
        return Bad(c, "TIME");
      }
      const int64_t v = ((h * 60 + mi) * 60 + se) * kMicrosPerSecond + f;
      return Value::Time(negative ? -v : v);
    }
    case kTypeBit:
      if (kind == ValueKind::kBool) return Value::Bool(!text.empty() && (static_cast<uint8_t>(text.back()) & 1) != 0);
      return Value::Bytes(std::string(text));
    case kTypeJson: return Value::Json(std::string(text));
    case kTypeEnum:
      if (kind == ValueKind::kText) return Value::Text(std::string(text));
      return Bad(c, "ENUM");
    case kTypeSet:
      if (kind == ValueKind::kText) return Value::Text(std::string(text));
      return Bad(c, "SET");
    default:
      if (kind == ValueKind::kText) return Value::Text(std::string(text));
      return Value::Bytes(std::string(text));
  }
}

void AppendLoadEscaped(std::string_view raw, std::string* out) {
  size_t start = 0;
  for (size_t i = 0; i < raw.size(); ++i) {
    const char c = raw[i];
    const char* esc = nullptr;
    switch (c) {
      case '\\': esc = "\\\\"; break;
      case '\t': esc = "\\t"; break;
      case '\n': esc = "\\n"; break;
      case '\r': esc = "\\r"; break;
      case '\0': esc = "\\0"; break;
      default: continue;
    }
    out->append(raw.data() + start, i - start);
    out->append(esc);
    start = i + 1;
  }
  out->append(raw.data() + start, raw.size() - start);
}

void AppendPlainValue(const ColumnInfo& c, const Value& v, std::string* out) {
  if (v.is_null() || v.is_unchanged()) return;
  switch (v.kind()) {
    case ValueKind::kBool:
      if (c.type == mysql::kTypeBit) {
        out->push_back(v.bool_value() ? '\x01' : '\0');
      } else {
        out->push_back(v.bool_value() ? '1' : '0');
      }
      return;
    case ValueKind::kText: case ValueKind::kJson: case ValueKind::kBytes: case ValueKind::kDecimal:
      out->append(v.str());
      return;
    default: {
      const size_t at = out->size();
      apply::pg::AppendText(v, out);
      if (v.kind() == ValueKind::kTimestampTz && out->size() - at > 3 && out->compare(out->size() - 3, 3, "+00") == 0) {
        out->resize(out->size() - 3);
      }
      return;
    }
  }
}

void AppendLoadValue(const ColumnInfo& c, const Value& v, std::string* out) {
  if (v.is_null() || v.is_unchanged()) {
    out->append("\\N");
    return;
  }
  std::string plain;
  AppendPlainValue(c, v, &plain);
  AppendLoadEscaped(plain, out);
}

std::string CanonicalText(const ColumnInfo& c, ValueKind kind, const Value& v) {
  if (v.is_null() || v.is_unchanged()) return "\\N";
  std::string plain;
  AppendPlainValue(c, v, &plain);
  auto again = ParseMySqlText(c, kind, plain);
  if (!again.ok()) return plain;
  if (again->is_null()) return "\\N";
  std::string out;
  AppendPlainValue(c, *again, &out);
  return out;
}

absl::StatusOr<MyRowCopier> MyRowCopier::Create(const mysql::CatalogTable* table, transform::Transformer* transformer) {
  PHONY_RETURN_IF_ERROR(transformer->LearnSchema(table->schema));
  return MyRowCopier(table, transformer, transformer->PassThroughColumns(table->schema.id));
}

std::string SelectExpression(const ColumnInfo& c) {
  const std::string name = mysql::MySession::Ident(c.name);
  if (c.type == mysql::kTypeFloat) return "CAST(" + name + " AS DOUBLE)";
  return name;
}

std::string MyRowCopier::SelectList() const {
  std::string out;
  for (size_t i = 0; i < table_->map.columns.size(); ++i) {
    if (i) out += ", ";
    out += SelectExpression(table_->map.columns[i]);
  }
  return out;
}

std::string MyRowCopier::LoadList() const {
  std::string out;
  for (size_t i = 0; i < table_->schema.columns.size(); ++i) {
    if (table_->generated[i]) continue;
    if (!out.empty()) out += ", ";
    out += mysql::MySession::Ident(table_->schema.columns[i].name);
  }
  return out;
}

absl::Status MyRowCopier::Append(const char* const* fields, const unsigned long* lengths, std::string* out) {
  const TableSchema& schema = table_->schema;
  const size_t ncols = schema.columns.size();
  row_.clear();
  for (size_t i = 0; i < ncols; ++i) {
    if (pass_[i]) {
      row_.push_back(Value::Unchanged());  // copied as its text below
      continue;
    }
    if (fields[i] == nullptr) {
      row_.push_back(Value::Null());
      continue;
    }
    auto v = ParseMySqlText(table_->map.columns[i], schema.columns[i].kind, std::string_view(fields[i], lengths[i]));
    if (!v.ok()) {
      return absl::DataLossError("reading " + schema.id.QualifiedName() + ": column " + schema.columns[i].name + ": " +
                                 std::string(v.status().message()));
    }
    row_.push_back(*std::move(v));
  }
  if (absl::Status s = transformer_->TransformRow(schema.id, &row_); !s.ok()) {
    return absl::Status(
        s.code() == absl::StatusCode::kFailedPrecondition ? absl::StatusCode::kInvalidArgument : s.code(),
        "anonymizing " + schema.id.QualifiedName() + ": " + std::string(s.message()));
  }
  bool first = true;
  for (size_t i = 0; i < ncols; ++i) {
    if (table_->generated[i]) continue;
    if (!first) out->push_back('\t');
    first = false;
    if (pass_[i]) {
      if (fields[i] == nullptr) {
        out->append("\\N");
      } else {
        AppendLoadEscaped(std::string_view(fields[i], lengths[i]), out);
      }
    } else {
      AppendLoadValue(table_->map.columns[i], row_[i], out);
    }
  }
  out->push_back('\n');
  return absl::OkStatus();
}

}  // namespace phony::snapshot
