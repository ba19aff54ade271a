#include "core/envelope.h"

#include <cmath>
#include <cstdio>
#include <string>

#include "core/logging.h"

namespace phony {
namespace {

constexpr int64_t kMicrosPerDay = 86400LL * 1000000;

void AppendString(std::string_view s, std::string* out) {
  out->push_back('"');
  out->append(JsonEscape(s));
  out->push_back('"');
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
std::string IsoUtc(int64_t micros) {
  const int64_t days = FloorDiv(micros, kMicrosPerDay);
  int64_t tod = micros - days * kMicrosPerDay;
  int64_t y;
  unsigned m, d;
  CivilFromDays(days, &y, &m, &d);
  const int64_t us = tod % 1000000;
  tod /= 1000000;
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%04lld-%02u-%02uT%02lld:%02lld:%02lld.%06lldZ",
                static_cast<long long>(y), m, d, static_cast<long long>(tod / 3600),
                static_cast<long long>(tod / 60 % 60), static_cast<long long>(tod % 60),
                static_cast<long long>(us));
  return buf;
}

void AppendRow(const std::optional<Row>& row, const TableSchema& schema, std::string* out) {
  if (!row) {
    out->append("null");
    return;
  }
  out->push_back('{');
  for (size_t i = 0; i < row->size() && i < schema.columns.size(); ++i) {
    if (i > 0) out->push_back(',');
    AppendString(schema.columns[i].name, out);
    out->push_back(':');
    AppendEnvelopeValue((*row)[i], out);
  }
  out->push_back('}');
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

}  // namespace

void AppendEnvelopeValue(const Value& v, std::string* out) {
  char buf[64];
  switch (v.kind()) {
    case ValueKind::kNull:
      out->append("null");
      return;
    case ValueKind::kUnchanged:
      AppendString(kUnavailableValuePlaceholder, out);
      return;
    case ValueKind::kBool:
      out->append(v.bool_value() ? "true" : "false");
      return;
    case ValueKind::kInt64:
      out->append(std::to_string(v.int64_value()));
      return;
    case ValueKind::kUInt64:
      out->append(std::to_string(v.uint64_value()));
      return;
    case ValueKind::kDouble: {
      const double d = v.double_value();
      // JSON has no NaN or infinities: they travel as strings.
      if (std::isnan(d)) return AppendString("NaN", out);
      if (std::isinf(d)) return AppendString(d > 0 ? "Infinity" : "-Infinity", out);
      std::snprintf(buf, sizeof(buf), "%.17g", d);
      out->append(buf);
      return;
    }
    case ValueKind::kDecimal:  // decimal.handling.mode=string
    case ValueKind::kText:
    case ValueKind::kJson:     // io.debezium.data.Json
      AppendString(v.str(), out);
      return;
    case ValueKind::kBytes:    // binary.handling.mode=bytes: base64 in JSON
      AppendBase64(v.str(), out);
      return;
    case ValueKind::kUuid:     // io.debezium.data.Uuid
      AppendString(FormatUuid(v.str()), out);
      return;
    case ValueKind::kDate:     // io.debezium.time.Date: days since the epoch
      if (v.date_value() == kDatePosInfinity || v.date_value() == kDateNegInfinity) {
        AppendString(v.date_value() > 0 ? "infinity" : "-infinity", out);
        return;
      }
      out->append(std::to_string(v.date_value()));
      return;
    case ValueKind::kTime:     // io.debezium.time.MicroTime
    case ValueKind::kTimestamp:  // io.debezium.time.MicroTimestamp
      if (v.kind() == ValueKind::kTimestamp &&
          (v.int64_value() == kTimestampPosInfinity || v.int64_value() == kTimestampNegInfinity)) {
        AppendString(v.int64_value() > 0 ? "infinity" : "-infinity", out);
        return;
      }
      out->append(std::to_string(v.int64_value()));
      return;
    case ValueKind::kTimeTz: {  // io.debezium.time.ZonedTime, normalized to UTC
      int64_t utc = v.int64_value() - static_cast<int64_t>(v.tz_offset_seconds()) * 1000000;
      utc = ((utc % kMicrosPerDay) + kMicrosPerDay) % kMicrosPerDay;
      const int64_t s = utc / 1000000;
      std::snprintf(buf, sizeof(buf), "%02lld:%02lld:%02lld.%06lldZ", static_cast<long long>(s / 3600),
                    static_cast<long long>(s / 60 % 60), static_cast<long long>(s % 60),
                    static_cast<long long>(utc % 1000000));
      AppendString(buf, out);
      return;
    }
    case ValueKind::kTimestampTz:  // io.debezium.time.ZonedTimestamp
      if (v.int64_value() == kTimestampPosInfinity || v.int64_value() == kTimestampNegInfinity) {
        AppendString(v.int64_value() > 0 ? "infinity" : "-infinity", out);
        return;
      }
      AppendString(IsoUtc(v.int64_value()), out);
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

std::string RenderEnvelope(const ChangeEvent& e, const TableSchema& schema,
                           const EnvelopeSource& source, int64_t now_ms) {
  std::string out;
  out.reserve(256);
  out.append("{\"before\":");
  AppendRow(e.op == ChangeOp::kTruncate ? std::nullopt : e.before, schema, &out);
  out.append(",\"after\":");
  AppendRow(e.op == ChangeOp::kTruncate ? std::nullopt : e.after, schema, &out);
  out.append(",\"source\":{\"version\":");
  AppendString(source.version, &out);
  out.append(",\"connector\":");
  AppendString(source.connector, &out);
  out.append(",\"name\":");
  AppendString(source.name, &out);
  out.append(",\"ts_ms\":" + std::to_string(FloorDiv(e.commit_ts_us, 1000)));
  out.append(",\"snapshot\":");
  out.append(source.snapshot ? "\"true\"" : "\"false\"");
  out.append(",\"db\":");
  AppendString(e.table.database, &out);
  out.append(",\"schema\":");
  AppendString(e.table.schema, &out);
  out.append(",\"table\":");
  AppendString(e.table.table, &out);
  if (e.position.kind() == EventPosition::Kind::kPostgres) {
    out.append(",\"txId\":" + std::to_string(source.tx_id));
    out.append(",\"lsn\":" + std::to_string(e.position.commit_lsn().value()));
  }
  out.append("},\"op\":\"");
  out.append(OpCode(e.op));
  out.append("\",\"ts_ms\":" + std::to_string(now_ms) + ",\"transaction\":null}");
  return out;
}

}  // namespace phony
