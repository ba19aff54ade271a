// The deterministic, keyed rule primitives of the transformer (issue #5)
// that need no dictionary: MASK patterns and HASH. Pure and thread-safe;
// keys come from keyed.h's DeriveKey, one per mapping domain.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "core/value.h"
#include "src/transform/keyed.h"

namespace phony::transform {

// A MASK pattern (config/README.md): literal characters are kept, `*` is
// emitted as is, `#` becomes a digit derived from the original value under
// the key (the same original gives the same digits), `{firstN}` / `{lastN}`
// copy that many characters (code points) from the start / end of the
// original, and `\` makes the next character literal.
//   "+90 5** *** **{last2}"  with "+90 532 123 45 67"  →  "+90 5** *** **67"
class MaskPattern {
 public:
  // kInvalidArgument naming the position and the problem.
  static absl::StatusOr<MaskPattern> Parse(std::string_view pattern);
  std::string Apply(std::string_view original, const Key128& key) const;

 private:
  enum class Kind : uint8_t { kLiteral, kDigit, kFirst, kLast };
  struct Piece {
    Kind kind;
    std::string literal;  // kLiteral
    uint32_t count = 0;   // kFirst/kLast
  };
  std::vector<Piece> pieces_;
};

enum class HashFormat : uint8_t { kHex, kBase32 };

// HASH: the keyed PRF of the value's bytes, as lowercase hex (at most 64
// characters) or RFC 4648 base32 without padding (lowercase, at most 51),
// cut to `length`. kInvalidArgument for a length out of range.
absl::StatusOr<std::string> KeyedHash(const Key128& key, std::string_view value, HashFormat format,
                                      size_t length);
// The longest output of each format.
size_t MaxHashLength(HashFormat format);

// DATE_SHIFT: a keyed shift in [-max_days, max_days] \ {0} days, a pure
// function of `entity` (the row's entity key, so every date of one person
// moves together and intervals between them survive; or the value itself).
// kInvalidArgument unless 1 <= max_days <= 36500.
absl::StatusOr<int32_t> ShiftDays(const Key128& key, std::string_view entity, int32_t max_days);
// Moves a date, timestamp or timestamptz by `days` (±infinity, null and the
// unchanged sentinel stay as they are). kInvalidArgument for other kinds
// and for a result outside the kind's range.
absl::StatusOr<Value> ShiftDate(const Value& value, int32_t days);

}  // namespace phony::transform
