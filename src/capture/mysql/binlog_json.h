// MySQL's binary JSON format, as a JSON column appears in binlog row events
// (sql-common/json_binary.h), and the partial JSON diffs of a
// PARTIAL_UPDATE_ROWS_EVENT (sql-common/json_diff.cc). The decoders are pure
// functions over bytes: no state, thread-safe. Every read is bounded by
// ByteReader; malformed or truncated input is kDataLoss naming the offset.
//
// Text output follows what MySQL 8 prints for SELECT of a JSON column
// (Json_wrapper::to_string): objects as {"k": v, "k2": v2} with keys in stored
// order, arrays as [1, 2], strings JSON-escaped (\" \\ \b \f \n \r \t, other
// bytes below 0x20 as \u00xx in lowercase hex, everything else, including
// non-ASCII UTF-8, passed through), integers in decimal, doubles in the
// shortest round-trip digits laid out the way my_gcvt(width 34) does (fixed
// notation for 1e-15 <= |d| < 1e15 and when the digits reach past the decimal
// point, else "1.5e300"/"1e15"/"1e-16"), with ".0" appended when neither '.'
// nor 'e' appears (100.0 prints as "100.0", as MySQL 8 does).
// Opaque scalars: DATE "YYYY-MM-DD", DATETIME/TIMESTAMP
// "YYYY-MM-DD hh:mm:ss.ffffff", TIME "[-]hh:mm:ss.ffffff" (hours up to 838),
// NEWDECIMAL as a bare number keeping its scale (9.00), VAR_STRING as a plain
// string, anything else "base64:typeNN:<base64>" (a newline every 76 base64
// characters, escaped as \n, as MySQL's base64_encode does).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace phony::mysql {

// Appends the JSON text of the binary JSON document `data` to *out; on error
// *out is left as it was. An empty `data` is the JSON null literal (MySQL
// stores an empty value for NULL inserted into a NOT NULL JSON column in
// non-strict mode). Bytes after the top-level value are ignored, as MySQL's
// parse_binary() ignores them. Nesting deeper than 100 containers is
// kDataLoss (MySQL's JSON_DOCUMENT_MAX_DEPTH).
absl::Status BinaryJsonToText(std::string_view data, std::string* out);

// One change of a partial JSON update.
struct JsonDiff {
  enum class Op : uint8_t { kReplace = 0, kInsert = 1, kRemove = 2 };
  Op op;
  std::string path;                       // the JSON path text, e.g. $.a[1]
  std::optional<std::string> value_json;  // JSON text of the new value (absent for kRemove)
};

// The diffs of one column in a PARTIAL_UPDATE_ROWS_EVENT after image: the
// bytes after the column's 4-byte length prefix. Each diff is an operation
// byte, a length-encoded path, and (unless kRemove) a length-encoded binary
// JSON value. Empty input is an empty list.
absl::StatusOr<std::vector<JsonDiff>> DecodeJsonDiffs(std::string_view data);

}  // namespace phony::mysql
