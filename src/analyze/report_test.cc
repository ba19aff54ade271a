#include "src/analyze/report.h"

#include "gtest/gtest.h"

namespace phony::analyze {
namespace {

Report Sample() {
  Report r;
  r.source_kind = "postgresql";
  r.default_schema = "public";
  r.sample_rows = 1000;
  r.threshold = 0.5;
  r.tables = 2;
  auto column = [](const std::string& t, const std::string& c, PiiType type, double conf, bool unique = false) {
    ColumnFinding f;
    f.table = t;
    f.column = c;
    f.sql_type = "text";
    f.type = type;
    f.confidence = conf;
    f.unique = unique;
    if (type != PiiType::kNone) f.evidence = {"name", "content"};
    return f;
  };
  r.columns = {column("users", "id", PiiType::kNone, 0), column("users", "email", PiiType::kEmail, 0.99, true),
               column("orders", "id", PiiType::kNone, 0), column("orders", "user_email", PiiType::kNone, 0.2),
               column("sales.leads", "phone", PiiType::kPhone, 0.9)};
  r.flagged = {r.columns[1], r.columns[4]};
  r.fks = {{"orders", "user_email", "users", "email", 0.95, {"name", "data"}},
           {"orders", "id", "users", "id", 1.0, {"declared"}}};
  return r;
}

TEST(ReportTest, JsonRoundTripsInTheSpecsShape) {
  const Report r = Sample();
  const nlohmann::json j = ReportToJson(r);
  EXPECT_EQ(j["users.email"]["pii_type"], "EMAIL");
  EXPECT_EQ(j["users.email"]["evidence"], nlohmann::json::array({"name", "content"}));
  EXPECT_EQ(j["sales.leads.phone"]["pii_type"], "PHONE");
  EXPECT_EQ(j["fks"][0]["from"], "orders.user_email");
  EXPECT_EQ(j["fks"][0]["to"], "users.email");
  EXPECT_EQ(j["analyzed"]["columns"].size(), 5u);
  auto back = ReportFromJson(j);
  ASSERT_TRUE(back.ok()) << back.status();
  ASSERT_NE(back->Flagged("sales.leads", "phone"), nullptr);
  EXPECT_EQ(back->Flagged("sales.leads", "phone")->type, PiiType::kPhone);
  EXPECT_TRUE(back->Seen("orders", "user_email"));
  EXPECT_EQ(back->Flagged("orders", "user_email"), nullptr);
  ASSERT_EQ(back->fks.size(), 2u);
  EXPECT_TRUE(back->fks[1].declared());
  EXPECT_FALSE(back->fks[0].declared());

  nlohmann::json bad = j;
  bad["users.email"]["pii_type"] = "SHOE_SIZE";
  EXPECT_FALSE(ReportFromJson(bad).ok());
  EXPECT_FALSE(ReportFromJson(nlohmann::json::array()).ok());
}

TEST(ReportTest, StarterConfigRulesEveryColumnAndKeepsJoinsJoining) {
  const nlohmann::json base = {{"name", "job"}, {"tables", {{"users", {{"columns", {{"id", {{"transform", "TOKENIZE"}}}}}}}}}};
  const nlohmann::json c = StarterConfig(Sample(), base);
  // The config's own rule stays; flagged columns get one; the rest KEEP.
  EXPECT_EQ(c["tables"]["users"]["columns"]["id"]["transform"], "TOKENIZE");
  EXPECT_EQ(c["tables"]["users"]["columns"]["email"], nlohmann::json({{"transform", "ANONYMIZE"}, {"generator", "email"}, {"unique", true}}));
  EXPECT_EQ(c["tables"]["sales.leads"]["columns"]["phone"]["generator"], "phone");
  // orders.user_email references users.email: the same rule (not unique), so it maps alike.
  EXPECT_EQ(c["tables"]["orders"]["columns"]["user_email"], nlohmann::json({{"transform", "ANONYMIZE"}, {"generator", "email"}}));
  // orders.id references users.id (declared), which the config tokenizes: so is it.
  EXPECT_EQ(c["tables"]["orders"]["columns"]["id"]["transform"], "TOKENIZE");
  EXPECT_EQ(c["analyze"]["strict"], true);
  EXPECT_EQ(c["name"], "job");
}

TEST(ReportTest, TableListsFlaggedColumnsAndForeignKeys) {
  const std::string t = ReportTable(Sample());
  EXPECT_NE(t.find("users.email"), std::string::npos);
  EXPECT_NE(t.find("EMAIL"), std::string::npos);
  EXPECT_NE(t.find("orders.user_email  -> users.email"), std::string::npos) << t;
  EXPECT_NE(t.find("2 of 5 columns in 2 tables flagged"), std::string::npos) << t;
  EXPECT_NE(t.find("2 foreign keys (1 declared, 1 inferred)"), std::string::npos) << t;
}

}  // namespace
}  // namespace phony::analyze
