// PostgreSQL's COPY text format, read side: one row as COPY … TO STDOUT
// prints it (fields separated by tabs, \N for null, backslash escapes) split
// into its fields, unescaped. The snapshot path reads source rows this way
// and hands each field to the same text-to-Value conversion capture uses, so
// a row gets the same fakes on both paths. Pure and thread-compatible.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"

namespace phony::snapshot {

// One COPY text row split into fields. Reuse one instance per stream: the
// unescaped texts live in its buffer until the next Parse.
class CopyRowParser {
 public:
  // `line` is one row with or without its trailing newline. Fields are
  // std::nullopt for \N. kDataLoss for a row that ends inside an escape or
  // holds an octal escape beyond a byte (no row values in the message).
  absl::Status Parse(std::string_view line);

  const std::vector<std::optional<std::string_view>>& fields() const { return fields_; }
  // The fields as they are in the line, still escaped (\N for null): what a
  // COPY into a column of the same type takes back unchanged.
  const std::vector<std::string_view>& raw_fields() const { return raw_; }

 private:
  std::string buffer_;
  std::vector<std::optional<std::string_view>> fields_;
  std::vector<std::string_view> raw_;
};

}  // namespace phony::snapshot
