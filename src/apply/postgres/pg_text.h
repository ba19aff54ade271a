// Values in PostgreSQL's text input forms, for COPY rows and statement
// parameters, and the staging column type for a source column. Pure and
// thread-safe. The staging session uses DateStyle ISO, TimeZone UTC and
// IntervalStyle postgres (PgWriter sets them), which these forms assume
// only for output; the input forms below are read the same under any style.
#pragma once

#include <string>
#include <string_view>

#include "core/schema.h"
#include "core/value.h"

namespace phony::apply::pg {

// The value's text input form ("t", "2024-01-31", "\x00ff", "1 mons 2 days
// 03:04:05.000006"). Null and kUnchanged have none: callers send NULL or
// leave the column out.
void AppendText(const Value& value, std::string* out);
std::string Text(const Value& value);

// One COPY text-format field: AppendText escaped for COPY, or \N for null.
void AppendCopyField(const Value& value, std::string* out);

// "name" with embedded quotes doubled.
std::string QuoteIdent(std::string_view name);
// "schema"."table"
std::string QuoteTable(const TableId& table);

// The staging column type. From a PostgreSQL source the catalog's type name
// is kept for built-in types; user-defined types (enums, domains,
// composites, extension types, OID >= 16384) become text, since staging may
// not have them. From a MySQL/MariaDB source the type follows the value
// kind (docs/apply.md has the table).
std::string StagingType(const ColumnDef& column, bool source_is_postgres);

}  // namespace phony::apply::pg
