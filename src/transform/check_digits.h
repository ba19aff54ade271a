// Generators for identifiers with check digits (issue #5): payment card
// numbers (Luhn), Turkish TC Kimlik numbers, IBANs (ISO 13616 mod 97) and US
// SSNs. Each fake keeps the original's shape and is a bijection of the
// original's free digits (DigitTokenizer), so a unique column stays unique
// (SSNs excepted, see FakeSsn), with the check digits recomputed so that
// validators accept it. Pure and
// thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "src/transform/keyed.h"

namespace phony::transform {

// Luhn (ISO/IEC 7812): the check digit that completes `payload`, and the
// check of a whole number. Non-digits are an error / invalid.
char LuhnCheckDigit(std::string_view payload);
bool LuhnValid(std::string_view digits);

// A card number of the original's length (12-19 digits; spaces and dashes
// are kept where they were) in a test BIN range (the BIN is chosen from the
// documented test ranges of the original's scheme by its first digit), with
// the account digits tokenized and a valid Luhn digit. Injective for the
// cards of one issuer (BIN); two issuers' cards with the same account digits
// share a fake, which a unique domain's collision ledger reports.
absl::StatusOr<std::string> FakeCardNumber(const DigitTokenizer& tokenizer, std::string_view original);

// TC Kimlik No: 11 digits, the first not 0; digit 10 = ((d1+d3+d5+d7+d9)*7 -
// (d2+d4+d6+d8)) mod 10, digit 11 = (d1+...+d10) mod 10.
bool TcKimlikValid(std::string_view digits);
absl::StatusOr<std::string> FakeTcKimlik(const DigitTokenizer& tokenizer, std::string_view original);

// IBAN: country code, two check digits (98 - mod 97 of the rearranged
// number), BBAN. The fake keeps the country and every letter of the BBAN and
// tokenizes its digits. Spaces in the original are kept in place.
bool IbanValid(std::string_view iban);
absl::StatusOr<std::string> FakeIban(const DigitTokenizer& tokenizer, std::string_view original);

// US SSN shape "AAA-GG-SSSS" in area 900-999, which the SSA never issues
// (so a fake can never be a real person's number); group and serial nonzero.
// Deterministic but not injective (that space is smaller than the real one).
absl::StatusOr<std::string> FakeSsn(const DigitTokenizer& tokenizer, std::string_view original);

}  // namespace phony::transform
