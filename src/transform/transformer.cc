#include "src/transform/transformer.h"

#include <array>
#include <charconv>
#include <cstring>
#include <set>

#include "core/logging.h"
#include "spdlog/spdlog.h"
#include "src/transform/generators.h"
#include "src/transform/json_paths.h"
#include "src/transform/keyed.h"
#include "src/transform/rules.h"
#include "src/transform/scrub.h"

namespace phony::transform {
namespace {

constexpr size_t kScrubKinds = 6;

// One rule, compiled: everything a value needs, built at start.
struct CompiledRule {
  TransformKind kind = TransformKind::kKeep;
  std::string path;    // tables.users.columns.email
  std::string domain;  // the mapping domain
  std::string ledger_domain;  // domain:v<version>, as the mapping store knows it
  Key128 key;
  bool unique = false;
  bool has_overrides = false;
  std::unique_ptr<Generator> generator;  // ANONYMIZE
  std::optional<MaskPattern> mask;
  HashFormat hash_format = HashFormat::kHex;
  size_t hash_length = 32;
  int32_t days = 0;
  std::string entity_column;
  std::unique_ptr<DigitTokenizer> tokenizer;  // TOKENIZE
  std::vector<JsonPath> json_paths;
  std::vector<const CompiledRule*> json_rules;
  std::array<const CompiledRule*, kScrubKinds> scrub{};  // by PiiKind
};

// What one column of a learnt table gets.
struct ColumnPlan {
  const CompiledRule* rule = nullptr;  // null: the unlisted policy
  int entity_index = -1;               // DATE_SHIFT with entity_key
  size_t max_chars = 0;                // varchar(N)/char(N), 0 = unbounded
};

struct TablePlan {
  TableSchema schema;
  std::vector<ColumnPlan> columns;
  bool needs_entities = false;
};

// A rule with where it came from, before compiling.
struct Spec {
  std::string path;
  ColumnRule rule;
  std::string locale;
  std::string domain;
  CompiledRule* compiled = nullptr;
};

std::string Lower(std::string s) {
  for (char& c : s) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return s;
}

// The domain a rule without an explicit `domain` gets: its generator and
// the parameters that change its output, so equal rules on two tables map
// equal values alike (users.email and orders.customer_email join).
std::string DefaultDomain(const ColumnRule& r, const std::string& country) {
  switch (r.transform) {
    case TransformKind::kAnonymize: {
      std::string d = "anonymize:" + r.generator;
      if (r.generator == "model") d += ":" + r.source;
      if (r.generator == "template") d += ":" + r.pattern;
      if (r.generator == "phone" || r.generator == "national_id") d += ":" + country;
      return d;
    }
    case TransformKind::kTokenize: return "tokenize";
    case TransformKind::kHash: return "hash";
    case TransformKind::kMask: return "mask";
    case TransformKind::kDateShift: return "date_shift";
    default: return std::string("rule:") + TransformKindName(r.transform);
  }
}

// What must be equal for two columns to share a domain.
std::string Signature(const Spec& s) {
  const ColumnRule& r = s.rule;
  auto opt = [](const auto& o) { return o ? std::to_string(*o) : std::string("-"); };
  return std::string(TransformKindName(r.transform)) + "|" + r.generator + "|" + r.pattern + "|" + r.source + "|" +
         r.format + "|" + opt(r.length) + "|" + opt(r.days) + "|" + opt(r.version) + "|" + s.locale + "|" +
         r.country + "|" + opt(r.min) + "|" + opt(r.max);
}

size_t CodePoints(std::string_view s) {
  size_t n = 0;
  for (const char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
}

void TruncateCodePoints(std::string* s, size_t max) {
  size_t n = 0;
  for (size_t i = 0; i < s->size(); ++i) {
    if ((static_cast<unsigned char>((*s)[i]) & 0xC0) != 0x80 && n++ == max) {
      s->resize(i);
      return;
    }
  }
}

// varchar(N) / character varying(N) / char(N) / character(N): N.
size_t DeclaredLength(const ColumnDef& c) {
  if (c.kind != ValueKind::kText) return 0;
  const std::string t = Lower(c.type_name);
  if (!(t.starts_with("character") || t.starts_with("varchar") || t.starts_with("char") ||
        t.starts_with("nvarchar") || t.starts_with("nchar"))) {
    return 0;
  }
  const size_t open = t.find('('), close = t.find(')');
  if (open == std::string::npos || close == std::string::npos || close < open) return 0;
  size_t n = 0;
  const auto [ptr, ec] = std::from_chars(t.data() + open + 1, t.data() + close, n);
  return ec == std::errc() && ptr == t.data() + close ? n : 0;
}

// The value a NOT NULL column gets where a null would go: the type's zero.
Value Redaction(const ColumnDef& c) {
  if (c.nullable) return Value::Null();
  switch (c.kind) {
    case ValueKind::kBool: return Value::Bool(false);
    case ValueKind::kInt64: return Value::Int64(0);
    case ValueKind::kUInt64: return Value::UInt64(0);
    case ValueKind::kDouble: return Value::Double(0);
    case ValueKind::kDecimal: return Value::Decimal("0");
    case ValueKind::kBytes: return Value::Bytes("");
    case ValueKind::kDate: return Value::Date(0);
    case ValueKind::kTime: return Value::Time(0);
    case ValueKind::kTimeTz: return Value::TimeTz(0, 0);
    case ValueKind::kTimestamp: return Value::Timestamp(0);
    case ValueKind::kTimestampTz: return Value::TimestampTz(0);
    case ValueKind::kInterval: return Value::MakeInterval({});
    case ValueKind::kUuid: return Value::Uuid(std::string(16, '\0'));
    case ValueKind::kJson: return Value::Json("{}");
    case ValueKind::kText:
      return Value::Text(c.type_name.ends_with("]") ? "{}" : "");
    default: return Value::Null();
  }
}

bool TextGeneratorFits(ValueKind kind) {
  switch (kind) {
    case ValueKind::kText:
    case ValueKind::kUuid:
    case ValueKind::kInt64:
    case ValueKind::kUInt64:
    case ValueKind::kDecimal:
    case ValueKind::kJson:
    case ValueKind::kBytes: return true;
    default: return false;
  }
}

// Whether `rule` can apply to a column of `kind`; the reason when not.
std::optional<std::string> KindProblem(const CompiledRule& rule, ValueKind kind) {
  const auto is = [&](std::initializer_list<ValueKind> kinds) {
    for (const ValueKind k : kinds) {
      if (k == kind) return true;
    }
    return false;
  };
  bool ok = true;
  switch (rule.kind) {
    case TransformKind::kKeep: ok = rule.json_paths.empty() || is({ValueKind::kJson, ValueKind::kText}); break;
    case TransformKind::kNull: break;
    case TransformKind::kMask: ok = is({ValueKind::kText}); break;
    case TransformKind::kHash: ok = is({ValueKind::kText, ValueKind::kBytes, ValueKind::kUuid}); break;
    case TransformKind::kTokenize:
      ok = is({ValueKind::kInt64, ValueKind::kUInt64, ValueKind::kText, ValueKind::kDecimal, ValueKind::kUuid});
      break;
    case TransformKind::kDateShift:
      ok = is({ValueKind::kDate, ValueKind::kTimestamp, ValueKind::kTimestampTz});
      break;
    case TransformKind::kScrub: ok = is({ValueKind::kText, ValueKind::kJson}); break;
    case TransformKind::kAnonymize:
      ok = rule.generator->numeric()
               ? is({ValueKind::kInt64, ValueKind::kUInt64, ValueKind::kDouble, ValueKind::kDecimal})
               : TextGeneratorFits(kind);
      break;
  }
  if (ok) return std::nullopt;
  return std::string(TransformKindName(rule.kind)) + " cannot apply to a column of kind " + ValueKindName(kind);
}

// A keyed permutation of 128-bit values (uuids under TOKENIZE): a
// ten-round Feistel network over 64-bit halves with SipHash rounds.
std::string PermuteUuid(const Key128& key, std::string_view bytes16) {
  uint64_t l, r;
  std::memcpy(&l, bytes16.data(), 8);
  std::memcpy(&r, bytes16.data() + 8, 8);
  for (uint8_t round = 0; round < 10; ++round) {
    char in[9];
    std::memcpy(in, &r, 8);
    in[8] = static_cast<char>(round);
    const uint64_t f = SipHash64(key, std::string_view(in, 9));
    const uint64_t next = l ^ f;
    l = r;
    r = next;
  }
  std::string out(16, '\0');
  std::memcpy(out.data(), &l, 8);
  std::memcpy(out.data() + 8, &r, 8);
  return out;
}

}  // namespace

struct Transformer::Impl {
  JobConfig config;
  UnlistedColumnPolicy policy = UnlistedColumnPolicy::kNull;
  std::string default_schema;
  MappingLedger* ledger = nullptr;
  bool quiet = false;
  std::vector<std::unique_ptr<CompiledRule>> pool;
  // "schema.table" → column → rule.
  std::map<std::string, std::map<std::string, const CompiledRule*>> rules;
  // Every learnt version of every table: a restarted stage learns them all
  // from the schema topic, then meets changes of any of them.
  std::map<std::pair<TableId, uint32_t>, TablePlan> plans;
  std::set<std::string> unreviewed;
  std::set<std::string> inherited;  // "schema.table.column" ← FK
  Stats stats;
  uint64_t redaction_warnings = 0;

  // The plan of the table's newest learnt version.
  std::map<std::pair<TableId, uint32_t>, TablePlan>::iterator Latest(const TableId& t) {
    auto it = plans.upper_bound({t, UINT32_MAX});
    if (it == plans.begin() || std::prev(it)->first.first != t) return plans.end();
    return std::prev(it);
  }
  std::string TableKey(std::string_view name) const {
    return name.find('.') == std::string_view::npos ? default_schema + "." + std::string(name) : std::string(name);
  }
  const CompiledRule* RuleFor(const TableId& t, std::string_view column) const {
    const auto it = rules.find(t.QualifiedName());
    if (it == rules.end()) return nullptr;
    const auto c = it->second.find(std::string(column));
    return c == it->second.end() ? nullptr : c->second;
  }

  absl::Status Learn(const TableSchema& schema);
  absl::Status ApplyRow(const TablePlan& plan, Row* row);
  absl::Status ApplyValue(const CompiledRule& rule, const ColumnDef& column, const ColumnPlan& cp,
                          std::string_view entity, Value* v);
  absl::Status ApplyGenerator(const CompiledRule& rule, const ColumnDef& column, size_t max_chars, Value* v,
                              bool* redact);
  absl::StatusOr<std::string> Fake(const CompiledRule& rule, std::string_view canonical);
  void Redacted(const CompiledRule& rule, const ColumnDef& column, Value* v, const absl::Status& why);
};

Transformer::Transformer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Transformer::~Transformer() = default;
const Transformer::Stats& Transformer::stats() const { return impl_->stats; }

absl::StatusOr<std::unique_ptr<Transformer>> Transformer::Create(const JobConfig& config, std::string_view secret,
                                                                 const Options& options) {
  auto impl = std::make_unique<Impl>();
  impl->config = config;
  impl->policy = config.anonymization.unlisted_columns;
  impl->default_schema = config.DefaultSchema();
  impl->ledger = options.ledger;
  impl->quiet = options.quiet;
  std::vector<std::string> problems;
  if (secret.size() < 16) {
    problems.push_back("anonymization.secret_ref: the secret must be at least 16 bytes (32 random bytes "
                       "recommended), got " + std::to_string(secret.size()));
  }
  auto job_locale = LookupLocale(config.anonymization.locale);
  if (!job_locale.ok()) problems.push_back("anonymization.locale: " + std::string(job_locale.status().message()));

  // 1. Every rule, with its path, locale and domain (SCRUB's detectors and
  //    JSON path rules included, since they share domains with columns).
  std::vector<std::unique_ptr<Spec>> specs;
  auto add_spec = [&](std::string path, const ColumnRule& rule) -> Spec* {
    auto s = std::make_unique<Spec>();
    s->path = std::move(path);
    s->rule = rule;
    s->locale = rule.locale.empty() ? config.anonymization.locale : rule.locale;
    const std::string country = rule.country.empty() ? (s->locale.size() == 5 ? s->locale.substr(3) : "")
                                                     : rule.country;
    s->domain = rule.domain.empty() ? DefaultDomain(rule, country) : rule.domain;
    specs.push_back(std::move(s));
    return specs.back().get();
  };
  struct ColumnSpec {
    std::string table, column;
    Spec* spec;
    std::vector<Spec*> json;
    std::array<Spec*, kScrubKinds> scrub{};
  };
  std::vector<ColumnSpec> columns;
  for (const auto& [table, trule] : config.tables) {
    for (const auto& [column, rule] : trule.columns) {
      const std::string path = "tables." + table + ".columns." + column;
      ColumnSpec cs{impl->TableKey(table), column, add_spec(path, rule), {}, {}};
      for (const auto& [jpath, jrule] : rule.json_paths) {
        cs.json.push_back(add_spec(path + ".json_paths." + jpath, jrule));
      }
      if (rule.transform == TransformKind::kScrub) {
        const std::string locale = rule.locale.empty() ? config.anonymization.locale : rule.locale;
        const std::string country = rule.country.empty() ? (locale.size() == 5 ? locale.substr(3) : "") : rule.country;
        auto sub = [&](PiiKind kind, const std::string& generator, const std::string& sub_country) {
          ColumnRule r;
          r.transform = TransformKind::kAnonymize;
          r.generator = generator;
          r.locale = locale;
          r.country = sub_country;
          if (!rule.domain.empty()) r.domain = rule.domain + ":" + PiiKindName(kind);
          cs.scrub[static_cast<size_t>(kind)] = add_spec(path + " (" + PiiKindName(kind) + ")", r);
        };
        sub(PiiKind::kEmail, "email", "");
        sub(PiiKind::kPhone, "phone", country == "TR" || country == "US" || country == "GB" || country == "DE" ||
                                              country == "FR" || country == "ES" ? country : "US");
        sub(PiiKind::kCard, "credit_card", "");
        sub(PiiKind::kIban, "iban", "");
        sub(PiiKind::kTcKimlik, "national_id", "TR");
        sub(PiiKind::kSsn, "national_id", "US");
      }
      columns.push_back(std::move(cs));
    }
  }

  // 2. Domains: one rule per explicit domain; unique if any member is.
  std::map<std::string, std::vector<Spec*>> domains;
  for (const auto& s : specs) domains[s->domain].push_back(s.get());
  std::map<std::string, bool> unique;
  for (const auto& [name, members] : domains) {
    bool u = false;
    for (const Spec* s : members) u = u || s->rule.unique;
    unique[name] = u;
    for (const Spec* s : members) {
      if (!s->rule.domain.empty() && Signature(*s) != Signature(*members.front())) {
        problems.push_back(s->path + ": shares domain \"" + name + "\" with " + members.front()->path +
                           " but its rule differs; the columns of one domain need the same rule");
        break;
      }
    }
  }

  // 3. Compile.
  std::map<std::string, Key128> keys;
  for (const auto& s : specs) {
    auto c = std::make_unique<CompiledRule>();
    c->kind = s->rule.transform;
    c->path = s->path;
    c->domain = s->domain;
    c->unique = unique[s->domain];
    const int64_t version = s->rule.version.value_or(1);
    if (version < 1 || version > kLatestGeneratorVersion) {
      problems.push_back(s->path + ".version: generator version " + std::to_string(version) +
                         " does not exist (versions: 1.." + std::to_string(kLatestGeneratorVersion) + ")");
      continue;
    }
    const std::string purpose = "domain:" + s->domain + ":v" + std::to_string(version);
    if (!keys.count(purpose) && secret.size() >= 16) {
      auto key = DeriveKey(secret, purpose);
      if (!key.ok()) return key.status();
      keys[purpose] = *key;
    }
    c->key = keys[purpose];
    c->ledger_domain = s->domain + ":v" + std::to_string(version);
    c->has_overrides = impl->ledger != nullptr && impl->ledger->HasOverrides(c->ledger_domain);
    const ColumnRule& r = s->rule;
    switch (r.transform) {
      case TransformKind::kMask: {
        auto m = MaskPattern::Parse(r.pattern);
        if (!m.ok()) problems.push_back(s->path + ".pattern: " + std::string(m.status().message()));
        else c->mask = *std::move(m);
        break;
      }
      case TransformKind::kHash: {
        c->hash_format = r.format == "base32" ? HashFormat::kBase32 : HashFormat::kHex;
        c->hash_length = static_cast<size_t>(r.length.value_or(32));
        if (c->hash_length < 1 || c->hash_length > MaxHashLength(c->hash_format)) {
          problems.push_back(s->path + ".length: must be between 1 and " +
                             std::to_string(MaxHashLength(c->hash_format)) + " for format " +
                             (r.format.empty() ? "hex" : r.format));
        }
        break;
      }
      case TransformKind::kTokenize: c->tokenizer = std::make_unique<DigitTokenizer>(c->key); break;
      case TransformKind::kDateShift:
        c->days = static_cast<int32_t>(r.days.value_or(0));
        if (c->days < 1 || c->days > 36500) problems.push_back(s->path + ".days: must be between 1 and 36500");
        c->entity_column = r.entity_key;
        break;
      case TransformKind::kAnonymize: {
        if (!r.json_paths.empty()) {
          problems.push_back(s->path + ".json_paths: JSON path rules go with transform KEEP (the document is "
                                       "kept and the paths are anonymized)");
        }
        ColumnRule effective = r;
        effective.unique = c->unique;
        auto g = MakeGenerator(effective, s->locale, c->key);
        if (!g.ok()) problems.push_back(s->path + ": " + std::string(g.status().message()));
        else c->generator = *std::move(g);
        break;
      }
      default: break;
    }
    s->compiled = c.get();
    impl->pool.push_back(std::move(c));
  }
  for (ColumnSpec& cs : columns) {
    if (cs.spec->compiled == nullptr) continue;
    CompiledRule* c = cs.spec->compiled;
    for (size_t i = 0; i < cs.json.size(); ++i) {
      const std::string jpath = std::next(cs.spec->rule.json_paths.begin(), static_cast<long>(i))->first;
      auto parsed = JsonPath::Parse(jpath);
      if (!parsed.ok()) {
        problems.push_back(cs.json[i]->path + ": " + std::string(parsed.status().message()));
        continue;
      }
      if (cs.json[i]->compiled == nullptr) continue;
      c->json_paths.push_back(*std::move(parsed));
      c->json_rules.push_back(cs.json[i]->compiled);
    }
    for (size_t k = 0; k < kScrubKinds; ++k) {
      if (cs.scrub[k] != nullptr) c->scrub[k] = cs.scrub[k]->compiled;
    }
    impl->rules[cs.table][cs.column] = c;
  }
  if (!problems.empty()) {
    std::string text;
    for (const std::string& p : problems) text += (text.empty() ? "" : "\n") + p;
    return absl::InvalidArgumentError(text);
  }
  return std::unique_ptr<Transformer>(new Transformer(std::move(impl)));
}

absl::Status Transformer::Impl::Learn(const TableSchema& schema) {
  TablePlan plan;
  plan.schema = schema;
  plan.columns.resize(schema.columns.size());
  const std::string table = schema.id.QualifiedName();
  std::set<std::string> listed;
  if (const auto it = rules.find(table); it != rules.end()) {
    for (const auto& [column, rule] : it->second) listed.insert(column);
  }
  for (size_t i = 0; i < schema.columns.size(); ++i) {
    const ColumnDef& col = schema.columns[i];
    ColumnPlan& cp = plan.columns[i];
    const std::string name = table + "." + col.name;
    listed.erase(col.name);
    cp.rule = RuleFor(schema.id, col.name);
    if (cp.rule == nullptr) {
      // A column referencing a transformed key gets that key's rule.
      for (const ForeignKey& fk : schema.foreign_keys) {
        for (size_t k = 0; k < fk.columns.size() && k < fk.referenced_columns.size(); ++k) {
          if (fk.columns[k] != col.name) continue;
          if (const CompiledRule* ref = RuleFor(fk.referenced, fk.referenced_columns[k])) {
            cp.rule = ref;
            if (inherited.insert(name).second && !quiet) {
              spdlog::info("transform: {} has no rule and references {}.{}: it gets that column's rule ({})",
                             name, fk.referenced.QualifiedName(), fk.referenced_columns[k], TransformKindName(ref->kind));
            }
          }
        }
      }
    }
    if (cp.rule == nullptr) {
      if (policy == UnlistedColumnPolicy::kFail) {
        return absl::FailedPreconditionError(
            "tables." + table + ".columns." + col.name +
            ": no rule, and anonymization.unlisted_columns is \"fail\" (add a rule for it to the config)");
      }
      if (policy == UnlistedColumnPolicy::kNull && unreviewed.insert(name).second && !quiet) {
        spdlog::warn("transform: {} has no rule: it is redacted (anonymization.unlisted_columns=null) until a "
                       "rule is added to the config",
                       name);
      } else if (policy == UnlistedColumnPolicy::kKeep && unreviewed.insert(name).second && !quiet) {
        spdlog::warn("transform: {} has no rule and is kept as it is (anonymization.unlisted_columns=keep)",
                       name);
      }
      continue;
    }
    if (auto problem = KindProblem(*cp.rule, col.kind)) {
      return absl::InvalidArgumentError(cp.rule->path + ": " + *problem + " (column " + name + ", type " +
                                        col.type_name + ")");
    }
    cp.max_chars = DeclaredLength(col);
    if (cp.rule->kind == TransformKind::kDateShift && !cp.rule->entity_column.empty()) {
      cp.entity_index = schema.ColumnIndex(cp.rule->entity_column);
      if (cp.entity_index < 0) {
        return absl::InvalidArgumentError(cp.rule->path + ".entity_key: table " + table + " has no column \"" +
                                          cp.rule->entity_column + "\"");
      }
      plan.needs_entities = true;
    }
  }
  for (const std::string& missing : listed) {
    spdlog::warn("transform: tables.{}.columns.{} has a rule but the table has no such column", table, missing);
  }
  plans[{schema.id, schema.version}] = std::move(plan);
  return absl::OkStatus();
}

void Transformer::Impl::Redacted(const CompiledRule& rule, const ColumnDef& column, Value* v,
                                 const absl::Status& why) {
  *v = Redaction(column);
  ++stats.values_redacted;
  // Rate-limited: the first few, then every 10 000th. Never the value.
  if (++redaction_warnings <= 10 || redaction_warnings % 10000 == 0) {
    spdlog::warn("transform: {}: a value the rule cannot handle was redacted ({}); {} so far", rule.path,
                 std::string(why.message()), stats.values_redacted);
  }
}

absl::StatusOr<std::string> Transformer::Impl::Fake(const CompiledRule& rule, std::string_view canonical) {
  std::string scratch;
  const std::string_view normalized = rule.generator->Normalize(canonical, &scratch);
  if (rule.has_overrides) {
    auto o = ledger->Override(rule.ledger_domain, normalized);
    if (!o.ok()) return o.status();
    if (o->has_value()) return **o;
  }
  const auto h = SipHash128(rule.key, normalized);
  GenInput in;
  in.original = normalized;
  std::memcpy(&in.h0, h.data(), 8);
  std::memcpy(&in.h1, h.data() + 8, 8);
  std::string fake;
  if (absl::Status s = rule.generator->Generate(in, &fake); !s.ok()) return s;
  if (rule.unique && ledger != nullptr) {
    if (absl::Status s = ledger->Record(rule.ledger_domain, normalized, fake); !s.ok()) return s;
  }
  return fake;
}

absl::Status Transformer::Impl::ApplyGenerator(const CompiledRule& rule, const ColumnDef& column, size_t max_chars,
                                               Value* v, bool* redact) {
  if (rule.generator->numeric()) {
    auto out = rule.generator->GenerateNumber(*v, SipHash64(rule.key, *CanonicalText(*v)));
    if (!out.ok()) {
      *redact = true;
      return out.status();
    }
    *v = *std::move(out);
    return absl::OkStatus();
  }
  std::string scratch;
  std::string_view canonical;
  CanonicalView(*v, &scratch, &canonical);
  auto fake = Fake(rule, canonical);
  if (!fake.ok()) {
    // A ledger collision stops the stream; a value the generator cannot
    // shape is redacted.
    *redact = !absl::IsFailedPrecondition(fake.status()) && !absl::IsUnavailable(fake.status());
    return fake.status();
  }
  std::string& f = *fake;
  switch (column.kind) {
    case ValueKind::kText:
      if (max_chars != 0 && CodePoints(f) > max_chars) TruncateCodePoints(&f, max_chars);
      *v = Value::Text(std::move(f));
      return absl::OkStatus();
    case ValueKind::kBytes: *v = Value::Bytes(std::move(f)); return absl::OkStatus();
    case ValueKind::kJson: {
      std::string quoted = "\"";
      AppendJsonEscaped(f, &quoted);
      *v = Value::Json(quoted + "\"");
      return absl::OkStatus();
    }
    case ValueKind::kUuid: {
      std::string bytes;
      if (!ParseUuid(f, &bytes)) {
        // A non-uuid fake keyed into a uuid: the 128-bit PRF of the fake.
        const auto h = SipHash128(rule.key, f);
        bytes.assign(reinterpret_cast<const char*>(h.data()), 16);
      }
      *v = Value::Uuid(bytes);
      return absl::OkStatus();
    }
    case ValueKind::kInt64: {
      int64_t n = 0;
      const auto [p, ec] = std::from_chars(f.data(), f.data() + f.size(), n);
      if (ec != std::errc() || p != f.data() + f.size()) break;
      *v = Value::Int64(n);
      return absl::OkStatus();
    }
    case ValueKind::kUInt64: {
      uint64_t n = 0;
      const auto [p, ec] = std::from_chars(f.data(), f.data() + f.size(), n);
      if (ec != std::errc() || p != f.data() + f.size()) break;
      *v = Value::UInt64(n);
      return absl::OkStatus();
    }
    case ValueKind::kDecimal: {
      std::string normalized;
      if (!NormalizeDecimal(f, &normalized)) break;
      *v = Value::Decimal(std::move(normalized));
      return absl::OkStatus();
    }
    default: break;
  }
  *redact = true;
  return absl::InvalidArgumentError("the fake does not fit the column's type");
}

absl::Status Transformer::Impl::ApplyValue(const CompiledRule& rule, const ColumnDef& column, const ColumnPlan& cp,
                                           std::string_view entity, Value* v) {
  if (v->is_null() || v->is_unchanged()) return absl::OkStatus();
  ++stats.values_transformed;
  bool redact = false;
  absl::Status status;
  switch (rule.kind) {
    case TransformKind::kKeep:
      if (!rule.json_paths.empty()) {
        auto out = RewriteJson(v->str(), rule.json_paths, [&](size_t i, Value* inner) -> absl::Status {
          const CompiledRule& sub = *rule.json_rules[i];
          ColumnDef def;
          def.kind = inner->kind() == ValueKind::kJson ? ValueKind::kJson : inner->kind();
          if (sub.kind == TransformKind::kNull) {
            *inner = Value::Null();
            return absl::OkStatus();
          }
          if (inner->kind() == ValueKind::kJson || KindProblem(sub, inner->kind())) {
            *inner = Value::Null();  // a subtree or a type the rule cannot take: fail closed
            ++stats.values_redacted;
            return absl::OkStatus();
          }
          return ApplyValue(sub, def, ColumnPlan{}, {}, inner);
        });
        if (!out.ok()) {
          redact = true;
          status = out.status();
        } else {
          *v = column.kind == ValueKind::kJson ? Value::Json(*std::move(out)) : Value::Text(*std::move(out));
        }
      }
      break;
    case TransformKind::kNull: *v = Redaction(column); break;
    case TransformKind::kMask: *v = Value::Text(rule.mask->Apply(v->str(), rule.key)); break;
    case TransformKind::kHash:
      if (v->kind() == ValueKind::kUuid) {
        const auto h = SipHash128(rule.key, v->str());
        *v = Value::Uuid(std::string_view(reinterpret_cast<const char*>(h.data()), 16));
      } else {
        auto h = KeyedHash(rule.key, v->str(), rule.hash_format, rule.hash_length);
        if (!h.ok()) {
          redact = true;
          status = h.status();
        } else {
          *v = v->kind() == ValueKind::kBytes ? Value::Bytes(*std::move(h)) : Value::Text(*std::move(h));
        }
      }
      break;
    case TransformKind::kTokenize:
      switch (v->kind()) {
        case ValueKind::kInt64: *v = Value::Int64(rule.tokenizer->TokenizeInt64(v->int64_value())); break;
        case ValueKind::kUInt64: {
          const uint64_t u = v->uint64_value();
          if (u <= static_cast<uint64_t>(INT64_MAX)) {
            *v = Value::UInt64(static_cast<uint64_t>(rule.tokenizer->TokenizeInt64(static_cast<int64_t>(u))));
          } else {
            // Above int64 (19 or 20 digits): cycle-walk the permutation of
            // that many digits until it is back in the class, which keeps
            // it a bijection of the class.
            std::string d = std::to_string(u);
            const bool twenty = d.size() == 20;
            do {
              d = *rule.tokenizer->Encrypt(d);
            } while (d[0] == '0' || (twenty ? d > "18446744073709551615" : d <= "9223372036854775807"));
            *v = Value::UInt64(std::stoull(d));
          }
          break;
        }
        case ValueKind::kUuid: *v = Value::Uuid(PermuteUuid(rule.key, v->str())); break;
        default: {
          std::string out;
          status = TokenizeDigitsInPlace(*rule.tokenizer, v->str(), 0, 1, &out);
          if (!status.ok()) {
            redact = true;
          } else if (v->kind() == ValueKind::kDecimal) {
            std::string normalized;
            NormalizeDecimal(out, &normalized);
            *v = Value::Decimal(std::move(normalized));
          } else {
            *v = Value::Text(std::move(out));
          }
        }
      }
      break;
    case TransformKind::kDateShift: {
      const std::optional<std::string> own = entity.empty() ? CanonicalText(*v) : std::nullopt;
      auto days = ShiftDays(rule.key, entity.empty() ? *own : entity, rule.days);
      auto shifted = days.ok() ? ShiftDate(*v, *days) : absl::StatusOr<Value>(days.status());
      if (!shifted.ok()) {
        redact = true;
        status = shifted.status();
      } else {
        *v = *std::move(shifted);
      }
      break;
    }
    case TransformKind::kScrub: {
      const std::string& text = v->str();
      const std::vector<PiiSpan> spans = FindPii(text);
      if (spans.empty()) break;
      std::string out;
      size_t at = 0;
      for (const PiiSpan& span : spans) {
        out.append(text, at, span.begin - at);
        const CompiledRule* sub = rule.scrub[static_cast<size_t>(span.kind)];
        auto fake = sub != nullptr ? Fake(*sub, std::string_view(text).substr(span.begin, span.end - span.begin))
                                   : absl::StatusOr<std::string>(absl::InternalError("no SCRUB rule"));
        if (!fake.ok() && (absl::IsFailedPrecondition(fake.status()) || absl::IsUnavailable(fake.status()))) {
          return fake.status();
        }
        out.append(fake.ok() ? *fake : std::string("[") + PiiKindName(span.kind) + " removed]");
        at = span.end;
      }
      out.append(text, at, std::string::npos);
      *v = column.kind == ValueKind::kJson ? Value::Json(std::move(out)) : Value::Text(std::move(out));
      break;
    }
    case TransformKind::kAnonymize: status = ApplyGenerator(rule, column, cp.max_chars, v, &redact); break;
  }
  if (!status.ok()) {
    if (!redact) return status;
    Redacted(rule, column, v, status);
  }
  return absl::OkStatus();
}

absl::Status Transformer::Impl::ApplyRow(const TablePlan& plan, Row* row) {
  if (row->size() != plan.columns.size()) {
    return absl::InvalidArgumentError("a row of " + plan.schema.id.QualifiedName() + " has " +
                                      std::to_string(row->size()) + " values for " +
                                      std::to_string(plan.columns.size()) + " columns");
  }
  ++stats.rows;
  // DATE_SHIFT entities are read before any column of the row changes.
  std::vector<std::string> entities;
  if (plan.needs_entities) {
    entities.resize(row->size());
    for (size_t i = 0; i < row->size(); ++i) {
      if (plan.columns[i].entity_index >= 0) {
        entities[i] = CanonicalText((*row)[static_cast<size_t>(plan.columns[i].entity_index)]).value_or("");
      }
    }
  }
  for (size_t i = 0; i < row->size(); ++i) {
    const ColumnPlan& cp = plan.columns[i];
    Value& v = (*row)[i];
    if (cp.rule == nullptr) {
      if (policy != UnlistedColumnPolicy::kKeep && !v.is_null() && !v.is_unchanged()) {
        v = Redaction(plan.schema.columns[i]);
      }
      continue;
    }
    if (absl::Status s = ApplyValue(*cp.rule, plan.schema.columns[i], cp,
                                    plan.needs_entities ? std::string_view(entities[i]) : std::string_view(), &v);
        !s.ok()) {
      return s;
    }
  }
  return absl::OkStatus();
}

absl::Status Transformer::Transform(Event* event) {
  if (auto* schema = std::get_if<SchemaEvent>(event)) return impl_->Learn(schema->schema);
  auto* change = std::get_if<ChangeEvent>(event);
  if (change == nullptr || change->op == ChangeOp::kTruncate) return absl::OkStatus();
  const auto it = impl_->plans.find({change->table, change->schema_version});
  if (it == impl_->plans.end()) {
    return absl::FailedPreconditionError("transform: a change of " + change->table.QualifiedName() +
                                         " names schema version " + std::to_string(change->schema_version) +
                                         ", which no schema event described (" + DescribeEvent(*event) + ")");
  }
  if (change->before) {
    if (absl::Status s = impl_->ApplyRow(it->second, &*change->before); !s.ok()) return s;
  }
  if (change->after) {
    if (absl::Status s = impl_->ApplyRow(it->second, &*change->after); !s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::Status Transformer::LearnSchema(const TableSchema& schema) { return impl_->Learn(schema); }

absl::Status Transformer::TransformRow(const TableId& table, Row* row) {
  const auto it = impl_->Latest(table);
  if (it == impl_->plans.end()) {
    return absl::FailedPreconditionError("transform: no schema learnt for " + table.QualifiedName());
  }
  return impl_->ApplyRow(it->second, row);
}

std::vector<bool> Transformer::PassThroughColumns(const TableId& table) const {
  const auto it = impl_->Latest(table);
  if (it == impl_->plans.end()) return {};
  const TablePlan& plan = it->second;
  std::vector<bool> out(plan.columns.size(), false);
  for (size_t i = 0; i < plan.columns.size(); ++i) {
    const CompiledRule* rule = plan.columns[i].rule;
    out[i] = rule == nullptr ? impl_->policy == UnlistedColumnPolicy::kKeep
                             : rule->kind == TransformKind::kKeep && rule->json_paths.empty();
  }
  for (const ColumnPlan& cp : plan.columns) {
    if (cp.entity_index >= 0) out[static_cast<size_t>(cp.entity_index)] = false;
  }
  return out;
}

std::vector<std::string> Transformer::UnreviewedColumns() const {
  return {impl_->unreviewed.begin(), impl_->unreviewed.end()};
}

std::string Transformer::DescribeColumn(const TableId& table, std::string_view column) const {
  const auto it = impl_->Latest(table);
  if (it == impl_->plans.end()) return "unknown table";
  const int i = it->second.schema.ColumnIndex(column);
  if (i < 0) return "unknown column";
  const ColumnPlan& cp = it->second.columns[static_cast<size_t>(i)];
  if (cp.rule == nullptr) {
    switch (impl_->policy) {
      case UnlistedColumnPolicy::kNull: return "no rule: redacted (unlisted_columns=null)";
      case UnlistedColumnPolicy::kKeep: return "no rule: kept (unlisted_columns=keep)";
      case UnlistedColumnPolicy::kFail: return "no rule";
    }
  }
  std::string d = TransformKindName(cp.rule->kind);
  if (cp.rule->kind == TransformKind::kScrub) {
    d += " (emails, phones, cards, IBANs and national ids in the text)";
  } else if (cp.rule->kind != TransformKind::kKeep && cp.rule->kind != TransformKind::kNull) {
    d += " (domain " + cp.rule->domain + (cp.rule->unique ? ", unique" : "") + ")";
  }
  if (impl_->inherited.count(table.QualifiedName() + "." + std::string(column))) d += ", from its foreign key";
  return d;
}

}  // namespace phony::transform
