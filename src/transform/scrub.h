// SCRUB (issue #5): finds the personal identifiers embedded in free text —
// emails, phone numbers, payment card numbers, IBANs, Turkish TC Kimlik
// numbers and US SSNs — so that the transformer can replace each with its
// mapped fake and leave the rest of the text as it was. Detection is
// conservative where a false positive would damage text (cards must pass
// Luhn, IBANs mod 97, TC Kimlik its checksum) and generous for emails and
// phones. Pure; thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace phony::transform {

enum class PiiKind : uint8_t { kEmail, kPhone, kCard, kIban, kTcKimlik, kSsn };
const char* PiiKindName(PiiKind kind);

struct PiiSpan {
  PiiKind kind;
  size_t begin = 0, end = 0;  // byte offsets into the text
};

// Non-overlapping spans in text order.
std::vector<PiiSpan> FindPii(std::string_view text);

}  // namespace phony::transform
