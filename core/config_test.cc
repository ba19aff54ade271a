#include "core/config.h"

#include <cstdlib>
#include <fstream>
#include <string>

#include "core/testing/status_matchers.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace phony {
namespace {

using json = nlohmann::json;
using ::testing::HasSubstr;

json ValidConfig() {
  return json::parse(R"({
    "name": "orders-staging",
    "include": ["public.*", "sales.*"],
    "exclude": ["public.audit_*"],
    "source": {"type": "postgresql", "host": "127.0.0.1", "port": 5432, "database": "production",
               "user": "replicator", "password_ref": "env://SRC_PASSWORD"},
    "target": {"type": "postgresql", "host": "127.0.0.1", "port": 5433, "database": "staging",
               "user": "stager"},
    "state": {"dir": "/tmp/phony-state/orders"},
    "anonymization": {"secret_ref": "env://PHONY_SECRET", "locale": "tr_TR",
                      "unlisted_columns": "null"},
    "tables": {"users": {"columns": {
        "id": {"transform": "KEEP"},
        "email": {"transform": "ANONYMIZE", "generator": "template",
                  "pattern": "{{uuid}}@example.com", "domain": "customer_email"},
        "first_name": {"transform": "ANONYMIZE", "generator": "model", "source": "tr_TR/first_names"},
        "phone": {"transform": "MASK", "pattern": "+90 5** *** **{last2}"},
        "ssn": {"transform": "HASH", "format": "hex", "length": 16},
        "birthday": {"transform": "DATE_SHIFT", "days": 30, "entity_key": "id"},
        "profile": {"transform": "KEEP", "json_paths": {"$.contact.email": {"transform": "ANONYMIZE", "generator": "email"}}},
        "notes": {"transform": "NULL"}}},
      "sales.orders": {"columns": {"customer_email": {"transform": "ANONYMIZE", "generator": "email", "domain": "customer_email"}}}}
  })");
}

std::vector<ConfigProblem> Problems(const json& j) {
  JobConfig config;
  return ParseJobConfig(j.dump(), &config);
}

// Asserts that `j` has a problem at exactly `path` whose reason contains
// `reason`.
void ExpectProblem(const json& j, const std::string& path, const std::string& reason) {
  const auto problems = Problems(j);
  for (const auto& p : problems) {
    if (p.path == path && p.reason.find(reason) != std::string::npos) return;
  }
  ADD_FAILURE() << "expected a problem at " << path << " containing '" << reason
                << "'; got:\n" << JoinProblems(problems);
}

TEST(ConfigTest, ValidConfigParsesIntoTheModel) {
  JobConfig c;
  const auto problems = ParseJobConfig(ValidConfig().dump(), &c);
  ASSERT_TRUE(problems.empty()) << JoinProblems(problems);
  EXPECT_EQ(c.name, "orders-staging");
  EXPECT_EQ(c.source.type, DatabaseType::kPostgres);
  EXPECT_EQ(c.source.port, 5432);
  ASSERT_TRUE(c.source.password_ref.has_value());
  EXPECT_EQ(c.source.password_ref->location, "SRC_PASSWORD");
  EXPECT_FALSE(c.target.password_ref.has_value());
  EXPECT_EQ(c.state_dir, "/tmp/phony-state/orders");
  EXPECT_EQ(c.anonymization.locale, "tr_TR");
  EXPECT_EQ(c.anonymization.unlisted_columns, UnlistedColumnPolicy::kNull);
  const ColumnRule& email = c.tables.at("users").columns.at("email");
  EXPECT_EQ(email.transform, TransformKind::kAnonymize);
  EXPECT_EQ(email.generator, "template");
  EXPECT_EQ(email.domain, "customer_email");
  EXPECT_EQ(c.tables.at("users").columns.at("ssn").length, 16);
  EXPECT_EQ(c.tables.at("users").columns.at("birthday").days, 30);
  EXPECT_EQ(c.tables.at("users").columns.at("profile").json_paths.at("$.contact.email").generator, "email");
  EXPECT_EQ(c.tables.at("sales.orders").columns.size(), 1u);
  EXPECT_FALSE(c.kafka.has_value());
}

TEST(ConfigTest, DefaultsApply) {
  json j = ValidConfig();
  j.erase("state");
  j["source"].erase("port");
  j["target"] = {{"type", "mariadb"}, {"database", "staging"}, {"user", "u"}};
  JobConfig c;
  ASSERT_TRUE(ParseJobConfig(j.dump(), &c).empty());
  EXPECT_EQ(c.state_dir, "./phony-state/orders-staging");
  EXPECT_EQ(c.source.port, 5432);
  EXPECT_EQ(c.target.port, 3306);
  EXPECT_EQ(c.target.host, "127.0.0.1");
}

TEST(ConfigTest, NotJsonNamesLineAndColumn) {
  JobConfig c;
  const auto problems = ParseJobConfig("{\n  \"name\": \"x\",\n  oops\n}", &c);
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0].path, "");
  EXPECT_THAT(problems[0].reason, HasSubstr("not valid JSON at line 3"));
}

TEST(ConfigTest, TopLevelMustBeObject) {
  JobConfig c;
  const auto problems = ParseJobConfig("[1,2]", &c);
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_THAT(problems[0].reason, HasSubstr("must be a JSON object, got an array"));
}

TEST(ConfigTest, MissingName) {
  json j = ValidConfig();
  j.erase("name");
  ExpectProblem(j, "name", "is required");
}

TEST(ConfigTest, NameWrongTypeAndBadCharacters) {
  json j = ValidConfig();
  j["name"] = 42;
  ExpectProblem(j, "name", "must be a string, got an integer");
  j["name"] = "has space";
  ExpectProblem(j, "name", "letters, digits");
}

TEST(ConfigTest, UnknownTopLevelKeySuggests) {
  json j = ValidConfig();
  j["sourse"] = json::object();
  ExpectProblem(j, "sourse", "unknown key (did you mean \"source\"?)");
}

TEST(ConfigTest, MissingSourceSection) {
  json j = ValidConfig();
  j.erase("source");
  ExpectProblem(j, "source", "is required");
}

TEST(ConfigTest, SourceTypeMustBeKnown) {
  json j = ValidConfig();
  j["source"]["type"] = "oracle";
  ExpectProblem(j, "source.type", "must be one of postgresql, mysql, mariadb; got \"oracle\"");
}

TEST(ConfigTest, PortRangeAndType) {
  json j = ValidConfig();
  j["source"]["port"] = 70000;
  ExpectProblem(j, "source.port", "between 1 and 65535, got 70000");
  j["source"]["port"] = "5432";
  ExpectProblem(j, "source.port", "got a string");
  j["source"]["port"] = 5432.5;
  ExpectProblem(j, "source.port", "got a number");
}

TEST(ConfigTest, LiteralPasswordIsRejected) {
  json j = ValidConfig();
  j["target"]["password"] = "hunter2";
  const auto problems = Problems(j);
  ExpectProblem(j, "target.password", "use password_ref");
  for (const auto& p : problems) EXPECT_EQ(p.reason.find("hunter2"), std::string::npos);
}

TEST(ConfigTest, SecretReferenceSchemes) {
  json j = ValidConfig();
  j["source"]["password_ref"] = "plain:abc";
  ExpectProblem(j, "source.password_ref", "is not a secret reference");
  j["source"]["password_ref"] = "file://relative/path";
  ExpectProblem(j, "source.password_ref", "absolute path");
  j["source"]["password_ref"] = "vault://secret/data/db#password";
  ExpectProblem(j, "source.password_ref", "arrive with issue #11");
  j["source"]["password_ref"] = "env://BAD-NAME";
  ExpectProblem(j, "source.password_ref", "letters, digits");
}

TEST(ConfigTest, UnknownTransform) {
  json j = ValidConfig();
  j["tables"]["users"]["columns"]["email"]["transform"] = "SCRAMBLE";
  ExpectProblem(j, "tables.users.columns.email.transform", "must be one of KEEP, NULL, MASK");
}

TEST(ConfigTest, AnonymizeNeedsGenerator) {
  json j = ValidConfig();
  j["tables"]["users"]["columns"]["email"].erase("generator");
  ExpectProblem(j, "tables.users.columns.email.generator", "is required");
}

TEST(ConfigTest, MaskNeedsPattern) {
  json j = ValidConfig();
  j["tables"]["users"]["columns"]["phone"].erase("pattern");
  ExpectProblem(j, "tables.users.columns.phone.pattern", "is required");
}

TEST(ConfigTest, KeyThatDoesNotApplyToTransform) {
  json j = ValidConfig();
  j["tables"]["users"]["columns"]["notes"]["pattern"] = "x";
  ExpectProblem(j, "tables.users.columns.notes.pattern", "does not apply to transform NULL");
  j["tables"]["users"]["columns"]["notes"]["colour"] = "x";
  ExpectProblem(j, "tables.users.columns.notes.colour", "unknown key");
}

TEST(ConfigTest, QualifiedTableNamesQuotedInPaths) {
  json j = ValidConfig();
  j["tables"]["sales.orders"]["columns"]["customer_email"]["generator"] = "emali";
  ExpectProblem(j, "tables[\"sales.orders\"].columns.customer_email.generator", "must be one of");
}

TEST(ConfigTest, HashLengthRange) {
  json j = ValidConfig();
  j["tables"]["users"]["columns"]["ssn"]["length"] = 2;
  ExpectProblem(j, "tables.users.columns.ssn.length", "between 4 and 128, got 2");
}

TEST(ConfigTest, ModelSourceNamesALocaleList) {
  json j = ValidConfig();
  j["tables"]["users"]["columns"]["first_name"]["source"] = "first_names";
  ExpectProblem(j, "tables.users.columns.first_name.source", "tr_TR/first_names");
}

TEST(ConfigTest, MissingSecretRef) {
  json j = ValidConfig();
  j["anonymization"].erase("secret_ref");
  ExpectProblem(j, "anonymization.secret_ref", "is required");
}

TEST(ConfigTest, UnlistedColumnsPolicy) {
  json j = ValidConfig();
  j["anonymization"]["unlisted_columns"] = "pass";
  ExpectProblem(j, "anonymization.unlisted_columns", "must be one of null, fail, keep");
  j["anonymization"]["locale"] = "turkish";
  ExpectProblem(j, "anonymization.locale", "tr_TR");
}

TEST(ConfigTest, IncludePatterns) {
  json j = ValidConfig();
  j["include"] = "public.*";
  ExpectProblem(j, "include", "must be an array of strings, got a string");
  j["include"] = json::array({"public.*", 3, "a.b.c"});
  ExpectProblem(j, "include[1]", "non-empty string, got an integer");
  ExpectProblem(j, "include[2]", "is not a table pattern");
}

TEST(ConfigTest, NotYetLandedFeaturesSaySo) {
  json j = ValidConfig();
  j["schedule"] = {{"type", "cron"}};
  j["source"]["ssl"] = {{"mode", "verify-full"}};
  j["source"]["credentials"] = {{"type", "ssh_tunnel"}};
  ExpectProblem(j, "schedule", "arrives with issue #12");
  ExpectProblem(j, "source.ssl", "arrives with issue #11");
  ExpectProblem(j, "source.credentials", "arrives with issue #11");
}

TEST(ConfigTest, KafkaSectionValidated) {
  json j = ValidConfig();
  j["kafka"] = {{"brokers", "localhost:9092"}, {"partitions", 0}, {"topic_prefix", "p"},
                {"internal_topic_prefix", "p"}, {"compression", "brotli"}, {"replication_factor", 0},
                {"properties", {{"sasl.password", "x"}, {"socket.timeout.ms", 5}}}, {"acks", "all"}};
  ExpectProblem(j, "kafka.partitions", "between 1 and 1024, got 0");
  ExpectProblem(j, "kafka.internal_topic_prefix", "must differ from topic_prefix");
  ExpectProblem(j, "kafka.compression", "must be one of none, gzip, snappy, lz4, zstd");
  ExpectProblem(j, "kafka.replication_factor", "broker default");
  ExpectProblem(j, "kafka.properties.sasl.password", "holds a secret");
  ExpectProblem(j, "kafka.properties.socket.timeout.ms", "must be a string");
  ExpectProblem(j, "kafka.acks", "unknown key");
  j["kafka"]["transactions"] = "yes";
  ExpectProblem(j, "kafka.transactions", "must be true or false");
  j["kafka"]["transaction_interval_ms"] = 5;
  ExpectProblem(j, "kafka.transaction_interval_ms", "between 10 and 600000, got 5");
}

TEST(ConfigTest, KafkaSectionParsed) {
  json j = ValidConfig();
  j["kafka"] = {{"brokers", "b1:9092,b2:9092"}, {"partitions", 6}, {"compression", "zstd"},
                {"decimal_handling", "string"}, {"properties", {{"security.protocol", "ssl"}}}};
  auto c = LoadJobConfigText(j.dump());
  ASSERT_TRUE(c.ok()) << c.status();
  ASSERT_TRUE(c->kafka.has_value());
  EXPECT_EQ(c->kafka->brokers, "b1:9092,b2:9092");
  EXPECT_EQ(c->kafka->partitions, 6);
  EXPECT_EQ(c->kafka->compression, "zstd");
  EXPECT_EQ(c->kafka->decimal_handling, "string");
  EXPECT_TRUE(c->kafka->include_schema);
  EXPECT_TRUE(c->kafka->create_topics);
  EXPECT_EQ(c->kafka->topic_prefix, "phony");
  EXPECT_EQ(c->kafka->properties.at("security.protocol"), "ssl");
  EXPECT_EQ(c->kafka->transaction_interval_ms, 1000);
}

TEST(ConfigTest, TargetMustNotBeTheSource) {
  json j = ValidConfig();
  j["target"]["port"] = 5432;
  j["target"]["database"] = "production";
  ExpectProblem(j, "target", "is the same database as the source");
}

TEST(ConfigTest, StateDirMustNotBeEmpty) {
  json j = ValidConfig();
  j["state"]["dir"] = "";
  ExpectProblem(j, "state.dir", "must not be empty");
}

TEST(ConfigTest, EveryProblemIsReportedAtOnce) {
  json j = ValidConfig();
  j.erase("name");
  j["source"]["port"] = -1;
  j["tables"]["users"]["columns"]["email"]["transform"] = "X";
  j["anonymization"]["unlisted_columns"] = 1;
  const auto problems = Problems(j);
  EXPECT_GE(problems.size(), 4u) << JoinProblems(problems);
  auto status = LoadJobConfigText(j.dump());
  EXPECT_THAT(status.status(), phony::testing::StatusIs(absl::StatusCode::kInvalidArgument,
                                                        HasSubstr("config problems:\nname: is required")));
}

TEST(ConfigTest, ResolveSecretsNamesReferenceNeverValue) {
  JobConfig c;
  json j = ValidConfig();
  ASSERT_TRUE(ParseJobConfig(j.dump(), &c).empty());
  ::unsetenv("SRC_PASSWORD");
  ::setenv("PHONY_SECRET", "0123456789abcdef0123456789abcdef", 1);
  ResolvedSecrets secrets;
  auto problems = ResolveSecrets(c, &secrets);
  ASSERT_EQ(problems.size(), 1u) << JoinProblems(problems);
  EXPECT_EQ(problems[0].path, "source.password_ref");
  EXPECT_THAT(problems[0].reason, HasSubstr("env://SRC_PASSWORD"));
  EXPECT_THAT(problems[0].reason, HasSubstr("is not set"));
  EXPECT_EQ(secrets.anonymization_secret.value(), "0123456789abcdef0123456789abcdef");

  ::setenv("SRC_PASSWORD", "s3cr3t-value", 1);
  ::setenv("PHONY_SECRET", "short-secret", 1);
  ResolvedSecrets again;
  problems = ResolveSecrets(c, &again);
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0].path, "anonymization.secret_ref");
  EXPECT_THAT(problems[0].reason, HasSubstr("shorter than 16 bytes"));
  EXPECT_EQ(problems[0].reason.find("short-secret"), std::string::npos);
  ASSERT_TRUE(again.source_password.has_value());
  EXPECT_EQ(again.source_password->value(), "s3cr3t-value");
}

TEST(ConfigTest, FileSecrets) {
  const std::string path = ::testing::TempDir() + "/phony_secret_test";
  {
    std::ofstream out(path);
    out << "file-secret-0123456789\n";
  }
  ASSERT_OK_AND_ASSIGN(SecretRef ref, ParseSecretRef("file://" + path));
  ASSERT_OK_AND_ASSIGN(Secret s, ResolveSecret(ref));
  EXPECT_EQ(s.value(), "file-secret-0123456789");
  ASSERT_OK_AND_ASSIGN(SecretRef missing, ParseSecretRef("file:///nonexistent/phony/secret"));
  EXPECT_THAT(ResolveSecret(missing).status(),
              phony::testing::StatusIs(absl::StatusCode::kNotFound,
                                       HasSubstr("file:///nonexistent/phony/secret")));
}

TEST(TableFilterTest, IncludeExcludeAndDefaultSchema) {
  TableFilter f({"public.*", "sales.orders", "items"}, {"public.audit_*"}, "public");
  EXPECT_TRUE(f.Matches({"db", "public", "users"}));
  EXPECT_FALSE(f.Matches({"db", "public", "audit_log"}));
  EXPECT_TRUE(f.Matches({"db", "sales", "orders"}));
  EXPECT_FALSE(f.Matches({"db", "sales", "order_lines"}));
  EXPECT_FALSE(f.Matches({"db", "other", "items"}));
  TableFilter all({}, {"tmp_?"}, "shop");
  EXPECT_TRUE(all.Matches({"shop", "shop", "tmp_ab"}));
  EXPECT_FALSE(all.Matches({"shop", "shop", "tmp_a"}));
  EXPECT_TRUE(all.Matches({"shop", "other", "tmp_a"}));
}

}  // namespace
}  // namespace phony

namespace phony {
namespace {

TEST(ConfigTest, ApplySectionParsedAndValidated) {
  json j = ValidConfig();
  j["apply"] = {{"batch_transactions", 50}, {"batch_delay_ms", 20}, {"on_dead_letter", "stop"}};
  JobConfig config;
  ASSERT_TRUE(ParseJobConfig(j.dump(), &config).empty());
  EXPECT_EQ(config.apply.batch_transactions, 50);
  EXPECT_EQ(config.apply.batch_delay_ms, 20);
  EXPECT_EQ(config.apply.batch_rows, 100000);  // default kept
  EXPECT_TRUE(config.apply.stop_on_dead_letter);
  j["apply"] = {{"batch_transactions", 0}, {"on_dead_letter", "skip"}, {"batch_size", 5}};
  ExpectProblem(j, "apply.batch_transactions", "between 1 and");
  ExpectProblem(j, "apply.on_dead_letter", "must be one of continue, stop");
  ExpectProblem(j, "apply.batch_size", "unknown key");
}

TEST(ConfigTest, SubsetSectionParsedAndValidated) {
  json j = ValidConfig();
  j["subset"] = {{"strategy", "percentage"}, {"percentage", 1}, {"preserve_integrity", true},
                 {"seed_tables", {"users"}},
                 {"rules", {{"users", {{"sample", "2.5%"}, {"filter", "created_at > '2024-01-01'"}}},
                            {"orders", {{"sample", "follow_fk"}, {"parent", "users"}}}}},
                 {"other_tables", "none"}};
  JobConfig config;
  ASSERT_TRUE(ParseJobConfig(j.dump(), &config).empty());
  ASSERT_TRUE(config.subset.has_value());
  EXPECT_EQ(config.subset->percentage, 1);
  EXPECT_EQ(config.subset->seed_tables, std::vector<std::string>{"users"});
  EXPECT_EQ(*config.subset->rules.at("users").percentage, 2.5);  // the per-table rule wins
  EXPECT_EQ(config.subset->rules.at("users").filter, "created_at > '2024-01-01'");
  EXPECT_TRUE(config.subset->rules.at("orders").follow_fk);
  EXPECT_EQ(config.subset->rules.at("orders").parent, "users");
  EXPECT_EQ(config.subset->other_tables, OtherTables::kNone);
  j["subset"] = {{"percentage", 0}, {"rules", {{"users", {{"sample", "ten%"}}}, {"orders", {{"parent", "users"}}}}},
                 {"other_tables", "some"}};
  ExpectProblem(j, "subset.percentage", "above 0 and at most 100");
  ExpectProblem(j, "subset.rules.users.sample", "must be a percentage such as \"1%\"");
  ExpectProblem(j, "subset.rules.orders.parent", "goes with \"sample\": \"follow_fk\"");
  ExpectProblem(j, "subset.other_tables", "must be one of schema, all, none");
  ExpectProblem(j, "subset", "names no seed");
}

TEST(ConfigTest, AnalyzeSectionParsedAndValidated) {
  json j = ValidConfig();
  JobConfig config;
  ASSERT_TRUE(ParseJobConfig(j.dump(), &config).empty());
  EXPECT_TRUE(config.analyze.strict);  // strict mode is on unless a config turns it off
  EXPECT_EQ(config.analyze.sample_rows, 1000);
  EXPECT_DOUBLE_EQ(config.analyze.threshold, 0.5);
  EXPECT_TRUE(config.analyze.accept_unruled.empty());
  j["analyze"] = {{"sample_rows", 200}, {"threshold", 0.7}, {"strict", false},
                  {"accept_unruled", {"users.nickname", "sales.users.note"}}};
  ASSERT_TRUE(ParseJobConfig(j.dump(), &config).empty());
  EXPECT_FALSE(config.analyze.strict);
  EXPECT_EQ(config.analyze.sample_rows, 200);
  EXPECT_DOUBLE_EQ(config.analyze.threshold, 0.7);
  EXPECT_EQ(config.analyze.accept_unruled, (std::vector<std::string>{"users.nickname", "sales.users.note"}));
  j["analyze"] = {{"sample_rows", 5}, {"threshold", 1.5}, {"strict", "yes"}, {"accept_unruled", {"nickname"}},
                  {"sample", 1}};
  ExpectProblem(j, "analyze.sample_rows", "between 10 and");
  ExpectProblem(j, "analyze.threshold", "above 0 and at most 1");
  ExpectProblem(j, "analyze.strict", "must be true or false");
  ExpectProblem(j, "analyze.accept_unruled[0]", "table.column");
  ExpectProblem(j, "analyze.sample", "unknown key");
}

TEST(ConfigTest, SnapshotSectionParsedAndValidated) {
  json j = ValidConfig();
  JobConfig config;
  ASSERT_TRUE(ParseJobConfig(j.dump(), &config).empty());
  EXPECT_EQ(config.snapshot.workers, 0);  // one per core
  EXPECT_EQ(config.snapshot.chunk_mb, 32);
  EXPECT_TRUE(config.snapshot.drop_existing);
  EXPECT_EQ(config.snapshot.on_run, "auto");
  j["snapshot"] = {{"workers", 4}, {"chunk_mb", 8}, {"drop_existing", false}, {"analyze", false},
                   {"max_attempts", 5}, {"on_run", "never"}};
  ASSERT_TRUE(ParseJobConfig(j.dump(), &config).empty());
  EXPECT_EQ(config.snapshot.on_run, "never");
  EXPECT_EQ(config.snapshot.workers, 4);
  EXPECT_EQ(config.snapshot.chunk_mb, 8);
  EXPECT_FALSE(config.snapshot.drop_existing);
  EXPECT_FALSE(config.snapshot.analyze);
  EXPECT_EQ(config.snapshot.max_attempts, 5);
  j["snapshot"] = {{"workers", 17}, {"chunk_mb", 0}, {"analyze", "yes"}, {"parallel", 2}, {"on_run", "sometimes"}};
  ExpectProblem(j, "snapshot.on_run", "must be one of auto, always, never");
  ExpectProblem(j, "snapshot.workers", "between 1 and 16");
  ExpectProblem(j, "snapshot.chunk_mb", "between 1 and");
  ExpectProblem(j, "snapshot.analyze", "must be true or false");
  ExpectProblem(j, "snapshot.parallel", "unknown key");
}

}  // namespace
}  // namespace phony

namespace phony {
namespace {

// A MySQL/MariaDB job is its source database's tables unless `include`
// says otherwise; with staging on the same server, what the applier writes
// there (the staging database, phony's bookkeeping) is never captured.
TEST(ConfigTest, MySqlJobsAreScopedToTheirDatabase) {
  json j = ValidConfig();
  j.erase("include");
  j.erase("exclude");
  j["tables"] = json::object();
  j["source"] = {{"type", "mariadb"}, {"host", "127.0.0.1"}, {"port", 3306}, {"database", "shop"}, {"user", "u"}};
  j["target"] = {{"type", "mariadb"}, {"host", "127.0.0.1"}, {"port", 3306}, {"database", "shop_staging"}, {"user", "u"}};
  JobConfig c;
  ASSERT_TRUE(ParseJobConfig(j.dump(), &c).empty()) << JoinProblems(ParseJobConfig(j.dump(), &c));
  const TableFilter f = c.Filter();
  auto id = [](std::string db, std::string t) { return TableId{.database = db, .schema = db, .table = t}; };
  EXPECT_TRUE(f.Matches(id("shop", "users")));
  EXPECT_FALSE(f.Matches(id("other", "users")));
  j["include"] = {"*.*"};
  ASSERT_TRUE(ParseJobConfig(j.dump(), &c).empty());
  const TableFilter all = c.Filter();
  EXPECT_TRUE(all.Matches(id("other", "users")));
  EXPECT_FALSE(all.Matches(id("shop_staging", "users")));
  EXPECT_FALSE(all.Matches(id("phony", "apply_progress")));
  // Staging elsewhere: nothing is held back.
  j["target"]["port"] = 3307;
  ASSERT_TRUE(ParseJobConfig(j.dump(), &c).empty());
  EXPECT_TRUE(c.Filter().Matches(id("phony", "apply_progress")));
}

}  // namespace
}  // namespace phony
