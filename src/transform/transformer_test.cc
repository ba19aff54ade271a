#include "src/transform/transformer.h"

#include <map>
#include <set>

#include "core/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "src/transform/check_digits.h"

namespace phony {
// Readable failures (test data only: never log values).
inline void PrintTo(const Value& v, std::ostream* os) { *os << v.DebugString(); }
}  // namespace phony

namespace phony::transform {
namespace {

using ::testing::HasSubstr;

constexpr std::string_view kSecret = "0123456789abcdef0123456789abcdef";

// A job config around `tables` (the JSON of the "tables" member).
JobConfig Config(const std::string& tables, const std::string& unlisted = "null",
                 const std::string& locale = "tr_TR") {
  const std::string text = R"({"name": "t", "source": {"type": "postgresql", "database": "prod", "user": "u"},
      "target": {"type": "postgresql", "database": "staging", "user": "u"},
      "anonymization": {"secret_ref": "env://PHONY_SECRET", "locale": ")" +
                           locale + R"(", "unlisted_columns": ")" + unlisted + R"("},
      "tables": )" + tables + "}";
  auto config = LoadJobConfigText(text);
  EXPECT_TRUE(config.ok()) << config.status();
  return config.ok() ? *config : JobConfig{};
}

std::unique_ptr<Transformer> Make(const JobConfig& config, std::string_view secret = kSecret,
                                  MappingLedger* ledger = nullptr) {
  auto t = Transformer::Create(config, secret, {ledger});
  EXPECT_TRUE(t.ok()) << t.status();
  return t.ok() ? *std::move(t) : nullptr;
}

ColumnDef Col(std::string name, ValueKind kind, std::string type = "text", bool nullable = true,
              uint16_t key = 0) {
  ColumnDef c;
  c.name = std::move(name);
  c.kind = kind;
  c.type_name = std::move(type);
  c.nullable = nullable;
  c.key_ordinal = key;
  return c;
}

TableSchema Schema(std::string table, std::vector<ColumnDef> columns, uint32_t version = 1) {
  TableSchema s;
  s.id = TableId{"prod", "public", std::move(table)};
  s.version = version;
  s.columns = std::move(columns);
  return s;
}

// Transforms one insert of `row` into `schema`'s table and returns the row.
Row Insert(Transformer& t, const TableSchema& schema, Row row) {
  ChangeEvent c;
  c.op = ChangeOp::kInsert;
  c.table = schema.id;
  c.schema_version = schema.version;
  c.after = std::move(row);
  Event e = c;
  const absl::Status s = t.Transform(&e);
  EXPECT_TRUE(s.ok()) << s;
  return *std::get<ChangeEvent>(e).after;
}

const std::string kPeople = R"({
  "users": {"columns": {
    "id": {"transform": "TOKENIZE"},
    "email": {"transform": "ANONYMIZE", "generator": "email", "unique": true},
    "name": {"transform": "ANONYMIZE", "generator": "full_name"},
    "phone": {"transform": "MASK", "pattern": "+90 5** *** **{last2}"},
    "card": {"transform": "ANONYMIZE", "generator": "credit_card"},
    "tckn": {"transform": "ANONYMIZE", "generator": "national_id"},
    "iban": {"transform": "ANONYMIZE", "generator": "iban"},
    "born": {"transform": "DATE_SHIFT", "days": 30, "entity_key": "id"}}},
  "orders": {"columns": {
    "id": {"transform": "KEEP"},
    "customer_email": {"transform": "ANONYMIZE", "generator": "email"},
    "placed": {"transform": "DATE_SHIFT", "days": 30, "entity_key": "user_id"}}}
})";

TableSchema Users() {
  return Schema("users", {Col("id", ValueKind::kInt64, "bigint", false, 1), Col("email", ValueKind::kText),
                          Col("name", ValueKind::kText), Col("phone", ValueKind::kText),
                          Col("card", ValueKind::kText), Col("tckn", ValueKind::kText),
                          Col("iban", ValueKind::kText), Col("born", ValueKind::kDate)});
}

TableSchema Orders() {
  TableSchema s = Schema("orders", {Col("id", ValueKind::kInt64, "bigint", false, 1),
                                    Col("user_id", ValueKind::kInt64, "bigint"),
                                    Col("customer_email", ValueKind::kText), Col("placed", ValueKind::kDate)});
  s.foreign_keys.push_back({"orders_user_fk", {"user_id"}, TableId{"prod", "public", "users"}, {"id"}});
  return s;
}

Row UserRow(int64_t id, const std::string& email) {
  return {Value::Int64(id),          Value::Text(email),
          Value::Text("Ayşe Yılmaz"), Value::Text("+90 532 123 45 67"),
          Value::Text("4111 1111 1111 1111"), Value::Text("10000000146"),
          Value::Text("TR330006100519786457841326"), Value::Date(10000)};
}

TEST(TransformerTest, RewritesEveryRuleAndKeepsFormats) {
  auto t = Make(Config(kPeople));
  ASSERT_NE(t, nullptr);
  ASSERT_OK(t->LearnSchema(Users()));
  const Row in = UserRow(12345, "ayse@corp.example");
  const Row out = Insert(*t, Users(), in);
  for (size_t i = 0; i < in.size(); ++i) EXPECT_FALSE(in[i] == out[i]) << "column " << i << " unchanged";
  // TOKENIZE keeps the number of digits and the sign.
  EXPECT_GE(out[0].int64_value(), 10000);
  EXPECT_LE(out[0].int64_value(), 99999);
  EXPECT_THAT(out[1].str(), ::testing::MatchesRegex(R"([a-z-]+\.[a-z-]+\.[a-z2-7]{16}@example\.(com|net|org))"));
  EXPECT_THAT(out[2].str(), HasSubstr(" "));
  EXPECT_EQ(out[3].str(), "+90 5** *** **67");
  EXPECT_TRUE(LuhnValid(std::string(out[4].str()).erase(4, 1).erase(8, 1).erase(12, 1)));
  EXPECT_EQ(out[4].str().substr(0, 7), "4000 00");  // Visa's test BIN, spaces kept
  EXPECT_TRUE(TcKimlikValid(out[5].str()));
  EXPECT_TRUE(IbanValid(out[6].str()));
  EXPECT_EQ(out[6].str().substr(0, 2), "TR");
  EXPECT_NE(out[7].date_value(), 10000);
  EXPECT_LE(std::abs(out[7].date_value() - 10000), 30);
  EXPECT_EQ(t->stats().values_redacted, 0u);
}

TEST(TransformerTest, DeterministicAcrossInstancesAndKeyedBySecret) {
  auto a = Make(Config(kPeople));
  auto b = Make(Config(kPeople));
  auto other = Make(Config(kPeople), "another secret of at least 16 bytes");
  ASSERT_OK(a->LearnSchema(Users()));
  ASSERT_OK(b->LearnSchema(Users()));
  ASSERT_OK(other->LearnSchema(Users()));
  for (int i = 0; i < 200; ++i) {
    const Row in = UserRow(1000 + i, "user" + std::to_string(i) + "@corp.example");
    const Row x = Insert(*a, Users(), in);
    EXPECT_EQ(x, Insert(*b, Users(), in));
    const Row y = Insert(*other, Users(), in);
    EXPECT_NE(x[1], y[1]);
    EXPECT_NE(x[0], y[0]);
  }
}

TEST(TransformerTest, SameValueMapsAlikeAcrossTablesAndForeignKeysFollowTheirKey) {
  auto t = Make(Config(kPeople));
  ASSERT_OK(t->LearnSchema(Users()));
  ASSERT_OK(t->LearnSchema(Orders()));
  const Row user = Insert(*t, Users(), UserRow(777, "Mehmet.Demir@Corp.Example "));
  const Row order = Insert(*t, Orders(), {Value::Int64(1), Value::Int64(777), Value::Text("mehmet.demir@corp.example"),
                                          Value::Date(10000)});
  // users.email is unique, orders.customer_email is not: one domain, so one
  // fake (and emails are compared trimmed and case-folded).
  EXPECT_EQ(user[1], order[2]);
  // orders.user_id has no rule but references users.id (TOKENIZE).
  EXPECT_EQ(order[1], user[0]);
  EXPECT_THAT(t->DescribeColumn(Orders().id, "user_id"), HasSubstr("from its foreign key"));
  // Every date of one entity moves by the same number of days.
  EXPECT_EQ(order[3].date_value() - 10000, user[7].date_value() - 10000);
}

TEST(TransformerTest, UniqueDomainsAreCollisionFree) {
  auto t = Make(Config(kPeople));
  ASSERT_OK(t->LearnSchema(Users()));
  std::set<std::string> emails;
  std::set<int64_t> ids;
  Row row = UserRow(0, "");
  constexpr int kValues = 1000000;
  for (int i = 0; i < kValues; ++i) {
    Row r = {Value::Int64(1000000 + i), Value::Text("person" + std::to_string(i) + "@corp.example"),
             Value::Null(), Value::Null(), Value::Null(), Value::Null(), Value::Null(), Value::Null()};
    ASSERT_OK(t->TransformRow(Users().id, &r));
    emails.insert(r[1].str());
    ids.insert(r[0].int64_value());
  }
  EXPECT_EQ(emails.size(), static_cast<size_t>(kValues));
  EXPECT_EQ(ids.size(), static_cast<size_t>(kValues));
}

TEST(TransformerTest, GeneratedIdentifiersAlwaysValidate) {
  auto t = Make(Config(kPeople));
  ASSERT_OK(t->LearnSchema(Users()));
  for (int i = 0; i < 20000; ++i) {
    const std::string digits = std::to_string(100000000 + i * 7919);
    Row r = {Value::Null(), Value::Null(), Value::Null(), Value::Null(),
             Value::Text("5555" + digits + "123"), Value::Text("1" + digits + "0"),
             Value::Text("DE89" + digits + "123456789"), Value::Null()};
    ASSERT_OK(t->TransformRow(Users().id, &r));
    ASSERT_TRUE(LuhnValid(r[4].str())) << i;
    ASSERT_TRUE(TcKimlikValid(r[5].str())) << i;
    ASSERT_TRUE(IbanValid(r[6].str())) << i;
  }
}

TEST(TransformerTest, UnlistedColumnsFailClosed) {
  const TableSchema schema = Schema("t", {Col("id", ValueKind::kInt64, "bigint", false, 1),
                                          Col("secret", ValueKind::kText, "text", false),
                                          Col("note", ValueKind::kText), Col("n", ValueKind::kInt64, "int", false),
                                          Col("doc", ValueKind::kJson, "jsonb", false)});
  const Row in = {Value::Int64(5), Value::Text("raw"), Value::Text("raw note"), Value::Int64(9),
                  Value::Json(R"({"raw": 1})")};
  const std::string tables = R"({"t": {"columns": {"id": {"transform": "KEEP"}}}})";
  {
    auto t = Make(Config(tables, "null"));
    ASSERT_OK(t->LearnSchema(schema));
    const Row out = Insert(*t, schema, in);
    EXPECT_EQ(out, (Row{Value::Int64(5), Value::Text(""), Value::Null(), Value::Int64(0), Value::Json("{}")}));
    EXPECT_THAT(t->UnreviewedColumns(),
                ::testing::ElementsAre("public.t.doc", "public.t.n", "public.t.note", "public.t.secret"));
  }
  {
    auto t = Make(Config(tables, "fail"));
    const absl::Status s = t->LearnSchema(schema);
    EXPECT_TRUE(absl::IsFailedPrecondition(s)) << s;
    EXPECT_THAT(std::string(s.message()), HasSubstr("tables.public.t.columns.secret"));
  }
  {
    auto t = Make(Config(tables, "keep"));
    ASSERT_OK(t->LearnSchema(schema));
    EXPECT_EQ(Insert(*t, schema, in), in);
  }
}

TEST(TransformerTest, AColumnAddedByDdlMidStreamNeverPassesRaw) {
  auto t = Make(Config(R"({"t": {"columns": {"id": {"transform": "KEEP"}, "a": {"transform": "NULL"}}}})"));
  TableSchema v1 = Schema("t", {Col("id", ValueKind::kInt64, "bigint", false, 1), Col("a", ValueKind::kText)});
  Event schema_event = SchemaEvent{{}, v1};
  ASSERT_OK(t->Transform(&schema_event));
  EXPECT_EQ(Insert(*t, v1, {Value::Int64(1), Value::Text("x")}), (Row{Value::Int64(1), Value::Null()}));
  EXPECT_TRUE(t->UnreviewedColumns().empty());
  TableSchema v2 = v1;
  v2.version = 2;
  v2.columns.push_back(Col("added", ValueKind::kText));
  schema_event = SchemaEvent{{}, v2};
  ASSERT_OK(t->Transform(&schema_event));
  const Row out = Insert(*t, v2, {Value::Int64(2), Value::Text("x"), Value::Text("raw pii")});
  EXPECT_TRUE(out[2].is_null());
  EXPECT_THAT(t->UnreviewedColumns(), ::testing::ElementsAre("public.t.added"));
  // An event of an older version still transforms under that version's plan;
  // one naming a version no schema event described stops.
  EXPECT_EQ(Insert(*t, v1, {Value::Int64(3), Value::Text("x")}), (Row{Value::Int64(3), Value::Null()}));
  ChangeEvent stale;
  stale.table = v1.id;
  stale.schema_version = 9;
  stale.after = Row{Value::Int64(3), Value::Text("x")};
  Event e = stale;
  EXPECT_TRUE(absl::IsFailedPrecondition(t->Transform(&e)));
}

TEST(TransformerTest, JsonPathsReplaceOnlyTheirPaths) {
  auto t = Make(Config(R"({"t": {"columns": {"doc": {"transform": "KEEP", "json_paths": {
      "$.contact.email": {"transform": "ANONYMIZE", "generator": "email"},
      "$.phones[*]": {"transform": "MASK", "pattern": "***{last2}"},
      "$.ssn": {"transform": "NULL"}}}}}})"));
  const TableSchema schema = Schema("t", {Col("doc", ValueKind::kJson, "jsonb")});
  ASSERT_OK(t->LearnSchema(schema));
  const Row out = Insert(*t, schema, {Value::Json(
      R"({"contact": {"email": "a@b.example", "city": "Ankara"}, "phones": ["5551234", "5559876"], "ssn": "123", "n": 7})")});
  const std::string& doc = out[0].str();
  EXPECT_THAT(doc, HasSubstr(R"("city":"Ankara")"));
  EXPECT_THAT(doc, HasSubstr(R"("phones":["***34","***76"])"));
  EXPECT_THAT(doc, HasSubstr(R"("ssn":null)"));
  EXPECT_THAT(doc, HasSubstr(R"("n":7)"));
  EXPECT_THAT(doc, ::testing::Not(HasSubstr("a@b.example")));
  EXPECT_THAT(doc, ::testing::MatchesRegex(R"re(.*"email":"[a-z-]+\.[a-z-]+[0-9]{2}@example\.(com|net|org)".*)re"));
  // Key order is kept.
  EXPECT_LT(doc.find("contact"), doc.find("phones"));
}

TEST(TransformerTest, ScrubReplacesEmbeddedIdentifiersOnly) {
  auto t = Make(Config(R"({"t": {"columns": {"note": {"transform": "SCRUB"}, "email": {"transform": "ANONYMIZE", "generator": "email"}}}})"));
  const TableSchema schema = Schema("t", {Col("note", ValueKind::kText), Col("email", ValueKind::kText)});
  ASSERT_OK(t->LearnSchema(schema));
  const std::string note =
      "Customer ayse@corp.example called from +90 532 123 45 67 about card 4111 1111 1111 1111, "
      "TCKN 10000000146, IBAN TR33 0006 1005 1978 6457 8413 26. Order 12345 shipped in 2024.";
  const Row out = Insert(*t, schema, {Value::Text(note), Value::Text("ayse@corp.example")});
  const std::string& s = out[0].str();
  for (const char* raw : {"ayse@corp.example", "532 123 45 67", "4111 1111 1111 1111", "10000000146",
                          "TR33 0006 1005 1978 6457 8413 26"}) {
    EXPECT_THAT(s, ::testing::Not(HasSubstr(raw))) << raw;
  }
  for (const char* kept : {"Customer ", " called from ", " about card ", "Order 12345 shipped in 2024."}) {
    EXPECT_THAT(s, HasSubstr(kept)) << kept;
  }
  // The email inside the text maps to the same fake as the email column.
  EXPECT_THAT(s, HasSubstr(out[1].str()));
}

TEST(TransformerTest, NullsAndTheUnchangedSentinelPassThrough) {
  auto t = Make(Config(kPeople));
  ASSERT_OK(t->LearnSchema(Users()));
  Row r = {Value::Int64(1), Value::Unchanged(), Value::Null(), Value::Unchanged(),
           Value::Null(), Value::Unchanged(), Value::Null(), Value::Unchanged()};
  ASSERT_OK(t->TransformRow(Users().id, &r));
  EXPECT_TRUE(r[1].is_unchanged());
  EXPECT_TRUE(r[2].is_null());
  EXPECT_TRUE(r[7].is_unchanged());
}

TEST(TransformerTest, ValuesARuleCannotShapeAreRedactedNeverPassed) {
  auto t = Make(Config(kPeople));
  ASSERT_OK(t->LearnSchema(Users()));
  Row r = {Value::Int64(1), Value::Null(), Value::Null(), Value::Null(),
           Value::Text("not a card"), Value::Text("abc"), Value::Text("nope"), Value::Null()};
  ASSERT_OK(t->TransformRow(Users().id, &r));
  EXPECT_TRUE(r[4].is_null());
  EXPECT_TRUE(r[5].is_null());
  EXPECT_TRUE(r[6].is_null());
  EXPECT_EQ(t->stats().values_redacted, 3u);
}

TEST(TransformerTest, ARuleThatCannotApplyToItsColumnTypeStops) {
  auto t = Make(Config(R"({"t": {"columns": {"n": {"transform": "MASK", "pattern": "##"}}}})"));
  const absl::Status s = t->LearnSchema(Schema("t", {Col("n", ValueKind::kInt64, "integer")}));
  EXPECT_TRUE(absl::IsInvalidArgument(s));
  EXPECT_THAT(std::string(s.message()), HasSubstr("tables.t.columns.n"));
}

TEST(TransformerTest, ProblemsAtStartNameTheirPath) {
  auto error = [](const JobConfig& config, std::string_view secret = kSecret) {
    auto t = Transformer::Create(config, secret, {});
    EXPECT_FALSE(t.ok());
    return t.ok() ? std::string() : std::string(t.status().message());
  };
  EXPECT_THAT(error(Config(kPeople), ""), HasSubstr("anonymization.secret_ref: the secret must be at least 16"));
  EXPECT_THAT(error(Config(kPeople), "short"), HasSubstr("at least 16 bytes"));
  EXPECT_THAT(error(Config(R"({"t": {"columns": {"a": {"transform": "MASK", "pattern": "{last"}}}})")),
              HasSubstr("tables.t.columns.a.pattern: mask pattern"));
  EXPECT_THAT(error(Config(R"({"t": {"columns": {"a": {"transform": "ANONYMIZE", "generator": "template", "pattern": "{{nope}}"}}}})")),
              HasSubstr("tables.t.columns.a: template: placeholder at position 0: unknown placeholder \"nope\""));
  EXPECT_THAT(error(Config(R"({"t": {"columns": {"a": {"transform": "ANONYMIZE", "generator": "model", "source": "xx_XX/names"}}}})")),
              HasSubstr("no word list \"xx_XX/names\""));
  EXPECT_THAT(error(Config(R"({"t": {"columns": {"a": {"transform": "ANONYMIZE", "generator": "full_name", "unique": true}}}})")),
              HasSubstr("cannot keep a unique column unique"));
  EXPECT_THAT(error(Config(R"({"t": {"columns": {
      "a": {"transform": "ANONYMIZE", "generator": "email", "domain": "d"},
      "b": {"transform": "ANONYMIZE", "generator": "full_name", "domain": "d"}}}})")),
              HasSubstr("shares domain \"d\""));
  EXPECT_THAT(error(Config(R"({"t": {"columns": {"a": {"transform": "ANONYMIZE", "generator": "national_id", "country": "FR"}}}})")),
              HasSubstr("no format for country \"FR\""));
  EXPECT_THAT(error(Config(R"({"t": {"columns": {"a": {"transform": "ANONYMIZE", "generator": "email"}}}})", "null", "xx_XX")),
              HasSubstr("anonymization.locale"));
}

// A ledger that reports every record in one domain as a collision.
class CollidingLedger : public MappingLedger {
 public:
  bool HasOverrides(std::string_view domain) const override { return domain == "anonymize:email:v1"; }
  absl::StatusOr<std::optional<std::string>> Override(std::string_view, std::string_view original) override {
    if (original == "vip@corp.example") return std::optional<std::string>("vip.test@example.com");
    return std::optional<std::string>();
  }
  absl::Status Record(std::string_view domain, std::string_view original, std::string_view) override {
    ++records;
    if (original == "collide@corp.example") {
      return absl::FailedPreconditionError("collision in unique domain " + std::string(domain));
    }
    return absl::OkStatus();
  }
  int records = 0;
};

TEST(TransformerTest, OverridesWinAndLedgerCollisionsStopTheStream) {
  CollidingLedger ledger;
  auto t = Make(Config(kPeople), kSecret, &ledger);
  ASSERT_OK(t->LearnSchema(Users()));
  Row r = {Value::Int64(1), Value::Text("VIP@corp.example"), Value::Null(), Value::Null(),
           Value::Null(), Value::Null(), Value::Null(), Value::Null()};
  ASSERT_OK(t->TransformRow(Users().id, &r));
  EXPECT_EQ(r[1].str(), "vip.test@example.com");
  r[1] = Value::Text("collide@corp.example");
  const absl::Status s = t->TransformRow(Users().id, &r);
  EXPECT_TRUE(absl::IsFailedPrecondition(s)) << s;
  EXPECT_THAT(std::string(s.message()), HasSubstr("collision in unique domain anonymize:email:v1"));
  EXPECT_GE(ledger.records, 1);
}

TEST(TransformerTest, TokenizeKeepsLengthAndFormatForTextAndNumbers) {
  auto t = Make(Config(R"({"t": {"columns": {"code": {"transform": "TOKENIZE"}, "n": {"transform": "TOKENIZE"},
      "u": {"transform": "TOKENIZE"}}}})"));
  const TableSchema schema = Schema("t", {Col("code", ValueKind::kText), Col("n", ValueKind::kUInt64, "bigint unsigned"),
                                          Col("u", ValueKind::kUuid, "uuid")});
  ASSERT_OK(t->LearnSchema(schema));
  std::string uuid;
  ParseUuid("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", &uuid);
  const Row out = Insert(*t, schema, {Value::Text("INV-2024-000123"), Value::UInt64(18446744073709551615ULL),
                                      Value::Uuid(uuid)});
  EXPECT_THAT(out[0].str(), ::testing::MatchesRegex(R"(INV-[0-9]{4}-[0-9]{6})"));
  EXPECT_NE(out[0].str(), "INV-2024-000123");
  EXPECT_EQ(std::to_string(out[1].uint64_value()).size(), 20u);
  EXPECT_NE(out[2].str(), uuid);
  EXPECT_EQ(out[2].str().size(), 16u);
}

TEST(TransformerTest, FakesFitTheirDeclaredLength) {
  auto t = Make(Config(R"({"t": {"columns": {"name": {"transform": "ANONYMIZE", "generator": "address"}}}})"));
  const TableSchema schema = Schema("t", {Col("name", ValueKind::kText, "character varying(8)")});
  ASSERT_OK(t->LearnSchema(schema));
  for (int i = 0; i < 100; ++i) {
    const Row out = Insert(*t, schema, {Value::Text("Street " + std::to_string(i))});
    size_t cps = 0;
    for (const char c : out[0].str()) cps += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
    EXPECT_LE(cps, 8u);
  }
}

}  // namespace
}  // namespace phony::transform
