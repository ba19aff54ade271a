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
#include <functional>
#include <map>
#include <string>
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
  kLsegOid = 601, kPathOid = 602, kBoxOid = 603, kPolygonOid = 604, kLineOid = 628, kCircleOid = 718,
};

// `options` for the replication connection's conninfo.
inline constexpr const char* kReplicationSessionOptions =
    "-c DateStyle=ISO -c TimeZone=UTC -c IntervalStyle=iso_8601 -c bytea_output=hex "
    "-c extra_float_digits=1 -c lc_monetary=C";

// The Value kind a type OID decodes to (kText for pass-through types).
ValueKind KindForType(uint32_t type_oid);

// kDataLoss naming the type and the reason when the text is not what the
// server prints for that type (never a value: messages carry no row data).
absl::StatusOr<Value> ParseTextValue(uint32_t type_oid, std::string_view text);

// What the source catalog says about a type that is not a built-in scalar:
// enums, domains, arrays, ranges, multiranges and composite types.
struct PgTypeInfo {
  enum class Kind : uint8_t { kEnum, kDomain, kArray, kRange, kMultirange, kComposite, kOther };
  Kind kind = Kind::kOther;
  // Domain: the base type; array: the element type; range: the subtype;
  // multirange: the range type; otherwise 0.
  uint32_t target = 0;
  char delimiter = ',';  // array element delimiter (';' for box)
  std::string name;      // for error messages
};

// Resolves type OIDs: PostgreSQL's built-in arrays, ranges and multiranges
// from a static table, everything else through `lookup` (the source catalog),
// each OID looked up once. Without a lookup, user-defined types are unknown
// (text mode passes them through; binary mode fails closed). Not thread-safe.
class PgTypeCache {
 public:
  using Lookup = std::function<absl::StatusOr<PgTypeInfo>(uint32_t oid)>;
  explicit PgTypeCache(Lookup lookup = nullptr) : lookup_(std::move(lookup)) {}

  // nullptr for a built-in scalar type, and for a user type without a lookup.
  absl::StatusOr<const PgTypeInfo*> Find(uint32_t oid);
  // The OID whose parser reads values of `oid`: domains are followed to their
  // base type (so a domain over int4 decodes as an int4 in both formats).
  absl::StatusOr<uint32_t> Effective(uint32_t oid);

 private:
  Lookup lookup_;
  std::map<uint32_t, PgTypeInfo> cache_;
};

// Converts a value in the binary wire format (the type's send function, as
// pgoutput sends with `binary 'true'`) into the same Value the text format
// gives, so that a value's identity (and its fake) never depends on the wire
// format: scalars as their kinds; inet/cidr, macaddr, bit/varbit, "char",
// money, geometric types, enums, arrays, ranges, multiranges and composites
// as the text PostgreSQL prints for them under kReplicationSessionOptions.
// Types that need the catalog (enums, domains, user arrays/ranges/composites)
// are resolved through `types`; a type without a binary reader (an
// extension's base type) is kUnimplemented naming it, so binary mode fails
// closed instead of passing unreadable bytes on.
absl::StatusOr<Value> ParseBinaryValue(uint32_t type_oid, std::string_view bytes,
                                       PgTypeCache* types = nullptr);
// True for the built-in scalar types ParseBinaryValue reads without a catalog.
bool SupportsBinary(uint32_t type_oid);
// Whether ParseBinaryValue can read values of `type_oid` (following arrays,
// ranges and domains to what they hold); false for types without a binary
// reader, such as an extension's base types.
absl::StatusOr<bool> BinaryReadable(uint32_t type_oid, PgTypeCache* types);

// PostgreSQL's output text of a decoded value of type `type_oid` (as the
// server prints it under kReplicationSessionOptions): t/f, shortest-exact
// floats, ISO dates and times with BC, ISO 8601 intervals, hex bytea.
std::string PgTextOut(uint32_t type_oid, const Value& value);
// float4out / float8out with extra_float_digits > 0.
std::string FormatPgFloat4(float f);
std::string FormatPgFloat8(double d);

using ::phony::DaysFromCivil;  // core/value.h

}  // namespace phony::pg
