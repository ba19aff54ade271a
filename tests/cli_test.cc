// Runs the `phony` binary the way a user does and asserts on its output and
// exit codes.
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace {

using ::testing::HasSubstr;
using ::testing::Not;

struct Result {
  int exit_code;
  std::string output;
};

Result RunPhony(const std::string& args, const std::string& env = "") {
  const std::string cmd = env + " " + PHONY_BINARY + " " + args + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  std::string out;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) out.append(buf.data(), n);
  const int status = pclose(p);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

const std::string kExamples = std::string(PHONY_SOURCE_DIR) + "/config/examples/";

TEST(CliTest, CheckConfigAcceptsTheExample) {
  const Result r = RunPhony("check-config --config " + kExamples + "pg-embedded.json",
                       "PHONY_SOURCE_PASSWORD=x PHONY_TARGET_PASSWORD=y "
                       "PHONY_SECRET=0123456789abcdef0123456789abcdef");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr(": OK"));
  EXPECT_THAT(r.output, HasSubstr("job     demo-shop"));
  EXPECT_THAT(r.output, HasSubstr("rules   2 tables, 14 columns"));
}

TEST(CliTest, CheckConfigListsEveryProblemWithItsPath) {
  const Result r = RunPhony("check-config --config " + kExamples + "broken.json",
                       "PHONY_SECRET=0123456789abcdef0123456789abcdef");
  EXPECT_EQ(r.exit_code, 1) << r.output;
  for (const char* expected : {
           "nmae: unknown key (did you mean \"name\"?)",
           "name: is required",
           "source.password: secrets are never written in the config",
           "source.type: must be one of postgresql, mysql, mariadb; got \"oracle\"",
           "source.port: must be an integer between 1 and 65535, got a string",
           "target.port: must be an integer between 1 and 65535, got 70000",
           "target.password_ref: 'plaintext-password' is not a secret reference",
           "anonymization.unlisted_columns: must be one of null, fail, keep",
           "tables.users.columns.email.generator: must be one of",
           "tables.users.columns.phone.pattern: is required",
           "tables.users.columns.notes.pattern: does not apply to transform NULL",
           "schedule: Scheduled syncs (schedule) is not available yet: it arrives with issue #12",
       }) {
    EXPECT_THAT(r.output, HasSubstr(expected));
  }
  EXPECT_THAT(r.output, Not(HasSubstr("hunter2")));
}

TEST(CliTest, CheckConfigReportsMissingSecretsByReference) {
  const Result r = RunPhony("check-config --config " + kExamples + "pg-embedded.json",
                       "env -u PHONY_SOURCE_PASSWORD PHONY_TARGET_PASSWORD=y PHONY_SECRET=short");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.output, HasSubstr("source.password_ref: secret env://PHONY_SOURCE_PASSWORD: "
                                  "environment variable PHONY_SOURCE_PASSWORD is not set"));
  EXPECT_THAT(r.output, HasSubstr("anonymization.secret_ref: the secret behind env://PHONY_SECRET "
                                  "is shorter than 16 bytes"));
  EXPECT_THAT(r.output, Not(HasSubstr("short ")));
  // --no-secrets validates the text alone.
  const Result text_only =
      RunPhony("check-config --no-secrets --config " + kExamples + "pg-embedded.json",
          "env -u PHONY_SOURCE_PASSWORD");
  EXPECT_EQ(text_only.exit_code, 0) << text_only.output;
}

TEST(CliTest, MissingConfigFileIsAnError) {
  const Result r = RunPhony("check-config --config /nonexistent/job.json");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.output, HasSubstr("cannot open /nonexistent/job.json"));
}

TEST(CliTest, EverySubcommandHasHelp) {
  for (const char* sub : {"check-config", "capture", "transform", "apply", "snapshot", "run",
                          "analyze", "status", "verify", "preview", "mapping", "teardown", "sync",
                          "schedule"}) {
    const Result r = RunPhony(std::string(sub) + " --help");
    EXPECT_EQ(r.exit_code, 0) << sub << ": " << r.output;
    EXPECT_THAT(r.output, HasSubstr("--config")) << sub;
  }
  const Result top = RunPhony("--help");
  EXPECT_EQ(top.exit_code, 0);
  EXPECT_THAT(top.output, HasSubstr("check-config"));
}

// `phony inspect binlog`: JSON lines from a recorded MariaDB binlog; a
// missing file and a file cut short fail with exit code 1 and the reason.
TEST(CliTest, InspectBinlogPrintsRowChangesAsJsonLines) {
  const std::string fixture = std::string(PHONY_SOURCE_DIR) + "/tests/fixtures/binlog/rust_mysql_common/mariadb-bin.000001";
  Result r = RunPhony("inspect binlog " + fixture);
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("{\"file\":\"mariadb-bin.000001\",\"pos\":612,\"gtid\":\"0-1-1\",\"db\":"
                                  "\"toddy_test\",\"table\":\"outbox\",\"op\":\"c\",\"before\":null,"
                                  "\"after\":{\"id\":62,\"topic\":\"foo\""));
  r = RunPhony("inspect binlog /nonexistent/mysql-bin.000001");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.output, HasSubstr("/nonexistent/mysql-bin.000001"));
  const std::string cut = ::testing::TempDir() + "/cut-bin.000001";
  ASSERT_EQ(std::system(("head -c 1000 " + fixture + " > " + cut).c_str()), 0);
  r = RunPhony("inspect binlog " + cut);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.output, HasSubstr("\"pos\":612"));  // the rows before the cut are printed
  EXPECT_THAT(r.output, HasSubstr("ends inside the"));
  r = RunPhony("inspect --help");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_THAT(r.output, HasSubstr("binlog"));
}

TEST(CliTest, PendingSubcommandsSayWhichIssueBringsThem) {
  const Result r = RunPhony("sync --config x.json");
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_THAT(r.output, HasSubstr("phony sync is not available yet: it arrives with issue #12"));
}

TEST(CliTest, JsonLogFormat) {
  const Result r = RunPhony("--log-format json sync --config x.json");
  EXPECT_THAT(r.output, HasSubstr("\"level\":\"error\""));
  EXPECT_THAT(r.output, HasSubstr("\"msg\":\"phony sync is not available yet"));
}

// `phony run` refuses, before touching a server, what it cannot run: a
// wrong key (named with its path), a subset (a one-off copy, not a mirror).
TEST(CliTest, RunRefusesBadConfigsNamingTheKey) {
  const std::string env =
      "PHONY_SOURCE_PASSWORD=x PHONY_TARGET_PASSWORD=y PHONY_SECRET=0123456789abcdef0123456789abcdef";
  const std::string dir = ::testing::TempDir();
  const std::string bad = dir + "/run_bad_on_run.json", subset = dir + "/run_subset.json";
  ASSERT_EQ(std::system(("sed 's/\"name\": \"demo-shop\",/\"name\": \"demo-shop\", \"snapshot\": "
                         "{\"on_run\": \"sometimes\"},/' " + kExamples + "pg-embedded.json > " + bad)
                            .c_str()),
            0);
  Result r = RunPhony("run --config " + bad, env);
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_THAT(r.output, HasSubstr("snapshot.on_run"));
  ASSERT_EQ(std::system(("sed 's/\"name\": \"demo-shop\",/\"name\": \"demo-shop\", \"subset\": "
                         "{\"percentage\": 1, \"seed_tables\": [\"customers\"]},/' " + kExamples + "pg-embedded.json > " + subset)
                            .c_str()),
            0);
  r = RunPhony("run --config " + subset, env);
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_THAT(r.output, HasSubstr("subset: a subset is a one-off copy"));
}

// A MariaDB source: phony run and phony snapshot refuse, naming the key,
// what they cannot do yet (a copy into PostgreSQL, a subset) before
// touching a server.
TEST(CliTest, RunOnAMariaDbSourceNamesWhatItCannotDoYet) {
  const std::string env = "MYPW=x PHONY_SECRET=0123456789abcdef0123456789abcdef";
  const std::string dir = ::testing::TempDir();
  const std::string base =
      "{\"name\": \"m\", \"source\": {\"type\": \"mariadb\", \"host\": \"127.0.0.1\", \"port\": 1, "
      "\"database\": \"shop\", \"user\": \"u\", \"password_ref\": \"env://MYPW\"}, \"target\": {\"type\": "
      "\"mariadb\", \"host\": \"127.0.0.1\", \"port\": 1, \"database\": \"shop_staging\", \"user\": \"u\", "
      "\"password_ref\": \"env://MYPW\"}, \"state\": {\"dir\": \"" + dir + "/m-state\"}, \"anonymization\": "
      "{\"secret_ref\": \"env://PHONY_SECRET\", \"unlisted_columns\": \"keep\"}, \"tables\": {}";
  const std::string snapshot = dir + "/run_mariadb_snapshot.json";
  // A snapshot from MariaDB into PostgreSQL staging is not built.
  std::string to_pg = base;
  to_pg.replace(to_pg.find("\"mariadb\", \"host\": \"127.0.0.1\", \"port\": 1, \"database\": \"shop_staging\""),
                std::string("\"mariadb\"").size(), "\"postgresql\"");
  std::ofstream(snapshot) << to_pg << "}";
  Result r = RunPhony("run --config " + snapshot, env);
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_THAT(r.output, HasSubstr("snapshot.on_run: a snapshot from a MySQL/MariaDB source into PostgreSQL staging "
                                  "is not built yet"));
  r = RunPhony("snapshot --config " + snapshot, env);
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_THAT(r.output, HasSubstr("between the two families it is not built yet (source.type mysql/mariadb, "
                                  "target.type postgresql)"));
  const std::string subset = dir + "/snapshot_mariadb_subset.json";
  std::ofstream(subset) << base << ", \"subset\": {\"percentage\": 1, \"seed_tables\": [\"users\"]}}";
  // A subset is a one-off copy: not with CDC.
  r = RunPhony("snapshot --start-cdc --config " + subset, env);
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_THAT(r.output, HasSubstr("the job has a subset: continuous CDC over a subset is not supported"));
  EXPECT_THAT(r.output, HasSubstr("run without --start-cdc"));
}

}  // namespace
