// The deterministic, keyed rule primitives of the transformer (issue #5)
// that need no dictionary: MASK patterns and HASH. Pure and thread-safe;
// keys come from keyed.h's DeriveKey, one per mapping domain.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
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

}  // namespace phony::transform
