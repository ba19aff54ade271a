// Converts PostgreSQL column values in the text output format (what pgoutput
// sends by default) into core Values, by type OID. Pure and thread-safe.
//
// The replication session must use the output settings the parsers expect;
// kReplicationSessionOptions lists them (ISO dates, UTC, ISO 8601 intervals,
// hex bytea, shortest-exact floats). Types without a Value kind of their own
// (inet, money, ranges, arrays, bit strings, xml, geometric types, …) and
// types this converter does not know pass through as kText in the server's
// text form — never dropped; the column's type name tells what it is.
// docs/values.md lists the mapping.
#pragma once

#include <cstdint>
#include <string_view>

#include "absl/status/statusor.h"
#include "core/value.h"

namespace phony::pg {

// Built-in type OIDs (pg_type.dat).
enum PgTypeOid : uint32_t {
  kBoolOid = 16, kByteaOid = 17, kCharOid = 18, kNameOid = 19, kInt8Oid = 20, kInt2Oid = 21,
  kInt4Oid = 23, kTextOid = 25, kOidOid = 26, kJsonOid = 114, kXmlOid = 142, kPointOid = 600,
  kFloat4Oid = 700, kFloat8Oid = 701, kMoneyOid = 790, kBpcharOid = 1042, kVarcharOid = 1043,
  kDateOid = 1082, kTimeOid = 1083, kTimestampOid = 1114, kTimestampTzOid = 1184,
  kIntervalOid = 1186, kTimeTzOid = 1266, kNumericOid = 1700, kUuidOid = 2950, kJsonbOid = 3802,
  kCidrOid = 650, kMacaddrOid = 829, kInetOid = 869, kBitOid = 1560, kVarbitOid = 1562,
};

// `options` for the replication connection's conninfo.
inline constexpr const char* kReplicationSessionOptions =
    "-c DateStyle=ISO -c TimeZone=UTC -c IntervalStyle=iso_8601 -c bytea_output=hex "
    "-c extra_float_digits=1";

// The Value kind a type OID decodes to (kText for pass-through types).
ValueKind KindForType(uint32_t type_oid);

// kDataLoss naming the type and the reason when the text is not what the
// server prints for that type (never a value: messages carry no row data).
absl::StatusOr<Value> ParseTextValue(uint32_t type_oid, std::string_view text);

// Converts a value in the binary wire format (the type's send function, as
// pgoutput sends with `binary 'true'`) into the same Value the text format
// gives: the scalar types, plus inet/cidr, macaddr, bit/varbit and "char"
// rendered as PostgreSQL prints them. Other types (arrays, ranges, money,
// geometric types, enums and domains, …) are kUnimplemented naming the type
// OID, so binary mode fails closed instead of passing unreadable bytes on
// (use the text format for such tables).
absl::StatusOr<Value> ParseBinaryValue(uint32_t type_oid, std::string_view bytes);
bool SupportsBinary(uint32_t type_oid);

// Calendar helpers (proleptic Gregorian, astronomical years: 1 BC = year 0).
int64_t DaysFromCivil(int64_t year, unsigned month, unsigned day);

}  // namespace phony::pg
