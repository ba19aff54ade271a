// MyRowCopier: one MySQL/MariaDB table's rows, as the text protocol returns
// them, in; anonymized LOAD DATA text (tab-separated, backslash escapes,
// \N for NULL) out. Columns the rules leave alone are escaped as they are,
// never parsed; the others are parsed into the Values the binlog decoder
// produces for the same column (ParseMySqlText), anonymized by the
// transformer, and written back as text the column takes. So a row copied
// by the snapshot anonymizes exactly as the same row decoded from the
// binlog. Generated columns are read (rules may use them) but never
// loaded: staging computes them. Not thread-safe: one per worker and table.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "core/value.h"
#include "src/capture/mysql/my_catalog.h"
#include "src/transform/transformer.h"

namespace phony::snapshot {

// A non-null text-protocol field of column `c` (connection charset
// utf8mb4, time zone UTC) as the Value the binlog decoder yields for it.
// Zero and partial dates are NULL, as in the decoder. kDataLoss naming the
// type (never the value) when the text does not parse.
absl::StatusOr<Value> ParseMySqlText(const mysql::ColumnInfo& c, ValueKind kind, std::string_view text);

// `raw` with LOAD DATA's escapes (\\, \t, \n, \r, \0) appended to `out`.
void AppendLoadEscaped(std::string_view raw, std::string* out);
// A Value as a LOAD DATA field of column `c` (escaped; \N for null).
void AppendLoadValue(const mysql::ColumnInfo& c, const Value& v, std::string* out);
// The same text unescaped: what the column is given (null: nothing).
void AppendPlainValue(const mysql::ColumnInfo& c, const Value& v, std::string* out);
// A value as column `c` holds it, as text, so that a value phony wrote and
// the value staging returns for it compare equal: the text the column is
// given, read back as the column's type (a FLOAT keeps a float's
// precision), written again. "\N" for null.
std::string CanonicalText(const mysql::ColumnInfo& c, ValueKind kind, const Value& v);

// How a column is SELECTed so its text holds its whole value: a FLOAT as a
// DOUBLE (the server prints FLOAT with 6 significant digits, which loses
// bits), anything else as it is.
std::string SelectExpression(const mysql::ColumnInfo& c);

class MyRowCopier {
 public:
  // `table` and `transformer` must outlive the copier; the transformer
  // learns the table's schema here.
  static absl::StatusOr<MyRowCopier> Create(const mysql::CatalogTable* table, transform::Transformer* transformer);

  // Appends one anonymized line ('\n'-terminated) for the row's fields (in
  // SelectList() order). kDataLoss naming the column for a field that does
  // not parse; kInvalidArgument for a rule that cannot apply.
  absl::Status Append(const char* const* fields, const unsigned long* lengths, std::string* out);

  // The SELECT list (every column, in table order) and the LOAD DATA
  // column list (the columns staging does not compute).
  std::string SelectList() const;
  std::string LoadList() const;

 private:
  MyRowCopier(const mysql::CatalogTable* table, transform::Transformer* transformer, std::vector<bool> pass)
      : table_(table), transformer_(transformer), pass_(std::move(pass)) {}

  const mysql::CatalogTable* table_;
  transform::Transformer* transformer_;
  std::vector<bool> pass_;  // per column: copied as its text
  Row row_;
};

}  // namespace phony::snapshot
