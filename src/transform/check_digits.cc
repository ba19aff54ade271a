#include "src/transform/check_digits.h"

#include <vector>

namespace phony::transform {
namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// The digits of `s` and, for each, its position in `s` (separators stay).
std::string DigitsOf(std::string_view s, std::vector<size_t>* positions = nullptr) {
  std::string d;
  for (size_t i = 0; i < s.size(); ++i) {
    if (IsDigit(s[i])) {
      d.push_back(s[i]);
      if (positions) positions->push_back(i);
    }
  }
  return d;
}

// Puts `digits` back where the original's digits were.
std::string Reshape(std::string_view original, const std::vector<size_t>& positions, const std::string& digits) {
  std::string out(original);
  for (size_t i = 0; i < positions.size(); ++i) out[positions[i]] = digits[i];
  return out;
}

}  // namespace

char LuhnCheckDigit(std::string_view payload) {
  int sum = 0;
  bool twice = true;  // the digit left of the check digit is doubled
  for (size_t i = payload.size(); i-- > 0;) {
    int d = payload[i] - '0';
    if (twice) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    twice = !twice;
  }
  return static_cast<char>('0' + (10 - sum % 10) % 10);
}

bool LuhnValid(std::string_view digits) {
  if (digits.size() < 2) return false;
  for (char c : digits) {
    if (!IsDigit(c)) return false;
  }
  return LuhnCheckDigit(digits.substr(0, digits.size() - 1)) == digits.back();
}

absl::StatusOr<std::string> FakeCardNumber(const DigitTokenizer& tokenizer, std::string_view original) {
  std::vector<size_t> positions;
  const std::string digits = DigitsOf(original, &positions);
  if (digits.size() < 12 || digits.size() > 19) {
    return absl::InvalidArgumentError("credit_card: the original has " + std::to_string(digits.size()) +
                                      " digits; card numbers have 12 to 19");
  }
  // Test ranges the schemes publish for integration testing: never a
  // real account.
  const char* bin = "400000";  // Visa
  switch (digits[0]) {
    case '2': bin = "222300"; break;  // Mastercard 2-series
    case '3': bin = "370000"; break;  // Amex
    case '5': bin = "555555"; break;  // Mastercard
    case '6': bin = "601100"; break;  // Discover
    default: break;
  }
  const std::string account = digits.substr(6, digits.size() - 7);
  auto token = tokenizer.Encrypt(account);
  if (!token.ok()) return token.status();
  std::string fake = std::string(bin) + *token;
  fake.push_back(LuhnCheckDigit(fake));
  return Reshape(original, positions, fake);
}

bool TcKimlikValid(std::string_view d) {
  if (d.size() != 11 || d[0] == '0') return false;
  for (char c : d) {
    if (!IsDigit(c)) return false;
  }
  auto v = [&](size_t i) { return d[i] - '0'; };
  const int odd = v(0) + v(2) + v(4) + v(6) + v(8), even = v(1) + v(3) + v(5) + v(7);
  const int d10 = ((odd * 7 - even) % 10 + 10) % 10;
  int sum = 0;
  for (size_t i = 0; i < 10; ++i) sum += v(i);
  return v(9) == d10 && v(10) == sum % 10;
}

absl::StatusOr<std::string> FakeTcKimlik(const DigitTokenizer& tokenizer, std::string_view original) {
  const std::string digits = DigitsOf(original);
  if (digits.size() != 11) {
    return absl::InvalidArgumentError("national_id TR: a TC Kimlik number has 11 digits, the original has " +
                                      std::to_string(digits.size()));
  }
  // The 9 free digits (first one nonzero) as an id: TokenizeInt64 keeps the
  // digit count and never produces a leading zero; a first digit of 0 in a
  // malformed original is tokenized as a shorter number and padded.
  const int64_t free_digits = std::stoll(digits.substr(0, 9));
  std::string body = std::to_string(tokenizer.TokenizeInt64(free_digits));
  body.insert(0, 9 - body.size(), '0');
  if (body[0] == '0') body[0] = '1';  // only for originals that were not valid
  auto v = [&](size_t i) { return body[i] - '0'; };
  const int odd = v(0) + v(2) + v(4) + v(6) + v(8), even = v(1) + v(3) + v(5) + v(7);
  body.push_back(static_cast<char>('0' + ((odd * 7 - even) % 10 + 10) % 10));
  int sum = 0;
  for (char c : body) sum += c - '0';
  body.push_back(static_cast<char>('0' + sum % 10));
  return body;
}

namespace {

// mod 97 of the IBAN rearranged (BBAN + country + check) with letters as
// 10..35.
int IbanMod97(std::string_view compact) {
  const std::string r = std::string(compact.substr(4)) + std::string(compact.substr(0, 4));
  int mod = 0;
  for (char c : r) {
    if (IsDigit(c)) {
      mod = (mod * 10 + (c - '0')) % 97;
    } else {
      const int n = (c >= 'a' ? c - 'a' : c - 'A') + 10;
      mod = (mod * 100 + n) % 97;
    }
  }
  return mod;
}

bool IbanChars(std::string_view compact) {
  if (compact.size() < 15 || compact.size() > 34) return false;
  for (size_t i = 0; i < compact.size(); ++i) {
    const char c = compact[i];
    const bool letter = (c >= 'A' && c <= 'Z');
    if (i < 2 ? !letter : (i < 4 ? !IsDigit(c) : !(letter || IsDigit(c)))) return false;
  }
  return true;
}

}  // namespace

bool IbanValid(std::string_view iban) {
  std::string compact;
  for (char c : iban) {
    if (c != ' ') compact.push_back(c);
  }
  return IbanChars(compact) && IbanMod97(compact) == 1;
}

absl::StatusOr<std::string> FakeIban(const DigitTokenizer& tokenizer, std::string_view original) {
  std::string compact;
  std::vector<size_t> where;  // positions of the compact characters in the original
  for (size_t i = 0; i < original.size(); ++i) {
    if (original[i] != ' ') {
      compact.push_back(original[i]);
      where.push_back(i);
    }
  }
  if (!IbanChars(compact)) {
    return absl::InvalidArgumentError("iban: the original is not shaped like an IBAN (country letters, two check "
                                      "digits, 11 to 30 letters or digits)");
  }
  // Tokenize the BBAN's digits in runs of at most 36, letters kept.
  std::vector<size_t> digit_positions;
  std::string digits;
  for (size_t i = 4; i < compact.size(); ++i) {
    if (IsDigit(compact[i])) {
      digits.push_back(compact[i]);
      digit_positions.push_back(i);
    }
  }
  std::string token;
  for (size_t i = 0; i < digits.size(); i += DigitTokenizer::kMaxDigits) {
    auto part = tokenizer.Encrypt(digits.substr(i, DigitTokenizer::kMaxDigits));
    if (!part.ok()) return part.status();
    token += *part;
  }
  for (size_t i = 0; i < digit_positions.size(); ++i) compact[digit_positions[i]] = token[i];
  compact[2] = compact[3] = '0';
  const int check = 98 - IbanMod97(compact);
  compact[2] = static_cast<char>('0' + check / 10);
  compact[3] = static_cast<char>('0' + check % 10);
  std::string out(original);
  for (size_t i = 0; i < where.size(); ++i) out[where[i]] = compact[i];
  return out;
}

absl::StatusOr<std::string> FakeSsn(const DigitTokenizer& tokenizer, std::string_view original) {
  const std::string digits = DigitsOf(original);
  if (digits.size() != 9) {
    return absl::InvalidArgumentError("national_id US: an SSN has 9 digits, the original has " +
                                      std::to_string(digits.size()));
  }
  // Not injective: the never-issued space (area 900-999, group and serial
  // nonzero) holds about 99 million numbers, fewer than the real ones, so a
  // unique SSN column relies on the mapping store's collision ledger.
  std::string t = digits;
  do {
    auto next = tokenizer.Encrypt(t);
    if (!next.ok()) return next.status();
    t = *next;
  } while (t.substr(3, 2) == "00" || t.substr(5, 4) == "0000");
  return "9" + t.substr(1, 2) + "-" + t.substr(3, 2) + "-" + t.substr(5, 4);
}

}  // namespace phony::transform
