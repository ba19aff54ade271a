#include "src/analyze/report.h"

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace phony::analyze {
namespace {

using nlohmann::json;

double Round2(double v) { return std::round(v * 100) / 100; }

std::string ColumnKey(const std::string& table, const std::string& column) { return table + "." + column; }

// "sales.users.email" -> {"sales.users", "email"}: the column is after the last dot.
bool SplitColumnKey(const std::string& key, std::string* table, std::string* column) {
  const size_t dot = key.rfind('.');
  if (dot == std::string::npos || dot == 0 || dot + 1 == key.size()) return false;
  *table = key.substr(0, dot);
  *column = key.substr(dot + 1);
  return true;
}

std::string Pad(const std::string& s, size_t width) { return s.size() >= width ? s : s + std::string(width - s.size(), ' '); }

std::string Fixed2(double v) {
  char buf[16];
  std::snprintf(buf, sizeof(buf), "%.2f", v);
  return buf;
}

}  // namespace

json ReportToJson(const Report& report) {
  json doc = json::object();
  for (const ColumnFinding& f : report.flagged) {
    doc[ColumnKey(f.table, f.column)] = {{"pii_type", PiiTypeName(f.type)},
                                         {"confidence", Round2(f.confidence)},
                                         {"evidence", f.evidence},
                                         {"type", f.sql_type}};
  }
  json fks = json::array();
  for (const ForeignKeyFinding& fk : report.fks) {
    fks.push_back({{"from", fk.from_table + "." + fk.from_column},
                   {"to", fk.to_table + "." + fk.to_column},
                   {"confidence", Round2(fk.confidence)},
                   {"evidence", fk.evidence}});
  }
  doc["fks"] = std::move(fks);
  json columns = json::array();
  for (const ColumnFinding& f : report.columns) columns.push_back(ColumnKey(f.table, f.column));
  doc["analyzed"] = {{"source", report.source_kind},       {"default_schema", report.default_schema},
                     {"generated_at", report.generated_at}, {"seconds", Round2(report.seconds)},
                     {"tables", report.tables},             {"sample_rows", report.sample_rows},
                     {"threshold", report.threshold},       {"columns", std::move(columns)}};
  return doc;
}

absl::StatusOr<Report> ReportFromJson(const json& doc) {
  if (!doc.is_object()) return absl::InvalidArgumentError("the report is not a JSON object");
  Report r;
  try {
    const json& a = doc.at("analyzed");
    r.source_kind = a.value("source", "");
    r.default_schema = a.value("default_schema", "");
    r.generated_at = a.value("generated_at", "");
    r.seconds = a.value("seconds", 0.0);
    r.tables = a.value("tables", size_t{0});
    r.sample_rows = a.value("sample_rows", size_t{0});
    r.threshold = a.value("threshold", 0.5);
    for (const json& c : a.at("columns")) {
      ColumnFinding f;
      if (!SplitColumnKey(c.get<std::string>(), &f.table, &f.column)) {
        return absl::InvalidArgumentError("analyzed.columns: \"" + c.get<std::string>() + "\" is not table.column");
      }
      r.columns.push_back(std::move(f));
    }
    for (const auto& [key, v] : doc.items()) {
      if (key == "fks" || key == "analyzed") continue;
      ColumnFinding f;
      if (!SplitColumnKey(key, &f.table, &f.column)) {
        return absl::InvalidArgumentError("\"" + key + "\" is not table.column");
      }
      const auto type = ParsePiiType(v.at("pii_type").get<std::string>());
      if (!type) return absl::InvalidArgumentError(key + ".pii_type: unknown type \"" + v.at("pii_type").get<std::string>() + "\"");
      f.type = *type;
      f.confidence = v.at("confidence").get<double>();
      f.evidence = v.value("evidence", std::vector<std::string>{});
      f.sql_type = v.value("type", "");
      for (ColumnFinding& seen : r.columns) {
        if (seen.table == f.table && seen.column == f.column) seen = f;
      }
      r.flagged.push_back(std::move(f));
    }
    for (const json& fk : doc.at("fks")) {
      ForeignKeyFinding f;
      std::string from = fk.at("from").get<std::string>(), to = fk.at("to").get<std::string>();
      if (!SplitColumnKey(from, &f.from_table, &f.from_column) || !SplitColumnKey(to, &f.to_table, &f.to_column)) {
        return absl::InvalidArgumentError("fks: \"" + from + "\" -> \"" + to + "\" is not table.column");
      }
      f.confidence = fk.at("confidence").get<double>();
      f.evidence = fk.value("evidence", std::vector<std::string>{});
      r.fks.push_back(std::move(f));
    }
  } catch (const json::exception& e) {
    return absl::InvalidArgumentError(std::string("the report does not have the expected shape: ") + e.what());
  }
  return r;
}

std::string ReportTable(const Report& report) {
  std::ostringstream out;
  size_t w_col = 12, w_type = 4;
  for (const ColumnFinding& f : report.flagged) {
    w_col = std::max(w_col, f.table.size() + 1 + f.column.size());
    w_type = std::max(w_type, f.sql_type.size());
  }
  w_col = std::min<size_t>(w_col, 60);
  w_type = std::min<size_t>(w_type, 28);
  out << Pad("COLUMN", w_col) << "  " << Pad("TYPE", w_type) << "  " << Pad("PII", 13) << "  CONF  EVIDENCE\n";
  for (const ColumnFinding& f : report.flagged) {
    std::string evidence;
    for (const std::string& e : f.evidence) evidence += (evidence.empty() ? "" : ", ") + e;
    out << Pad(ColumnKey(f.table, f.column), w_col) << "  " << Pad(f.sql_type, w_type) << "  "
        << Pad(PiiTypeName(f.type), 13) << "  " << Fixed2(f.confidence) << "  " << evidence << "\n";
  }
  out << report.flagged.size() << " of " << report.columns.size() << " columns in " << report.tables
      << " tables flagged (threshold " << Fixed2(report.threshold) << ", " << report.sample_rows
      << " rows sampled per table, " << Fixed2(report.seconds) << " s)\n\n";
  size_t w_from = 12;
  for (const ForeignKeyFinding& fk : report.fks) w_from = std::max(w_from, fk.from_table.size() + fk.from_column.size() + 1);
  w_from = std::min<size_t>(w_from, 60);
  out << Pad("FOREIGN KEY", w_from) << "     " << Pad("REFERENCES", w_from) << "  CONF  EVIDENCE\n";
  for (const ForeignKeyFinding& fk : report.fks) {
    std::string evidence;
    for (const std::string& e : fk.evidence) evidence += (evidence.empty() ? "" : ", ") + e;
    out << Pad(fk.from_table + "." + fk.from_column, w_from) << "  -> " << Pad(fk.to_table + "." + fk.to_column, w_from)
        << "  " << Fixed2(fk.confidence) << "  " << evidence << "\n";
  }
  size_t declared = 0;
  for (const ForeignKeyFinding& fk : report.fks) declared += fk.declared();
  out << report.fks.size() << " foreign keys (" << declared << " declared, " << report.fks.size() - declared
      << " inferred)\n";
  return out.str();
}

json StarterRule(const ColumnFinding& f) {
  using C = ColumnClass;
  auto anonymize = [&](const char* generator) {
    json r = {{"transform", "ANONYMIZE"}, {"generator", generator}};
    if (f.unique) r["unique"] = true;
    return r;
  };
  const bool integer = f.cls == C::kInteger, number = f.cls == C::kNumber;
  switch (f.type) {
    case PiiType::kNone: return {{"transform", "KEEP"}};
    case PiiType::kEmail: return anonymize("email");
    case PiiType::kName: return anonymize("full_name");
    case PiiType::kFirstName: return anonymize("first_name");
    case PiiType::kLastName: return anonymize("last_name");
    case PiiType::kCity: return anonymize("city");
    case PiiType::kAddress: return anonymize("address");
    case PiiType::kPhone: return integer ? json{{"transform", "TOKENIZE"}} : anonymize("phone");
    case PiiType::kPostalCode: return {{"transform", "TOKENIZE"}};
    case PiiType::kDateOfBirth:
      if (integer) return {{"transform", "ANONYMIZE"}, {"generator", "noise"}, {"min", -2}, {"max", 2}};
      return {{"transform", "DATE_SHIFT"}, {"days", 180}};
    case PiiType::kNationalId: return integer || number ? json{{"transform", "TOKENIZE"}} : anonymize("national_id");
    case PiiType::kCreditCard: return integer || number ? json{{"transform", "TOKENIZE"}} : anonymize("credit_card");
    case PiiType::kIban: return anonymize("iban");
    case PiiType::kIpAddress:
      if (f.cls == C::kInteger || f.cls == C::kBinary) return {{"transform", "NULL"}};
      return {{"transform", "MASK"}, {"pattern", "10.#.#.#"}};
    case PiiType::kUsername: return {{"transform", "ANONYMIZE"}, {"generator", "template"}, {"pattern", "user_{{hash:20}}"}};
    case PiiType::kPassword: case PiiType::kSecret:
      if (f.cls == C::kUuid) return anonymize("uuid");
      return {{"transform", "HASH"}, {"format", "hex"}, {"length", 32}};
    case PiiType::kFreeText: return {{"transform", "SCRUB"}};
    case PiiType::kGeoLocation:
      if (number) return {{"transform", "ANONYMIZE"}, {"generator", "noise"}, {"min", -0.01}, {"max", 0.01}};
      return {{"transform", "NULL"}};
  }
  return {{"transform", "NULL"}};
}

json StarterConfig(const Report& report, const json& base) {
  json out = base.is_object() ? base : json::object();
  json& tables = out["tables"];
  if (!tables.is_object()) tables = json::object();
  auto has_base_rule = [&](const std::string& table, const std::string& column) {
    return base.is_object() && base.contains("tables") && base["tables"].contains(table) &&
           base["tables"][table].contains("columns") && base["tables"][table]["columns"].contains(column);
  };
  for (const ColumnFinding& seen : report.columns) {
    const ColumnFinding* flagged = report.Flagged(seen.table, seen.column);
    json& t = tables[seen.table];
    if (!t.is_object()) t = json::object();
    json& cols = t["columns"];
    if (!cols.is_object()) cols = json::object();
    if (cols.contains(seen.column)) continue;  // the config's own rule stays
    cols[seen.column] = flagged != nullptr ? StarterRule(*flagged) : json{{"transform", "KEEP"}};
  }
  // A column referencing an anonymized key takes the key's rule (the same
  // rule maps alike, so joins still join), declared or inferred.
  for (const ForeignKeyFinding& fk : report.fks) {
    if (fk.from_column.find(',') != std::string::npos || has_base_rule(fk.from_table, fk.from_column)) continue;
    if (!tables.contains(fk.to_table) || !tables[fk.to_table]["columns"].contains(fk.to_column)) continue;
    const json& parent = tables[fk.to_table]["columns"][fk.to_column];
    if (parent.value("transform", "KEEP") == "KEEP") continue;
    json rule = parent;
    rule.erase("unique");  // many rows may reference one key
    tables[fk.from_table]["columns"][fk.from_column] = std::move(rule);
  }
  json& an = out["analyze"];
  if (!an.is_object()) an = json::object();
  if (!an.contains("strict")) an["strict"] = true;
  return out;
}

std::string ReportPath(const JobConfig& config) { return config.state_dir + "/analyze/report.json"; }

absl::Status SaveReport(const JobConfig& config, const Report& report) {
  const std::filesystem::path path = ReportPath(config);
  std::error_code ec;
  std::filesystem::create_directories(path.parent_path(), ec);
  if (ec) return absl::FailedPreconditionError("creating " + path.parent_path().string() + ": " + ec.message());
  // Written beside it and renamed: a reader never sees half a report.
  const std::string tmp = path.string() + ".tmp";
  {
    std::ofstream f(tmp, std::ios::trunc);
    f << ReportToJson(report).dump(2) << "\n";
    if (!f.flush()) return absl::FailedPreconditionError("writing " + tmp);
  }
  std::filesystem::rename(tmp, path, ec);
  if (ec) return absl::FailedPreconditionError("renaming " + tmp + ": " + ec.message());
  return absl::OkStatus();
}

absl::StatusOr<Report> LoadReport(const JobConfig& config) {
  const std::string path = ReportPath(config);
  std::ifstream f(path);
  if (!f) return absl::NotFoundError("no saved report at " + path + " (phony analyze --save writes one)");
  std::stringstream text;
  text << f.rdbuf();
  json doc = json::parse(text.str(), nullptr, false);
  if (doc.is_discarded()) return absl::InvalidArgumentError(path + " is not JSON: run phony analyze --save again");
  auto r = ReportFromJson(doc);
  if (!r.ok()) return absl::InvalidArgumentError(path + ": " + std::string(r.status().message()));
  return r;
}

}  // namespace phony::analyze
