// Our binlog decoder on binlog files the live MariaDB writes (ROW format,
// FULL image, FULL metadata): a table with every column type MariaDB 10.11
// has, at edge values and NULL, is inserted into, updated (a primary key
// change among them), deleted from, altered mid-stream (a column added in
// the middle), and a 100 000-row transaction goes into a second table. The
// files written meanwhile are closed (FLUSH BINARY LOGS) and decoded with
// BinlogFileReader + BinlogDecoder, then
//   - every decoded value is compared with what the server returns for that
//     row by SELECT, in canonical text (HEX, BIN, UTC times, FLOAT at float
//     precision), per docs/mysql.md's mapping;
//   - every row, value by value, with what `mariadb-binlog -vv` prints for
//     the same files (tests/golden/binlog_compare.h);
//   - the table maps with the tables' definitions in information_schema.
// The 100 000 rows are checked by count and checksums, not SELECT by SELECT.
#include <mysql.h>
#include <unistd.h>

#include <chrono>
#include <cstddef>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "src/capture/mysql/binlog_decoder.h"
#include "src/capture/mysql/binlog_values.h"
#include "tests/golden/binlog_compare.h"
#include "tests/golden/mariadb_binlog_text.h"
#include "tests/integration/mariadb_admin.h"
#include "tests/integration/services_env.h"

namespace phony {
namespace {

using ::phony::testing::OurRow;
using ::phony::testing::ServiceEnv;

// ---------------------------------------------------------------------------
// The server

using ::phony::testing::ConnectAsPhony;
using ::phony::testing::MysqlConn;

using Cell = std::optional<std::string>;  // NULL is nullopt
using Rows = std::vector<std::vector<Cell>>;

// Runs `sql`; its result rows (binary-safe), if it has any. A failure is
// recorded and gives no rows.
Rows Query(MYSQL* m, const std::string& sql) {
  Rows rows;
  if (mysql_real_query(m, sql.data(), sql.size()) != 0) {
    ADD_FAILURE() << sql.substr(0, 300) << ": " << mysql_error(m);
    return rows;
  }
  MYSQL_RES* res = mysql_store_result(m);
  if (res == nullptr) {
    EXPECT_EQ(mysql_field_count(m), 0u) << sql.substr(0, 300) << ": " << mysql_error(m);
    return rows;
  }
  const unsigned n = mysql_num_fields(res);
  while (MYSQL_ROW row = mysql_fetch_row(res)) {
    const unsigned long* lengths = mysql_fetch_lengths(res);
    std::vector<Cell> r;
    for (unsigned i = 0; i < n; ++i) {
      r.push_back(row[i] == nullptr ? Cell() : Cell(std::string(row[i], lengths[i])));
    }
    rows.push_back(std::move(r));
  }
  mysql_free_result(res);
  return rows;
}

std::string One(MYSQL* m, const std::string& sql) {
  const Rows rows = Query(m, sql);
  if (rows.empty() || rows[0].empty() || !rows[0][0]) {
    ADD_FAILURE() << sql << ": no value";
    return "";
  }
  return *rows[0][0];
}

// A binlog position as SHOW MASTER STATUS gives it.
struct Position {
  std::string file;
  uint64_t pos = 0;
};

Position MasterStatus(MYSQL* m) {
  const Rows rows = Query(m, "SHOW MASTER STATUS");
  if (rows.empty() || !rows[0][0] || !rows[0][1]) {
    ADD_FAILURE() << "SHOW MASTER STATUS: binary logging is off";
    return {};
  }
  return Position{*rows[0][0], std::stoull(*rows[0][1])};
}

// ---------------------------------------------------------------------------
// The columns, and how a server value and a decoded value meet

// How the SELECT renders a column, and so how our value is compared.
enum class Canon {
  kInt,        // SELECT c; kInt64
  kUInt,       // SELECT c; kUInt64 (BIGINT UNSIGNED)
  kDecimal,    // SELECT c; kDecimal with the column's scale
  kFloat,      // SELECT CAST(c AS DOUBLE); kDouble, equal as floats
  kDouble,     // SELECT c (the shortest round-trip form); kDouble, equal
  kBit1,       // SELECT BIN(c); kBool
  kBits,       // SELECT BIN(c); kBytes, big-endian, ceil(n/8) bytes
  kYear,       // SELECT c+0; kInt64 (0 for 0000)
  kDate,       // SELECT c; kDate, NULL for zero and partial dates
  kTime,       // SELECT c; kTime, signed micros
  kDatetime,   // SELECT c; kTimestamp, NULL for zero and partial dates
  kTimestamp,  // SELECT c with time_zone +00:00; kTimestampTz, NULL for zero
  kText,       // SELECT HEX(CONVERT(c USING utf8mb4)); kText, UTF-8
  kBytes,      // SELECT HEX(c); kBytes
};

ValueKind KindFor(Canon c) {
  switch (c) {
    case Canon::kInt: case Canon::kYear: return ValueKind::kInt64;
    case Canon::kUInt: return ValueKind::kUInt64;
    case Canon::kDecimal: return ValueKind::kDecimal;
    case Canon::kFloat: case Canon::kDouble: return ValueKind::kDouble;
    case Canon::kBit1: return ValueKind::kBool;
    case Canon::kBits: case Canon::kBytes: return ValueKind::kBytes;
    case Canon::kDate: return ValueKind::kDate;
    case Canon::kTime: return ValueKind::kTime;
    case Canon::kDatetime: return ValueKind::kTimestamp;
    case Canon::kTimestamp: return ValueKind::kTimestampTz;
    case Canon::kText: return ValueKind::kText;
  }
  return ValueKind::kNull;
}

struct Column {
  std::string name;
  std::string ddl;        // the column's type and attributes in CREATE TABLE
  Canon canon;
  std::string type_name;  // what our TypeName() must say ("" for ENUM/SET:
                          // then it must equal information_schema's COLUMN_TYPE)
};

std::string Quote(const std::string& name) { return "`" + name + "`"; }

std::string SelectExpr(const Column& c) {
  const std::string q = Quote(c.name);
  switch (c.canon) {
    case Canon::kFloat: return "CAST(" + q + " AS DOUBLE)";
    case Canon::kBit1: case Canon::kBits: return "BIN(" + q + ")";
    case Canon::kYear: return q + "+0";
    case Canon::kText: return "HEX(CONVERT(" + q + " USING utf8mb4))";
    case Canon::kBytes: return "HEX(" + q + ")";
    default: return q;
  }
}

std::string Hex(std::string_view bytes) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (char ch : bytes) {
    const auto b = static_cast<uint8_t>(ch);
    out.push_back(kHex[b >> 4]);
    out.push_back(kHex[b & 15]);
  }
  return out;
}

std::string Digits2(int64_t v) { return (v < 10 ? "0" : "") + std::to_string(v); }

std::string FormatDate(int64_t days) {
  int64_t y;
  unsigned m, d;
  CivilFromDays(days, &y, &m, &d);
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%04" PRId64 "-%02u-%02u", y, m, d);
  return buf;
}

// `.ffffff` cut to the column's digits (MariaDB prints exactly that many).
std::string Fraction(int64_t micros, int digits) {
  if (digits == 0) return "";
  char buf[16];
  std::snprintf(buf, sizeof(buf), "%06" PRId64, micros);
  return "." + std::string(buf, static_cast<size_t>(digits));
}

std::string FormatDatetime(int64_t micros, int digits) {
  int64_t days = micros / 86400000000LL, rest = micros % 86400000000LL;
  if (rest < 0) {
    rest += 86400000000LL;
    --days;
  }
  const int64_t s = rest / 1000000;
  return FormatDate(days) + " " + Digits2(s / 3600) + ":" + Digits2(s / 60 % 60) + ":" + Digits2(s % 60) +
         Fraction(rest % 1000000, digits);
}

// A date the server prints with a zero year, month or day.
bool ZeroDate(const std::string& text) {
  return text.size() >= 10 && (text.substr(0, 4) == "0000" || text.substr(5, 2) == "00" || text.substr(8, 2) == "00");
}

// Why our value `v` of column `col` (table map `c`) is not what the server
// returned (`server`), or "" when it is.
std::string Mismatch(const Column& col, const mysql::ColumnInfo& c, const Value& v, const Cell& server) {
  auto differ = [&](const std::string& ours) {
    return ours == *server ? std::string() : "ours " + ours.substr(0, 200) + " vs server " + server->substr(0, 200);
  };
  if (v.is_unchanged()) return "missing from the image";
  if ((col.canon == Canon::kDate || col.canon == Canon::kDatetime || col.canon == Canon::kTimestamp) && server &&
      ZeroDate(*server)) {
    return v.is_null() ? "" : "a zero date must decode as NULL, got " + v.DebugString();
  }
  if (!server || v.is_null()) {
    return v.is_null() == !server ? "" : "ours " + v.DebugString().substr(0, 200) + " vs server " + server.value_or("NULL");
  }
  if (v.kind() != KindFor(col.canon)) return std::string("decoded as ") + ValueKindName(v.kind());
  switch (col.canon) {
    case Canon::kInt: case Canon::kYear: return differ(std::to_string(v.int64_value()));
    case Canon::kUInt: return differ(std::to_string(v.uint64_value()));
    case Canon::kDecimal: return differ(v.str());
    case Canon::kFloat: {
      const float theirs = static_cast<float>(std::strtod(server->c_str(), nullptr));
      return static_cast<float>(v.double_value()) == theirs ? "" : differ(std::to_string(v.double_value()));
    }
    case Canon::kDouble: {
      char buf[40];
      std::snprintf(buf, sizeof(buf), "%.17g", v.double_value());
      return std::strtod(server->c_str(), nullptr) == v.double_value() ? "" : differ(buf);
    }
    case Canon::kBit1: return differ(v.bool_value() ? "1" : "0");
    case Canon::kBits: {
      if (v.str().size() != static_cast<size_t>((c.bits() + 7) / 8)) return "BIT value of " + std::to_string(v.str().size()) + " bytes";
      uint64_t bits = 0;
      for (char b : v.str()) bits = (bits << 8) | static_cast<uint8_t>(b);
      std::string bin;
      for (int i = 63; i >= 0; --i) {
        if (!bin.empty() || ((bits >> i) & 1)) bin.push_back(((bits >> i) & 1) ? '1' : '0');
      }
      return differ(bin.empty() ? "0" : bin);
    }
    case Canon::kDate: return differ(FormatDate(v.date_value()));
    case Canon::kTime: {
      const int64_t a = v.int64_value() < 0 ? -v.int64_value() : v.int64_value();
      const int64_t s = a / 1000000;
      return differ(std::string(v.int64_value() < 0 ? "-" : "") + Digits2(s / 3600) + ":" + Digits2(s / 60 % 60) + ":" +
                    Digits2(s % 60) + Fraction(a % 1000000, c.meta));
    }
    case Canon::kDatetime: case Canon::kTimestamp: return differ(FormatDatetime(v.int64_value(), c.meta));
    case Canon::kText: case Canon::kBytes: return differ(Hex(v.str()));
  }
  return "unknown canon";
}

// MariaDB 10.11's types; `types` gets every one. `late` is added by the
// ALTER TABLE mid-stream, after `i`.
std::vector<Column> TypeColumns() {
  std::string enum300 = "ENUM(", set64 = "SET(";
  for (int i = 1; i <= 300; ++i) {
    char buf[16];
    std::snprintf(buf, sizeof(buf), "%s'e%03d'", i > 1 ? "," : "", i);
    enum300 += buf;
  }
  for (int i = 1; i <= 64; ++i) {
    char buf[16];
    std::snprintf(buf, sizeof(buf), "%s's%02d'", i > 1 ? "," : "", i);
    set64 += buf;
  }
  return {
      {"id", "INT NOT NULL", Canon::kInt, "int"},
      {"ti", "TINYINT", Canon::kInt, "tinyint"},
      {"tiu", "TINYINT UNSIGNED", Canon::kInt, "tinyint unsigned"},
      {"si", "SMALLINT", Canon::kInt, "smallint"},
      {"siu", "SMALLINT UNSIGNED", Canon::kInt, "smallint unsigned"},
      {"mi", "MEDIUMINT", Canon::kInt, "mediumint"},
      {"miu", "MEDIUMINT UNSIGNED", Canon::kInt, "mediumint unsigned"},
      {"i", "INT", Canon::kInt, "int"},
      {"iu", "INT UNSIGNED", Canon::kInt, "int unsigned"},
      {"bi", "BIGINT", Canon::kInt, "bigint"},
      {"biu", "BIGINT UNSIGNED", Canon::kUInt, "bigint unsigned"},
      {"d65", "DECIMAL(65,30)", Canon::kDecimal, "decimal(65,30)"},
      {"d10", "DECIMAL(10,2)", Canon::kDecimal, "decimal(10,2)"},
      {"d5", "DECIMAL(5,0)", Canon::kDecimal, "decimal(5,0)"},
      {"d38", "DECIMAL(65,38)", Canon::kDecimal, "decimal(65,38)"},  // MariaDB's widest scale
      {"du", "DECIMAL(10,2) UNSIGNED", Canon::kDecimal, "decimal(10,2) unsigned"},
      {"fl", "FLOAT", Canon::kFloat, "float"},
      {"dbl", "DOUBLE", Canon::kDouble, "double"},
      {"b1", "BIT(1)", Canon::kBit1, "bit(1)"},
      {"b10", "BIT(10)", Canon::kBits, "bit(10)"},
      {"b64", "BIT(64)", Canon::kBits, "bit(64)"},
      {"yr", "YEAR", Canon::kYear, "year"},
      {"dt", "DATE", Canon::kDate, "date"},
      {"t0", "TIME", Canon::kTime, "time"},
      {"t3", "TIME(3)", Canon::kTime, "time(3)"},
      {"t6", "TIME(6)", Canon::kTime, "time(6)"},
      {"dtm0", "DATETIME", Canon::kDatetime, "datetime"},
      {"dtm3", "DATETIME(3)", Canon::kDatetime, "datetime(3)"},
      {"dtm6", "DATETIME(6)", Canon::kDatetime, "datetime(6)"},
      {"ts0", "TIMESTAMP NULL DEFAULT NULL", Canon::kTimestamp, "timestamp"},
      {"ts3", "TIMESTAMP(3) NULL DEFAULT NULL", Canon::kTimestamp, "timestamp(3)"},
      {"ts6", "TIMESTAMP(6) NULL DEFAULT NULL", Canon::kTimestamp, "timestamp(6)"},
      {"ch", "CHAR(10)", Canon::kText, "char(10)"},
      {"vc", "VARCHAR(300)", Canon::kText, "varchar(300)"},  // > 255 bytes: a 2-byte length
      {"vlat", "VARCHAR(20) CHARACTER SET latin1", Canon::kText, "varchar(20)"},
      {"chlat", "CHAR(4) CHARACTER SET latin1", Canon::kText, "char(4)"},
      {"vu3", "VARCHAR(20) CHARACTER SET utf8mb3", Canon::kText, "varchar(20)"},
      {"vasc", "VARCHAR(10) CHARACTER SET ascii", Canon::kText, "varchar(10)"},
      {"bn", "BINARY(8)", Canon::kBytes, "binary(8)"},
      {"vb", "VARBINARY(20)", Canon::kBytes, "varbinary(20)"},
      {"ttx", "TINYTEXT", Canon::kText, "tinytext"},
      {"tx", "TEXT", Canon::kText, "text"},
      {"mtx", "MEDIUMTEXT", Canon::kText, "mediumtext"},
      {"ltx", "LONGTEXT", Canon::kText, "longtext"},
      {"tbl", "TINYBLOB", Canon::kBytes, "tinyblob"},
      {"bl", "BLOB", Canon::kBytes, "blob"},
      {"mbl", "MEDIUMBLOB", Canon::kBytes, "mediumblob"},
      {"lbl", "LONGBLOB", Canon::kBytes, "longblob"},
      {"en", "ENUM('a','b','ç')", Canon::kText, ""},
      {"en300", enum300 + ")", Canon::kText, ""},  // 2-byte index
      {"enlat", "ENUM('é','ü','€') CHARACTER SET latin1", Canon::kText, ""},
      {"st", "SET('x','y','z')", Canon::kText, ""},
      {"st64", set64 + ")", Canon::kText, ""},  // 8-byte mask
      {"stlat", "SET('ä','ö') CHARACTER SET latin1", Canon::kText, ""},
      {"js", "JSON", Canon::kText, "longtext"},  // MariaDB's JSON is LONGTEXT with a JSON_VALID check
      {"geo", "GEOMETRY", Canon::kBytes, "geometry"},
      {"pt", "POINT", Canon::kBytes, "geometry"},
      {"ip6", "INET6", Canon::kBytes, "binary(16)"},  // the table map says BINARY(16)
      {"ip4", "INET4", Canon::kBytes, "binary(4)"},
      {"uu", "UUID", Canon::kBytes, "binary(16)"},
      {"hid", "INT INVISIBLE", Canon::kInt, "int"},
      {"nn", "VARCHAR(10) NOT NULL DEFAULT ''", Canon::kText, "varchar(10)"},
  };
}

const Column kLate{"late", "VARCHAR(20) CHARACTER SET latin1 DEFAULT 'déjà vu'", Canon::kText, "varchar(20)"};

// The table's columns after the ALTER TABLE: `late` after `i`.
std::vector<Column> WithLate(std::vector<Column> cols) {
  for (size_t k = 0; k < cols.size(); ++k) {
    if (cols[k].name == "i") {
      cols.insert(cols.begin() + static_cast<std::ptrdiff_t>(k + 1), kLate);
      break;
    }
  }
  return cols;
}

// One row to insert: column -> SQL expression; the others are NULL (`nn`
// has its default).
using Literals = std::vector<std::pair<std::string, std::string>>;

std::string InsertSql(const std::string& table, const Literals& row) {
  std::string cols, vals;
  for (const auto& [name, sql] : row) {
    cols += (cols.empty() ? "" : ",") + Quote(name);
    vals += (vals.empty() ? "" : ",") + sql;
  }
  return "INSERT INTO " + table + " (" + cols + ") VALUES (" + vals + ")";
}

std::string AllSet64() {
  std::string s;
  for (int i = 1; i <= 64; ++i) {
    char buf[8];
    std::snprintf(buf, sizeof(buf), "%ss%02d", i > 1 ? "," : "", i);
    s += buf;
  }
  return "'" + s + "'";
}

// Rows 1-5 (phase A). Row 1 holds the minimum of each type, row 2 the
// maximum (and the ~1 MB LONGBLOB), row 3 NULL in every nullable column,
// rows 4 and 5 zeros, tiny magnitudes, zero and partial dates, bytes that
// need care (0x00 at the end of a BINARY, control characters, quotes).
std::vector<Literals> PhaseARows() {
  const std::string turkish = "'Pijamalı hasta yağız şoföre çabucak güvendi. 😀🎉'";
  return {
      {{"id", "1"}, {"ti", "-128"}, {"tiu", "0"}, {"si", "-32768"}, {"siu", "0"}, {"mi", "-8388608"}, {"miu", "0"},
       {"i", "-2147483648"}, {"iu", "0"}, {"bi", "-9223372036854775808"}, {"biu", "0"},
       {"d65", "-99999999999999999999999999999999999.999999999999999999999999999999"}, {"d10", "-99999999.99"},
       {"d5", "-99999"}, {"d38", "-999999999999999999999999999.99999999999999999999999999999999999999"}, {"du", "0"},
       {"fl", "-3.40282e38"}, {"dbl", "-1.7976931348623157e308"}, {"b1", "0"}, {"b10", "0"}, {"b64", "0"},
       {"yr", "1901"}, {"dt", "'1000-01-01'"}, {"t0", "'-838:59:59'"}, {"t3", "'-838:59:59.999'"},
       {"t6", "'-838:59:59.999999'"}, {"dtm0", "'1000-01-01 00:00:00'"}, {"dtm3", "'1000-01-01 00:00:00.000'"},
       {"dtm6", "'1000-01-01 00:00:00.000000'"}, {"ts0", "'1970-01-01 00:00:01'"},
       {"ts3", "'1970-01-01 00:00:01.001'"}, {"ts6", "'1970-01-01 00:00:01.000001'"}, {"ch", "''"}, {"vc", "''"},
       {"vlat", "''"}, {"chlat", "''"}, {"vu3", "''"}, {"vasc", "''"}, {"bn", "x''"}, {"vb", "x''"}, {"ttx", "''"},
       {"tx", "''"}, {"mtx", "''"}, {"ltx", "''"}, {"tbl", "x''"}, {"bl", "x''"}, {"mbl", "x''"}, {"lbl", "x''"},
       {"en", "'a'"}, {"en300", "'e001'"}, {"enlat", "'é'"}, {"st", "''"}, {"st64", "''"}, {"stlat", "''"},
       {"js", "'[]'"}, {"geo", "ST_GeomFromText('POINT(0 0)')"}, {"pt", "ST_GeomFromText('POINT(-180 -90)')"},
       {"ip6", "'::'"}, {"ip4", "'0.0.0.0'"}, {"uu", "'00000000-0000-0000-0000-000000000000'"},
       {"hid", "-2147483648"}, {"nn", "''"}},
      {{"id", "2"}, {"ti", "127"}, {"tiu", "255"}, {"si", "32767"}, {"siu", "65535"}, {"mi", "8388607"},
       {"miu", "16777215"}, {"i", "2147483647"}, {"iu", "4294967295"}, {"bi", "9223372036854775807"},
       {"biu", "18446744073709551615"}, {"d65", "99999999999999999999999999999999999.999999999999999999999999999999"},
       {"d10", "99999999.99"}, {"d5", "99999"},
       {"d38", "999999999999999999999999999.99999999999999999999999999999999999999"}, {"du", "99999999.99"},
       {"fl", "3.40282e38"}, {"dbl", "1.7976931348623157e308"}, {"b1", "1"}, {"b10", "b'1111111111'"},
       {"b64", "0xFFFFFFFFFFFFFFFF"}, {"yr", "2155"}, {"dt", "'9999-12-31'"}, {"t0", "'838:59:59'"},
       {"t3", "'838:59:59.999'"}, {"t6", "'838:59:59.999999'"}, {"dtm0", "'9999-12-31 23:59:59'"},
       {"dtm3", "'9999-12-31 23:59:59.999'"}, {"dtm6", "'9999-12-31 23:59:59.999999'"},
       {"ts0", "'2038-01-19 03:14:07'"}, {"ts3", "'2038-01-19 03:14:07.999'"}, {"ts6", "'2038-01-19 03:14:07.999999'"},
       {"ch", "'ğüşİı😀🇹🇷'"}, {"vc", "REPEAT(" + turkish + ", 6)"}, {"vlat", "'é ü € ÿ Š œ ‰ ƒ'"},
       {"chlat", "'äöü€'"}, {"vu3", "'ğüş İı ç'"}, {"vasc", "'~ASCII!'"}, {"bn", "x'0102030405060708'"},
       {"vb", "x'00ff00ff0000'"}, {"ttx", "REPEAT('ş', 127)"}, {"tx", "REPEAT('Türkçe 😀 ', 1000)"},
       {"mtx", "REPEAT('ab', 100000)"}, {"ltx", "REPEAT('ğ', 40000)"}, {"tbl", "REPEAT(x'00ff', 127)"},
       {"bl", "REPEAT(x'000102', 20000)"}, {"mbl", "REPEAT(x'00ff', 40000)"},
       {"lbl", "REPEAT(x'000102fe', 262144)"},  // 1 MiB
       {"en", "'ç'"}, {"en300", "'e300'"}, {"enlat", "'€'"}, {"st", "'x,y,z'"}, {"st64", AllSet64()},
       {"stlat", "'ä,ö'"},
       // 30 levels deep (JSON_VALID's limit is 32).
       {"js", "CONCAT(REPEAT('{\"a\": [', 15), '\"deep ş 😀\"', REPEAT(']}', 15))"},
       {"geo", "ST_GeomFromText('POLYGON((0 0,10 0,10 10,0 10,0 0),(2 2,3 2,3 3,2 2))')"},
       {"pt", "ST_GeomFromText('POINT(1.5 -2.25)')"}, {"ip6", "'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff'"},
       {"ip4", "'255.255.255.255'"}, {"uu", "'ffffffff-ffff-ffff-ffff-ffffffffffff'"}, {"hid", "2147483647"},
       {"nn", "'not null ✓'"}},
      {{"id", "3"}, {"nn", "'n'"}},
      {{"id", "4"}, {"ti", "0"}, {"tiu", "1"}, {"si", "-1"}, {"siu", "1"}, {"mi", "-1"}, {"miu", "8388608"},
       {"i", "0"}, {"iu", "2147483648"}, {"bi", "-1"}, {"biu", "9223372036854775808"}, {"d65", "0"},
       {"d10", "-0.01"}, {"d5", "0"}, {"d38", "0.00000000000000000000000000000000000001"}, {"du", "0.5"},
       {"fl", "1.401298464324817e-45"}, {"dbl", "4.9406564584124654e-324"}, {"b1", "1"},
       {"b10", "b'1000000001'"}, {"b64", "0x8000000000000001"}, {"yr", "0"}, {"dt", "'0000-00-00'"},
       {"t0", "'00:00:00'"}, {"t3", "'-00:00:00.001'"}, {"t6", "'-00:00:00.000001'"},
       {"dtm0", "'0000-00-00 00:00:00'"}, {"dtm3", "'2024-02-29 12:34:56.789'"},
       {"dtm6", "'2024-02-29 12:34:56.000007'"}, {"ts0", "'0000-00-00 00:00:00'"},
       {"ts3", "'2024-02-29 12:34:56.5'"}, {"ts6", "'2024-02-29 12:34:56.000001'"}, {"ch", "'a'"},
       {"vc", "'it''s a \\\\ back\\nslash\\t\\0 /* x */ \\'q\\''"}, {"vlat", "'naïve café'"}, {"chlat", "'ß'"},
       {"vu3", "'x'"}, {"vasc", "'y'"}, {"bn", "x'01'"}, {"vb", "x'00'"}, {"ttx", "'NULL'"}, {"tx", "'\\r\\n'"},
       {"mtx", "'ok'"}, {"ltx", "'ok'"}, {"tbl", "x'00'"}, {"bl", "x'ff'"}, {"mbl", "x'7f'"}, {"lbl", "x'80'"},
       {"en", "'b'"}, {"en300", "'e256'"}, {"enlat", "'ü'"}, {"st", "'x,z'"}, {"st64", "'s01,s64'"},
       {"stlat", "'ö'"}, {"js", "'{\"k\": [1, 2.5, true, null, \"ş\"]}'"},
       {"geo", "ST_GeomFromText('LINESTRING(0 0,1 1,2 0)')"}, {"pt", "ST_GeomFromText('POINT(0 0)')"},
       {"ip6", "'::1'"}, {"ip4", "'192.168.0.1'"}, {"uu", "'6ccd780c-baba-1026-9564-5b8c656024db'"}, {"hid", "0"},
       {"nn", "''"}},
      {{"id", "5"}, {"fl", "1.1"}, {"dbl", "0.1"}, {"d10", "12345.6"}, {"dt", "'2020-00-10'"},
       {"dtm0", "'2024-01-00 00:00:00'"}, {"t0", "'-12:00:00'"}, {"t6", "'12:34:56.789012'"},
       {"bn", "x'0000000000000000'"}, {"ip6", "'2001:db8::'"}, {"ip4", "'10.0.0.0'"},
       {"uu", "'123e4567-e89b-42d3-a456-426614174000'"}, {"nn", "'five'"}},
  };
}

// ---------------------------------------------------------------------------
// The test

struct ColumnDef {  // one row of information_schema.COLUMNS
  std::string name, column_type, key, extra;
  bool nullable = true;
  std::optional<uint32_t> collation;
};

std::vector<ColumnDef> Definition(MYSQL* m, const std::string& db, const std::string& table) {
  std::vector<ColumnDef> out;
  for (const auto& r : Query(m, "SELECT c.COLUMN_NAME, c.COLUMN_TYPE, c.COLUMN_KEY, c.EXTRA, c.IS_NULLABLE, l.ID "
                                "FROM information_schema.COLUMNS c LEFT JOIN information_schema.COLLATIONS l "
                                "ON l.COLLATION_NAME = c.COLLATION_NAME WHERE c.TABLE_SCHEMA = '" + db +
                                "' AND c.TABLE_NAME = '" + table + "' ORDER BY c.ORDINAL_POSITION")) {
    ColumnDef d{.name = r[0].value_or(""), .column_type = r[1].value_or(""), .key = r[2].value_or(""),
                .extra = r[3].value_or(""), .nullable = r[4] == Cell("YES")};
    if (r[5]) d.collation = static_cast<uint32_t>(std::stoul(*r[5]));
    out.push_back(std::move(d));
  }
  return out;
}

// The table map of `types` against its definition and our column list.
void CheckTableMap(const mysql::TableMap& t, const std::vector<Column>& cols, const std::vector<ColumnDef>& def) {
  ASSERT_EQ(t.columns.size(), cols.size());
  ASSERT_EQ(def.size(), cols.size());
  EXPECT_TRUE(t.has_names);
  EXPECT_TRUE(t.has_signedness);
  EXPECT_TRUE(t.has_charsets);
  EXPECT_TRUE(t.has_primary_key);
  for (size_t i = 0; i < cols.size(); ++i) {
    const mysql::ColumnInfo& c = t.columns[i];
    const ColumnDef& d = def[i];
    const std::string where = "column " + std::to_string(i + 1) + " " + d.name + " (" + d.column_type + ")";
    EXPECT_EQ(c.name, d.name) << where;
    EXPECT_EQ(c.name, cols[i].name) << where;
    EXPECT_EQ(c.nullable, d.nullable) << where;
    EXPECT_EQ(c.key_ordinal, d.key == "PRI" ? 1 : 0) << where;
    if (c.is_numeric()) {
      EXPECT_EQ(c.is_unsigned, d.column_type.find("unsigned") != std::string::npos) << where;
    }
    if (d.collation) {
      EXPECT_EQ(c.collation, d.collation) << where;
    } else {
      // Numbers, dates and bit have none; BINARY, BLOB, GEOMETRY, INET6,
      // UUID have binary (63), which information_schema shows as NULL.
      EXPECT_TRUE(!c.collation || *c.collation == 63) << where << ": collation " << c.collation.value_or(0);
    }
    // MariaDB 10.11 writes no COLUMN_VISIBILITY metadata (MySQL 8.0.23+
    // does), so no column can be told invisible from the binlog; the
    // INVISIBLE one is in every image like the others.
    EXPECT_TRUE(c.visible) << where;
    EXPECT_EQ(mysql::KindOf(c), KindFor(cols[i].canon)) << where;
    if (c.type == mysql::kTypeEnum || c.type == mysql::kTypeSet) {
      EXPECT_EQ(mysql::TypeName(c), d.column_type) << where;  // the strings, in UTF-8
    } else {
      EXPECT_EQ(mysql::TypeName(c), cols[i].type_name) << where;
    }
    if (c.type == mysql::kTypeGeometry) {
      EXPECT_EQ(c.geometry_type, d.name == "pt" ? 1u : 0u) << where;  // POINT, GEOMETRY
    }
  }
}

using Snapshot = std::map<int64_t, std::map<std::string, Cell>>;  // id -> column -> text

Snapshot Select(MYSQL* m, const std::string& table, const std::vector<Column>& cols) {
  std::string sql = "SELECT ";
  for (size_t i = 0; i < cols.size(); ++i) sql += (i ? "," : "") + SelectExpr(cols[i]);
  sql += " FROM " + table + " ORDER BY id";
  Snapshot s;
  for (const auto& r : Query(m, sql)) {
    auto& row = s[std::stoll(r[0].value_or("0"))];
    for (size_t i = 0; i < cols.size(); ++i) row[cols[i].name] = r[i];
  }
  return s;
}

// Our row image against the server's row, column by column (matched by the
// table map's names).
void CompareWithServer(const std::string& where, const mysql::TableMap& t, const Row& image,
                       const std::vector<Column>& cols, const std::map<std::string, Cell>& server) {
  ASSERT_EQ(image.size(), t.columns.size()) << where;
  for (size_t i = 0; i < image.size(); ++i) {
    const mysql::ColumnInfo& c = t.columns[i];
    const Column* col = nullptr;
    for (const Column& k : cols) {
      if (k.name == c.name) col = &k;
    }
    ASSERT_NE(col, nullptr) << where << ": column " << c.name;
    auto it = server.find(c.name);
    ASSERT_NE(it, server.end()) << where << ": the server has no column " << c.name;
    const std::string why = Mismatch(*col, c, image[i], it->second);
    EXPECT_EQ(why, "") << where << " column " << c.name << " (" << col->ddl.substr(0, 40) << ")";
  }
}

class TestDatabase {
 public:
  TestDatabase(MYSQL* m, std::string name) : m_(m), name_(std::move(name)) {}
  ~TestDatabase() {
    const std::string sql = "DROP DATABASE IF EXISTS " + name_;
    if (mysql_real_query(m_, sql.data(), sql.size()) != 0) ADD_FAILURE() << sql << ": " << mysql_error(m_);
  }
  TestDatabase(const TestDatabase&) = delete;
  TestDatabase& operator=(const TestDatabase&) = delete;
  const std::string& name() const { return name_; }

 private:
  MYSQL* m_;
  std::string name_;
};

TEST(MariaDbBinlogTypesTest, EveryTypeDecodesAsTheServerStoredIt) {
  const auto started = std::chrono::steady_clock::now();
  MysqlConn conn = ConnectAsPhony();
  ASSERT_NE(conn, nullptr);
  MYSQL* m = conn.get();
  for (const auto& [var, want] : {std::pair{"binlog_format", "ROW"}, std::pair{"binlog_row_image", "FULL"},
                                  std::pair{"binlog_row_metadata", "FULL"}, std::pair{"log_bin", "1"}}) {
    EXPECT_EQ(One(m, std::string("SELECT @@GLOBAL.") + var), want) << var;
  }
  // Zero and partial dates allowed (no NO_ZERO_DATE / NO_ZERO_IN_DATE);
  // times read and written in UTC.
  Query(m, "SET NAMES utf8mb4");
  Query(m, "SET time_zone = '+00:00'");
  Query(m, "SET sql_mode = 'STRICT_TRANS_TABLES,NO_ENGINE_SUBSTITUTION'");

  TestDatabase db(m, "phony_types_" + std::to_string(getpid()));
  Query(m, "DROP DATABASE IF EXISTS " + db.name());
  Query(m, "CREATE DATABASE " + db.name() + " CHARACTER SET utf8mb4");
  Query(m, "USE " + db.name());  // seq_1_to_N (the SEQUENCE engine) needs a current database
  const std::string types = db.name() + ".types", bulk = db.name() + ".bulk";
  const std::vector<Column> cols_a = TypeColumns(), cols_c = WithLate(TypeColumns());
  {
    std::string ddl = "CREATE TABLE " + types + " (";
    for (const Column& c : cols_a) ddl += Quote(c.name) + " " + c.ddl + ", ";
    ddl += "PRIMARY KEY (id)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4";
    Query(m, ddl);
  }
  Query(m, "CREATE TABLE " + bulk + " (id INT NOT NULL PRIMARY KEY, txt VARCHAR(40) NOT NULL) ENGINE=InnoDB");
  ASSERT_FALSE(::testing::Test::HasFailure());

  // Phase A: inserts. Rows 1 and 2 in one statement, which the server
  // writes as two rows events (the 1 MB row alone), STMT_END_F on the last.
  const Position start = MasterStatus(m);
  const std::vector<Literals> rows_a = PhaseARows();
  {
    std::string sql = InsertSql(types, rows_a[0]);
    sql += ", (";
    for (size_t k = 0; k < rows_a[1].size(); ++k) sql += (k ? "," : "") + rows_a[1][k].second;
    // The same columns in the same order: the second row's list matches.
    ASSERT_EQ(rows_a[0].size(), rows_a[1].size());
    for (size_t k = 0; k < rows_a[1].size(); ++k) ASSERT_EQ(rows_a[0][k].first, rows_a[1][k].first);
    Query(m, sql + ")");
  }
  for (size_t k = 2; k < rows_a.size(); ++k) Query(m, InsertSql(types, rows_a[k]));
  const std::vector<ColumnDef> def_a = Definition(m, db.name(), "types");
  const Snapshot s1 = Select(m, types, cols_a);
  const Position end_a = MasterStatus(m);

  // Phase B: each row changes once. Row 2 (with its 1 MB blob) and row 4
  // are updated, row 5 moves to id 500, rows 1 and 3 go in one DELETE.
  Query(m, "UPDATE " + types + " SET ti = -1, lbl = REPEAT(x'fe', 1048576), vc = 'güncellendi ✓', "
                                "js = '{\"updated\": true}' WHERE id = 2");
  Query(m, "UPDATE " + types + " SET ti = NULL, d65 = '-0.000000000000000000000000000001', dbl = -2.5e-300, "
                                "t6 = '-00:00:01.5', st64 = 's32,s33', js = NULL, vlat = 'Œuvre', bn = x'ff00', "
                                "b64 = NULL, uu = 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11' WHERE id = 4");
  Query(m, "UPDATE " + types + " SET id = 500, vc = 'moved' WHERE id = 5");
  Query(m, "DELETE FROM " + types + " WHERE id IN (1, 3)");
  const Snapshot s2 = Select(m, types, cols_a);
  const Position end_b = MasterStatus(m);

  // Phase C: a column added in the middle, then rows written with the new
  // table map: two inserts and an update of an old row.
  Query(m, "ALTER TABLE " + types + " ADD COLUMN " + Quote(kLate.name) + " " + kLate.ddl + " AFTER i");
  const std::vector<ColumnDef> def_c = Definition(m, db.name(), "types");
  const Snapshot s2c = Select(m, types, cols_c);
  Query(m, InsertSql(types, {{"id", "6"}, {"late", "'après'"}, {"i", "6"}, {"vc", "'altı'"}, {"nn", "'6'"}}));
  Query(m, InsertSql(types, {{"id", "7"}, {"ti", "7"}, {"en300", "'e007'"}, {"nn", "'7'"}}));
  Query(m, "UPDATE " + types + " SET late = NULL, i = i - 1 WHERE id = 2");
  const Snapshot s3 = Select(m, types, cols_c);
  const Position end_c = MasterStatus(m);

  // Phase D: one transaction of 100 000 rows.
  constexpr int kBulkRows = 100000;
  Query(m, "BEGIN");
  Query(m, "INSERT INTO " + bulk + " SELECT seq, CONCAT('row-', seq, REPEAT('ş', seq % 7)) FROM seq_1_to_" +
               std::to_string(kBulkRows));
  Query(m, "COMMIT");
  const Rows bulk_sums = Query(m, "SELECT COUNT(*), SUM(id), SUM(LENGTH(txt)) FROM " + bulk);
  const Position end_d = MasterStatus(m);

  // Close the files and list those written since `start`.
  Query(m, "FLUSH BINARY LOGS");
  const Position after_flush = MasterStatus(m);
  std::string dir = One(m, "SELECT @@log_bin_basename");
  dir = dir.substr(0, dir.rfind('/'));
  std::vector<std::string> files;
  for (const auto& r : Query(m, "SHOW BINARY LOGS")) {
    const std::string name = r[0].value_or("");
    if (name >= start.file && name < after_flush.file) files.push_back(name);
  }
  ASSERT_FALSE(::testing::Test::HasFailure()) << "the statements must all have run";
  ASSERT_FALSE(files.empty());
  ASSERT_EQ(files.front(), start.file);
  const auto file_index = [&](const std::string& f) {
    for (size_t k = 0; k < files.size(); ++k) {
      if (files[k] == f) return static_cast<int>(k);
    }
    ADD_FAILURE() << f << " is not among the files " << files.front() << "..";
    return -1;
  };

  // Decode ours.
  struct Located {
    int file = 0;
    OurRow row;
  };
  std::vector<Located> ours;
  for (size_t k = 0; k < files.size(); ++k) {
    const std::string path = dir + "/" + files[k];
    testing::OurFile f = testing::DecodeOurs(path, [&](const mysql::TableMap& t) { return t.database == db.name(); });
    ASSERT_TRUE(f.status.ok()) << path << ": " << f.status
                               << " (the test reads the server's binlog files: run it as root or as the "
                                  "server's user)";
    for (OurRow& r : f.rows) ours.push_back(Located{static_cast<int>(k), std::move(r)});
  }
  const auto phase_of = [&](const Located& r) {
    const std::pair<int, uint64_t> at{r.file, r.row.end_log_pos};
    int phase = 0;
    for (const Position& p : {start, end_a, end_b, end_c, end_d}) {
      if (at <= std::pair<int, uint64_t>{file_index(p.file), p.pos}) return phase;
      ++phase;
    }
    return phase;
  };

  // 1. Every value of `types` against the server's SELECT: a before image
  // against the row as the previous phase left it, an after image as this
  // phase left it (each row changes at most once per phase).
  const std::map<int, std::pair<const Snapshot*, const Snapshot*>> snapshots = {
      {1, {nullptr, &s1}}, {2, {&s1, &s2}}, {3, {&s2c, &s3}}};
  std::map<int, std::string> ops_per_phase;
  std::set<const mysql::TableMap*> maps_a, maps_c;
  for (const Located& l : ours) {
    const OurRow& r = l.row;
    if (r.table->table != "types") continue;
    const int phase = phase_of(l);
    ASSERT_TRUE(phase >= 1 && phase <= 3) << "a row of `types` outside its phases: " << files[l.file] << ":"
                                           << r.end_log_pos;
    ops_per_phase[phase].push_back(r.op);
    (phase == 3 ? maps_c : maps_a).insert(r.table.get());
    const std::vector<Column>& cols = phase == 3 ? cols_c : cols_a;
    const std::string where = "phase " + std::to_string(phase) + " " + r.op + " at " + files[l.file] + ":" +
                              std::to_string(r.offset);
    const auto [before_state, after_state] = snapshots.at(phase);
    if (r.before) {
      const int64_t id = (*r.before)[0].int64_value();
      ASSERT_TRUE(before_state != nullptr && before_state->count(id)) << where << " id " << id;
      CompareWithServer(where + " before id " + std::to_string(id), *r.table, *r.before, cols, before_state->at(id));
    }
    if (r.after) {
      const int64_t id = (*r.after)[0].int64_value();
      ASSERT_TRUE(after_state->count(id)) << where << " id " << id;
      CompareWithServer(where + " after id " + std::to_string(id), *r.table, *r.after, cols, after_state->at(id));
    }
  }
  EXPECT_EQ(ops_per_phase[1], "ccccc");
  EXPECT_EQ(ops_per_phase[2], "uuudd");
  EXPECT_EQ(ops_per_phase[3], "ccu");

  // 4. The table maps, before and after the ALTER.
  ASSERT_FALSE(maps_a.empty());
  ASSERT_FALSE(maps_c.empty());
  for (const mysql::TableMap* t : maps_a) CheckTableMap(*t, cols_a, def_a);
  for (const mysql::TableMap* t : maps_c) CheckTableMap(*t, cols_c, def_c);

  // The 100 000-row transaction: count and checksums against the server's,
  // all in one transaction (one GTID).
  {
    uint64_t count = 0, id_sum = 0, length_sum = 0;
    std::set<std::string> gtids;
    for (const Located& l : ours) {
      const OurRow& r = l.row;
      if (r.table->table != "bulk") continue;
      EXPECT_EQ(r.op, 'c');
      EXPECT_EQ(phase_of(l), 4);
      ASSERT_TRUE(r.after.has_value());
      ASSERT_EQ((*r.after)[0].kind(), ValueKind::kInt64);
      ASSERT_EQ((*r.after)[1].kind(), ValueKind::kText);
      ++count;
      id_sum += static_cast<uint64_t>((*r.after)[0].int64_value());
      length_sum += (*r.after)[1].str().size();
      gtids.insert(r.gtid);
    }
    ASSERT_EQ(bulk_sums.size(), 1u);
    EXPECT_EQ(std::to_string(count), bulk_sums[0][0].value_or(""));
    EXPECT_EQ(std::to_string(id_sum), bulk_sums[0][1].value_or(""));
    EXPECT_EQ(std::to_string(length_sum), bulk_sums[0][2].value_or(""));
    EXPECT_EQ(count, static_cast<uint64_t>(kBulkRows));
    EXPECT_EQ(gtids.size(), 1u) << "the 100 000 rows must be one transaction";
  }

  // 2. Row by row, value by value, against mariadb-binlog -vv on the same
  // files. It prints every column of these tables (mysql56 temporals, no
  // MySQL JSON); its quirks (YEAR 0 as 1900, latin1 raw, BINARY without its
  // pad, ENUM as index, SET as little-endian bits, zero dates as stored) are
  // normalized by testing::AsPrinted, so no column needs skipping.
  std::vector<phony::testing::BinlogTextRow> theirs;
  for (const std::string& f : files) {
    auto text = phony::testing::RunMariadbBinlog(dir + "/" + f);
    ASSERT_TRUE(text.ok()) << text.status();
    ASSERT_TRUE(text->complete) << "mariadb-binlog did not read " << f << " to the end";
    EXPECT_TRUE(text->errors.empty()) << f << ": " << text->errors.front();
    for (phony::testing::BinlogTextRow& r : text->rows) {
      if (r.db == db.name()) theirs.push_back(std::move(r));
    }
  }
  ASSERT_EQ(ours.size(), theirs.size());
  for (size_t k = 0; k < ours.size(); ++k) {
    const OurRow& o = ours[k].row;
    const phony::testing::BinlogTextRow& t = theirs[k];
    const std::string where = files[ours[k].file] + " row " + std::to_string(k) + " (end_log_pos " +
                              std::to_string(t.end_log_pos) + ")";
    ASSERT_EQ(o.statement_end_log_pos, t.end_log_pos) << where;
    ASSERT_EQ(o.table->table, t.table) << where;
    ASSERT_EQ(o.op, t.op) << where;
    EXPECT_EQ(o.gtid, t.gtid) << where;
    testing::CompareImage(where + " before", *o.table, o.before, t.before);
    testing::CompareImage(where + " after", *o.table, o.after, t.after);
    if (::testing::Test::HasFailure()) break;  // one broken row is enough to read
  }

  std::printf("decoded %zu rows of %zu files in %.1f s\n", ours.size(), files.size(),
              std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
}

}  // namespace
}  // namespace phony
