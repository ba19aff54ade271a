#include "src/transform/name_model.h"

#include <algorithm>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/testing/status_matchers.h"
#include "gtest/gtest.h"

namespace phony::transform {
namespace {

using ::phony::testing::StatusIs;
using ::testing::HasSubstr;

// 222 common Turkish first names: every Turkish letter occurs.
const std::vector<std::string_view> kTurkishNames = {
    "Ahmet",   "Mehmet",   "Mustafa", "Ali",      "Hüseyin", "Hasan",    "İbrahim",  "İsmail",  "Osman",   "Yusuf",
    "Murat",   "Ömer",     "Ramazan", "Halil",    "Süleyman", "Abdullah", "Mahmut",  "Recep",   "Salih",   "Fatih",
    "Kadir",   "Emre",     "Hakan",   "Adem",     "Kemal",   "Yaşar",    "Bekir",    "Musa",    "Metin",   "Serkan",
    "Orhan",   "Burak",    "Uğur",    "Yunus",    "Abdurrahman", "Cengiz", "Erkan",  "Yakup",   "Volkan",  "Sinan",
    "Gökhan",  "Tolga",    "Onur",    "Barış",    "Emrah",   "Cem",      "Can",      "Deniz",   "Ercan",   "Erdem",
    "Erol",    "Ferhat",   "Furkan",  "Gürkan",   "Hamza",   "Harun",    "İlhan",    "İlker",   "Kaan",    "Kerem",
    "Levent",  "Necati",   "Nihat",   "Oğuz",     "Oğuzhan", "Okan",     "Ozan",     "Özgür",   "Rıza",    "Sabri",
    "Selim",   "Serdar",   "Sercan",  "Şahin",    "Şükrü",   "Taner",    "Tarık",    "Tuncay",  "Turgut",  "Umut",
    "Ümit",    "Vedat",    "Yavuz",   "Yiğit",    "Yılmaz",  "Zafer",    "Zeki",     "Alper",   "Arda",    "Batuhan",
    "Berk",    "Çağlar",   "Çağrı",   "Doğan",    "Ekrem",   "Enes",     "Engin",    "Eren",    "Erhan",   "Ertuğrul",
    "Fikret",  "Gökay",    "Hikmet",  "İsa",      "Kubilay", "Melih",    "Nuri",     "Polat",   "Rüştü",   "Sefa",
    "Tayfun",  "Tuğrul",   "Utku",    "Fatma",    "Ayşe",    "Emine",    "Hatice",   "Zeynep",  "Elif",    "Meryem",
    "Şerife",  "Zehra",    "Sultan",  "Hanife",   "Merve",   "Havva",    "Zeliha",   "Esra",    "Fadime",  "Özlem",
    "Hacer",   "Yasemin",  "Hülya",   "Cemile",   "Sevgi",   "Gülsüm",   "Leyla",    "Dilek",   "Büşra",   "Aysel",
    "Songül",  "Kübra",    "Hediye",  "Rabia",    "Tuğba",   "Gül",      "Ebru",     "Derya",   "Sibel",   "Aynur",
    "Filiz",   "Gamze",    "Nurcan",  "Pınar",    "Seda",    "Serpil",   "Şükran",   "Tülay",   "Ümran",   "Yeliz",
    "Zerrin",  "Aslı",     "Aylin",   "Bahar",    "Başak",   "Belgin",   "Berna",    "Betül",   "Burcu",   "Canan",
    "Ceren",   "Çiğdem",   "Damla",   "Demet",    "Dilara",  "Duygu",    "Ece",      "Eda",     "Ela",     "Emel",
    "Esma",    "Feride",   "Gizem",   "Gönül",    "Gülay",   "Gülşen",   "Hande",    "İpek",    "İrem",    "Kader",
    "Melek",   "Melike",   "Nazlı",   "Nergis",   "Nesrin",  "Nihal",    "Nilüfer",  "Öykü",    "Pelin",   "Reyhan",
    "Selin",   "Selma",    "Semra",   "Sevda",    "Sevim",   "Şeyma",    "Şule",     "Tuba",    "Türkan",  "Yağmur",
    "Yıldız",  "Zuhal",    "Cansu",   "Buse",     "Beyza",   "Irmak",    "Ilgın",    "Işıl",     "Selçuk",  "Çiçek",
    "Ayça",    "Gökçe",
};

// Strict UTF-8 decoding, independent of the model's; nullopt when invalid.
std::optional<std::u32string> Decode(std::string_view s) {
  std::u32string out;
  for (size_t i = 0; i < s.size();) {
    const auto b = static_cast<unsigned char>(s[i]);
    const size_t n = b < 0x80                ? 1
                     : b >= 0xC2 && b < 0xE0 ? 2
                     : b >= 0xE0 && b < 0xF0 ? 3
                     : b >= 0xF0 && b < 0xF5 ? 4
                                             : 0;
    if (n == 0 || i + n > s.size()) return std::nullopt;
    char32_t cp = n == 1 ? b : b & (0x7F >> n);
    for (size_t k = 1; k < n; ++k) {
      const auto c = static_cast<unsigned char>(s[i + k]);
      if ((c & 0xC0) != 0x80) return std::nullopt;
      cp = (cp << 6) | (c & 0x3F);
    }
    if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10FFFF)) || (cp >= 0xD800 && cp <= 0xDFFF)) {
      return std::nullopt;
    }
    out.push_back(cp);
    i += n;
  }
  return out;
}

std::string Gen(const NameModel& m, uint64_t seed) {
  std::string s;
  m.Generate(seed, &s);
  return s;
}

TEST(NameModelTest, TwoSeparatelyTrainedModelsAgree) {
  ASSERT_OK_AND_ASSIGN(NameModel a, NameModel::Train(kTurkishNames, {}));
  // The model depends on the multiset of words, not on their order.
  std::vector<std::string_view> reversed(kTurkishNames.rbegin(), kTurkishNames.rend());
  ASSERT_OK_AND_ASSIGN(NameModel b, NameModel::Train(reversed, {}));
  for (uint64_t seed = 0; seed < 10000; ++seed) {
    const uint64_t s = seed * 0x9E3779B97F4A7C15ULL;
    ASSERT_EQ(Gen(a, s), Gen(b, s)) << "seed " << s;
  }
}

TEST(NameModelTest, GenerateAppends) {
  ASSERT_OK_AND_ASSIGN(NameModel m, NameModel::Train(kTurkishNames, {}));
  std::string out = "prefix:";
  m.Generate(42, &out);
  EXPECT_EQ(out, "prefix:" + Gen(m, 42));
}

TEST(NameModelTest, OutputsAreValidUtf8WithinTheBounds) {
  const std::set<char32_t> alphabet = [] {
    std::set<char32_t> a;
    for (std::string_view w : kTurkishNames) {
      const auto cps = Decode(w);
      a.insert(cps->begin(), cps->end());
    }
    return a;
  }();
  struct Case {
    NameModel::Options options;
    size_t min, max;
  };
  const Case cases[] = {
      {{}, 3, 11},  // from the data: "Ali" .. "Abdurrahman"
      {{.order = 1}, 3, 11},
      {{.order = 6}, 3, 11},
      {{.order = 3, .min_length = 5, .max_length = 6}, 5, 6},
      {{.order = 2, .min_length = 11, .max_length = 11}, 11, 11},  // walks rarely fit: mostly the fallback
  };
  for (const Case& c : cases) {
    ASSERT_OK_AND_ASSIGN(NameModel m, NameModel::Train(kTurkishNames, c.options));
    EXPECT_EQ(m.min_length(), c.min);
    EXPECT_EQ(m.max_length(), c.max);
    std::string out;
    for (uint64_t seed = 0; seed < 100000; ++seed) {
      out.clear();
      m.Generate(seed, &out);
      const auto cps = Decode(out);
      ASSERT_TRUE(cps.has_value()) << "seed " << seed << ": invalid UTF-8";
      ASSERT_GE(cps->size(), c.min) << out;
      ASSERT_LE(cps->size(), c.max) << out;
      for (char32_t cp : *cps) ASSERT_TRUE(alphabet.contains(cp)) << out << " has a symbol never seen";
    }
  }
}

TEST(NameModelTest, TurkishLettersAreSingleSymbols) {
  ASSERT_OK_AND_ASSIGN(NameModel m, NameModel::Train(kTurkishNames, {}));
  std::set<std::string> seen_letters;
  const std::vector<std::string> letters = {"ş", "ğ", "ı", "İ", "ç", "ö", "ü", "Ş", "Ç", "Ö", "Ü"};
  for (uint64_t seed = 0; seed < 10000; ++seed) {
    const std::string s = Gen(m, seed);
    ASSERT_TRUE(Decode(s).has_value()) << s;
    for (const std::string& l : letters) {
      if (s.find(l) != std::string::npos) seen_letters.insert(l);
    }
  }
  EXPECT_EQ(seen_letters.size(), letters.size());
}

TEST(NameModelTest, CapitalsOnlyWhereTrainingHasThem) {
  ASSERT_OK_AND_ASSIGN(NameModel m, NameModel::Train(kTurkishNames, {}));
  for (uint64_t seed = 0; seed < 10000; ++seed) {
    const std::u32string s = *Decode(Gen(m, seed));
    // Training names are capitalized and the rest is lower case (ASCII and
    // Turkish capitals: A-Z, Ç Ö Ü Ş İ).
    auto is_capital = [](char32_t c) {
      return (c >= 'A' && c <= 'Z') || c == U'Ç' || c == U'Ö' || c == U'Ü' || c == U'Ş' || c == U'İ';
    };
    ASSERT_TRUE(is_capital(s[0])) << seed;
    for (size_t i = 1; i < s.size(); ++i) ASSERT_FALSE(is_capital(s[i])) << seed;
  }
}

TEST(NameModelTest, OutputsVary) {
  // 222 names are few for contexts of three symbols: at order 3, 29% of the
  // outputs copy a training name and 47% of 10k outputs are distinct; at
  // order 2, 8% and 60%.
  for (const auto& [order, at_least] : {std::pair{2, 5000u}, std::pair{3, 4500u}}) {
    ASSERT_OK_AND_ASSIGN(NameModel m, NameModel::Train(kTurkishNames, {.order = order}));
    std::set<std::string> distinct;
    for (uint64_t seed = 0; seed < 10000; ++seed) distinct.insert(Gen(m, seed));
    EXPECT_GE(distinct.size(), at_least) << "order " << order;
  }
}

// Every bigram of every output, the boundaries included ('^' before the
// first symbol, '$' after the last), occurs in some training word: the model
// is an n-gram model of the data that never backs off to single symbols.
TEST(NameModelTest, EveryBigramWasSeenInTraining) {
  constexpr char32_t kStart = 0x110000, kEnd = 0x110001;
  auto bigrams = [&](const std::u32string& w) {
    std::set<std::pair<char32_t, char32_t>> b;
    char32_t prev = kStart;
    for (char32_t c : w) b.insert({std::exchange(prev, c), c});
    b.insert({prev, kEnd});
    return b;
  };
  std::set<std::pair<char32_t, char32_t>> trained;
  for (std::string_view w : kTurkishNames) trained.merge(bigrams(*Decode(w)));
  for (int order = 1; order <= NameModel::kMaxOrder; ++order) {
    ASSERT_OK_AND_ASSIGN(NameModel m, NameModel::Train(kTurkishNames, {.order = order}));
    for (uint64_t seed = 0; seed < 10000; ++seed) {
      const std::string s = Gen(m, seed);
      for (const auto& b : bigrams(*Decode(s))) ASSERT_TRUE(trained.contains(b)) << "order " << order << ": " << s;
    }
  }
}

TEST(NameModelTest, SpacesAndHyphensAreSymbols) {
  const std::vector<std::string_view> streets = {
      "Rue de la Paix",    "Rue du Bac",        "Avenue de l'Opéra", "Boulevard Saint-Germain", "Rue Saint-Honoré",
      "Place de la Concorde", "Rue de Rivoli",  "Avenue Montaigne",  "Rue de la Roquette",      "Quai de la Tournelle",
      "Jean-Luc",          "Jean-Pierre",       "Marie-Hélène",      "Anne-Sophie",             "Rue Mouffetard",
  };
  ASSERT_OK_AND_ASSIGN(NameModel m, NameModel::Train(streets, {}));
  bool spaced = false, hyphenated = false;
  for (uint64_t seed = 0; seed < 2000; ++seed) {
    const std::string s = Gen(m, seed);
    ASSERT_TRUE(Decode(s).has_value()) << s;
    spaced |= s.find(' ') != std::string::npos;
    hyphenated |= s.find('-') != std::string::npos;
    EXPECT_NE(s.front(), ' ');
    EXPECT_NE(s.back(), ' ');
  }
  EXPECT_TRUE(spaced);
  EXPECT_TRUE(hyphenated);
}

TEST(NameModelTest, BadInputIsRefused) {
  EXPECT_THAT(NameModel::Train({}, {}).status(), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("empty")));
  EXPECT_THAT(NameModel::Train({"Ali", ""}, {}).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("word 1 is empty")));
  EXPECT_THAT(NameModel::Train({"Ali", "Ay\xC5"}, {}).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("word 1 is not valid UTF-8 at byte 2")));
  EXPECT_THAT(NameModel::Train({"\xC0\xAF"}, {}).status(),  // overlong '/'
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("at byte 0")));
  EXPECT_THAT(NameModel::Train({"a\xED\xA0\x80"}, {}).status(),  // a surrogate
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("at byte 1")));
  EXPECT_THAT(NameModel::Train({"ab\xF4\x90\x80\x80"}, {}).status(),  // past U+10FFFF
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("at byte 2")));
  EXPECT_THAT(NameModel::Train({"a\x80"}, {}).status(),  // a stray continuation byte
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("at byte 1")));
  const std::string too_long(NameModel::kMaxCodePoints + 1, 'a');
  EXPECT_THAT(NameModel::Train({too_long}, {}).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("more than 256")));
  for (int order : {0, -1, 7}) {
    EXPECT_THAT(NameModel::Train({"Ali"}, {.order = order}).status(),
                StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("outside 1..6")));
  }
  EXPECT_THAT(NameModel::Train({"Ali"}, {.min_length = 5, .max_length = 4}).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("min_length 5 is above max_length 4")));
  EXPECT_THAT(NameModel::Train({"Ali", "Ayşe"}, {.min_length = 5}).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("min_length 5 is above max_length 4")));
  EXPECT_THAT(NameModel::Train({"Ali"}, {.max_length = 257}).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("max_length 257 is above 256")));
  EXPECT_THAT(NameModel::Train({"Ali", "Ayşe"}, {.min_length = 5, .max_length = 9}).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("no training word has between 5 and 9")));
}

TEST(NameModelTest, OneWordModelsRepeatIt) {
  ASSERT_OK_AND_ASSIGN(NameModel m, NameModel::Train({"İpek"}, {}));
  for (uint64_t seed = 0; seed < 100; ++seed) EXPECT_EQ(Gen(m, seed), "İpek");
}

// Version 1 of the algorithm. These outputs are fakes already handed out: if
// this test fails, the change needs a new generator version, not new goldens.
TEST(NameModelTest, GoldenOutputsOfVersion1) {
  const std::vector<std::string_view> words = {
      "Ayşe",  "Ahmet",  "Çağla",  "Deniz", "Elif",   "Emre",  "Gökhan", "Hülya", "İbrahim", "Kemal",
      "Leyla", "Mehmet", "Nazlı",  "Oğuz",  "Özlem",  "Selin", "Şükrü",  "Tuğba", "Umut",    "Zeynep",
  };
  const uint64_t seeds[] = {0, 1, 2, 3, 42, 1000, 0xDEADBEEF, 0x8000000000000000ULL, 0xFFFFFFFFFFFFFFFFULL,
                            0x0123456789ABCDEFULL};
  ASSERT_OK_AND_ASSIGN(NameModel order3, NameModel::Train(words, {}));
  const std::string_view want3[] = {"Özlem", "Ayşe",  "Emet",   "Tuğba",   "Şükrü",
                                    "Selin", "Leyla", "Mehmet", "Zeynela", "Tuğba"};
  for (size_t i = 0; i < std::size(seeds); ++i) EXPECT_EQ(Gen(order3, seeds[i]), want3[i]) << "seed " << seeds[i];
  // Tight bounds: retries from derived seeds, and the fallback to a training
  // word (seeds 0, 3, 42 and 0xDEADBEEF fail all four attempts).
  ASSERT_OK_AND_ASSIGN(NameModel tight, NameModel::Train(words, {.order = 2, .min_length = 6, .max_length = 7}));
  const std::string_view want_tight[] = {"Gökhan",  "Nazlem", "Kemalif", "Gökhan",  "İbrahim",
                                         "Şükrüla", "Gökhan", "Nahmet",  "Zeynela", "Gökhmet"};
  for (size_t i = 0; i < std::size(seeds); ++i) EXPECT_EQ(Gen(tight, seeds[i]), want_tight[i]) << "seed " << seeds[i];
  // A list of 222 names: wider tables, more back-offs.
  ASSERT_OK_AND_ASSIGN(NameModel turkish, NameModel::Train(kTurkishNames, {}));
  const std::pair<uint64_t, std::string_view> want_turkish[] = {
      {7, "Ererkan"},   {8, "Ertuğrul"}, {9, "Zehmet"},          {10, "Fergut"},
      {11, "Çiğuğruz"}, {12, "Kus"},     {0xCAFEF00D, "Şergut"}, {0x5555555555555555ULL, "Ela"},
  };
  for (const auto& [seed, want] : want_turkish) EXPECT_EQ(Gen(turkish, seed), want) << "seed " << seed;
}

}  // namespace
}  // namespace phony::transform
