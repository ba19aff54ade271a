// Our binlog decoder's rows next to what `mariadb-binlog -vv` printed for the
// same file: decoding a file with BinlogFileReader + BinlogDecoder into a
// flat list of row changes, rendering one of our Values the way the tool
// prints it for that column, and comparing one row image value by value
// (the normalizations are docs/mariadb-binlog-text.md's). Shared by the
// golden differential test (recorded files) and the MariaDB integration test
// (files the live server wrote). Test-only: failures are reported with
// gtest's EXPECT/ASSERT. No shared state.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "core/value.h"
#include "src/capture/mysql/binlog_decoder.h"

namespace phony::testing {

// One row change as our decoder yields it, with the rows event it is in.
struct OurRow {
  uint64_t offset = 0;       // where the rows event starts
  uint64_t end_log_pos = 0;  // the rows event's header log_pos (its end)
  // The end_log_pos of the statement's last rows event (the one flagged
  // STMT_END_F). A statement's rows can span several events;
  // mariadb-binlog prints them all after that last event's header.
  uint64_t statement_end_log_pos = 0;
  std::string gtid;          // of the enclosing transaction, "" before any
  std::shared_ptr<const mysql::TableMap> table;
  char op = 0;  // 'c' insert, 'u' update, 'd' delete
  std::optional<Row> before, after;
};

struct OurFile {
  std::vector<OurRow> rows;
  absl::Status status;  // the first read or decode error; rows before it are kept
};

// Every row change in the binlog file at `path`, in file order. A
// `keep` filter (when set) drops the rows of other tables as they are
// decoded, so a busy server's files need not be held whole.
OurFile DecodeOurs(const std::string& path,
                   const std::function<bool(const mysql::TableMap&)>& keep = nullptr);

// Our value as `mariadb-binlog -vv` prints it for column `c` (non-null; not
// for integer columns, see IntegerMatches).
std::string AsPrinted(const Value& v, const mysql::ColumnInfo& c);

// Integers print signed, with the unsigned reading in parentheses when the
// signed one is negative: ours must be one of the two.
bool IntegerMatches(const Value& v, const std::string& theirs);

// Compares one row image of ours with the tool's (`theirs`: @N -> printed
// value, std::nullopt for NULL), value by value.
void CompareImage(const std::string& where, const mysql::TableMap& t, const std::optional<Row>& ours,
                  const std::map<int, std::optional<std::string>>& theirs);

}  // namespace phony::testing
