// Column values of MySQL and MariaDB row events (the binary row format of
// WRITE/UPDATE/DELETE_ROWS v1 and v2), decoded into core Values by the
// column's type byte and table-map metadata. Pure and thread-safe.
// docs/mysql.md lists the mapping from MySQL types to Value kinds.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "core/byte_reader.h"
#include "core/value.h"

namespace phony::mysql {

// Column type bytes (MySQL's enum_field_types; MariaDB uses the same).
enum FieldType : uint8_t {
  kTypeDecimal = 0, kTypeTiny = 1, kTypeShort = 2, kTypeLong = 3, kTypeFloat = 4, kTypeDouble = 5,
  kTypeNull = 6, kTypeTimestamp = 7, kTypeLongLong = 8, kTypeInt24 = 9, kTypeDate = 10, kTypeTime = 11,
  kTypeDatetime = 12, kTypeYear = 13, kTypeNewDate = 14, kTypeVarchar = 15, kTypeBit = 16,
  kTypeTimestamp2 = 17, kTypeDatetime2 = 18, kTypeTime2 = 19, kTypeTypedArray = 20,
  kTypeVector = 242, kTypeInvalid = 243, kTypeBool = 244, kTypeJson = 245, kTypeNewDecimal = 246,
  kTypeEnum = 247, kTypeSet = 248, kTypeTinyBlob = 249, kTypeMediumBlob = 250, kTypeLongBlob = 251,
  kTypeBlob = 252, kTypeVarString = 253, kTypeString = 254, kTypeGeometry = 255,
};

// What a table map says about one column, completed by its optional
// metadata (binlog_row_metadata=FULL) where the server wrote it.
struct ColumnInfo {
  uint8_t type = 0;        // the real type: a STRING's ENUM or SET is resolved
  uint8_t wire_type = 0;   // the type byte as written in the table map
  // Type metadata, normalized: FLOAT/DOUBLE pack length; BLOB/TEXT/JSON/
  // GEOMETRY/VECTOR length-prefix bytes; VARCHAR and CHAR maximum byte
  // length; NEWDECIMAL precision << 8 | scale; BIT bits << 8 | bytes ... see
  // bit_length(); temporal2 fractional digits; ENUM/SET pack length.
  uint16_t meta = 0;
  bool nullable = true;
  bool is_unsigned = false;        // from the SIGNEDNESS metadata
  std::optional<uint32_t> collation;  // character columns, ENUM and SET
  std::string name;                // empty when the map has no names
  std::vector<std::string> enum_values;  // ENUM strings, or SET strings
  bool visible = true;
  uint16_t key_ordinal = 0;        // position in the primary key, 0 = not in it
  uint32_t geometry_type = 0;

  int bits() const;                // BIT(n): n
  bool is_character() const;       // takes a collation (CHAR, VARCHAR, TEXT)
  bool is_numeric() const;         // takes a signedness bit
};

// The Value kind a column decodes to (docs/mysql.md).
ValueKind KindOf(const ColumnInfo& column);
// A readable type name in the server's style: "int unsigned", "varchar(64)",
// "decimal(10,2)", "datetime(6)", "enum('a','b')", "blob" (length unknown
// beyond the prefix: "tinyblob", "mediumtext"...).
std::string TypeName(const ColumnInfo& column);
// The charset of a collation id: "binary", "utf8mb4", "utf8mb3", "latin1",
// "ascii", or "" when unknown.
std::string_view CharsetOfCollation(uint32_t collation);

// Decodes one non-null column value from a row image. Every failure is
// kDataLoss naming the column type and the offset, never a value.
absl::StatusOr<Value> DecodeColumnValue(const ColumnInfo& column, ByteReader& in);
// The same, into `*out`, which must be null: the decoder's per-row path,
// with the common types read straight into the slot.
absl::Status DecodeColumnInto(const ColumnInfo& column, ByteReader& in, Value* out);
// The raw bytes of one column value (JSON and BLOB bodies, used by partial
// JSON updates): its length prefix per the metadata, then the bytes.
absl::StatusOr<std::string_view> ReadLengthPrefixed(ByteReader& in, int prefix_bytes, const char* what);

// Helpers shared with the decoder.
// MySQL's length-encoded integer (1, 3, 4 or 9 bytes); 0xfb (NULL) is an error.
absl::StatusOr<uint64_t> ReadPackedInt(ByteReader& in);
// DECIMAL(precision, scale) in MySQL's binary form, as exact decimal text.
absl::StatusOr<std::string> DecodeDecimal(ByteReader& in, int precision, int scale);
// Bytes of DECIMAL(precision, scale) in that form.
int DecimalBinarySize(int precision, int scale);
// MySQL's latin1 (Windows-1252) text as UTF-8, appended to `out`.
void AppendLatin1AsUtf8(std::string_view in, std::string* out);

}  // namespace phony::mysql
