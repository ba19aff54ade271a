#include "src/transform/scrub.h"

#include <algorithm>

#include "src/transform/check_digits.h"

namespace phony::transform {
namespace {

bool Digit(char c) { return c >= '0' && c <= '9'; }
bool Upper(char c) { return c >= 'A' && c <= 'Z'; }
bool Alnum(char c) { return Digit(c) || Upper(c) || (c >= 'a' && c <= 'z'); }
bool LocalChar(char c) { return Alnum(c) || c == '.' || c == '_' || c == '%' || c == '+' || c == '-'; }
bool HostChar(char c) { return Alnum(c) || c == '.' || c == '-'; }

// Emails: local@host.tld around each '@'.
void FindEmails(std::string_view t, std::vector<PiiSpan>* out) {
  for (size_t at = t.find('@'); at != std::string_view::npos; at = t.find('@', at + 1)) {
    size_t b = at;
    while (b > 0 && LocalChar(t[b - 1])) --b;
    while (b < at && (t[b] == '.' || t[b] == '-')) ++b;
    size_t e = at + 1;
    while (e < t.size() && HostChar(t[e])) ++e;
    while (e > at + 1 && (t[e - 1] == '.' || t[e - 1] == '-')) --e;  // a sentence's full stop
    const std::string_view host = t.substr(at + 1, e - at - 1);
    const size_t dot = host.rfind('.');
    if (b == at || dot == std::string_view::npos || dot == 0 || host.size() - dot - 1 < 2) continue;
    out->push_back({PiiKind::kEmail, b, e});
  }
}

bool Overlaps(const std::vector<PiiSpan>& spans, size_t b, size_t e) {
  for (const PiiSpan& s : spans) {
    if (b < s.end && s.begin < e) return true;
  }
  return false;
}

// IBANs: two letters, two digits, then 11-30 letters/digits, optionally in
// groups separated by single spaces; valid mod 97.
void FindIbans(std::string_view t, std::vector<PiiSpan>* out) {
  for (size_t i = 0; i + 15 <= t.size(); ++i) {
    if (!(Upper(t[i]) && Upper(t[i + 1]) && Digit(t[i + 2]) && Digit(t[i + 3]))) continue;
    if (i > 0 && Alnum(t[i - 1])) continue;
    size_t e = i + 4, chars = 4, best = 0;
    while (e < t.size() && chars < 34) {
      if (Digit(t[e]) || Upper(t[e])) {
        ++chars;
        ++e;
      } else if (t[e] == ' ' && e + 1 < t.size() && (Digit(t[e + 1]) || Upper(t[e + 1]))) {
        ++e;
      } else {
        break;
      }
      if (chars >= 15 && (e == t.size() || !Alnum(t[e])) && IbanValid(t.substr(i, e - i))) best = e;
    }
    if (best != 0 && !Overlaps(*out, i, best)) {
      out->push_back({PiiKind::kIban, i, best});
      i = best;
    }
  }
}

// Runs of digits joined by single spaces, dashes, dots or parentheses (and
// a leading '+'): cards, TC Kimlik numbers, SSNs and phones.
void FindNumbers(std::string_view t, std::vector<PiiSpan>* out) {
  size_t i = 0;
  while (i < t.size()) {
    const bool plus = t[i] == '+' && i + 1 < t.size() && Digit(t[i + 1]);
    const bool paren = t[i] == '(' && i + 1 < t.size() && Digit(t[i + 1]);
    if (!Digit(t[i]) && !plus && !paren) {
      ++i;
      continue;
    }
    if (i > 0 && (Alnum(t[i - 1]) || t[i - 1] == '@' || t[i - 1] == '.')) {  // inside a word or decimal
      ++i;
      while (i < t.size() && (Alnum(t[i]) || t[i] == '.')) ++i;
      continue;
    }
    const size_t b = i;
    size_t e = i + ((plus || paren) ? 1 : 0), last_digit_end = e;
    std::string digits;
    bool separators = false;
    while (e < t.size()) {
      if (Digit(t[e])) {
        digits.push_back(t[e]);
        last_digit_end = ++e;
      } else if ((t[e] == ' ' || t[e] == '-' || t[e] == '.' || t[e] == ')' || t[e] == '(') && e + 1 < t.size() &&
                 (Digit(t[e + 1]) || (t[e] == ')' && t[e + 1] == ' ' && e + 2 < t.size() && Digit(t[e + 2])))) {
        separators = true;
        ++e;
      } else {
        break;
      }
    }
    e = last_digit_end;
    i = e;
    if (e < t.size() && (Alnum(t[e]) || t[e] == '@')) continue;  // part of a longer token
    if (Overlaps(*out, b, e)) continue;
    const std::string_view text = t.substr(b, e - b);
    const size_t n = digits.size();
    if (n == 11 && !separators && !plus && TcKimlikValid(digits)) {
      out->push_back({PiiKind::kTcKimlik, b, e});
    } else if (n >= 13 && n <= 19 && !plus && !paren && LuhnValid(digits)) {
      out->push_back({PiiKind::kCard, b, e});
    } else if (n == 9 && text.size() == 11 && text[3] == '-' && text[6] == '-') {
      out->push_back({PiiKind::kSsn, b, e});
    } else if (n >= 10 && n <= 15 && (plus || paren || separators || digits[0] == '0')) {
      out->push_back({PiiKind::kPhone, b, e});
    }
  }
}

}  // namespace

const char* PiiKindName(PiiKind kind) {
  switch (kind) {
    case PiiKind::kEmail: return "email";
    case PiiKind::kPhone: return "phone";
    case PiiKind::kCard: return "credit_card";
    case PiiKind::kIban: return "iban";
    case PiiKind::kTcKimlik: return "national_id";
    case PiiKind::kSsn: return "ssn";
  }
  return "?";
}

std::vector<PiiSpan> FindPii(std::string_view text) {
  std::vector<PiiSpan> spans;
  FindEmails(text, &spans);
  FindIbans(text, &spans);
  FindNumbers(text, &spans);
  std::sort(spans.begin(), spans.end(), [](const PiiSpan& a, const PiiSpan& b) { return a.begin < b.begin; });
  return spans;
}

}  // namespace phony::transform
