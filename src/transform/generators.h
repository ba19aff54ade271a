// The ANONYMIZE generators (issue #5; docs/anonymization.md "Generators"):
// each turns an original value into a realistic fake as a pure function of
// (key, original). The key is the mapping domain's key (keyed.h DeriveKey of
// "domain:<domain>:v<version>"), so equal originals in one domain give equal
// fakes in every table, process and run. Generators are compiled once from a
// column rule at start, where every problem (unknown generator, a template or
// source that does not parse, a country without a format) is an error naming
// the rule; generating never allocates beyond the output. Thread-safe once
// built.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "core/config.h"
#include "core/value.h"
#include "src/transform/keyed.h"

namespace phony::transform {

// The facts a generator needs about the locale it writes for.
struct LocaleInfo {
  std::string locale;   // "tr_TR"
  std::string country;  // "TR"
};
// kInvalidArgument for a locale that ships no lists.
absl::StatusOr<LocaleInfo> LookupLocale(std::string_view locale);

// What a generator is given for one value.
struct GenInput {
  // The original's canonical text (CanonicalText below).
  std::string_view original;
  // 128 bits of keyed PRF output of `original` under the domain key.
  uint64_t h0 = 0, h1 = 0;
};

// The canonical text a value is keyed by: what PostgreSQL prints for it
// (integers in decimal, uuids 8-4-4-4-12 lowercase, dates ISO), so that a
// text column and an integer column holding the same id join. nullopt for
// null and the unchanged sentinel.
std::optional<std::string> CanonicalText(const Value& value);
// The same without a copy for the kinds that hold their text (`scratch`
// holds the others); false for null and the unchanged sentinel.
bool CanonicalView(const Value& value, std::string* scratch, std::string_view* out);

// A compiled ANONYMIZE generator (or the string-producing core of TOKENIZE
// on text). Produces text unless it says otherwise.
class Generator {
 public:
  virtual ~Generator() = default;
  // Appends the fake to *out. kInvalidArgument when the original cannot be
  // turned into this generator's shape (a card number with letters): the
  // caller redacts the value, never passes it on.
  virtual absl::Status Generate(const GenInput& in, std::string* out) const = 0;
  // Whether two different originals can never give one fake: by
  // construction (a bijection or a 128-bit keyed tag inside the value; see
  // docs/anonymization.md), not by luck.
  virtual bool injective() const = 0;
  // Numeric generators (noise, range) transform numbers, not text.
  virtual bool numeric() const { return false; }
  // For numeric generators: the fake for a number (kind kept).
  virtual absl::StatusOr<Value> GenerateNumber(const Value& original, uint64_t h0) const;
  // The original as it is keyed (emails: trimmed, lowercase); `scratch`
  // holds it when it differs from `original`.
  virtual std::string_view Normalize(std::string_view original, std::string* /*scratch*/) const { return original; }
};

// Builds the generator of an ANONYMIZE rule. `locale` is the rule's locale
// or the job's default; `key` the domain key (the template's {{token}} and
// the check-digit generators build their tokenizer from it). Errors name no
// value, only the problem; the caller prefixes the rule's config path.
absl::StatusOr<std::unique_ptr<Generator>> MakeGenerator(const ColumnRule& rule, std::string_view locale,
                                                         const Key128& key);

// The digits of `original` after its first `keep` digits, tokenized where
// they stand; every other character kept. A bijection on the texts of one
// shape and prefix. kInvalidArgument for fewer than keep + min_digits digits
// or more than DigitTokenizer::kMaxDigits to tokenize.
absl::Status TokenizeDigitsInPlace(const DigitTokenizer& tokenizer, std::string_view original, size_t keep,
                                   size_t min_digits, std::string* out);

// The generator versions that exist (the config's `version` pins one).
inline constexpr int64_t kLatestGeneratorVersion = 1;

// Lowercase ASCII transliteration of a name for email local parts and
// hostnames: "Şükrü Öztürk" → "sukru ozturk"; characters without an ASCII
// form are dropped.
std::string AsciiFold(std::string_view utf8, bool lower);
void AppendAsciiFold(std::string_view utf8, bool lower, std::string* out);

}  // namespace phony::transform
