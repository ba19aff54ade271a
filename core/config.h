// The job config (DESIGN.md "Config"; documented in config/README.md): the
// typed model and its loader. Loading validates everything and collects every
// problem, each with its JSON path (`tables.users.columns.email.transform`)
// and reason: unknown keys (with a suggestion), wrong types, missing required
// parts, invalid values, and recognized keys whose feature has not landed yet.
// Secrets stay references here; ResolveSecrets() reads them at start.
// Plain value types; the loader is a pure function of the text.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "core/schema.h"
#include "core/secrets.h"

namespace phony {

struct ConfigProblem {
  std::string path;    // "source.port", or "" for the document itself
  std::string reason;  // "must be an integer between 1 and 65535, got \"x\""
  std::string ToString() const { return (path.empty() ? "(config)" : path) + ": " + reason; }
};

enum class DatabaseType { kPostgres, kMySql, kMariaDb };
const char* DatabaseTypeName(DatabaseType type);

struct EndpointConfig {
  DatabaseType type = DatabaseType::kPostgres;
  std::string host = "127.0.0.1";
  int port = 5432;
  std::string database;
  std::string user;
  std::optional<SecretRef> password_ref;

  bool is_postgres() const { return type == DatabaseType::kPostgres; }
};

// The `kafka` section (docs/kafka.md). Internal topics hold raw data: they
// need ACLs of their own, hence a prefix of their own.
struct KafkaConfig {
  std::string brokers;
  std::string topic_prefix = "phony";
  std::string internal_topic_prefix = "phony_internal";
  // Partitions of the internal streams: 1 keeps the source's commit order;
  // N > 1 partitions by table + primary key (per-key order only).
  int partitions = 1;
  // Of the topics phony creates; -1 takes the broker's default.
  int replication_factor = -1;
  // Create missing topics (false: a missing topic is an error naming it).
  bool create_topics = true;
  std::string compression = "lz4";  // none, gzip, snappy, lz4, zstd
  int linger_ms = 20;
  int batch_bytes = 1 << 20;
  // The transform stage commits a Kafka transaction at least this often:
  // the most it adds to the lag before read_committed readers (the
  // applier) see an event; shorter costs throughput (a commit is a few
  // broker round trips).
  int transaction_interval_ms = 1000;
  // retention.ms of the raw internal topic (-1: the broker's default).
  int64_t raw_retention_ms = -1;
  // Exactly-once raw stream: a transactional producer writes the events and
  // the capture position in one Kafka transaction.
  bool transactions = false;
  // Public topics (<topic_prefix>.<schema>.<table>): partitions, and
  // Debezium's converter settings.
  int public_partitions = 1;
  std::string decimal_handling = "precise";  // precise, string, double
  bool include_schema = true;                // JsonConverter schemas.enable
  bool tombstones_on_delete = true;
  bool transaction_metadata = true;          // <topic_prefix>.transaction BEGIN/END records
  // librdkafka properties passed through as given (security.protocol, …).
  std::map<std::string, std::string> properties;
};

enum class UnlistedColumnPolicy { kNull, kFail, kKeep };

struct AnonymizationConfig {
  SecretRef secret_ref;
  std::string locale = "en_US";
  UnlistedColumnPolicy unlisted_columns = UnlistedColumnPolicy::kNull;
};

enum class TransformKind { kKeep, kNull, kMask, kHash, kAnonymize, kTokenize, kDateShift, kScrub };
const char* TransformKindName(TransformKind kind);

// One column rule. Which fields are meaningful depends on `transform`
// (config/README.md); the loader rejects fields that do not apply.
struct ColumnRule {
  TransformKind transform = TransformKind::kKeep;
  std::string generator;   // ANONYMIZE
  std::string pattern;     // MASK; ANONYMIZE template
  std::string source;      // ANONYMIZE model: "tr_TR/first_names"
  std::string domain;      // mapping domain shared by joinable columns
  std::string format;      // HASH: hex | base32
  std::optional<int64_t> length;  // HASH output length
  std::optional<int64_t> days;    // DATE_SHIFT range ±days
  std::string entity_key;         // DATE_SHIFT: column giving the entity
  std::optional<int64_t> version; // generator version pin
  std::string locale;             // overrides anonymization.locale
  std::string country;            // phone, national_id, iban
  bool unique = false;
  std::optional<double> min;      // numeric noise / range
  std::optional<double> max;
  std::map<std::string, ColumnRule> json_paths;  // JSON documents: "$.a.b" -> rule
};

struct TableRule {
  std::map<std::string, ColumnRule> columns;
};

// include/exclude patterns over "schema.table"; `*` and `?` are wildcards;
// an unqualified pattern applies to the default schema.
class TableFilter {
 public:
  TableFilter() = default;
  TableFilter(std::vector<std::string> include, std::vector<std::string> exclude,
              std::string default_schema);
  bool Matches(const TableId& table) const;

 private:
  std::vector<std::string> include_;
  std::vector<std::string> exclude_;
  std::string default_schema_;
};

// How the applier writes staging (`apply` in the config; issue #6).
struct ApplyConfig {
  // A staging transaction ends at the first source-transaction boundary
  // after any of these.
  int64_t batch_transactions = 1000;
  int64_t batch_rows = 100000;
  int64_t batch_delay_ms = 500;
  int64_t chunk_rows = 20000;  // rows per bulk write
  bool stop_on_dead_letter = false;  // on_dead_letter: "continue" | "stop"
};

// How `phony snapshot` copies (`snapshot` in the config; issue #7).
struct SnapshotConfig {
  int workers = 0;               // parallel workers, 1-16; 0: one per core
  int64_t chunk_mb = 32;         // a table is split into chunks of about this many MB of heap
  bool drop_existing = true;     // replace staging tables that exist (false: refuse)
  bool analyze = true;           // ANALYZE each table after the load (timed separately)
  int max_attempts = 3;          // a failing table is retried with backoff this many times
  // When `phony run` takes a snapshot first: "auto" when staging holds no
  // finished snapshot of the job, "always" at every start, "never" (stream
  // only; staging was filled some other way).
  std::string on_run = "auto";
};

// `phony analyze` and strict mode (`analyze` in the config; issue #10,
// docs/analyze.md).
struct AnalyzeConfig {
  int64_t sample_rows = 1000;  // rows sampled per table
  double threshold = 0.5;      // a column at or above this confidence is flagged
  // phony run and phony snapshot refuse to start while a flagged column
  // (in the saved report, or by name when the report has not seen it) has
  // no rule, unless it is listed in accept_unruled ("table.column").
  bool strict = true;
  std::vector<std::string> accept_unruled;
};

// A referentially consistent subset (`subset` in the config; issue #7,
// docs/snapshot.md "Subsets").
struct SubsetTableRule {
  std::optional<double> percentage;  // "sample": "1%": a keyed, deterministic sample of the key
  bool follow_fk = false;            // "sample": "follow_fk": the rows referencing included parent rows
  std::string parent;                // follow_fk: only through foreign keys to this table ("" any)
  std::string filter;                // SQL condition on the table's columns, ANDed with the sample
};
enum class OtherTables { kSchema, kAll, kNone };
struct SubsetConfig {
  double percentage = 100;                 // for seed tables without a rule of their own
  bool preserve_integrity = true;          // every row an included row references is included
  std::vector<std::string> seed_tables;
  std::map<std::string, SubsetTableRule> rules;  // by table name as written
  OtherTables other_tables = OtherTables::kSchema;  // tables neither seeded, followed nor referenced
};

struct JobConfig {
  std::string name;
  std::vector<std::string> include;  // default: every table
  std::vector<std::string> exclude;
  EndpointConfig source;
  EndpointConfig target;
  std::optional<KafkaConfig> kafka;
  ApplyConfig apply;
  SnapshotConfig snapshot;
  AnalyzeConfig analyze;
  std::optional<SubsetConfig> subset;
  std::string state_dir;  // default ./phony-state/<name>
  AnonymizationConfig anonymization;
  std::map<std::string, TableRule> tables;

  // "public" for PostgreSQL, the database name for MySQL/MariaDB.
  std::string DefaultSchema() const;
  TableFilter Filter() const;
};

// Parses and validates; returns every problem found (empty when valid).
// `config` is filled as far as the text allows even when problems exist.
std::vector<ConfigProblem> ParseJobConfig(std::string_view json_text, JobConfig* config);

// ParseJobConfig as a Status: kInvalidArgument listing every problem, one per
// line.
absl::StatusOr<JobConfig> LoadJobConfigText(std::string_view json_text);
absl::StatusOr<JobConfig> LoadJobConfigFile(const std::string& path);

// Resolves every secret reference of the config; each failure is a problem
// naming the reference's JSON path and the reference, never a value.
struct ResolvedSecrets {
  std::optional<Secret> source_password;
  std::optional<Secret> target_password;
  Secret anonymization_secret;
};
std::vector<ConfigProblem> ResolveSecrets(const JobConfig& config, ResolvedSecrets* out);

std::string JoinProblems(const std::vector<ConfigProblem>& problems);

}  // namespace phony
