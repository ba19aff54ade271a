// Differential test of the pgoutput decoder and the text value parser
// against the server itself: rows with edge values of every mapped type are
// captured through a real pgoutput slot (PostgreSQL 15 with protocol 1 and 3,
// PostgreSQL 17 with protocol 4), decoded, and compared with what the server
// computes independently for the same rows (IEEE bits through float8send,
// epoch microseconds through extract, hex through encode). An UPDATE that
// leaves an out-of-line TOAST column untouched must arrive as kUnchanged.
#include <libpq-fe.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "core/byte_reader.h"
#include "core/testing/status_matchers.h"
#include "gtest/gtest.h"
#include "src/capture/postgres/pg_values.h"
#include "src/capture/postgres/pgoutput_decoder.h"
#include "src/capture/postgres/replication_client.h"
#include "tests/integration/pg_test_util.h"

namespace phony::pg {
namespace {

using ::phony::testing::ConnectPg;
using ::phony::testing::DropSlot;
using ::phony::testing::NextPgoutputMessage;
using ::phony::testing::PgConn;
using ::phony::testing::PgQuery;
using ::phony::testing::ServiceEnv;
using ::phony::testing::StartPgoutput;

std::string Hex(std::string_view bytes) {
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 15]);
  }
  return out;
}

// The columns under test and, for each, the SQL expression the server uses
// to describe the value independently of its output function.
struct Column {
  const char* name;
  const char* type;  // "{S}" stands for the test's suffix (user-defined types)
  const char* oracle;
  // Literals of rows 5 and 6 (the container and catalog-defined types);
  // nullptr inserts NULL. Rows 1-4 hold the scalar edge values.
  const char* v5 = nullptr;
  const char* v6 = nullptr;
};
const Column kColumns[] = {
    {"b", "bool", "b::text"},
    {"i2", "int2", "i2::text"},
    {"i8", "int8", "i8::text"},
    {"f4", "float4", "encode(float4send(f4), 'hex')"},
    {"f8", "float8", "encode(float8send(f8), 'hex')"},
    {"n", "numeric", "n::text"},
    {"tx", "text", "encode(convert_to(tx, 'UTF8'), 'hex')"},
    {"by", "bytea", "encode(by, 'hex')"},
    {"d", "date", "CASE WHEN isfinite(d) THEN (d - date '1970-01-01')::text ELSE d::text END"},
    {"tm", "time", "(extract(epoch from tm) * 1000000)::bigint::text"},
    {"ttz", "timetz",
     "((extract(hour from ttz) * 3600 + extract(minute from ttz) * 60) * 1000000 + "
     "extract(microseconds from ttz))::bigint::text || '@' || extract(timezone from ttz)::int::text"},
    {"ts", "timestamp",
     "CASE WHEN isfinite(ts) THEN (extract(epoch from ts) * 1000000)::bigint::text ELSE ts::text END"},
    {"tstz", "timestamptz",
     "CASE WHEN isfinite(tstz) THEN (extract(epoch from tstz) * 1000000)::bigint::text ELSE tstz::text END"},
    {"iv", "interval",
     "(extract(year from iv) * 12 + extract(month from iv))::int::text || 'm' || "
     "extract(day from iv)::int::text || 'd' || ((extract(hour from iv) * 3600 + "
     "extract(minute from iv) * 60) * 1000000 + extract(microseconds from iv))::bigint::text || 'us'"},
    {"u", "uuid", "u::text"},
    {"j", "jsonb", "j::text"},
    {"ip", "inet", "abbrev(ip)"},  // the output function, unlike ::text, omits a full-length mask
    {"net", "cidr", "net::text"},
    {"mac", "macaddr", "mac::text"},
    {"bits", "varbit", "bits::text"},
    {"ch", "\"char\"", "ch::text"},
    {"arr", "int4[]", "arr::text"},
    // Pass-through types: the value is the server's own output text, in
    // the binary format too (the oracle session uses the same settings).
    {"tarr", "text[]", "tarr::text", R"('{"a b","",NULL,"NULL","q\"uote","back\\slash",plain,"{x}"}')",
     "'{}'"},
    {"i8arr", "int8[]", "i8arr::text", "'[0:1][-1:0]={{1,2},{3,NULL}}'", "'{{{1},{2}},{{3},{4}}}'"},
    {"f4arr", "float4[]", "f4arr::text", "'{1.5,1e6,-0,NaN,123456,0.0001,1e-5,3.4028235e38}'",
     "'{-Infinity}'"},
    {"f8arr", "float8[]", "f8arr::text",
     "'{0.1,1e20,123456789012345,1e15,1e-5,0.0001,5e-324,-1.7976931348623157e308}'", "'{NaN}'"},
    {"narr", "numeric[]", "narr::text", "'{1.50,NaN,-0.001,Infinity}'", nullptr},
    {"barr", "bool[]", "barr::text", "'{t,f,NULL}'", nullptr},
    {"darr", "date[]", "darr::text", "'{2024-02-29,0044-03-15 BC,infinity,-infinity}'", nullptr},
    {"tsarr", "timestamp[]", "tsarr::text", "'{\"2024-02-29 13:45:06.5\",\"0044-03-15 12:00:00 BC\"}'",
     nullptr},
    {"tstzarr", "timestamptz[]", "tstzarr::text",
     "'{\"2024-02-29 13:45:06.000001+00\",infinity,\"1999-12-31 23:59:59-08\"}'", nullptr},
    {"tmarr", "time[]", "tmarr::text", "'{00:00:00,23:59:59.999999,24:00:00}'", nullptr},
    {"ttzarr", "timetz[]", "ttzarr::text", "'{12:00:00+05:30,01:02:03.25-08,00:00:00+00}'", nullptr},
    {"ivarr", "interval[]", "ivarr::text",
     "'{\"1 year 2 mons\",\"-1 days +00:00:00.5\",\"0 seconds\",\"-3 hours -0.25 seconds\",\"14 mons\"}'",
     nullptr},
    {"byarr", "bytea[]", "byarr::text", R"('{"\\x00ff",NULL,"\\x"}')", nullptr},
    {"uarr", "uuid[]", "uarr::text", "'{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11}'", nullptr},
    {"jarr", "jsonb[]", "jarr::text", R"('{"{\"a\": [1, 2]}","null"}')", nullptr},
    {"iparr", "inet[]", "iparr::text", "'{10.0.0.1/8,::1}'", nullptr},
    {"mon", "money", "mon::text", "'1234567.89'", "'-0.05'"},
    {"pt", "point", "pt::text", "'(1.5,-2)'", "'(1e20,1e-5)'"},
    {"ls", "lseg", "ls::text", "'[(0,0),(1,1.5)]'", nullptr},
    {"bx", "box", "bx::text", "'((1,2),(3,4))'", nullptr},
    {"pth", "path", "pth::text", "'[(0,0),(1,1),(2,0)]'", "'((0,0),(1,1))'"},
    {"poly", "polygon", "poly::text", "'((0,0),(1,1),(1,0))'", nullptr},
    {"ln", "line", "ln::text", "'{1,-1,0.5}'", nullptr},
    {"circ", "circle", "circ::text", "'<(1,2),3>'", nullptr},
    {"bxarr", "box[]", "bxarr::text", "ARRAY['((1,1),(0,0))'::box, '((3,3),(2,2))']", nullptr},
    {"rng", "int4range", "rng::text", "'[1,10)'", "'empty'"},
    {"nrng", "numrange", "nrng::text", "'(1.5,)'", "'(,2]'"},
    {"tsrng", "tstzrange", "tsrng::text", "'[2024-01-01 00:00:00+00,2024-02-01 00:00:00+00)'", nullptr},
    {"mrng", "int4multirange", "mrng::text", "'{[1,3),[5,7)}'", "'{}'"},
    {"mood", "mood_{S}", "mood::text", "'happy'", "'so so'"},
    {"moods", "mood_{S}[]", "moods::text", "'{sad,\"so so\"}'", nullptr},
    {"dom", "posint_{S}", "dom::text", "42", nullptr},
    {"pair", "pair_{S}", "pair::text", "ROW(1, 'x y', '{1,2}')", "ROW(NULL, '', NULL)"},
    {"prng", "posrange_{S}", "prng::text", "'[1,5]'", nullptr},
};

std::string WithSuffix(std::string type, const std::string& suffix) {
  if (size_t at = type.find("{S}"); at != std::string::npos) type.replace(at, 3, suffix);
  return type;
}

// Our Value, rendered the way the oracle expression renders it.
std::string Render(const Value& v, const std::string& type) {
  switch (v.kind()) {
    case ValueKind::kNull: return "<null>";
    case ValueKind::kBool: return v.bool_value() ? "true" : "false";
    case ValueKind::kInt64: return std::to_string(v.int64_value());
    case ValueKind::kDouble: {
      std::string be;
      if (type == "float4") {
        const float f = static_cast<float>(v.double_value());
        uint32_t bits;
        std::memcpy(&bits, &f, 4);
        PutU32BE(&be, bits);
      } else {
        const double d = v.double_value();
        uint64_t bits;
        std::memcpy(&bits, &d, 8);
        PutU64BE(&be, bits);
      }
      return Hex(be);
    }
    case ValueKind::kDecimal: return v.str();
    case ValueKind::kText: return type == "text" ? Hex(v.str()) : v.str();
    case ValueKind::kBytes: return Hex(v.str());
    case ValueKind::kDate:
      if (v.date_value() == kDatePosInfinity) return "infinity";
      if (v.date_value() == kDateNegInfinity) return "-infinity";
      return std::to_string(v.date_value());
    case ValueKind::kTime: return std::to_string(v.int64_value());
    case ValueKind::kTimeTz: return std::to_string(v.int64_value()) + "@" + std::to_string(v.tz_offset_seconds());
    case ValueKind::kTimestamp:
    case ValueKind::kTimestampTz:
      if (v.int64_value() == kTimestampPosInfinity) return "infinity";
      if (v.int64_value() == kTimestampNegInfinity) return "-infinity";
      return std::to_string(v.int64_value());
    case ValueKind::kInterval: {
      const Interval iv = v.interval_value();
      return std::to_string(iv.months) + "m" + std::to_string(iv.days) + "d" + std::to_string(iv.micros) + "us";
    }
    case ValueKind::kUuid: return FormatUuid(v.str());
    case ValueKind::kJson: return v.str();
    default: return v.DebugString();
  }
}

struct Captured {
  std::map<uint32_t, PgRelation> relations;  // views into `messages`
  std::vector<std::string> messages;         // owns the bytes
  std::vector<std::pair<uint32_t, PgTuple>> inserts;
  std::vector<PgUpdate> updates;
  int commits = 0;
};

struct TypesCase {
  const char* server;
  int proto;
  bool binary;
};

class PgoutputTypesTest : public ::testing::TestWithParam<TypesCase> {};

TEST_P(PgoutputTypesTest, DecodedValuesMatchTheServer) {
  const std::string prefix = GetParam().server;
  const int proto = GetParam().proto;
  const bool binary = GetParam().binary;
  PgConn sql = ConnectPg(prefix, false);
  ASSERT_EQ(PQstatus(sql.get()), CONNECTION_OK);
  const std::string suffix = std::to_string(getpid()) + "_" + std::to_string(proto) + (binary ? "b" : "t");
  const std::string table = "types_" + suffix, pub = "types_pub_" + suffix, slot = "types_slot_" + suffix;

  PgQuery(sql.get(), "CREATE TYPE mood_" + suffix + " AS ENUM ('sad', 'so so', 'happy')");
  PgQuery(sql.get(), "CREATE DOMAIN posint_" + suffix + " AS int CHECK (VALUE > 0)");
  PgQuery(sql.get(), "CREATE TYPE pair_" + suffix + " AS (a int, b text, c int[])");
  PgQuery(sql.get(), "CREATE TYPE posrange_" + suffix + " AS RANGE (subtype = int8)");
  std::string create = "CREATE TABLE " + table + " (id int PRIMARY KEY";
  for (const Column& c : kColumns) create += std::string(", ") + c.name + " " + WithSuffix(c.type, suffix);
  create += ", big text)";
  PgQuery(sql.get(), create);
  PgQuery(sql.get(), "ALTER TABLE " + table + " ALTER big SET STORAGE EXTERNAL");
  PgQuery(sql.get(), "CREATE PUBLICATION " + pub + " FOR TABLE " + table);
  PgQuery(sql.get(), "SELECT pg_create_logical_replication_slot('" + slot + "', 'pgoutput')");

  const std::string cols = "id, b, i2, i8, f4, f8, n, tx, by, d, tm, ttz, ts, tstz, iv, u, j, ip, net, mac, bits, ch, arr, big";
  std::string more_cols = "id", row5 = "5", row6 = "6";
  for (const Column& c : kColumns) {
    if (c.v5 == nullptr && c.v6 == nullptr) continue;
    more_cols += std::string(", ") + c.name;
    row5 += std::string(", ") + (c.v5 ? c.v5 : "NULL");
    row6 += std::string(", ") + (c.v6 ? c.v6 : "NULL");
  }
  PgQuery(sql.get(), "INSERT INTO " + table + " (" + cols + ") VALUES "
        "(1, true, 12345, 9007199254740993, 3.14159, 2.718281828459045, 12345.678900, 'héllo wörld ✓', "
        "'\\x00ff7f80', '2024-02-29', '13:45:06.789', '13:45:06.789+05:30', '2024-02-29 13:45:06.123456', "
        "'2024-02-29 13:45:06.123456+00', '1 year 2 months 3 days 04:05:06.5', "
        "'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '{\"a\": [1, 2, {\"b\": null}]}', '192.168.0.1/24', "
        "'10.0.0.0/8', '08:00:2b:01:02:03', B'10110', 'x', "
        "'{1,2,NULL}', repeat('toast-me-', 2000)),"
        "(2, false, -32768, -9223372036854775808, 'NaN', '-Infinity', 'NaN', '', '\\x', 'infinity', "
        "'24:00:00', '00:00:01-15:59', '-infinity', 'infinity', "
        "'-1 years -2 mons +3 days -04:05:06.000001', '00000000-0000-0000-0000-000000000000', '[]', '::1', "
        "'2001:db8::/32', '00:00:00:00:00:00', B'', ' ', "
        "'{}', NULL),"
        "(3, NULL, 32767, 9223372036854775807, '1e-45', '4.9e-324', "
        "'-123456789012345678901234567890.123456789012345678901234567890', E'tab\\tnew\\nline\\\\', "
        "decode(repeat('00ff', 10), 'hex'), '0044-03-15 BC', '00:00:00', '23:59:59.999999+15:59', "
        "'0044-03-15 12:00:00 BC', '1999-12-31 23:59:59.999999-08', '0 seconds', "
        "'ffffffff-ffff-ffff-ffff-ffffffffffff', '\"str\"', '::ffff:1.2.3.4', "
        "'2001:db8:0:0:1::/80', 'ff:ff:ff:ff:ff:ff', B'101010101', 'z', '{-1}', 'short'),"
        "(4, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, "
        "NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)");
  // Leaves the out-of-line TOASTed `big` untouched: it must arrive unchanged.
  PgQuery(sql.get(), "UPDATE " + table + " SET i2 = i2 + 1 WHERE id = 1");
  PgQuery(sql.get(), "INSERT INTO " + table + " (" + more_cols + ") VALUES (" + row5 + "), (" + row6 + ")");

  // The oracle: what the server computes for each row and column.
  std::string oracle_sql = "SELECT id";
  for (const Column& c : kColumns) oracle_sql += std::string(", ") + c.oracle;
  oracle_sql += " FROM " + table + " ORDER BY id";
  // Row 1 is read after the update: i2 is one more than it was inserted.
  // The output settings are the replication session's.
  PgQuery(sql.get(), "SET DateStyle = ISO; SET TimeZone = UTC; SET IntervalStyle = iso_8601; "
                     "SET bytea_output = hex; SET extra_float_digits = 1; SET lc_monetary = 'C'");
  const auto oracle = PgQuery(sql.get(), oracle_sql);
  ASSERT_EQ(oracle.size(), 6u);

  PgConn repl = ConnectPg(prefix, true, std::string("options='") + kReplicationSessionOptions + "'");
  ASSERT_EQ(PQstatus(repl.get()), CONNECTION_OK);
  ASSERT_TRUE(StartPgoutput(repl.get(), slot, "proto_version '" + std::to_string(proto) +
                                                  "', publication_names '" + pub + "'" +
                                                  (binary ? ", binary 'true'" : "")));

  Captured cap;
  DecodeContext ctx{.protocol_version = proto};
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (cap.commits < 3 && std::chrono::steady_clock::now() < deadline) {
    std::string data = NextPgoutputMessage(repl.get());
    ASSERT_FALSE(data.empty());
    cap.messages.push_back(std::move(data));
    const std::string& msg = cap.messages.back();
    ASSERT_OK_AND_ASSIGN(PgMessage m, DecodePgoutputMessage(msg, ctx));
    if (auto* rel = std::get_if<PgRelation>(&m)) cap.relations[rel->oid] = *rel;
    if (auto* ins = std::get_if<PgInsert>(&m)) cap.inserts.emplace_back(ins->relation_oid, ins->new_tuple);
    if (auto* upd = std::get_if<PgUpdate>(&m)) cap.updates.push_back(*upd);
    if (std::holds_alternative<PgCommit>(m)) ++cap.commits;
  }
  ASSERT_EQ(cap.inserts.size(), 6u);
  ASSERT_EQ(cap.updates.size(), 1u);
  ASSERT_EQ(cap.relations.size(), 1u);
  const PgRelation& rel = cap.relations.begin()->second;
  ASSERT_EQ(rel.columns.size(), std::size(kColumns) + 2);
  EXPECT_TRUE(rel.columns[0].is_key);

  // User-defined types are described by the catalog, as capture does.
  PgConnectOptions connect;
  connect.host = ServiceEnv("PHONY_" + prefix + "_HOST");
  connect.port = std::stoi(ServiceEnv("PHONY_" + prefix + "_PORT"));
  connect.user = ServiceEnv("PHONY_" + prefix + "_USER");
  connect.database = "postgres";
  ASSERT_OK_AND_ASSIGN(auto catalog, PgReplicationClient::Connect(connect));
  PgTypeCache types([&](uint32_t oid) { return catalog->DescribeType(oid); });
  auto decode_row = [&](const PgTuple& tuple) {
    std::vector<Value> values;
    for (size_t i = 0; i < tuple.size(); ++i) {
      const auto& col = tuple[i];
      if (col.kind == TupleColumnKind::kNull) {
        values.push_back(Value::Null());
      } else if (col.kind == TupleColumnKind::kUnchanged) {
        values.push_back(Value::Unchanged());
      } else {
        EXPECT_EQ(col.kind, binary ? TupleColumnKind::kBinary : TupleColumnKind::kText);
        auto v = col.kind == TupleColumnKind::kText ? ParseTextValue(rel.columns[i].type_oid, col.data)
                                                    : ParseBinaryValue(rel.columns[i].type_oid, col.data, &types);
        EXPECT_TRUE(v.ok()) << rel.columns[i].name << ": " << v.status();
        values.push_back(v.ok() ? *v : Value::Null());
      }
    }
    return values;
  };

  for (size_t row = 0; row < 6; ++row) {
    // Row 1's current state is the update's new tuple; the others are inserts.
    const PgTuple& tuple = row == 0 ? cap.updates[0].new_tuple : cap.inserts[row].second;
    const std::vector<Value> values = decode_row(tuple);
    ASSERT_EQ(values.size(), std::size(kColumns) + 2);
    EXPECT_EQ(Render(values[0], "int4"), oracle[row][0]);
    for (size_t c = 0; c < std::size(kColumns); ++c) {
      EXPECT_EQ(Render(values[c + 1], kColumns[c].type), oracle[row][c + 1])
          << "row " << row + 1 << " column " << kColumns[c].name << " (" << kColumns[c].type << ")";
    }
  }
  // The insert carried the TOASTed value; the update sent it as unchanged.
  const std::vector<Value> inserted = decode_row(cap.inserts[0].second);
  EXPECT_EQ(inserted.back().kind(), ValueKind::kText);
  EXPECT_EQ(inserted.back().str().size(), 18000u);
  const std::vector<Value> updated = decode_row(cap.updates[0].new_tuple);
  EXPECT_TRUE(updated.back().is_unchanged()) << updated.back().DebugString().substr(0, 40);

  repl.reset();
  DropSlot(sql.get(), slot);
  PgQuery(sql.get(), "DROP PUBLICATION " + pub);
  PgQuery(sql.get(), "DROP TABLE " + table);
  for (const char* type : {"TYPE mood_", "DOMAIN posint_", "TYPE pair_", "TYPE posrange_"}) {
    PgQuery(sql.get(), std::string("DROP ") + type + suffix);
  }
}

INSTANTIATE_TEST_SUITE_P(Servers, PgoutputTypesTest,
                         ::testing::Values(TypesCase{"PG15", 1, false}, TypesCase{"PG15", 3, false},
                                           TypesCase{"PG17", 4, false}, TypesCase{"PG15", 3, true},
                                           TypesCase{"PG17", 4, true}),
                         [](const auto& param_info) {
                           return std::string(param_info.param.server) + "_proto" +
                                  std::to_string(param_info.param.proto) +
                                  (param_info.param.binary ? "_binary" : "_text");
                         });

}  // namespace
}  // namespace phony::pg
