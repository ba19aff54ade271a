#include "src/capture/mysql/binlog_inspect.h"

#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>

#include "core/logging.h"
#include "core/status_macros.h"
#include "src/capture/mysql/binlog_decoder.h"
#include "src/capture/mysql/binlog_file.h"

namespace phony::mysql {
namespace {

constexpr int64_t kMicrosPerDay = int64_t{86400} * 1000000;

void AppendString(std::string_view s, std::string* out) {
  out->push_back('"');
  AppendJsonEscaped(s, out);
  out->push_back('"');
}

void AppendClock(int64_t micros, bool hours_unbounded, std::string* out) {
  char buf[48];
  const int64_t secs = micros / 1000000, frac = micros % 1000000;
  const int n = std::snprintf(buf, sizeof(buf), hours_unbounded ? "%02lld:%02lld:%02lld" : "%02lld:%02lld:%02lld",
                              static_cast<long long>(secs / 3600), static_cast<long long>(secs / 60 % 60),
                              static_cast<long long>(secs % 60));
  out->append(buf, static_cast<size_t>(n));
  if (frac != 0) {
    const int m = std::snprintf(buf, sizeof(buf), ".%06lld", static_cast<long long>(frac));
    out->append(buf, static_cast<size_t>(m));
  }
}

void AppendDate(int64_t days, std::string* out) {
  int64_t y;
  unsigned m, d;
  CivilFromDays(days, &y, &m, &d);
  char buf[32];
  const int n = std::snprintf(buf, sizeof(buf), "%04lld-%02u-%02u", static_cast<long long>(y), m, d);
  out->append(buf, static_cast<size_t>(n));
}

void AppendDateTime(int64_t micros, std::string* out) {
  int64_t days = micros / kMicrosPerDay, rest = micros % kMicrosPerDay;
  if (rest < 0) {
    rest += kMicrosPerDay;
    --days;
  }
  AppendDate(days, out);
  out->push_back(' ');
  AppendClock(rest, false, out);
}

const char* StatementKind(std::string_view text) {
  auto starts = [&](std::string_view word) {
    if (text.size() < word.size()) return false;
    for (size_t i = 0; i < word.size(); ++i) {
      if (std::toupper(static_cast<unsigned char>(text[i])) != word[i]) return false;
    }
    return true;
  };
  if (starts("BEGIN")) return "BEGIN";
  if (starts("COMMIT")) return "COMMIT";
  if (starts("ROLLBACK")) return "ROLLBACK";
  if (starts("XA ")) return "XA";
  return "other";
}

}  // namespace

void AppendInspectValue(const Value& v, std::string* out) {
  char buf[64];
  switch (v.kind()) {
    case ValueKind::kNull: case ValueKind::kUnchanged: out->append("null"); return;
    case ValueKind::kBool: out->append(v.bool_value() ? "true" : "false"); return;
    case ValueKind::kInt64: { auto r = std::to_chars(buf, buf + sizeof(buf), v.int64_value()); out->append(buf, r.ptr); return; }
    case ValueKind::kUInt64: { auto r = std::to_chars(buf, buf + sizeof(buf), v.uint64_value()); out->append(buf, r.ptr); return; }
    case ValueKind::kDouble: {
      if (!std::isfinite(v.double_value())) {
        AppendString(std::isnan(v.double_value()) ? "NaN" : v.double_value() > 0 ? "Infinity" : "-Infinity", out);
        return;
      }
      auto r = std::to_chars(buf, buf + sizeof(buf), v.double_value());
      out->append(buf, r.ptr);
      return;
    }
    case ValueKind::kDecimal: out->append(v.str()); return;
    case ValueKind::kText: AppendString(v.str(), out); return;
    case ValueKind::kBytes: {
      static constexpr char kHex[] = "0123456789abcdef";
      out->append("\"0x");
      for (char c : v.str()) {
        out->push_back(kHex[static_cast<uint8_t>(c) >> 4]);
        out->push_back(kHex[static_cast<uint8_t>(c) & 15]);
      }
      out->push_back('"');
      return;
    }
    case ValueKind::kDate: out->push_back('"'); AppendDate(v.date_value(), out); out->push_back('"'); return;
    case ValueKind::kTime: {
      out->push_back('"');
      if (v.int64_value() < 0) out->push_back('-');
      AppendClock(v.int64_value() < 0 ? -v.int64_value() : v.int64_value(), true, out);
      out->push_back('"');
      return;
    }
    case ValueKind::kTimestamp: out->push_back('"'); AppendDateTime(v.int64_value(), out); out->push_back('"'); return;
    case ValueKind::kTimestampTz:
      out->push_back('"');
      AppendDateTime(v.int64_value(), out);
      out->append("Z\"");
      return;
    case ValueKind::kJson: out->append(v.str().empty() ? "null" : v.str()); return;
    default: AppendString(v.DebugString(), out); return;
  }
}

absl::Status InspectBinlogFile(const std::string& path, const InspectOptions& options,
                               const std::function<void(std::string_view line)>& line) {
  PHONY_ASSIGN_OR_RETURN(std::unique_ptr<BinlogFileReader> reader, BinlogFileReader::Open(path));
  const std::string file = path.substr(path.find_last_of('/') + 1);
  BinlogDecoder decoder;
  std::vector<BinlogEvent> events;
  std::string gtid;  // of the transaction being read
  std::string out;
  auto head = [&](uint64_t pos) {
    out.clear();
    out += "{\"file\":";
    AppendString(file, &out);
    out += ",\"pos\":" + std::to_string(pos) + ",\"gtid\":";
    if (gtid.empty()) {
      out += "null";
    } else {
      AppendString(gtid, &out);
    }
  };
  auto image = [&](const TableMap& t, const std::optional<Row>& row, const RowChange& change) {
    if (!row) {
      out += "null";
      return;
    }
    out.push_back('{');
    bool first = true;
    for (size_t i = 0; i < row->size(); ++i) {
      const Value& v = (*row)[i];
      const std::vector<JsonDiff>* diffs = nullptr;
      for (const auto& [col, d] : change.json_diffs) {
        if (col == i && &row == &change.after) diffs = &d;
      }
      if (v.is_unchanged() && diffs == nullptr) continue;  // not in this image
      if (!first) out.push_back(',');
      first = false;
      AppendString(t.columns[i].name.empty() ? "@" + std::to_string(i + 1) : t.columns[i].name, &out);
      out.push_back(':');
      if (diffs != nullptr) {
        out += "{\"json_diff\":[";
        for (size_t k = 0; k < diffs->size(); ++k) {
          const JsonDiff& d = (*diffs)[k];
          if (k > 0) out.push_back(',');
          out += "{\"op\":";
          AppendString(d.op == JsonDiff::Op::kReplace ? "replace" : d.op == JsonDiff::Op::kInsert ? "insert" : "remove",
                       &out);
          out += ",\"path\":";
          AppendString(d.path, &out);
          if (d.value_json) out += ",\"value\":" + *d.value_json;
          out.push_back('}');
        }
        out += "]}";
      } else {
        AppendInspectValue(v, &out);
      }
    }
    out.push_back('}');
  };
  while (true) {
    auto next = reader->Next();
    if (!next.ok()) return next.status();
    if (!next->has_value()) break;
    events.clear();
    if (absl::Status s = decoder.Decode((*next)->bytes, (*next)->offset, &events); !s.ok()) {
      return absl::Status(s.code(), file + ": " + std::string(s.message()));
    }
    for (const BinlogEvent& e : events) {
      if (const auto* g = std::get_if<GtidEvent>(&e.body)) gtid = g->gtid;
      if (const auto* rows = std::get_if<RowsEvent>(&e.body)) {
        const TableMap& t = *rows->table;
        const char* op = rows->kind == RowsEvent::Kind::kInsert ? "c" : rows->kind == RowsEvent::Kind::kUpdate ? "u" : "d";
        for (const RowChange& change : rows->rows) {
          head(e.offset);
          out += ",\"db\":";
          AppendString(t.database, &out);
          out += ",\"table\":";
          AppendString(t.table, &out);
          out += ",\"op\":\"";
          out += op;
          out += "\",\"before\":";
          image(t, change.before, change);
          out += ",\"after\":";
          image(t, change.after, change);
          out.push_back('}');
          line(out);
        }
        continue;
      }
      if (!options.all_events) continue;
      head(e.offset);
      out += ",\"event\":";
      AppendString(EventTypeName(e.header.type), &out);
      out += ",\"size\":" + std::to_string(e.header.event_size);
      if (const auto* q = std::get_if<Query>(&e.body)) {
        out += ",\"statement\":";
        AppendString(StatementKind(q->text), &out);
      } else if (const auto* f = std::get_if<FormatDescription>(&e.body)) {
        out += ",\"server_version\":";
        AppendString(f->server_version, &out);
        out += ",\"checksum\":";
        AppendString(f->checksum_alg == 1 ? "CRC32" : "NONE", &out);
      } else if (const auto* s = std::get_if<GtidSetEvent>(&e.body)) {
        out += ",\"gtid_set\":";
        AppendString(s->set, &out);
      } else if (const auto* r = std::get_if<Rotate>(&e.body)) {
        out += ",\"next_file\":";
        AppendString(r->next_file, &out);
        out += ",\"next_pos\":" + std::to_string(r->position);
      } else if (const auto* x = std::get_if<Xid>(&e.body)) {
        out += ",\"xid\":" + std::to_string(x->xid);
      } else if (const auto* m = std::get_if<std::shared_ptr<const TableMap>>(&e.body)) {
        out += ",\"table_id\":" + std::to_string((*m)->table_id) + ",\"db\":";
        AppendString((*m)->database, &out);
        out += ",\"table\":";
        AppendString((*m)->table, &out);
        out += ",\"columns\":[";
        for (size_t i = 0; i < (*m)->columns.size(); ++i) {
          const ColumnInfo& c = (*m)->columns[i];
          if (i > 0) out.push_back(',');
          out += "{\"name\":";
          AppendString(c.name.empty() ? "@" + std::to_string(i + 1) : c.name, &out);
          out += ",\"type\":";
          AppendString(TypeName(c), &out);
          if (c.key_ordinal != 0) out += ",\"key\":" + std::to_string(c.key_ordinal);
          if (!c.visible) out += ",\"invisible\":true";
          if (!c.nullable) out += ",\"nullable\":false";
          out.push_back('}');
        }
        out.push_back(']');
      } else if (const auto* inc = std::get_if<Incident>(&e.body)) {
        out += ",\"incident\":" + std::to_string(inc->type);
      }
      out.push_back('}');
      line(out);
    }
  }
  return absl::OkStatus();
}

}  // namespace phony::mysql
