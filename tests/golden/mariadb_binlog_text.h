// The rows that `mariadb-binlog --base64-output=decode-rows -vv FILE` prints,
// parsed back into structs: the independent decoder our binlog decoder's
// golden tests compare against (docs/mariadb-binlog-text.md says how each
// column type is printed and how to normalize before comparing). Test-only;
// the parser is a pure function, RunMariadbBinlog spawns the tool and blocks
// until it exits. No shared state: safe to call from any thread.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace phony::testing {

// One row image pair as printed: `### INSERT INTO`, `### UPDATE` (WHERE =
// before, SET = after) or `### DELETE FROM` (WHERE = before).
struct BinlogTextRow {
  // Of the rows event that holds the row, from its `#... end_log_pos N` header
  // line. Every row of a multi-row event has the same one.
  uint64_t end_log_pos = 0;
  // The `# at N` line just before that header: where the rows event starts.
  uint64_t start_pos = 0;
  // MariaDB's `GTID d-s-n` of the enclosing transaction ("0-1-1"); empty for
  // MySQL files, whose GTID events mariadb-binlog prints only as "Ignorable".
  std::string gtid;
  std::string db, table;  // unquoted (`a``b` -> a`b)
  char op = 0;            // 'c' insert, 'u' update, 'd' delete
  // Column number (1-based, the @N) -> the value exactly as printed, without
  // the ` /* ... */` comment and without the blanks FLOAT pads to 20 columns;
  // std::nullopt for NULL. Columns absent from the image (MINIMAL/NOBLOB row
  // images, partial bitmaps) are absent from the map.
  std::map<int, std::optional<std::string>> before, after;
  // @N -> the text inside the comment, e.g. "INT meta=0 nullable=1 is_null=0".
  std::map<int, std::string> type_comment;
};

struct BinlogText {
  std::vector<BinlogTextRow> rows;
  // Lines mariadb-binlog printed as errors or warnings: everything on stderr
  // ("ERROR: ...", "mariadb-binlog: Character set '#255' ..."), and on stdout
  // "!! ..." values, "***Corrupted ...", "### Row event for unknown table",
  // lines the parser could not read, a "# Number of rows" that disagrees with
  // the rows parsed, and "mariadb-binlog exited with status N".
  std::vector<std::string> errors;
  // Whether stdout reached "# End of log file". mariadb-binlog stops silently
  // (exit status 1, nothing on stderr) at a rows event with a column type it
  // cannot print, such as MySQL's JSON (245): then this is false.
  bool complete = false;
  int exit_status = 0;  // set by RunMariadbBinlog; -1 if killed by a signal
};

// Runs `mariadb-binlog --base64-output=decode-rows -vv <file>` (the binary
// named by $PHONY_MARIADB_BINLOG, else `mariadb-binlog` on PATH), captures
// stdout and stderr separately, and parses them. A non-zero exit is not an
// error here (it is recorded in `errors` and `exit_status`: the rows printed
// before the stop are still wanted); failing to start the tool is
// kFailedPrecondition, failing to create temp files kInternal.
absl::StatusOr<BinlogText> RunMariadbBinlog(const std::string& file);

// Parses the stdout of `mariadb-binlog --base64-output=decode-rows -vv`.
// Lines starting with `###` count only inside a rows event (after a
// Write/Update/Delete_rows header line and before the next event header), so
// the SQL text of statement-format Query events cannot forge rows.
BinlogText ParseMariadbBinlogText(std::string_view text);

}  // namespace phony::testing
