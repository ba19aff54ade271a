// JSON path rules (issue #5): `"json_paths": {"$.contact.email": {…}}`
// applies a rule to the values a path selects inside a JSON document and
// leaves the rest of the document as it was. Paths: `$`, `.name`,
// `['name']`, `[N]`, `[*]` and `.*` (every member or element). The document
// is rewritten compactly with its key order kept. Pure; thread-safe.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "core/value.h"

namespace phony::transform {

class JsonPath {
 public:
  // kInvalidArgument naming the position and the problem.
  static absl::StatusOr<JsonPath> Parse(std::string_view path);

  struct Step {
    enum Kind : uint8_t { kMember, kIndex, kWildcard } kind = kMember;
    std::string name;
    size_t index = 0;
  };
  const std::vector<Step>& steps() const { return steps_; }

 private:
  std::vector<Step> steps_;
};

// A selected scalar as a Value: string → kText, integer → kInt64 (kUInt64
// above int64), other numbers → kDouble, bool → kBool; JSON null is left
// alone; an object or array selected whole → kJson with its text. The
// callback rewrites it in place; kNull writes JSON null, kText a string,
// numbers and bools their JSON form, kJson parsed JSON text.
using JsonValueRewriter = std::function<absl::Status(size_t rule_index, Value* value)>;

// Applies each path (in order) to `document`, calling `rewrite` with the
// path's index for every selected value. kInvalidArgument when the document
// is not JSON (no text of it in the message). Paths selecting nothing are
// fine.
absl::StatusOr<std::string> RewriteJson(std::string_view document, const std::vector<JsonPath>& paths,
                                        const JsonValueRewriter& rewrite);

}  // namespace phony::transform
