#include "core/config.h"

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>
#include <string>

#include "nlohmann/json.hpp"

namespace phony {
namespace {

using json = nlohmann::json;

// Features whose config keys are recognized but whose code has not landed:
// rejected with a message saying where they arrive.
struct NotLanded {
  const char* key;
  const char* what;
  const char* issue;
};

std::string Quote(std::string_view s) {
  // Appended piecewise: GCC 12 at -O3 warns (-Wrestrict, a false positive)
  // on `"\"" + std::string(s) + "\""`.
  std::string out;
  out.reserve(s.size() + 2);
  out.push_back('"');
  out.append(s);
  out.push_back('"');
  return out;
}

std::string TypeName(const json& j) {
  if (j.is_null()) return "null";
  if (j.is_boolean()) return "a boolean";
  if (j.is_number_integer() || j.is_number_unsigned()) return "an integer";
  if (j.is_number_float()) return "a number";
  if (j.is_string()) return "a string";
  if (j.is_array()) return "an array";
  return "an object";
}

std::string Child(const std::string& path, std::string_view key) {
  const bool plain =
      !key.empty() && std::all_of(key.begin(), key.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
      });
  if (!plain) return path + "[" + Quote(key) + "]";
  return path.empty() ? std::string(key) : path + "." + std::string(key);
}

size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] != b[j - 1])});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

class Checker {
 public:
  explicit Checker(std::vector<ConfigProblem>* problems) : problems_(problems) {}

  void Problem(const std::string& path, std::string reason) {
    problems_->push_back(ConfigProblem{path, std::move(reason)});
  }

  // Reports keys of `obj` outside `allowed` (suggesting the nearest one) and
  // recognized-but-not-landed keys.
  void CheckKeys(const json& obj, const std::string& path, const std::set<std::string>& allowed,
                 const std::vector<NotLanded>& not_landed = {}) {
    for (const auto& item : obj.items()) {
      const std::string& key = item.key();
      if (allowed.count(key)) continue;
      auto nl = std::find_if(not_landed.begin(), not_landed.end(),
                             [&](const NotLanded& n) { return key == n.key; });
      if (nl != not_landed.end()) {
        Problem(Child(path, key), std::string(nl->what) + " is not available yet: it arrives with " +
                                      nl->issue + "; remove this key for now");
        continue;
      }
      std::string best;
      size_t best_d = 3;
      for (const auto& a : allowed) {
        const size_t d = EditDistance(key, a);
        if (d < best_d) best_d = d, best = a;
      }
      std::string allowed_list;
      for (const auto& a : allowed) allowed_list += (allowed_list.empty() ? "" : ", ") + a;
      Problem(Child(path, key), "unknown key" +
                                    (best.empty() ? "" : " (did you mean " + Quote(best) + "?)") +
                                    "; allowed here: " + allowed_list);
    }
  }

  // Returns the member or nullptr; reports a missing required key.
  const json* Member(const json& obj, const std::string& path, const char* key, bool required) {
    auto it = obj.find(key);
    if (it == obj.end()) {
      if (required) Problem(Child(path, key), "is required");
      return nullptr;
    }
    return &*it;
  }

  const json* Object(const json& obj, const std::string& path, const char* key, bool required) {
    const json* m = Member(obj, path, key, required);
    if (m && !m->is_object()) {
      Problem(Child(path, key), "must be an object, got " + TypeName(*m));
      return nullptr;
    }
    return m;
  }

  std::optional<std::string> String(const json& obj, const std::string& path, const char* key,
                                    bool required, bool allow_empty = false) {
    const json* m = Member(obj, path, key, required);
    if (!m) return std::nullopt;
    if (!m->is_string()) {
      Problem(Child(path, key), "must be a string, got " + TypeName(*m));
      return std::nullopt;
    }
    std::string s = m->get<std::string>();
    if (s.empty() && !allow_empty) {
      Problem(Child(path, key), "must not be empty");
      return std::nullopt;
    }
    return s;
  }

  std::optional<int64_t> Integer(const json& obj, const std::string& path, const char* key,
                                 bool required, int64_t min, int64_t max) {
    const json* m = Member(obj, path, key, required);
    if (!m) return std::nullopt;
    const std::string range = "an integer between " + std::to_string(min) + " and " +
                              std::to_string(max);
    if (!(m->is_number_integer() || m->is_number_unsigned())) {
      Problem(Child(path, key), "must be " + range + ", got " + TypeName(*m) + " " + m->dump());
      return std::nullopt;
    }
    if (m->is_number_unsigned() && m->get<uint64_t>() > static_cast<uint64_t>(INT64_MAX)) {
      Problem(Child(path, key), "must be " + range + ", got " + m->dump());
      return std::nullopt;
    }
    const int64_t v = m->get<int64_t>();
    if (v < min || v > max) {
      Problem(Child(path, key), "must be " + range + ", got " + std::to_string(v));
      return std::nullopt;
    }
    return v;
  }

  std::optional<double> Number(const json& obj, const std::string& path, const char* key) {
    const json* m = Member(obj, path, key, false);
    if (!m) return std::nullopt;
    if (!m->is_number()) {
      Problem(Child(path, key), "must be a number, got " + TypeName(*m));
      return std::nullopt;
    }
    return m->get<double>();
  }

  std::optional<bool> Bool(const json& obj, const std::string& path, const char* key) {
    const json* m = Member(obj, path, key, false);
    if (!m) return std::nullopt;
    if (!m->is_boolean()) {
      Problem(Child(path, key), "must be true or false, got " + TypeName(*m));
      return std::nullopt;
    }
    return m->get<bool>();
  }

  std::optional<std::string> OneOf(const json& obj, const std::string& path, const char* key,
                                   bool required, const std::vector<std::string>& choices) {
    auto s = String(obj, path, key, required);
    if (!s) return std::nullopt;
    if (std::find(choices.begin(), choices.end(), *s) == choices.end()) {
      std::string list;
      for (const auto& c : choices) list += (list.empty() ? "" : ", ") + c;
      Problem(Child(path, key), "must be one of " + list + "; got " + Quote(*s));
      return std::nullopt;
    }
    return s;
  }

  // `indexes`, when given, receives each returned string's index in the array.
  std::vector<std::string> StringArray(const json& obj, const std::string& path, const char* key,
                                       std::vector<size_t>* indexes = nullptr) {
    std::vector<std::string> out;
    const json* m = Member(obj, path, key, false);
    if (!m) return out;
    if (!m->is_array()) {
      Problem(Child(path, key), "must be an array of strings, got " + TypeName(*m));
      return out;
    }
    for (size_t i = 0; i < m->size(); ++i) {
      const json& e = (*m)[i];
      const std::string p = Child(path, key) + "[" + std::to_string(i) + "]";
      if (!e.is_string() || e.get<std::string>().empty()) {
        Problem(p, "must be a non-empty string, got " + (e.is_string() ? "\"\"" : TypeName(e)));
        continue;
      }
      out.push_back(e.get<std::string>());
      if (indexes) indexes->push_back(i);
    }
    return out;
  }

  std::optional<SecretRef> SecretField(const json& obj, const std::string& path, const char* key,
                                  bool required) {
    auto s = String(obj, path, key, required);
    if (!s) return std::nullopt;
    auto ref = ParseSecretRef(*s);
    if (!ref.ok()) {
      Problem(Child(path, key), std::string(ref.status().message()));
      return std::nullopt;
    }
    return *ref;
  }

 private:
  std::vector<ConfigProblem>* problems_;
};

bool ValidPattern(const std::string& p) {
  // schema.table or table, with * and ? wildcards; at most one dot.
  if (std::count(p.begin(), p.end(), '.') > 1) return false;
  return std::all_of(p.begin(), p.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '*' || c == '?' ||
           c == '.' || c == '$' || c == '-';
  }) && p.front() != '.' && p.back() != '.';
}

void ParseEndpoint(Checker& c, const json& j, const std::string& path, EndpointConfig* out) {
  c.CheckKeys(j, path, {"type", "host", "port", "database", "user", "password_ref"},
              {{"credentials", "SSH tunnels (credentials)", "issue #11"},
               {"ssl", "TLS settings (ssl)", "issue #11"}});
  if (auto t = c.OneOf(j, path, "type", true, {"postgresql", "mysql", "mariadb"})) {
    out->type = *t == "postgresql" ? DatabaseType::kPostgres
                : *t == "mysql"    ? DatabaseType::kMySql
                                   : DatabaseType::kMariaDb;
    out->port = out->type == DatabaseType::kPostgres ? 5432 : 3306;
  }
  if (auto h = c.String(j, path, "host", false)) out->host = *h;
  if (auto p = c.Integer(j, path, "port", false, 1, 65535)) out->port = static_cast<int>(*p);
  if (auto d = c.String(j, path, "database", true)) out->database = *d;
  if (auto u = c.String(j, path, "user", true)) out->user = *u;
  out->password_ref = c.SecretField(j, path, "password_ref", false);
}

const std::vector<std::string> kTransforms = {"KEEP",     "NULL",       "MASK",  "HASH",
                                              "ANONYMIZE", "TOKENIZE", "DATE_SHIFT", "SCRUB"};
const std::vector<std::string> kGenerators = {
    "template",   "model",       "email",      "phone",     "address", "national_id",
    "credit_card", "iban",       "first_name", "last_name", "full_name", "city",
    "street",     "company",     "uuid",       "noise",     "range"};

void ParseColumnRule(Checker& c, const json& j, const std::string& path, ColumnRule* out,
                     int depth);

void ParseJsonPaths(Checker& c, const json& j, const std::string& path, ColumnRule* out,
                    int depth) {
  const json* paths = c.Object(j, path, "json_paths", false);
  if (!paths) return;
  if (depth > 0) {
    c.Problem(Child(path, "json_paths"), "JSON path rules cannot nest");
    return;
  }
  for (const auto& [p, rule] : paths->items()) {
    const std::string rp = Child(Child(path, "json_paths"), p);
    if (p.empty() || p[0] != '$') {
      c.Problem(rp, "a JSON path starts with '$' (e.g. \"$.contact.email\")");
      continue;
    }
    if (!rule.is_object()) {
      c.Problem(rp, "must be an object (a column rule), got " + TypeName(rule));
      continue;
    }
    ParseColumnRule(c, rule, rp, &out->json_paths[p], depth + 1);
  }
}

void ParseColumnRule(Checker& c, const json& j, const std::string& path, ColumnRule* out,
                     int depth) {
  auto t = c.OneOf(j, path, "transform", true, kTransforms);
  std::set<std::string> allowed = {"transform", "domain"};
  if (!t) {
    // Without a valid transform we cannot tell which keys apply; still check
    // the generic ones.
    allowed = {"transform",  "generator", "pattern", "source", "domain", "format",
               "length",     "days",      "entity_key", "version", "locale", "country",
               "unique",     "min",       "max",     "json_paths"};
    c.CheckKeys(j, path, allowed);
    return;
  }
  const std::string& tr = *t;
  if (tr == "KEEP") {
    out->transform = TransformKind::kKeep;
    allowed = {"transform", "json_paths"};
  } else if (tr == "NULL") {
    out->transform = TransformKind::kNull;
    allowed = {"transform"};
  } else if (tr == "MASK") {
    out->transform = TransformKind::kMask;
    allowed.insert("pattern");
    if (auto p = c.String(j, path, "pattern", true)) out->pattern = *p;
  } else if (tr == "HASH") {
    out->transform = TransformKind::kHash;
    allowed.insert({"format", "length"});
    if (auto f = c.OneOf(j, path, "format", false, {"hex", "base32"})) out->format = *f;
    out->length = c.Integer(j, path, "length", false, 4, 128);
  } else if (tr == "TOKENIZE") {
    out->transform = TransformKind::kTokenize;
  } else if (tr == "DATE_SHIFT") {
    out->transform = TransformKind::kDateShift;
    allowed.insert({"days", "entity_key"});
    out->days = c.Integer(j, path, "days", true, 1, 36500);
    if (auto e = c.String(j, path, "entity_key", false)) out->entity_key = *e;
  } else if (tr == "SCRUB") {
    out->transform = TransformKind::kScrub;
    allowed.insert({"locale", "country"});
  } else {
    out->transform = TransformKind::kAnonymize;
    allowed.insert({"generator", "pattern", "source", "version", "locale", "country", "unique",
                    "min", "max", "json_paths"});
    if (auto g = c.OneOf(j, path, "generator", true, kGenerators)) {
      out->generator = *g;
      if (*g == "template") {
        if (auto p = c.String(j, path, "pattern", true)) out->pattern = *p;
      } else if (j.contains("pattern")) {
        c.Problem(Child(path, "pattern"), "applies only to generator \"template\"");
      }
      if (*g == "model") {
        if (auto s = c.String(j, path, "source", true)) {
          if (s->find('/') == std::string::npos) {
            c.Problem(Child(path, "source"),
                      "must name a locale list, e.g. \"tr_TR/first_names\"; got " + Quote(*s));
          } else {
            out->source = *s;
          }
        }
      } else if (j.contains("source")) {
        c.Problem(Child(path, "source"), "applies only to generator \"model\"");
      }
      if (*g == "noise" || *g == "range") {
        out->min = c.Number(j, path, "min");
        out->max = c.Number(j, path, "max");
        if (out->min && out->max && *out->min > *out->max) {
          c.Problem(Child(path, "min"), "must not be above max");
        }
      }
    }
    out->version = c.Integer(j, path, "version", false, 1, 1000000);
    if (auto l = c.String(j, path, "locale", false)) out->locale = *l;
    if (auto co = c.String(j, path, "country", false)) out->country = *co;
    if (auto u = c.Bool(j, path, "unique")) out->unique = *u;
  }
  if (allowed.count("domain")) {
    if (auto d = c.String(j, path, "domain", false)) out->domain = *d;
  }
  if (allowed.count("json_paths")) ParseJsonPaths(c, j, path, out, depth);
  // Name the transform in the unknown-key message so the fix is obvious.
  std::set<std::string> known_elsewhere = {"generator", "pattern", "source", "domain", "format",
                                           "length", "days", "entity_key", "version", "locale",
                                           "country", "unique", "min", "max", "json_paths"};
  for (const auto& [key, value] : j.items()) {
    if (allowed.count(key)) continue;
    if (known_elsewhere.count(key)) {
      c.Problem(Child(path, key), "does not apply to transform " + tr);
    }
  }
  json rest = json::object();
  for (const auto& [key, value] : j.items()) {
    if (!known_elsewhere.count(key)) rest[key] = value;
  }
  c.CheckKeys(rest, path, allowed);
}

const std::vector<NotLanded> kTopLevelNotLanded = {
    {"schedule", "Scheduled syncs (schedule)", "issue #12"},
    {"notifications", "Notifications (notifications)", "issue #12"},
};

}  // namespace

const char* DatabaseTypeName(DatabaseType type) {
  switch (type) {
    case DatabaseType::kPostgres: return "postgresql";
    case DatabaseType::kMySql: return "mysql";
    case DatabaseType::kMariaDb: return "mariadb";
  }
  return "unknown";
}

const char* TransformKindName(TransformKind kind) {
  switch (kind) {
    case TransformKind::kKeep: return "KEEP";
    case TransformKind::kNull: return "NULL";
    case TransformKind::kMask: return "MASK";
    case TransformKind::kHash: return "HASH";
    case TransformKind::kAnonymize: return "ANONYMIZE";
    case TransformKind::kTokenize: return "TOKENIZE";
    case TransformKind::kDateShift: return "DATE_SHIFT";
    case TransformKind::kScrub: return "SCRUB";
  }
  return "unknown";
}

std::vector<ConfigProblem> ParseJobConfig(std::string_view text, JobConfig* out) {
  std::vector<ConfigProblem> problems;
  Checker c(&problems);
  json doc;
  try {
    doc = json::parse(text.begin(), text.end());
  } catch (const json::parse_error& e) {
    // Turn the byte offset into line:column for the person fixing it.
    const size_t byte = std::min<size_t>(e.byte, text.size());
    size_t line = 1, col = 1;
    for (size_t i = 0; i + 1 < byte; ++i) {
      if (text[i] == '\n') {
        ++line;
        col = 1;
      } else {
        ++col;
      }
    }
    std::string what = e.what();
    const size_t colon = what.rfind(": ");
    c.Problem("", "not valid JSON at line " + std::to_string(line) + ", column " +
                      std::to_string(col) + ": " +
                      (colon == std::string::npos ? what : what.substr(colon + 2)));
    return problems;
  }
  if (!doc.is_object()) {
    c.Problem("", "the config must be a JSON object, got " + TypeName(doc));
    return problems;
  }

  // Literal secrets get a pointed message instead of "unknown key".
  for (const char* section : {"source", "target"}) {
    auto it = doc.find(section);
    if (it != doc.end() && it->is_object() && it->contains("password")) {
      c.Problem(std::string(section) + ".password",
                "secrets are never written in the config: use password_ref with env://NAME or "
                "file:///path");
      it->erase("password");
    }
  }
  if (auto it = doc.find("anonymization");
      it != doc.end() && it->is_object() && it->contains("secret")) {
    c.Problem("anonymization.secret",
              "secrets are never written in the config: use secret_ref with env://NAME or "
              "file:///path");
    it->erase("secret");
  }

  c.CheckKeys(doc, "",
              {"name", "include", "exclude", "source", "target", "kafka", "state",
               "anonymization", "tables", "apply", "snapshot", "subset", "analyze"},
              kTopLevelNotLanded);

  if (auto name = c.String(doc, "", "name", true)) {
    const bool ok = std::all_of(name->begin(), name->end(), [](char ch) {
      return std::isalnum(static_cast<unsigned char>(ch)) || ch == '_' || ch == '-' || ch == '.';
    });
    if (!ok || name->size() > 100) {
      c.Problem("name", "must be 1-100 characters of letters, digits, '_', '-' or '.' (it names "
                        "state directories, slots and topics); got " + Quote(*name));
    } else {
      out->name = *name;
    }
  }
  for (const char* key : {"include", "exclude"}) {
    std::vector<size_t> indexes;
    auto patterns = c.StringArray(doc, "", key, &indexes);
    for (size_t i = 0; i < patterns.size(); ++i) {
      if (!ValidPattern(patterns[i])) {
        c.Problem(std::string(key) + "[" + std::to_string(indexes[i]) + "]",
                  "is not a table pattern: expected table or schema.table with * and ? "
                  "wildcards; got " + Quote(patterns[i]));
      }
    }
    (std::string(key) == "include" ? out->include : out->exclude) = std::move(patterns);
  }

  if (const json* s = c.Object(doc, "", "source", true)) ParseEndpoint(c, *s, "source", &out->source);
  if (const json* t = c.Object(doc, "", "target", true)) ParseEndpoint(c, *t, "target", &out->target);
  if (doc.contains("source") && doc.contains("target") && doc["source"].is_object() &&
      doc["target"].is_object() && out->source.host == out->target.host &&
      out->source.port == out->target.port && out->source.database == out->target.database &&
      !out->source.database.empty()) {
    c.Problem("target", "is the same database as the source (" + out->source.host + ":" +
                            std::to_string(out->source.port) + "/" + out->source.database +
                            "); staging must be a different database");
  }

  if (const json* k = c.Object(doc, "", "kafka", false)) {
    KafkaConfig kc;
    c.CheckKeys(*k, "kafka", {"brokers", "topic_prefix", "internal_topic_prefix", "partitions",
                              "replication_factor", "create_topics", "compression", "linger_ms",
                              "batch_bytes", "raw_retention_ms", "transactions", "properties",
                              "public_partitions", "decimal_handling", "include_schema",
                              "tombstones_on_delete", "transaction_metadata", "transaction_interval_ms"});
    if (auto b = c.String(*k, "kafka", "brokers", true)) kc.brokers = *b;
    if (auto p = c.String(*k, "kafka", "topic_prefix", false)) kc.topic_prefix = *p;
    if (auto p = c.String(*k, "kafka", "internal_topic_prefix", false)) kc.internal_topic_prefix = *p;
    if (auto n = c.Integer(*k, "kafka", "partitions", false, 1, 1024)) kc.partitions = static_cast<int>(*n);
    if (auto n = c.Integer(*k, "kafka", "replication_factor", false, -1, 32)) {
      kc.replication_factor = static_cast<int>(*n);
      if (kc.replication_factor == 0) c.Problem("kafka.replication_factor", "must be -1 (broker default) or at least 1");
    }
    if (auto b = c.Bool(*k, "kafka", "create_topics")) kc.create_topics = *b;
    if (auto s = c.OneOf(*k, "kafka", "compression", false, {"none", "gzip", "snappy", "lz4", "zstd"})) {
      kc.compression = *s;
    }
    if (auto n = c.Integer(*k, "kafka", "linger_ms", false, 0, 60000)) kc.linger_ms = static_cast<int>(*n);
    if (auto n = c.Integer(*k, "kafka", "batch_bytes", false, 1024, 64 << 20)) kc.batch_bytes = static_cast<int>(*n);
    if (auto n = c.Integer(*k, "kafka", "transaction_interval_ms", false, 10, 600000)) {
      kc.transaction_interval_ms = static_cast<int>(*n);
    }
    if (auto n = c.Integer(*k, "kafka", "raw_retention_ms", false, -1, INT64_MAX)) kc.raw_retention_ms = *n;
    if (auto b = c.Bool(*k, "kafka", "transactions")) kc.transactions = *b;
    if (auto n = c.Integer(*k, "kafka", "public_partitions", false, 1, 1024)) kc.public_partitions = static_cast<int>(*n);
    if (auto s = c.OneOf(*k, "kafka", "decimal_handling", false, {"precise", "string", "double"})) {
      kc.decimal_handling = *s;
    }
    if (auto b = c.Bool(*k, "kafka", "include_schema")) kc.include_schema = *b;
    if (auto b = c.Bool(*k, "kafka", "tombstones_on_delete")) kc.tombstones_on_delete = *b;
    if (auto b = c.Bool(*k, "kafka", "transaction_metadata")) kc.transaction_metadata = *b;
    if (const json* props = c.Object(*k, "kafka", "properties", false)) {
      for (const auto& [key, value] : props->items()) {
        if (!value.is_string()) {
          c.Problem("kafka.properties." + key, "must be a string (librdkafka property values are strings)");
          continue;
        }
        if (key.find("password") != std::string::npos || key.find("secret") != std::string::npos) {
          c.Problem("kafka.properties." + key, "holds a secret: not allowed in the config text");
          continue;
        }
        kc.properties[key] = value.get<std::string>();
      }
    }
    if (kc.topic_prefix == kc.internal_topic_prefix) {
      c.Problem("kafka.internal_topic_prefix",
                "must differ from topic_prefix: internal topics hold raw data and need their own ACLs");
    }
    out->kafka = kc;
  }

  if (const json* a = c.Object(doc, "", "apply", false)) {
    c.CheckKeys(*a, "apply", {"batch_transactions", "batch_rows", "batch_delay_ms", "chunk_rows", "on_dead_letter"});
    ApplyConfig& ac = out->apply;
    if (auto n = c.Integer(*a, "apply", "batch_transactions", false, 1, 10000000)) ac.batch_transactions = *n;
    if (auto n = c.Integer(*a, "apply", "batch_rows", false, 1, 100000000)) ac.batch_rows = *n;
    if (auto n = c.Integer(*a, "apply", "batch_delay_ms", false, 0, 3600000)) ac.batch_delay_ms = *n;
    if (auto n = c.Integer(*a, "apply", "chunk_rows", false, 1, 10000000)) ac.chunk_rows = *n;
    if (auto s = c.OneOf(*a, "apply", "on_dead_letter", false, {"continue", "stop"})) {
      ac.stop_on_dead_letter = *s == "stop";
    }
  }

  if (const json* sn = c.Object(doc, "", "snapshot", false)) {
    c.CheckKeys(*sn, "snapshot", {"workers", "chunk_mb", "drop_existing", "analyze", "max_attempts", "on_run"});
    SnapshotConfig& sc = out->snapshot;
    if (auto n = c.Integer(*sn, "snapshot", "workers", false, 1, 16)) sc.workers = static_cast<int>(*n);
    if (auto n = c.Integer(*sn, "snapshot", "chunk_mb", false, 1, 65536)) sc.chunk_mb = *n;
    if (auto b = c.Bool(*sn, "snapshot", "drop_existing")) sc.drop_existing = *b;
    if (auto b = c.Bool(*sn, "snapshot", "analyze")) sc.analyze = *b;
    if (auto n = c.Integer(*sn, "snapshot", "max_attempts", false, 1, 100)) sc.max_attempts = static_cast<int>(*n);
    if (auto s = c.OneOf(*sn, "snapshot", "on_run", false, {"auto", "always", "never"})) sc.on_run = *s;
  }

  if (const json* an = c.Object(doc, "", "analyze", false)) {
    c.CheckKeys(*an, "analyze", {"sample_rows", "threshold", "strict", "accept_unruled"});
    AnalyzeConfig& ac = out->analyze;
    if (auto n = c.Integer(*an, "analyze", "sample_rows", false, 10, 1000000)) ac.sample_rows = *n;
    if (auto t = c.Number(*an, "analyze", "threshold")) {
      if (*t <= 0 || *t > 1) {
        c.Problem("analyze.threshold", "must be a number above 0 and at most 1, got " + std::to_string(*t));
      } else {
        ac.threshold = *t;
      }
    }
    if (auto b = c.Bool(*an, "analyze", "strict")) ac.strict = *b;
    std::vector<size_t> at;
    ac.accept_unruled = c.StringArray(*an, "analyze", "accept_unruled", &at);
    for (size_t i = 0; i < ac.accept_unruled.size(); ++i) {
      if (ac.accept_unruled[i].find('.') == std::string::npos) {
        c.Problem("analyze.accept_unruled[" + std::to_string(at[i]) + "]",
                  "must name a column as table.column (or schema.table.column), got \"" + ac.accept_unruled[i] + "\"");
      }
    }
  }

  if (const json* sub = c.Object(doc, "", "subset", false)) {
    c.CheckKeys(*sub, "subset", {"strategy", "percentage", "preserve_integrity", "seed_tables", "rules", "other_tables"});
    SubsetConfig sc;
    c.OneOf(*sub, "subset", "strategy", false, {"percentage"});
    if (auto p = c.Number(*sub, "subset", "percentage")) {
      if (*p <= 0 || *p > 100) {
        c.Problem("subset.percentage", "must be a number above 0 and at most 100, got " + std::to_string(*p));
      } else {
        sc.percentage = *p;
      }
    }
    if (auto b = c.Bool(*sub, "subset", "preserve_integrity")) sc.preserve_integrity = *b;
    sc.seed_tables = c.StringArray(*sub, "subset", "seed_tables");
    if (auto o = c.OneOf(*sub, "subset", "other_tables", false, {"schema", "all", "none"})) {
      sc.other_tables = *o == "all" ? OtherTables::kAll : *o == "none" ? OtherTables::kNone : OtherTables::kSchema;
    }
    if (const json* rules = c.Object(*sub, "subset", "rules", false)) {
      for (const auto& [table, rule] : rules->items()) {
        const std::string path = "subset.rules." + table;
        if (!rule.is_object()) {
          c.Problem(path, "must be an object such as {\"sample\": \"1%\"}");
          continue;
        }
        c.CheckKeys(rule, path, {"sample", "filter", "parent", "percentage"});
        SubsetTableRule r;
        if (auto sample = c.String(rule, path, "sample", false)) {
          if (*sample == "follow_fk") {
            r.follow_fk = true;
          } else {
            char* end = nullptr;
            const double v = std::strtod(sample->c_str(), &end);
            if (sample->empty() || sample->back() != '%' || end != sample->c_str() + sample->size() - 1 || v <= 0 ||
                v > 100) {
              c.Problem(path + ".sample", "must be a percentage such as \"1%\" (above 0, at most 100) or "
                                          "\"follow_fk\"; got \"" + *sample + "\"");
            } else {
              r.percentage = v;
            }
          }
        }
        if (auto p = c.Number(rule, path, "percentage")) {
          if (*p <= 0 || *p > 100) {
            c.Problem(path + ".percentage", "must be a number above 0 and at most 100");
          } else if (!r.percentage) {
            r.percentage = *p;
          }
        }
        if (auto f = c.String(rule, path, "filter", false)) r.filter = *f;
        if (auto p = c.String(rule, path, "parent", false)) r.parent = *p;
        if (!r.parent.empty() && !r.follow_fk) c.Problem(path + ".parent", "goes with \"sample\": \"follow_fk\"");
        if (r.follow_fk && !r.filter.empty()) {
          c.Problem(path + ".filter", "does not go with \"sample\": \"follow_fk\" (the parents choose the rows)");
        }
        sc.rules[table] = std::move(r);
      }
    }
    bool seeded = !sc.seed_tables.empty();
    for (const auto& [table, r] : sc.rules) seeded = seeded || r.percentage || !r.filter.empty();
    if (!seeded) {
      c.Problem("subset", "names no seed: list tables in seed_tables, or give a table a \"sample\" percentage or "
                          "a \"filter\"");
    }
    out->subset = std::move(sc);
  }

  out->state_dir = "./phony-state/" + out->name;
  if (const json* st = c.Object(doc, "", "state", false)) {
    c.CheckKeys(*st, "state", {"dir"});
    if (auto d = c.String(*st, "state", "dir", false)) out->state_dir = *d;
  }

  if (const json* a = c.Object(doc, "", "anonymization", true)) {
    c.CheckKeys(*a, "anonymization", {"secret_ref", "locale", "unlisted_columns"});
    if (auto r = c.SecretField(*a, "anonymization", "secret_ref", true)) out->anonymization.secret_ref = *r;
    if (auto l = c.String(*a, "anonymization", "locale", false)) {
      const bool ok = l->size() == 5 && std::islower(static_cast<unsigned char>((*l)[0])) &&
                      std::islower(static_cast<unsigned char>((*l)[1])) && (*l)[2] == '_' &&
                      std::isupper(static_cast<unsigned char>((*l)[3])) &&
                      std::isupper(static_cast<unsigned char>((*l)[4]));
      if (!ok) {
        c.Problem("anonymization.locale", "must look like tr_TR or en_US; got " + Quote(*l));
      } else {
        out->anonymization.locale = *l;
      }
    }
    if (auto u = c.OneOf(*a, "anonymization", "unlisted_columns", false, {"null", "fail", "keep"})) {
      out->anonymization.unlisted_columns = *u == "null"   ? UnlistedColumnPolicy::kNull
                                            : *u == "fail" ? UnlistedColumnPolicy::kFail
                                                           : UnlistedColumnPolicy::kKeep;
    }
  }

  if (const json* tables = c.Object(doc, "", "tables", false)) {
    for (const auto& [tname, tval] : tables->items()) {
      const std::string tp = Child("tables", tname);
      if (!ValidPattern(tname) || tname.find_first_of("*?") != std::string::npos) {
        c.Problem(tp, "is not a table name: expected table or schema.table");
        continue;
      }
      if (!tval.is_object()) {
        c.Problem(tp, "must be an object, got " + TypeName(tval));
        continue;
      }
      TableRule& rule = out->tables[tname];
      c.CheckKeys(tval, tp, {"columns"});
      if (const json* cols = c.Object(tval, tp, "columns", true)) {
        for (const auto& [cname, cval] : cols->items()) {
          const std::string cp = Child(Child(tp, "columns"), cname);
          if (!cval.is_object()) {
            c.Problem(cp, "must be an object (a column rule), got " + TypeName(cval));
            continue;
          }
          ParseColumnRule(c, cval, cp, &rule.columns[cname], 0);
        }
      }
    }
  }
  return problems;
}

std::string JoinProblems(const std::vector<ConfigProblem>& problems) {
  std::string out;
  for (const auto& p : problems) {
    if (!out.empty()) out += "\n";
    out += p.ToString();
  }
  return out;
}

absl::StatusOr<JobConfig> LoadJobConfigText(std::string_view text) {
  JobConfig config;
  auto problems = ParseJobConfig(text, &config);
  if (!problems.empty()) {
    return absl::InvalidArgumentError(std::to_string(problems.size()) + " config problem" +
                                      (problems.size() == 1 ? "" : "s") + ":\n" +
                                      JoinProblems(problems));
  }
  return config;
}

absl::StatusOr<JobConfig> LoadJobConfigFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError("cannot open config file " + path);
  std::ostringstream ss;
  ss << in.rdbuf();
  auto config = LoadJobConfigText(ss.str());
  if (!config.ok()) {
    return absl::Status(config.status().code(), path + ": " + std::string(config.status().message()));
  }
  return config;
}

std::vector<ConfigProblem> ResolveSecrets(const JobConfig& config, ResolvedSecrets* out) {
  std::vector<ConfigProblem> problems;
  auto resolve = [&](const SecretRef& ref, const std::string& path) -> std::optional<Secret> {
    auto s = ResolveSecret(ref);
    if (!s.ok()) {
      problems.push_back(ConfigProblem{path, std::string(s.status().message())});
      return std::nullopt;
    }
    return std::move(*s);
  };
  if (config.source.password_ref) {
    out->source_password = resolve(*config.source.password_ref, "source.password_ref");
  }
  if (config.target.password_ref) {
    out->target_password = resolve(*config.target.password_ref, "target.password_ref");
  }
  if (auto s = resolve(config.anonymization.secret_ref, "anonymization.secret_ref")) {
    if (s->value().size() < 16) {
      problems.push_back(ConfigProblem{
          "anonymization.secret_ref",
          "the secret behind " + config.anonymization.secret_ref.text +
              " is shorter than 16 bytes; use at least 32 random bytes"});
    } else {
      out->anonymization_secret = std::move(*s);
    }
  }
  return problems;
}

std::string JobConfig::DefaultSchema() const {
  return source.type == DatabaseType::kPostgres ? "public" : source.database;
}

TableFilter JobConfig::Filter() const {
  // A MySQL/MariaDB server holds many databases in one binlog: without
  // `include`, the job is the source database's tables (PostgreSQL's scope
  // is the database already).
  if (source.is_postgres()) return TableFilter(include, exclude, DefaultSchema());
  // Staging on the source's own server: its binlog also holds what the
  // applier writes there (the staging database, phony's bookkeeping), which
  // must never be captured again.
  std::vector<std::string> skip = exclude;
  if (source.host == target.host && source.port == target.port && !target.is_postgres()) {
    skip.push_back(target.database + ".*");
    skip.push_back("phony.*");
  }
  return TableFilter(include.empty() ? std::vector<std::string>{DefaultSchema() + ".*"} : include, skip,
                     DefaultSchema());
}

TableFilter::TableFilter(std::vector<std::string> include, std::vector<std::string> exclude,
                         std::string default_schema)
    : include_(std::move(include)), exclude_(std::move(exclude)),
      default_schema_(std::move(default_schema)) {}

static bool Glob(std::string_view pattern, std::string_view text) {
  size_t p = 0, t = 0, star = std::string_view::npos, mark = 0;
  while (t < text.size()) {
    if (p < pattern.size() && (pattern[p] == '?' || pattern[p] == text[t])) {
      ++p, ++t;
    } else if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      mark = t;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

bool TableFilter::Matches(const TableId& table) const {
  const std::string name = table.schema + "." + table.table;
  auto match = [&](const std::string& pattern) {
    if (pattern.find('.') == std::string::npos) return Glob(default_schema_ + "." + pattern, name);
    return Glob(pattern, name);
  };
  const bool included =
      include_.empty() || std::any_of(include_.begin(), include_.end(), match);
  return included && std::none_of(exclude_.begin(), exclude_.end(), match);
}

}  // namespace phony
