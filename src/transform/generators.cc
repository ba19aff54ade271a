#include "src/transform/generators.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <map>
#include <mutex>

#include "src/transform/check_digits.h"
#include "src/transform/locale_data.h"
#include "src/transform/name_model.h"
#include "src/transform/rules.h"

namespace phony::transform {
namespace {

// splitmix64's finalizer: a bijective 64-bit mixer.
inline uint64_t Mix64(uint64_t x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return x;
}

// The i-th 64-bit draw of one value's keyed output: independent-looking
// streams for the parts of one fake (first name, last name, digits, …).
inline uint64_t Draw(const GenInput& in, uint64_t i) {
  return Mix64(in.h0 + 0x9e3779b97f4a7c15ULL * (i + 1)) ^ in.h1;
}

// A uniform index below n (Lemire's multiply-shift; bias below n / 2^64).
inline size_t Below(uint64_t r, size_t n) {
  return static_cast<size_t>((static_cast<U128>(r) * n) >> 64);
}

absl::StatusOr<const std::vector<std::string_view>*> FindList(const std::string& locale, std::string_view list) {
  const std::string source = locale + "/" + std::string(list);
  const auto* found = LocaleList(source);
  if (found == nullptr || found->empty()) {
    return absl::InvalidArgumentError("no word list \"" + source + "\" ships with phony");
  }
  return found;
}

void AppendDigits(uint64_t r, int n, std::string* out) {
  for (int i = 0; i < n; ++i) {
    out->push_back(static_cast<char>('0' + r % 10));
    r = r / 10 ^ Mix64(r + static_cast<uint64_t>(i));
  }
}

// A number with `digits` digits written into a fixed-width string.
std::string Padded(uint64_t value, int width) {
  std::string s = std::to_string(value);
  if (static_cast<int>(s.size()) < width) s.insert(0, static_cast<size_t>(width) - s.size(), '0');
  return s;
}

void AppendBase32(uint64_t a, uint64_t b, int chars, std::string* out) {
  static const char kAlphabet[] = "abcdefghijklmnopqrstuvwxyz234567";
  U128 bits = (static_cast<U128>(a) << 64) | b;
  for (int i = 0; i < chars; ++i) {
    out->push_back(kAlphabet[static_cast<unsigned>(bits & 31)]);
    bits >>= 5;
  }
}

std::string LocaleCountry(std::string_view locale) {
  return locale.size() == 5 ? std::string(locale.substr(3, 2)) : std::string();
}

// A version-4 uuid (RFC 4122 variant) from 128 keyed bits, 8-4-4-4-12 hex.
void AppendUuid(uint64_t a, uint64_t b, std::string* out) {
  static const char kHex[] = "0123456789abcdef";
  a = (a & ~0xF000ULL) | 0x4000ULL;
  b = (b & 0x3FFFFFFFFFFFFFFFULL) | 0x8000000000000000ULL;
  char buf[36];
  size_t n = 0;
  for (int i = 0; i < 32; ++i) {
    if (i == 8 || i == 12 || i == 16 || i == 20) buf[n++] = '-';
    const uint64_t word = i < 16 ? a : b;
    buf[n++] = kHex[(word >> (60 - 4 * (i % 16))) & 15];
  }
  out->append(buf, 36);
}

// ---------------------------------------------------------------- lists

class ListGenerator final : public Generator {
 public:
  explicit ListGenerator(const std::vector<std::string_view>* list) : list_(list) {}
  absl::Status Generate(const GenInput& in, std::string* out) const override {
    out->append((*list_)[Below(Draw(in, 0), list_->size())]);
    return absl::OkStatus();
  }
  bool injective() const override { return false; }

 private:
  const std::vector<std::string_view>* list_;
};

class FullNameGenerator final : public Generator {
 public:
  FullNameGenerator(const std::vector<std::string_view>* first, const std::vector<std::string_view>* last)
      : first_(first), last_(last) {}
  absl::Status Generate(const GenInput& in, std::string* out) const override {
    out->append((*first_)[Below(Draw(in, 0), first_->size())]);
    out->push_back(' ');
    out->append((*last_)[Below(Draw(in, 1), last_->size())]);
    return absl::OkStatus();
  }
  bool injective() const override { return false; }

 private:
  const std::vector<std::string_view>* first_;
  const std::vector<std::string_view>* last_;
};

const std::vector<std::string_view>& CompanySuffixes(std::string_view country) {
  static const std::map<std::string_view, std::vector<std::string_view>> kSuffixes = {
      {"TR", {"A.Ş.", "Ltd. Şti.", "Holding A.Ş.", "ve Ortakları"}},
      {"DE", {"GmbH", "AG", "KG", "GmbH & Co. KG", "OHG"}},
      {"FR", {"SARL", "SA", "SAS", "et Fils"}},
      {"ES", {"S.L.", "S.A.", "y Asociados", "Hermanos S.L."}},
      {"US", {"Inc.", "LLC", "Group", "& Sons", "Ltd."}},
  };
  const auto it = kSuffixes.find(country);
  return it != kSuffixes.end() ? it->second : kSuffixes.at("US");
}

class CompanyGenerator final : public Generator {
 public:
  CompanyGenerator(const std::vector<std::string_view>* last, std::string country)
      : last_(last), suffixes_(&CompanySuffixes(country)) {}
  absl::Status Generate(const GenInput& in, std::string* out) const override {
    out->append((*last_)[Below(Draw(in, 0), last_->size())]);
    out->push_back(' ');
    out->append((*suffixes_)[Below(Draw(in, 1), suffixes_->size())]);
    return absl::OkStatus();
  }
  bool injective() const override { return false; }

 private:
  const std::vector<std::string_view>* last_;
  const std::vector<std::string_view>* suffixes_;
};

// ---------------------------------------------------------------- model

// Trained models are shared by every rule that names the same source.
absl::StatusOr<const NameModel*> ModelFor(const std::string& source) {
  static std::mutex mu;
  static std::map<std::string, std::unique_ptr<NameModel>>* models = new std::map<std::string, std::unique_ptr<NameModel>>();
  std::lock_guard<std::mutex> lock(mu);
  auto it = models->find(source);
  if (it != models->end()) return it->second.get();
  const auto* list = LocaleList(source);
  if (list == nullptr || list->empty()) {
    return absl::InvalidArgumentError("no word list \"" + source + "\" ships with phony (lists: locale/name, e.g. "
                                      "tr_TR/first_names)");
  }
  auto model = NameModel::Train(*list, NameModel::Options());
  if (!model.ok()) return model.status();
  auto owned = std::make_unique<NameModel>(*std::move(model));
  const NameModel* raw = owned.get();
  models->emplace(source, std::move(owned));
  return raw;
}

class ModelGenerator final : public Generator {
 public:
  explicit ModelGenerator(const NameModel* model) : model_(model) {}
  absl::Status Generate(const GenInput& in, std::string* out) const override {
    model_->Generate(Draw(in, 0), out);
    return absl::OkStatus();
  }
  bool injective() const override { return false; }

 private:
  const NameModel* model_;
};

// ---------------------------------------------------------------- template

// `{{name[:arg][|filter…]}}` placeholders between literal text.
class TemplateGenerator final : public Generator {
 public:
  static absl::StatusOr<std::unique_ptr<TemplateGenerator>> Parse(std::string_view pattern, const std::string& locale,
                                                                   const Key128& key);
  absl::Status Generate(const GenInput& in, std::string* out) const override;
  bool injective() const override { return injective_; }

 private:
  enum class Kind : uint8_t { kLiteral, kList, kFullName, kUuid, kHash, kDigits, kLetters, kOriginalDomain,
                              kOriginalLocal, kToken, kModel };
  struct Part {
    Kind kind = Kind::kLiteral;
    std::string literal;
    int n = 0;
    const std::vector<std::string_view>* list = nullptr;
    const std::vector<std::string_view>* list2 = nullptr;
    const NameModel* model = nullptr;
    bool lower = false, upper = false, ascii = false;
  };
  std::vector<Part> parts_;
  bool injective_ = false;
  Key128 key_;
  std::unique_ptr<DigitTokenizer> tokenizer_;
};

absl::StatusOr<std::unique_ptr<TemplateGenerator>> TemplateGenerator::Parse(std::string_view p,
                                                                            const std::string& locale,
                                                                            const Key128& key) {
  auto t = std::make_unique<TemplateGenerator>();
  t->key_ = key;
  size_t i = 0;
  while (i < p.size()) {
    const size_t open = p.find("{{", i);
    if (open == std::string_view::npos) {
      t->parts_.push_back({Kind::kLiteral, std::string(p.substr(i))});
      break;
    }
    if (open > i) t->parts_.push_back({Kind::kLiteral, std::string(p.substr(i, open - i))});
    const size_t close = p.find("}}", open + 2);
    if (close == std::string_view::npos) {
      return absl::InvalidArgumentError("template: \"{{\" at position " + std::to_string(open) + " is not closed");
    }
    std::string_view inner = p.substr(open + 2, close - open - 2);
    const std::string where = "template: placeholder at position " + std::to_string(open);
    Part part;
    // Filters.
    std::vector<std::string_view> pieces;
    for (size_t s = 0;;) {
      const size_t bar = inner.find('|', s);
      pieces.push_back(inner.substr(s, bar == std::string_view::npos ? std::string_view::npos : bar - s));
      if (bar == std::string_view::npos) break;
      s = bar + 1;
    }
    for (size_t f = 1; f < pieces.size(); ++f) {
      if (pieces[f] == "lower") part.lower = true;
      else if (pieces[f] == "upper") part.upper = true;
      else if (pieces[f] == "ascii") part.ascii = true;
      else return absl::InvalidArgumentError(where + ": unknown filter \"" + std::string(pieces[f]) +
                                             "\" (filters: lower, upper, ascii)");
    }
    std::string_view name = pieces[0];
    std::string_view arg;
    if (const size_t colon = name.find(':'); colon != std::string_view::npos) {
      arg = name.substr(colon + 1);
      name = name.substr(0, colon);
    }
    auto count_arg = [&](int lo, int hi) -> absl::StatusOr<int> {
      int n = 0;
      const auto [ptr, ec] = std::from_chars(arg.data(), arg.data() + arg.size(), n);
      if (arg.empty() || ec != std::errc() || ptr != arg.data() + arg.size() || n < lo || n > hi) {
        return absl::InvalidArgumentError(where + ": {{" + std::string(name) + ":N}} needs N between " +
                                          std::to_string(lo) + " and " + std::to_string(hi));
      }
      return n;
    };
    auto list = [&](std::string_view which) -> absl::StatusOr<const std::vector<std::string_view>*> {
      return FindList(locale, which);
    };
    if (name == "first_name" || name == "last_name" || name == "city" || name == "street" ||
        name == "first_name_female" || name == "first_name_male") {
      const std::string_view which = name == "first_name" ? "first_names"
                                     : name == "last_name" ? "last_names"
                                     : name == "city"      ? "cities"
                                     : name == "street"    ? "streets"
                                     : name == "first_name_female" ? "first_names_female"
                                                                   : "first_names_male";
      auto l = list(which);
      if (!l.ok()) return l.status();
      part.kind = Kind::kList;
      part.list = *l;
    } else if (name == "full_name") {
      auto f = list("first_names");
      if (!f.ok()) return f.status();
      auto l = list("last_names");
      if (!l.ok()) return l.status();
      part.kind = Kind::kFullName;
      part.list = *f;
      part.list2 = *l;
    } else if (name == "uuid") {
      part.kind = Kind::kUuid;
      t->injective_ = true;
    } else if (name == "hash") {
      auto n = count_arg(1, 32);
      if (!n.ok()) return n.status();
      part.kind = Kind::kHash;
      part.n = *n;
      if (*n >= 20) t->injective_ = true;  // ≥ 80 bits
    } else if (name == "digits") {
      auto n = count_arg(1, 18);
      if (!n.ok()) return n.status();
      part.kind = Kind::kDigits;
      part.n = *n;
    } else if (name == "letters") {
      auto n = count_arg(1, 32);
      if (!n.ok()) return n.status();
      part.kind = Kind::kLetters;
      part.n = *n;
    } else if (name == "original_domain") {
      part.kind = Kind::kOriginalDomain;
    } else if (name == "token") {
      part.kind = Kind::kToken;
      t->injective_ = true;
      if (!t->tokenizer_) t->tokenizer_ = std::make_unique<DigitTokenizer>(key);
    } else if (name == "model") {
      auto m = ModelFor(std::string(arg));
      if (!m.ok()) return absl::InvalidArgumentError(where + ": " + std::string(m.status().message()));
      part.kind = Kind::kModel;
      part.model = *m;
    } else {
      return absl::InvalidArgumentError(
          where + ": unknown placeholder \"" + std::string(name) +
          "\" (placeholders: uuid, first_name, first_name_female, first_name_male, last_name, full_name, city, "
          "street, hash:N, digits:N, letters:N, token, model:<locale/list>, original_domain)");
    }
    if (!arg.empty() && part.kind != Kind::kHash && part.kind != Kind::kDigits && part.kind != Kind::kLetters &&
        part.kind != Kind::kModel) {
      return absl::InvalidArgumentError(where + ": {{" + std::string(name) + "}} takes no argument");
    }
    t->parts_.push_back(std::move(part));
    i = close + 2;
  }
  return t;
}

absl::Status TemplateGenerator::Generate(const GenInput& in, std::string* out) const {
  uint64_t draw = 0;
  for (const Part& part : parts_) {
    if (part.kind == Kind::kLiteral) {
      out->append(part.literal);
      continue;
    }
    const size_t start = out->size();
    const uint64_t r = Draw(in, draw++);
    switch (part.kind) {
      case Kind::kLiteral: break;
      case Kind::kList: out->append((*part.list)[Below(r, part.list->size())]); break;
      case Kind::kFullName:
        out->append((*part.list)[Below(r, part.list->size())]);
        out->push_back(' ');
        out->append((*part.list2)[Below(Mix64(r), part.list2->size())]);
        break;
      case Kind::kUuid: AppendUuid(in.h0, in.h1, out); break;
      case Kind::kHash: {
        static const char kHex[] = "0123456789abcdef";
        uint64_t words[2] = {in.h0, in.h1};
        for (int k = 0; k < part.n; ++k) out->push_back(kHex[(words[k / 16] >> (60 - 4 * (k % 16))) & 15]);
        break;
      }
      case Kind::kDigits: AppendDigits(r, part.n, out); break;
      case Kind::kLetters: {
        uint64_t x = r;
        for (int k = 0; k < part.n; ++k) {
          if (k % 12 == 11) x = Mix64(x + static_cast<uint64_t>(k));
          out->push_back(static_cast<char>('a' + x % 26));
          x /= 26;
        }
        break;
      }
      case Kind::kOriginalDomain: {
        const size_t at = in.original.rfind('@');
        if (at == std::string_view::npos || at + 1 == in.original.size()) {
          return absl::InvalidArgumentError("{{original_domain}}: the original is not an email address");
        }
        out->append(AsciiFold(in.original.substr(at + 1), true));
        break;
      }
      case Kind::kOriginalLocal: break;
      case Kind::kToken: {
        std::string digits;
        for (const char c : in.original) {
          if (c >= '0' && c <= '9') digits.push_back(c);
        }
        if (digits.empty()) return absl::InvalidArgumentError("{{token}}: the original has no digits");
        auto token = tokenizer_->Encrypt(digits);
        if (!token.ok()) return token.status();
        out->append(*token);
        break;
      }
      case Kind::kModel: part.model->Generate(r, out); break;
    }
    if (part.ascii) {
      thread_local std::string piece;
      piece.assign(*out, start, std::string::npos);
      out->resize(start);
      AppendAsciiFold(piece, part.lower, out);
    }
    if (part.lower || part.upper) {
      for (size_t k = start; k < out->size(); ++k) {
        char& c = (*out)[k];
        if (part.lower && c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
        if (part.upper && c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
      }
    }
  }
  return absl::OkStatus();
}

// ---------------------------------------------------------------- email

class EmailGenerator final : public Generator {
 public:
  EmailGenerator(const std::vector<std::string_view>* first, const std::vector<std::string_view>* last, bool unique)
      : first_(first), last_(last), unique_(unique) {}
  absl::Status Generate(const GenInput& in, std::string* out) const override {
    static const char* const kDomains[] = {"example.com", "example.net", "example.org"};
    AppendName((*first_)[Below(Draw(in, 0), first_->size())], out);
    out->push_back('.');
    AppendName((*last_)[Below(Draw(in, 1), last_->size())], out);
    if (unique_) {
      // An 80-bit keyed tag: see docs/anonymization.md for the bound.
      out->push_back('.');
      AppendBase32(in.h0, in.h1 >> 48, 16, out);
    } else {
      AppendDigits(Draw(in, 2), 2, out);
    }
    out->push_back('@');
    out->append(kDomains[Below(Draw(in, 3), 3)]);
    return absl::OkStatus();
  }
  bool injective() const override { return unique_; }
  std::string_view Normalize(std::string_view original, std::string* scratch) const override {
    while (!original.empty() && (original.front() == ' ' || original.front() == '\t')) original.remove_prefix(1);
    while (!original.empty() && (original.back() == ' ' || original.back() == '\t')) original.remove_suffix(1);
    bool upper = false;
    for (const char c : original) upper = upper || (c >= 'A' && c <= 'Z');
    if (!upper) return original;
    scratch->assign(original);
    for (char& c : *scratch) {
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    }
    return *scratch;
  }


 private:
  static void AppendName(std::string_view name, std::string* out) {
    thread_local std::string folded;
    folded.clear();
    AppendAsciiFold(name, true, &folded);
    for (const char c : folded) {
      if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) out->push_back(c);
      else if ((c == ' ' || c == '-') && !out->empty() && out->back() != '-') out->push_back('-');
    }
  }
  const std::vector<std::string_view>* first_;
  const std::vector<std::string_view>* last_;
  bool unique_;
};

// ---------------------------------------------------------------- phone

class PhoneGenerator final : public Generator {
 public:
  PhoneGenerator(std::string country, bool unique, const Key128& key)
      : country_(std::move(country)), unique_(unique), tokenizer_(key) {}

  static bool Supported(std::string_view country) {
    return country == "US" || country == "GB" || country == "DE" || country == "FR" || country == "TR" ||
           country == "ES";
  }

  absl::Status Generate(const GenInput& in, std::string* out) const override {
    if (unique_ || country_ == "TR" || country_ == "ES") {
      // No range reserved for fiction (TR, ES), or a unique column, which
      // the reserved ranges are too small for: the original's shape with
      // its subscriber digits tokenized (country code and prefix kept).
      // Kept: "+CC" / "00CC" and two more digits, or a national "0" and two.
      const size_t keep = in.original.starts_with("+") ? 4 : in.original.starts_with("00") ? 5 : 3;
      const size_t start = out->size();
      if (TokenizeDigitsInPlace(tokenizer_, in.original, keep, 4, out).ok()) return absl::OkStatus();
      out->resize(start);
      if (unique_) return absl::InvalidArgumentError("the original does not look like a phone number");
      // Too short to keep its shape: a number of the country's format.
      out->append(country_ == "TR" ? "+90 5" : "+34 6");
      std::string d;
      AppendDigits(Draw(in, 0), country_ == "TR" ? 9 : 8, &d);
      if (country_ == "TR") {
        out->append(d.substr(0, 2) + " " + d.substr(2, 3) + " " + d.substr(5, 2) + " " + d.substr(7, 2));
      } else {
        out->append(d.substr(0, 2) + " " + d.substr(2, 3) + " " + d.substr(5, 3));
      }
      return absl::OkStatus();
    }
    const uint64_t r = Draw(in, 0);
    if (country_ == "US") {
      // NANP reserves 555-0100 … 555-0199 for fiction in every area code.
      uint64_t area = 201 + r % 789;
      if (area % 100 == 11 || (area / 10) % 10 == 9) area = 212;  // no N11, no N9X
      out->append("+1 " + std::to_string(area) + "-555-01" + Padded(Mix64(r) % 100, 2));
    } else if (country_ == "GB") {
      // Ofcom's drama range for mobiles: 07700 900000 … 900999.
      out->append("+44 7700 900" + Padded(Mix64(r) % 1000, 3));
    } else if (country_ == "DE") {
      // Bundesnetzagentur's drama numbers (Amtsblatt 7/2021, Mitteilung 148).
      static const char* const kBlocks[] = {"+49 30 23125 ", "+49 69 90009 ", "+49 40 66969 ", "+49 221 4710 ",
                                            "+49 89 99998 "};
      out->append(kBlocks[r % 5]);
      out->append(Padded(Mix64(r) % 1000, 3));
    } else {  // FR
      // ARCEP's numbers reserved for fiction.
      static const char* const kBlocks[] = {"+33 1 99 00 ", "+33 2 61 91 ", "+33 3 53 01 ", "+33 4 65 71 ",
                                            "+33 5 36 49 ", "+33 6 39 98 "};
      const uint64_t s = Mix64(r) % 10000;
      out->append(kBlocks[r % 6]);
      out->append(Padded(s / 100, 2) + " " + Padded(s % 100, 2));
    }
    return absl::OkStatus();
  }
  bool injective() const override { return unique_; }

 private:
  std::string country_;
  bool unique_;
  DigitTokenizer tokenizer_;
};

// ---------------------------------------------------------------- address

class AddressGenerator final : public Generator {
 public:
  AddressGenerator(std::string country, const std::vector<std::string_view>* streets,
                   const std::vector<std::string_view>* cities)
      : country_(std::move(country)), streets_(streets), cities_(cities) {}
  absl::Status Generate(const GenInput& in, std::string* out) const override {
    const std::string_view street = (*streets_)[Below(Draw(in, 0), streets_->size())];
    const std::string_view city = (*cities_)[Below(Draw(in, 1), cities_->size())];
    const std::string number = std::to_string(1 + Draw(in, 2) % 199);
    const uint64_t p = Draw(in, 3);
    if (country_ == "DE") {
      out->append(street).append(" ").append(number).append(", ").append(Padded(1067 + p % 98000, 5));
    } else if (country_ == "FR") {
      out->append(number).append(" ").append(street).append(", ").append(Padded(1000 + p % 95000, 5));
    } else if (country_ == "ES") {
      out->append(street).append(", ").append(number).append(", ").append(Padded(1000 + p % 51000, 5));
    } else if (country_ == "TR") {
      out->append(street).append(" No: ").append(number).append(", ").append(Padded(1000 + p % 80000, 5));
    } else {
      out->append(number).append(" ").append(street).append(", ");
      out->append(city).append(" ").append(Padded(10000 + p % 89000, 5));
      return absl::OkStatus();
    }
    out->append(" ").append(city);
    return absl::OkStatus();
  }
  bool injective() const override { return false; }

 private:
  std::string country_;
  const std::vector<std::string_view>* streets_;
  const std::vector<std::string_view>* cities_;
};

// ---------------------------------------------------------------- check digits

class CheckDigitGenerator final : public Generator {
 public:
  enum class Kind { kCard, kTcKimlik, kSsn, kDni, kIban };
  CheckDigitGenerator(Kind kind, const Key128& key) : kind_(kind), tokenizer_(key) {}
  absl::Status Generate(const GenInput& in, std::string* out) const override {
    absl::StatusOr<std::string> fake;
    switch (kind_) {
      case Kind::kCard: fake = FakeCardNumber(tokenizer_, in.original); break;
      case Kind::kTcKimlik: fake = FakeTcKimlik(tokenizer_, in.original); break;
      case Kind::kSsn: fake = FakeSsn(tokenizer_, in.original); break;
      case Kind::kIban: fake = FakeIban(tokenizer_, in.original); break;
      case Kind::kDni: fake = FakeDni(in.original); break;
    }
    if (!fake.ok()) return fake.status();
    out->append(*fake);
    return absl::OkStatus();
  }
  bool injective() const override { return kind_ != Kind::kSsn; }

 private:
  // Spanish DNI: 8 digits and the letter of their value mod 23.
  absl::StatusOr<std::string> FakeDni(std::string_view original) const {
    std::string digits;
    for (const char c : original) {
      if (c >= '0' && c <= '9') digits.push_back(c);
    }
    if (digits.size() != 8) return absl::InvalidArgumentError("not a DNI (8 digits and a letter)");
    auto token = tokenizer_.Encrypt(digits);
    if (!token.ok()) return token.status();
    static const char kLetters[] = "TRWAGMYFPDXBNJZSQVHLCKE";
    return *token + kLetters[std::stoul(*token) % 23];
  }
  Kind kind_;
  DigitTokenizer tokenizer_;
};

// ---------------------------------------------------------------- uuid

class UuidGenerator final : public Generator {
 public:
  absl::Status Generate(const GenInput& in, std::string* out) const override {
    AppendUuid(in.h0, in.h1, out);
    return absl::OkStatus();
  }
  bool injective() const override { return true; }
};

// ---------------------------------------------------------------- numbers

// The number of digits after the point of a decimal's text.
int DecimalScale(std::string_view text) {
  const size_t dot = text.find('.');
  return dot == std::string_view::npos ? 0 : static_cast<int>(text.size() - dot - 1);
}

class NumberGenerator final : public Generator {
 public:
  NumberGenerator(bool noise, double min, double max) : noise_(noise), min_(min), max_(max) {}
  absl::Status Generate(const GenInput&, std::string*) const override {
    return absl::InvalidArgumentError("noise and range apply to numeric columns");
  }
  bool injective() const override { return false; }
  bool numeric() const override { return true; }
  absl::StatusOr<Value> GenerateNumber(const Value& v, uint64_t h0) const override {
    const double u = static_cast<double>(h0 >> 11) * 0x1.0p-53;  // [0, 1)
    const double offset = min_ + u * (max_ - min_);
    switch (v.kind()) {
      case ValueKind::kInt64: {
        if (!noise_) {
          const auto lo = static_cast<int64_t>(std::ceil(min_)), hi = static_cast<int64_t>(std::floor(max_));
          return Value::Int64(lo + static_cast<int64_t>(Below(h0, static_cast<size_t>(hi - lo + 1))));
        }
        const double out = static_cast<double>(v.int64_value()) + std::round(offset);
        if (!(out > -9.2e18 && out < 9.2e18)) return absl::InvalidArgumentError("noise leaves int64's range");
        return Value::Int64(v.int64_value() + static_cast<int64_t>(std::round(offset)));
      }
      case ValueKind::kUInt64: {
        const double base = noise_ ? static_cast<double>(v.uint64_value()) : 0.0;
        const double out = base + (noise_ ? std::round(offset) : std::floor(offset));
        if (out < 0 || out > 1.8e19) return absl::InvalidArgumentError("noise leaves the unsigned range");
        return Value::UInt64(static_cast<uint64_t>(out));
      }
      case ValueKind::kDouble:
        return Value::Double(noise_ ? v.double_value() + offset : offset);
      case ValueKind::kDecimal: {
        const std::string& text = v.str();
        double base = 0;
        if (noise_) {
          if (text == "NaN" || text == "Infinity" || text == "-Infinity") return v;
          base = std::strtod(text.c_str(), nullptr);
        }
        const int scale = DecimalScale(text);
        char buf[64];
        std::snprintf(buf, sizeof buf, "%.*f", scale, base + offset);
        std::string normalized;
        if (!NormalizeDecimal(buf, &normalized)) return absl::InvalidArgumentError("noise gave no decimal");
        return Value::Decimal(std::move(normalized));
      }
      default:
        return absl::InvalidArgumentError(std::string(noise_ ? "noise" : "range") + " applies to numbers, not " +
                                          ValueKindName(v.kind()));
    }
  }

 private:
  bool noise_;
  double min_, max_;
};

}  // namespace

absl::Status TokenizeDigitsInPlace(const DigitTokenizer& tokenizer, std::string_view original, size_t keep,
                                   size_t min_digits, std::string* out) {
  std::string digits;
  for (const char c : original) {
    if (c >= '0' && c <= '9') digits.push_back(c);
  }
  if (digits.size() < keep + min_digits || digits.size() - keep > DigitTokenizer::kMaxDigits) {
    return absl::InvalidArgumentError("the original has too few or too many digits for this rule");
  }
  auto token = tokenizer.Encrypt(std::string_view(digits).substr(keep));
  if (!token.ok()) return token.status();
  size_t d = 0;
  for (const char c : original) {
    if (c >= '0' && c <= '9') {
      out->push_back(d < keep ? c : (*token)[d - keep]);
      ++d;
    } else {
      out->push_back(c);
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<Value> Generator::GenerateNumber(const Value&, uint64_t) const {
  return absl::InvalidArgumentError("not a numeric generator");
}

absl::StatusOr<LocaleInfo> LookupLocale(std::string_view locale) {
  for (const std::string& shipped : ShippedLocales()) {
    if (shipped == locale) return LocaleInfo{shipped, LocaleCountry(shipped)};
  }
  std::string known;
  for (const std::string& shipped : ShippedLocales()) known += (known.empty() ? "" : ", ") + shipped;
  return absl::InvalidArgumentError("locale \"" + std::string(locale) + "\" ships no word lists (locales: " + known +
                                    ")");
}

bool CanonicalView(const Value& v, std::string* scratch, std::string_view* out) {
  switch (v.kind()) {
    case ValueKind::kDecimal:
    case ValueKind::kText:
    case ValueKind::kBytes:
    case ValueKind::kJson: *out = v.str(); return true;
    case ValueKind::kInt64: {
      char buf[24];
      const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v.int64_value());
      scratch->assign(buf, end);
      *out = *scratch;
      return true;
    }
    default: {
      std::optional<std::string> text = CanonicalText(v);
      if (!text) return false;
      *scratch = *std::move(text);
      *out = *scratch;
      return true;
    }
  }
}

std::optional<std::string> CanonicalText(const Value& v) {
  switch (v.kind()) {
    case ValueKind::kNull:
    case ValueKind::kUnchanged: return std::nullopt;
    case ValueKind::kBool: return std::string(v.bool_value() ? "true" : "false");
    case ValueKind::kInt64:
    case ValueKind::kTime:
    case ValueKind::kTimestamp:
    case ValueKind::kTimestampTz: return std::to_string(v.int64_value());
    case ValueKind::kUInt64: return std::to_string(v.uint64_value());
    case ValueKind::kDouble: {
      char buf[32];
      const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v.double_value());
      return std::string(buf, ec == std::errc() ? end : buf);
    }
    case ValueKind::kDate: {
      int64_t y;
      unsigned m, d;
      CivilFromDays(v.date_value(), &y, &m, &d);
      char buf[32];
      std::snprintf(buf, sizeof buf, "%04lld-%02u-%02u", static_cast<long long>(y), m, d);
      return std::string(buf);
    }
    case ValueKind::kTimeTz:
      return std::to_string(v.int64_value()) + "@" + std::to_string(v.tz_offset_seconds());
    case ValueKind::kInterval: {
      const Interval iv = v.interval_value();
      return std::to_string(iv.months) + "m" + std::to_string(iv.days) + "d" + std::to_string(iv.micros);
    }
    case ValueKind::kUuid: return FormatUuid(v.str());
    case ValueKind::kDecimal:
    case ValueKind::kText:
    case ValueKind::kBytes:
    case ValueKind::kJson: return v.str();
  }
  return std::nullopt;
}

void AppendAsciiFold(std::string_view s, bool lower, std::string* out) {
  // Latin letters with diacritics of the shipped locales, by code point.
  static const std::map<uint32_t, const char*> kFold = {
      {0xC0, "A"}, {0xC1, "A"}, {0xC2, "A"}, {0xC3, "A"}, {0xC4, "A"}, {0xC5, "A"}, {0xC6, "AE"}, {0xC7, "C"},
      {0xC8, "E"}, {0xC9, "E"}, {0xCA, "E"}, {0xCB, "E"}, {0xCC, "I"}, {0xCD, "I"}, {0xCE, "I"}, {0xCF, "I"},
      {0xD1, "N"}, {0xD2, "O"}, {0xD3, "O"}, {0xD4, "O"}, {0xD5, "O"}, {0xD6, "O"}, {0xD8, "O"}, {0xD9, "U"},
      {0xDA, "U"}, {0xDB, "U"}, {0xDC, "U"}, {0xDD, "Y"}, {0xDF, "ss"}, {0xE0, "a"}, {0xE1, "a"}, {0xE2, "a"},
      {0xE3, "a"}, {0xE4, "a"}, {0xE5, "a"}, {0xE6, "ae"}, {0xE7, "c"}, {0xE8, "e"}, {0xE9, "e"}, {0xEA, "e"},
      {0xEB, "e"}, {0xEC, "i"}, {0xED, "i"}, {0xEE, "i"}, {0xEF, "i"}, {0xF1, "n"}, {0xF2, "o"}, {0xF3, "o"},
      {0xF4, "o"}, {0xF5, "o"}, {0xF6, "o"}, {0xF8, "o"}, {0xF9, "u"}, {0xFA, "u"}, {0xFB, "u"}, {0xFC, "u"},
      {0xFD, "y"}, {0xFF, "y"}, {0x11E, "G"}, {0x11F, "g"}, {0x130, "I"}, {0x131, "i"}, {0x141, "L"},
      {0x142, "l"}, {0x152, "OE"}, {0x153, "oe"}, {0x15E, "S"}, {0x15F, "s"}, {0x160, "S"}, {0x161, "s"},
      {0x178, "Y"}, {0x17D, "Z"}, {0x17E, "z"}, {0x106, "C"}, {0x107, "c"}, {0x10C, "C"}, {0x10D, "c"},
  };
  size_t plain = 0;
  while (plain < s.size() && static_cast<unsigned char>(s[plain]) < 0x80) ++plain;
  if (plain == s.size()) {  // the common case: no table lookups
    for (char ch : s) out->push_back(lower && ch >= 'A' && ch <= 'Z' ? static_cast<char>(ch - 'A' + 'a') : ch);
    return;
  }
  for (size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    uint32_t cp = c;
    size_t len = 1;
    if (c >= 0xC0 && c < 0xE0 && i + 1 < s.size()) {
      cp = ((c & 0x1Fu) << 6) | (static_cast<unsigned char>(s[i + 1]) & 0x3Fu);
      len = 2;
    } else if (c >= 0xE0 && c < 0xF0) {
      len = 3;
      cp = 0x10000;  // nothing to fold up there
    } else if (c >= 0xF0) {
      len = 4;
      cp = 0x10000;
    }
    i += len;
    std::string_view piece;
    char ascii[2] = {0, 0};
    if (cp < 0x80) {
      ascii[0] = static_cast<char>(cp);
      piece = std::string_view(ascii, 1);
    } else if (const auto it = kFold.find(cp); it != kFold.end()) {
      piece = it->second;
    }
    for (char ch : piece) {
      if (lower && ch >= 'A' && ch <= 'Z') ch = static_cast<char>(ch - 'A' + 'a');
      out->push_back(ch);
    }
  }
}

std::string AsciiFold(std::string_view s, bool lower) {
  std::string out;
  AppendAsciiFold(s, lower, &out);
  return out;
}

absl::StatusOr<std::unique_ptr<Generator>> MakeGenerator(const ColumnRule& rule, std::string_view locale_name,
                                                         const Key128& key) {
  auto locale = LookupLocale(locale_name);
  if (!locale.ok()) return locale.status();
  const std::string& lc = locale->locale;
  const std::string country = rule.country.empty() ? locale->country : rule.country;
  const std::string& g = rule.generator;
  auto list = [&](std::string_view which) { return FindList(lc, which); };
  std::unique_ptr<Generator> out;
  if (g == "first_name" || g == "last_name" || g == "city" || g == "street") {
    auto l = list(g == "first_name" ? "first_names" : g == "last_name" ? "last_names" : g == "city" ? "cities"
                                                                                                   : "streets");
    if (!l.ok()) return l.status();
    out = std::make_unique<ListGenerator>(*l);
  } else if (g == "full_name") {
    auto f = list("first_names");
    auto l = list("last_names");
    if (!f.ok()) return f.status();
    if (!l.ok()) return l.status();
    out = std::make_unique<FullNameGenerator>(*f, *l);
  } else if (g == "company") {
    auto l = list("last_names");
    if (!l.ok()) return l.status();
    out = std::make_unique<CompanyGenerator>(*l, country);
  } else if (g == "template") {
    if (rule.pattern.empty()) return absl::InvalidArgumentError("generator template needs a pattern");
    auto t = TemplateGenerator::Parse(rule.pattern, lc, key);
    if (!t.ok()) return t.status();
    out = *std::move(t);
  } else if (g == "model") {
    if (rule.source.empty()) return absl::InvalidArgumentError("generator model needs a source (e.g. tr_TR/first_names)");
    auto m = ModelFor(rule.source);
    if (!m.ok()) return m.status();
    out = std::make_unique<ModelGenerator>(*m);
  } else if (g == "email") {
    auto f = list("first_names");
    auto l = list("last_names");
    if (!f.ok()) return f.status();
    if (!l.ok()) return l.status();
    out = std::make_unique<EmailGenerator>(*f, *l, rule.unique);
  } else if (g == "phone") {
    if (!PhoneGenerator::Supported(country)) {
      return absl::InvalidArgumentError("generator phone has no format for country \"" + country +
                                        "\" (countries: DE, ES, FR, GB, TR, US)");
    }
    out = std::make_unique<PhoneGenerator>(country, rule.unique, key);
  } else if (g == "address") {
    auto s = list("streets");
    auto c = list("cities");
    if (!s.ok()) return s.status();
    if (!c.ok()) return c.status();
    out = std::make_unique<AddressGenerator>(country, *s, *c);
  } else if (g == "national_id") {
    CheckDigitGenerator::Kind kind;
    if (country == "TR") kind = CheckDigitGenerator::Kind::kTcKimlik;
    else if (country == "US") kind = CheckDigitGenerator::Kind::kSsn;
    else if (country == "ES") kind = CheckDigitGenerator::Kind::kDni;
    else {
      return absl::InvalidArgumentError("generator national_id has no format for country \"" + country +
                                        "\" (countries: ES (DNI), TR (TC Kimlik), US (SSN)); set \"country\"");
    }
    out = std::make_unique<CheckDigitGenerator>(kind, key);
  } else if (g == "credit_card") {
    out = std::make_unique<CheckDigitGenerator>(CheckDigitGenerator::Kind::kCard, key);
  } else if (g == "iban") {
    out = std::make_unique<CheckDigitGenerator>(CheckDigitGenerator::Kind::kIban, key);
  } else if (g == "uuid") {
    out = std::make_unique<UuidGenerator>();
  } else if (g == "noise" || g == "range") {
    if (!rule.min || !rule.max) return absl::InvalidArgumentError("generator " + g + " needs min and max");
    if (!(*rule.min <= *rule.max)) return absl::InvalidArgumentError("generator " + g + ": min is above max");
    out = std::make_unique<NumberGenerator>(g == "noise", *rule.min, *rule.max);
  } else {
    return absl::InvalidArgumentError("unknown generator \"" + g + "\"");
  }
  if (rule.unique && !out->injective()) {
    return absl::InvalidArgumentError(
        "generator " + g + " cannot keep a unique column unique" +
        (g == "template" ? " (put {{uuid}}, {{token}} or {{hash:N}} with N >= 20 in the pattern)"
                         : " (use email, phone, uuid, credit_card, iban, national_id, a template with {{uuid}} "
                           "or {{token}}, or TOKENIZE)"));
  }
  return out;
}

}  // namespace phony::transform
