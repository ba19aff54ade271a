// PII detection for one column, by its name and by a sample of its values
// (issue #10). Pure and thread-safe: the catalog and the samples come from
// the source readers (analyze_source.h); this file only judges them.
//
//   DetectByName     tokenizes the name (snake_case, camelCase, PascalCase,
//                    abbreviations, Turkish/German/French/Spanish words with
//                    their letters folded to ASCII) and matches it against a
//                    dictionary of PII words, with the table's name as
//                    context (`customer.name` is a person, `genre.name` is not).
//   DetectByContent  runs validators over the sampled values (email, phone
//                    in national and E.164 forms, Luhn, IBAN mod 97, TC
//                    Kimlik and SSN shapes, IPv4/IPv6, birth-date ranges,
//                    person names and cities from the shipped locale lists,
//                    street addresses, password hashes, secrets, free text
//                    with embedded PII) and column statistics (distinct ratio,
//                    length profile) that tell identifiers from categories.
//   Judge            combines the two into one verdict with a confidence.
//
// docs/analyze.md explains the scores and how they combine.
#pragma once

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace phony::analyze {

enum class PiiType : uint8_t {
  kNone,
  kName,
  kFirstName,
  kLastName,
  kEmail,
  kPhone,
  kAddress,
  kPostalCode,
  kCity,
  kDateOfBirth,
  kNationalId,
  kCreditCard,
  kIban,
  kIpAddress,
  kUsername,
  kPassword,
  kSecret,
  kFreeText,
  kGeoLocation,
};
inline constexpr int kPiiTypeCount = 19;

// "EMAIL", "DATE_OF_BIRTH" …; "NONE" for kNone.
const char* PiiTypeName(PiiType type);
inline void PrintTo(PiiType type, std::ostream* os) { *os << PiiTypeName(type); }
std::optional<PiiType> ParsePiiType(std::string_view name);

// What a column's SQL type allows it to hold.
enum class ColumnClass : uint8_t { kText, kInteger, kNumber, kDate, kTimestamp, kBool, kBinary, kJson, kUuid, kInet, kGeometry, kOther };
const char* ColumnClassName(ColumnClass c);

struct ColumnFacts {
  std::string table;  // the table's name, unqualified ("customers")
  std::string name;   // the column's name as the catalog spells it
  ColumnClass cls = ColumnClass::kText;
  bool primary_key = false;
  bool unique = false;
};

struct Verdict {
  PiiType type = PiiType::kNone;
  double confidence = 0;
};

// The name's tokens, lower case, letters folded to ASCII ("DoğumTarihi" ->
// {"dogum", "tarihi"}, "HTTPServerIP" -> {"http", "server", "ip"}).
std::vector<std::string> NameTokens(std::string_view name);

// The verdict from the column's name and its table's name; kNone with
// confidence 0 when the name says nothing. A type the column's class cannot
// hold (an EMAIL in a boolean) is no verdict.
Verdict DetectByName(const ColumnFacts& column);

// Statistics and validator results over a column's sampled values.
struct ContentProfile {
  size_t values = 0;    // non-null, non-empty values sampled
  size_t distinct = 0;
  double mean_length = 0;
  // Fraction of values each validator accepts, by PiiType (kNone unused).
  double match[kPiiTypeCount] = {};
  // Values of free text (or JSON) with PII embedded in them.
  size_t embedded_pii = 0;
};

ContentProfile ProfileValues(const ColumnFacts& column, const std::vector<std::string>& values);

// The verdict from the content alone; kNone when no validator is convinced
// (or there is too little to judge: fewer than 5 values).
Verdict DetectByContent(const ColumnFacts& column, const ContentProfile& profile);

struct ColumnJudgement {
  Verdict verdict;
  bool by_name = false;     // the name supports the verdict
  bool by_content = false;  // the content supports it
};

// The final verdict: name and content agreeing raise the confidence;
// content that contradicts a name (a column called `email` whose sampled
// values are not emails) lowers it; content alone can decide a type the
// name does not mention.
ColumnJudgement Judge(const ColumnFacts& column, const ContentProfile* profile);

// Column names that name a person's name in a table of people, by the
// table's name (singularized): users, customers, employees, kullanicilar …
bool IsPersonTable(std::string_view table);

}  // namespace phony::analyze
