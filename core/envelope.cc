#include "core/envelope.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "core/logging.h"

namespace phony {
namespace {

constexpr int64_t kMicrosPerDay = 86400LL * 1000000;

void AppendString(std::string_view s, std::string* out) {
  out->push_back('"');
  AppendJsonEscaped(s, out);
  out->push_back('"');
}

template <typename Int>
void AppendInt(Int v, std::string* out) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof(buf), v);
  out->append(buf, r.ptr);
}

// Zero-padded decimal of `width` digits.
void AppendPadded(int64_t v, int width, std::string* out) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof(buf), v);
  const int len = static_cast<int>(r.ptr - buf);
  if (len < width) out->append(static_cast<size_t>(width - len), '0');
  out->append(buf, r.ptr);
}

void AppendBase64(std::string_view bytes, std::string* out) {
  static const char kTable[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  out->push_back('"');
  size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    const uint32_t v = (static_cast<uint8_t>(bytes[i]) << 16) | (static_cast<uint8_t>(bytes[i + 1]) << 8) |
                       static_cast<uint8_t>(bytes[i + 2]);
    out->push_back(kTable[(v >> 18) & 63]);
    out->push_back(kTable[(v >> 12) & 63]);
    out->push_back(kTable[(v >> 6) & 63]);
    out->push_back(kTable[v & 63]);
  }
  if (i < bytes.size()) {
    uint32_t v = static_cast<uint8_t>(bytes[i]) << 16;
    if (i + 1 < bytes.size()) v |= static_cast<uint8_t>(bytes[i + 1]) << 8;
    out->push_back(kTable[(v >> 18) & 63]);
    out->push_back(kTable[(v >> 12) & 63]);
    out->push_back(i + 1 < bytes.size() ? kTable[(v >> 6) & 63] : '=');
    out->push_back('=');
  }
  out->push_back('"');
}

int64_t FloorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

// "2024-02-29T13:45:06.123456Z" (Debezium's ZonedTimestamp for timestamptz).
void AppendIsoUtc(int64_t micros, std::string* out) {
  const int64_t days = FloorDiv(micros, kMicrosPerDay);
  int64_t tod = micros - days * kMicrosPerDay;
  int64_t y;
  unsigned m, d;
  CivilFromDays(days, &y, &m, &d);
  const int64_t us = tod % 1000000;
  tod /= 1000000;
  out->push_back('"');
  if (y < 0) {
    out->push_back('-');
    y = -y;
  }
  AppendPadded(y, 4, out);
  out->push_back('-');
  AppendPadded(m, 2, out);
  out->push_back('-');
  AppendPadded(d, 2, out);
  out->push_back('T');
  AppendPadded(tod / 3600, 2, out);
  out->push_back(':');
  AppendPadded(tod / 60 % 60, 2, out);
  out->push_back(':');
  AppendPadded(tod % 60, 2, out);
  out->push_back('.');
  AppendPadded(us, 6, out);
  out->append("Z\"");
}

void AppendUuid(std::string_view b, std::string* out) {
  static const char kHex[] = "0123456789abcdef";
  out->push_back('"');
  for (size_t i = 0; i < b.size(); ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out->push_back('-');
    const auto c = static_cast<unsigned char>(b[i]);
    out->push_back(kHex[c >> 4]);
    out->push_back(kHex[c & 15]);
  }
  out->push_back('"');
}

// How a column travels in Kafka Connect terms.
struct ConnectField {
  const char* type = "string";
  const char* name = nullptr;  // semantic type
  int precision = -1, scale = -1;  // org.apache.kafka.connect.data.Decimal
  bool variable_decimal = false;   // io.debezium.data.VariableScaleDecimal
};

bool StartsWith(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

ConnectField FieldFor(const ColumnDef& c, const EnvelopeOptions& o) {
  ConnectField f;
  const std::string_view t = c.type_name;
  switch (c.kind) {
    case ValueKind::kBool: f.type = "boolean"; break;
    case ValueKind::kInt64:
      if (t == "smallint" || t == "int2" || StartsWith(t, "smallint") || StartsWith(t, "tinyint")) {
        f.type = "int16";
      } else if (t == "integer" || t == "int4" || t == "int" || StartsWith(t, "int(") || StartsWith(t, "mediumint")) {
        f.type = "int32";
      } else {
        f.type = "int64";
      }
      break;
    case ValueKind::kUInt64: f.type = "int64"; break;
    case ValueKind::kDouble: f.type = (t == "real" || t == "float4" || StartsWith(t, "float")) ? "float32" : "float64"; break;
    case ValueKind::kDecimal:
      if (o.decimal_handling == DecimalHandling::kString) {
        f.type = "string";
      } else if (o.decimal_handling == DecimalHandling::kDouble) {
        f.type = "float64";
      } else if (c.type_modifier >= 4) {  // PostgreSQL numeric(p,s): ((p << 16) | s) + 4
        f.type = "bytes";
        f.name = "org.apache.kafka.connect.data.Decimal";
        f.precision = ((c.type_modifier - 4) >> 16) & 0xffff;
        f.scale = (c.type_modifier - 4) & 0xffff;
      } else {
        f.type = "struct";
        f.name = "io.debezium.data.VariableScaleDecimal";
        f.variable_decimal = true;
      }
      break;
    case ValueKind::kBytes: f.type = "bytes"; break;
    case ValueKind::kUuid: f.name = "io.debezium.data.Uuid"; break;
    case ValueKind::kJson: f.name = "io.debezium.data.Json"; break;
    case ValueKind::kDate: f.type = "int32"; f.name = "io.debezium.time.Date"; break;
    case ValueKind::kTime: f.type = "int64"; f.name = "io.debezium.time.MicroTime"; break;
    case ValueKind::kTimeTz: f.name = "io.debezium.time.ZonedTime"; break;
    case ValueKind::kTimestamp: f.type = "int64"; f.name = "io.debezium.time.MicroTimestamp"; break;
    case ValueKind::kTimestampTz: f.name = "io.debezium.time.ZonedTimestamp"; break;
    case ValueKind::kInterval: f.type = "int64"; f.name = "io.debezium.time.MicroDuration"; break;
    default:
      if (t == "xml") f.name = "io.debezium.data.Xml";
      break;
  }
  return f;
}

void AppendFieldSchema(const ColumnDef& c, const EnvelopeOptions& o, std::string* out) {
  const ConnectField f = FieldFor(c, o);
  out->append("{\"type\":\"");
  out->append(f.type);
  out->append("\"");
  if (f.variable_decimal) {
    out->append(",\"fields\":[{\"type\":\"int32\",\"optional\":false,\"field\":\"scale\"},"
                "{\"type\":\"bytes\",\"optional\":false,\"field\":\"value\"}]");
  }
  out->append(c.nullable ? ",\"optional\":true" : ",\"optional\":false");
  if (f.name) {
    out->append(",\"name\":\"");
    out->append(f.name);
    out->append("\",\"version\":1");
  }
  if (f.scale >= 0) {
    out->append(",\"parameters\":{\"scale\":\"" + std::to_string(f.scale) + "\",\"connect.decimal.precision\":\"" +
                std::to_string(f.precision) + "\"}");
  }
  out->append(",\"field\":");
  AppendString(c.name, out);
  out->push_back('}');
}

std::string StructName(const EnvelopeOptions& o, const TableId& t, const char* suffix) {
  return o.topic_prefix + "." + t.schema + "." + t.table + "." + suffix;
}

void AppendRowSchema(const TableSchema& schema, const EnvelopeOptions& o, bool keys_only, const char* field,
                     std::string* out) {
  out->append("{\"type\":\"struct\",\"fields\":[");
  bool first = true;
  for (const ColumnDef& c : schema.columns) {
    if (keys_only && !c.is_key()) continue;
    if (!first) out->push_back(',');
    first = false;
    AppendFieldSchema(c, o, out);
  }
  out->append("],\"optional\":");
  out->append(field ? "true" : "false");
  out->append(",\"name\":");
  AppendString(StructName(o, schema.id, keys_only ? "Key" : "Value"), out);
  if (field) {
    out->append(",\"field\":\"");
    out->append(field);
    out->append("\"");
  }
  out->push_back('}');
}

void AppendSourceSchema(const std::string& connector, std::string* out) {
  const bool pg = connector == "postgresql";
  out->append("{\"type\":\"struct\",\"fields\":["
              "{\"type\":\"string\",\"optional\":false,\"field\":\"version\"},"
              "{\"type\":\"string\",\"optional\":false,\"field\":\"connector\"},"
              "{\"type\":\"string\",\"optional\":false,\"field\":\"name\"},"
              "{\"type\":\"int64\",\"optional\":false,\"field\":\"ts_ms\"},"
              "{\"type\":\"string\",\"optional\":true,\"name\":\"io.debezium.data.Enum\",\"version\":1,"
              "\"parameters\":{\"allowed\":\"true,first,first_in_data_collection,last_in_data_collection,last,"
              "false,incremental\"},\"default\":\"false\",\"field\":\"snapshot\"},"
              "{\"type\":\"string\",\"optional\":false,\"field\":\"db\"},");
  if (pg) {
    out->append("{\"type\":\"string\",\"optional\":false,\"field\":\"schema\"},"
                "{\"type\":\"string\",\"optional\":false,\"field\":\"table\"},"
                "{\"type\":\"int64\",\"optional\":true,\"field\":\"txId\"},"
                "{\"type\":\"int64\",\"optional\":true,\"field\":\"lsn\"}");
  } else {
    out->append("{\"type\":\"string\",\"optional\":true,\"field\":\"table\"},"
                "{\"type\":\"string\",\"optional\":true,\"field\":\"gtid\"},"
                "{\"type\":\"int64\",\"optional\":false,\"field\":\"pos\"}");
  }
  out->append("],\"optional\":false,\"name\":\"io.debezium.connector.");
  out->append(pg ? "postgresql" : connector);
  out->append(".Source\",\"field\":\"source\"}");
}

std::string EnvelopeSchemaJson(const TableSchema& schema, const std::string& connector, const EnvelopeOptions& o) {
  std::string out = "{\"type\":\"struct\",\"fields\":[";
  AppendRowSchema(schema, o, false, "before", &out);
  out.push_back(',');
  AppendRowSchema(schema, o, false, "after", &out);
  out.push_back(',');
  AppendSourceSchema(connector, &out);
  out.append(",{\"type\":\"string\",\"optional\":false,\"field\":\"op\"},"
             "{\"type\":\"int64\",\"optional\":true,\"field\":\"ts_ms\"},"
             "{\"type\":\"struct\",\"fields\":[{\"type\":\"string\",\"optional\":false,\"field\":\"id\"},"
             "{\"type\":\"int64\",\"optional\":false,\"field\":\"total_order\"},"
             "{\"type\":\"int64\",\"optional\":false,\"field\":\"data_collection_order\"}],"
             "\"optional\":true,\"name\":\"event.block\",\"version\":1,\"field\":\"transaction\"}],"
             "\"optional\":false,\"name\":");
  AppendString(StructName(o, schema.id, "Envelope"), &out);
  out.append(",\"version\":1}");
  return out;
}

const char* OpCode(ChangeOp op) {
  switch (op) {
    case ChangeOp::kInsert: return "c";
    case ChangeOp::kUpdate: return "u";
    case ChangeOp::kDelete: return "d";
    case ChangeOp::kTruncate: return "t";
    case ChangeOp::kRead: return "r";
  }
  return "?";
}

void AppendDouble(double d, bool as_float, std::string* out) {
  // JSON has no NaN or infinities: they travel as strings.
  if (std::isnan(d)) return AppendString("NaN", out);
  if (std::isinf(d)) return AppendString(d > 0 ? "Infinity" : "-Infinity", out);
  char buf[64];
  auto r = as_float ? std::to_chars(buf, buf + sizeof(buf), static_cast<float>(d))
                    : std::to_chars(buf, buf + sizeof(buf), d);
  out->append(buf, r.ptr);
}

// Splits "-12.340" into sign, digits and scale; false for NaN/Infinity.
bool SplitDecimal(std::string_view s, bool* negative, std::string* digits, int* scale) {
  *negative = !s.empty() && s[0] == '-';
  if (*negative || (!s.empty() && s[0] == '+')) s.remove_prefix(1);
  digits->clear();
  *scale = 0;
  bool point = false;
  for (char c : s) {
    if (c == '.' && !point) {
      point = true;
    } else if (c >= '0' && c <= '9') {
      digits->push_back(c);
      if (point) ++*scale;
    } else {
      return false;
    }
  }
  return !digits->empty();
}

}  // namespace

namespace {

// Fast path: at most 18 significant digits after rescaling fit an int64.
bool SmallUnscaled(std::string_view s, int scale, int64_t* value) {
  bool negative = false;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
    negative = s[0] == '-';
    s.remove_prefix(1);
  }
  int64_t v = 0;
  int digits = 0, have = 0;
  bool point = false, any = false;
  for (char c : s) {
    if (c == '.' && !point) {
      point = true;
      continue;
    }
    if (c < '0' || c > '9') return false;
    any = true;
    if (point) {
      if (have == scale) continue;  // never for a typed column (see below)
      ++have;
    }
    if (v != 0 || c != '0') ++digits;
    if (digits > 18) return false;
    v = v * 10 + (c - '0');
  }
  if (!any) return false;
  for (; have < scale; ++have) {
    if (++digits > 18 && v != 0) return false;
    v *= 10;
  }
  *value = negative ? -v : v;
  return true;
}

}  // namespace

bool DecimalToUnscaledBytes(std::string_view decimal, int scale, std::string* out) {
  if (int64_t small; SmallUnscaled(decimal, scale, &small)) {
    char be[8];
    for (int i = 0; i < 8; ++i) be[i] = static_cast<char>(static_cast<uint64_t>(small) >> (56 - 8 * i));
    int start = 0;
    // Minimal two's complement: drop a leading byte that only repeats the sign.
    while (start < 7 && ((be[start] == 0 && !(be[start + 1] & 0x80)) ||
                         (static_cast<uint8_t>(be[start]) == 0xff && (be[start + 1] & 0x80)))) {
      ++start;
    }
    out->assign(be + start, be + 8);
    return true;
  }
  bool negative;
  std::string digits;
  int have;
  if (!SplitDecimal(decimal, &negative, &digits, &have)) return false;
  if (have < scale) digits.append(static_cast<size_t>(scale - have), '0');
  if (have > scale) digits.resize(digits.size() - static_cast<size_t>(have - scale));  // never for a typed column
  // Decimal digits -> base-256 magnitude, little-endian while building.
  std::vector<uint8_t> mag;
  for (char c : digits) {
    uint32_t carry = static_cast<uint32_t>(c - '0');
    for (uint8_t& b : mag) {
      const uint32_t v = b * 10u + carry;
      b = static_cast<uint8_t>(v & 0xff);
      carry = v >> 8;
    }
    while (carry) {
      mag.push_back(static_cast<uint8_t>(carry & 0xff));
      carry >>= 8;
    }
  }
  while (!mag.empty() && mag.back() == 0) mag.pop_back();
  bool zero = mag.empty();
  if (zero) mag.push_back(0);
  if (negative && !zero) {  // two's complement: invert and add one
    for (uint8_t& b : mag) b = static_cast<uint8_t>(~b);
    for (uint8_t& b : mag) {
      if (++b != 0) break;
    }
    if (!(mag.back() & 0x80)) mag.push_back(0xff);
    // Minimal: drop redundant leading 0xff bytes.
    while (mag.size() > 1 && mag.back() == 0xff && (mag[mag.size() - 2] & 0x80)) mag.pop_back();
  } else if (mag.back() & 0x80) {
    mag.push_back(0);
  }
  out->assign(mag.rbegin(), mag.rend());
  return true;
}

void AppendEnvelopeValue(const Value& v, std::string* out) {
  static const ColumnDef kGeneric;
  static const EnvelopeOptions kDefaults;
  AppendEnvelopeValue(v, kGeneric, kDefaults, out);
}

void AppendEnvelopeValue(const Value& v, const ColumnDef& column, const EnvelopeOptions& o, std::string* out) {
  char buf[64];
  switch (v.kind()) {
    case ValueKind::kNull:
      out->append("null");
      return;
    case ValueKind::kUnchanged:
      // Bytes fields carry the placeholder's bytes, as Debezium does.
      if (column.kind == ValueKind::kBytes) return AppendBase64(o.unavailable_placeholder, out);
      AppendString(o.unavailable_placeholder, out);
      return;
    case ValueKind::kBool:
      out->append(v.bool_value() ? "true" : "false");
      return;
    case ValueKind::kInt64:
      AppendInt(v.int64_value(), out);
      return;
    case ValueKind::kUInt64:
      AppendInt(v.uint64_value(), out);
      return;
    case ValueKind::kDouble:
      AppendDouble(v.double_value(), FieldFor(column, o).type == std::string_view("float32"), out);
      return;
    case ValueKind::kDecimal: {
      const std::string& text = v.str();
      const bool special = text == "NaN" || text == "Infinity" || text == "-Infinity";
      switch (o.decimal_handling) {
        case DecimalHandling::kString:
          AppendString(text == "NaN" ? "NAN" : text, out);  // Debezium's NaN constant
          return;
        case DecimalHandling::kDouble:
          AppendDouble(special ? (text == "NaN" ? NAN : (text[0] == '-' ? -INFINITY : INFINITY))
                               : std::strtod(text.c_str(), nullptr),
                       false, out);
          return;
        case DecimalHandling::kPrecise: {
          // NaN and infinities have no Connect Decimal form: null, as
          // Debezium (use decimal_handling string or double to keep them).
          const ConnectField f = FieldFor(column, o);
          std::string bytes;
          if (special) {
            out->append("null");
            return;
          }
          if (f.variable_decimal) {
            const size_t point = text.find('.');
            const int scale = point == std::string::npos ? 0 : static_cast<int>(text.size() - point - 1);
            if (!DecimalToUnscaledBytes(text, scale, &bytes)) {
              out->append("null");
              return;
            }
            out->append("{\"scale\":" + std::to_string(scale) + ",\"value\":");
            AppendBase64(bytes, out);
            out->push_back('}');
          } else {
            if (!DecimalToUnscaledBytes(text, f.scale, &bytes)) {
              out->append("null");
              return;
            }
            AppendBase64(bytes, out);
          }
          return;
        }
      }
      return;
    }
    case ValueKind::kText:
    case ValueKind::kJson:     // io.debezium.data.Json
      AppendString(v.str(), out);
      return;
    case ValueKind::kBytes:    // binary.handling.mode=bytes: base64 in JSON
      AppendBase64(v.str(), out);
      return;
    case ValueKind::kUuid:     // io.debezium.data.Uuid
      AppendUuid(v.str(), out);
      return;
    case ValueKind::kDate:     // io.debezium.time.Date: days since the epoch (±infinity: int32 extremes)
      AppendInt(v.date_value(), out);
      return;
    case ValueKind::kTime:       // io.debezium.time.MicroTime
    case ValueKind::kTimestamp:  // io.debezium.time.MicroTimestamp (±infinity: int64 extremes)
      AppendInt(v.int64_value(), out);
      return;
    case ValueKind::kTimeTz: {  // io.debezium.time.ZonedTime, normalized to UTC
      int64_t utc = v.int64_value() - static_cast<int64_t>(v.tz_offset_seconds()) * 1000000;
      utc = ((utc % kMicrosPerDay) + kMicrosPerDay) % kMicrosPerDay;
      const int64_t sec = utc / 1000000;
      std::snprintf(buf, sizeof(buf), "%02lld:%02lld:%02lld.%06lldZ", static_cast<long long>(sec / 3600),
                    static_cast<long long>(sec / 60 % 60), static_cast<long long>(sec % 60),
                    static_cast<long long>(utc % 1000000));
      AppendString(buf, out);
      return;
    }
    case ValueKind::kTimestampTz:  // io.debezium.time.ZonedTimestamp
      if (v.int64_value() == kTimestampPosInfinity || v.int64_value() == kTimestampNegInfinity) {
        AppendString(v.int64_value() > 0 ? "infinity" : "-infinity", out);
        return;
      }
      AppendIsoUtc(v.int64_value(), out);
      return;
    case ValueKind::kInterval: {  // io.debezium.time.MicroDuration (30.4375-day months)
      const Interval iv = v.interval_value();
      const double micros = static_cast<double>(iv.months) * 30.4375 * 86400e6 +
                            static_cast<double>(iv.days) * 86400e6 + static_cast<double>(iv.micros);
      std::snprintf(buf, sizeof(buf), "%.0f", micros);
      out->append(buf);
      return;
    }
  }
}

EnvelopeRenderer::EnvelopeRenderer(const TableSchema& schema, const EnvelopeSource& source,
                                   const EnvelopeOptions& options)
    : schema_(schema), source_(source), options_(options) {
  for (const ColumnDef& c : schema_.columns) {
    std::string k;
    AppendString(c.name, &k);
    k.push_back(':');
    field_keys_.push_back(std::move(k));
  }
  if (options_.include_schema) {
    schema_prefix_ = "{\"schema\":" + EnvelopeSchemaJson(schema_, source_.connector, options_) + ",\"payload\":";
    key_prefix_ = "{\"schema\":";
    AppendRowSchema(schema_, options_, true, nullptr, &key_prefix_);
    key_prefix_ += ",\"payload\":";
  }
  source_head_ = ",\"source\":{\"version\":";
  AppendString(source_.version, &source_head_);
  source_head_ += ",\"connector\":";
  AppendString(source_.connector, &source_head_);
  source_head_ += ",\"name\":";
  AppendString(source_.name, &source_head_);
  source_head_ += ",\"ts_ms\":";
  table_part_ = ",\"db\":";
  AppendString(schema_.id.database, &table_part_);
  if (source_.connector == "postgresql") {
    table_part_ += ",\"schema\":";
    AppendString(schema_.id.schema, &table_part_);
  }
  table_part_ += ",\"table\":";
  AppendString(schema_.id.table, &table_part_);
}

void EnvelopeRenderer::AppendRowTo(const std::optional<Row>& row, bool keys_only, std::string* out) const {
  if (!row) {
    out->append("null");
    return;
  }
  out->push_back('{');
  bool first = true;
  const size_t n = std::min(row->size(), schema_.columns.size());
  for (size_t i = 0; i < n; ++i) {
    if (keys_only && !schema_.columns[i].is_key()) continue;
    if (!first) out->push_back(',');
    first = false;
    out->append(field_keys_[i]);
    AppendEnvelopeValue((*row)[i], schema_.columns[i], options_, out);
  }
  out->push_back('}');
}

std::string EnvelopeRenderer::Render(const ChangeEvent& e, uint64_t source_tx_id, bool snapshot, int64_t now_ms,
                                     const EnvelopeTransaction* tx) const {
  std::string out;
  out.reserve(schema_prefix_.size() + 128 + 48 * schema_.columns.size() * (e.before && e.after ? 2 : 1));
  out.append(schema_prefix_);
  const bool truncate = e.op == ChangeOp::kTruncate;
  out.append("{\"before\":");
  AppendRowTo(truncate ? std::nullopt : e.before, false, &out);
  out.append(",\"after\":");
  AppendRowTo(truncate ? std::nullopt : e.after, false, &out);
  out.append(source_head_);
  AppendInt(FloorDiv(e.commit_ts_us, 1000), &out);
  out.append(snapshot ? ",\"snapshot\":\"true\"" : ",\"snapshot\":\"false\"");
  if (e.table == schema_.id) {
    out.append(table_part_);
  } else {  // a table of a multi-table truncate rendered with its own name
    out.append(",\"db\":");
    AppendString(e.table.database, &out);
    if (source_.connector == "postgresql") {
      out.append(",\"schema\":");
      AppendString(e.table.schema, &out);
    }
    out.append(",\"table\":");
    AppendString(e.table.table, &out);
  }
  if (e.position.kind() == EventPosition::Kind::kPostgres) {
    out.append(",\"txId\":");
    AppendInt(source_tx_id, &out);
    out.append(",\"lsn\":");
    AppendInt(e.position.commit_lsn().value(), &out);
  }
  out.append("},\"op\":\"");
  out.append(OpCode(e.op));
  out.append("\",\"ts_ms\":");
  AppendInt(now_ms, &out);
  out.append(",\"transaction\":");
  if (tx) {
    out.append("{\"id\":");
    AppendString(tx->id, &out);
    out.append(",\"total_order\":");
    AppendInt(tx->total_order, &out);
    out.append(",\"data_collection_order\":");
    AppendInt(tx->data_collection_order, &out);
    out.push_back('}');
  } else {
    out.append("null");
  }
  out.push_back('}');
  if (options_.include_schema) out.push_back('}');
  return out;
}

std::string EnvelopeRenderer::Key(const Row& row) const {
  if (schema_.KeyColumns().empty()) return {};
  std::string out = key_prefix_;
  AppendRowTo(row, true, &out);
  if (options_.include_schema) out.push_back('}');
  return out;
}

std::string RenderEnvelope(const ChangeEvent& e, const TableSchema& schema, const EnvelopeSource& source,
                           int64_t now_ms, const EnvelopeOptions& o, const EnvelopeTransaction* tx) {
  return EnvelopeRenderer(schema, source, o).Render(e, source.tx_id, source.snapshot, now_ms, tx);
}

std::string RenderKey(const Row& row, const TableSchema& schema, const EnvelopeOptions& o) {
  return EnvelopeRenderer(schema, EnvelopeSource{}, o).Key(row);
}

std::string RenderTransactionKey(const std::string& id, const EnvelopeOptions& o) {
  std::string out;
  if (o.include_schema) {
    out.append("{\"schema\":{\"type\":\"struct\",\"fields\":[{\"type\":\"string\",\"optional\":false,"
               "\"field\":\"id\"}],\"optional\":false,\"name\":\"io.debezium.connector.common.TransactionMetadataKey\","
               "\"version\":1},\"payload\":");
  }
  out.append("{\"id\":");
  AppendString(id, &out);
  out.push_back('}');
  if (o.include_schema) out.push_back('}');
  return out;
}

namespace {

constexpr const char* kTransactionValueSchema =
    "{\"type\":\"struct\",\"fields\":[{\"type\":\"string\",\"optional\":false,\"field\":\"status\"},"
    "{\"type\":\"string\",\"optional\":false,\"field\":\"id\"},"
    "{\"type\":\"int64\",\"optional\":true,\"field\":\"event_count\"},"
    "{\"type\":\"array\",\"items\":{\"type\":\"struct\",\"fields\":[{\"type\":\"string\",\"optional\":false,"
    "\"field\":\"data_collection\"},{\"type\":\"int64\",\"optional\":false,\"field\":\"event_count\"}],"
    "\"optional\":false,\"name\":\"event.collection\",\"version\":1},\"optional\":true,\"field\":\"data_collections\"},"
    "{\"type\":\"int64\",\"optional\":false,\"field\":\"ts_ms\"}],\"optional\":false,"
    "\"name\":\"io.debezium.connector.common.TransactionMetadataValue\",\"version\":1}";

std::string Wrap(std::string payload, const EnvelopeOptions& o) {
  if (!o.include_schema) return payload;
  return std::string("{\"schema\":") + kTransactionValueSchema + ",\"payload\":" + payload + "}";
}

}  // namespace

std::string RenderTransactionBegin(const std::string& id, int64_t ts_ms, const EnvelopeOptions& o) {
  std::string out = "{\"status\":\"BEGIN\",\"id\":";
  AppendString(id, &out);
  out.append(",\"event_count\":null,\"data_collections\":null,\"ts_ms\":" + std::to_string(ts_ms) + "}");
  return Wrap(std::move(out), o);
}

std::string RenderTransactionEnd(const std::string& id, int64_t ts_ms,
                                 const std::vector<std::pair<std::string, uint64_t>>& per_table,
                                 const EnvelopeOptions& o) {
  uint64_t total = 0;
  for (const auto& [t, n] : per_table) total += n;
  std::string out = "{\"status\":\"END\",\"id\":";
  AppendString(id, &out);
  out.append(",\"event_count\":" + std::to_string(total) + ",\"data_collections\":[");
  for (size_t i = 0; i < per_table.size(); ++i) {
    if (i > 0) out.push_back(',');
    out.append("{\"data_collection\":");
    AppendString(per_table[i].first, &out);
    out.append(",\"event_count\":" + std::to_string(per_table[i].second) + "}");
  }
  out.append("],\"ts_ms\":" + std::to_string(ts_ms) + "}");
  return Wrap(std::move(out), o);
}

}  // namespace phony
