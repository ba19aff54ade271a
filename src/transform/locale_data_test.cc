#include "src/transform/locale_data.h"

#include <algorithm>
#include <cstdint>
#include <set>
#include <thread>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace phony::transform {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;

// Whether `s` is well-formed UTF-8: no stray continuation bytes, no
// truncated, overlong or surrogate sequences, nothing above U+10FFFF.
bool IsValidUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    size_t n = 0;
    uint32_t cp = 0;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      n = 1, cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      n = 2, cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      n = 3, cp = c & 0x07;
    } else {
      return false;
    }
    if (n > s.size() - i - 1) return false;
    for (size_t k = 1; k <= n; ++k) {
      const auto d = static_cast<unsigned char>(s[i + k]);
      if ((d & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (d & 0x3F);
    }
    static constexpr uint32_t kMin[] = {0, 0x80, 0x800, 0x10000};
    if (cp < kMin[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += n + 1;
  }
  return true;
}

// FNV-1a (64-bit) of a list as its file holds it: every entry and a '\n'.
uint64_t Fingerprint(const std::vector<std::string_view>& entries) {
  uint64_t h = 0xcbf29ce484222325u;
  const auto mix = [&h](unsigned char c) { h = (h ^ c) * 0x100000001b3u; };
  for (std::string_view e : entries) {
    for (char c : e) mix(static_cast<unsigned char>(c));
    mix('\n');
  }
  return h;
}

const std::vector<std::string_view>& List(const std::string& source) {
  static const std::vector<std::string_view> kEmpty;
  const auto* list = LocaleList(source);
  EXPECT_NE(list, nullptr) << source;
  return list != nullptr ? *list : kEmpty;
}

bool Has(const std::string& source, std::string_view entry) {
  const auto& list = List(source);
  return std::binary_search(list.begin(), list.end(), entry);
}

TEST(LocaleDataTest, FiveLocalesShip) {
  EXPECT_THAT(ShippedLocales(), ElementsAre("de_DE", "en_US", "es_ES", "fr_FR", "tr_TR"));
}

// The smallest real list of each kind, rounded down: fr_FR has 88 male
// first names, tr_TR 60 last names, es_ES 51 cities (its provinces).
TEST(LocaleDataTest, EveryLocaleHasEveryRequiredListAtASaneSize) {
  const struct {
    const char* list;
    size_t minimum;
  } kRequired[] = {
      {"first_names", 200}, {"first_names_female", 120}, {"first_names_male", 80},
      {"last_names", 60},   {"cities", 50},              {"streets", 2000},
  };
  for (const std::string& locale : ShippedLocales()) {
    for (const auto& required : kRequired) {
      const std::string source = locale + "/" + required.list;
      EXPECT_GE(List(source).size(), required.minimum) << source;
    }
  }
}

TEST(LocaleDataTest, EntriesAreCleanSortedAndUnique) {
  for (const std::string& name : LocaleListNames()) {
    const auto& list = List(name);
    ASSERT_FALSE(list.empty()) << name;
    for (size_t i = 0; i < list.size(); ++i) {
      const std::string_view e = list[i];
      ASSERT_FALSE(e.empty()) << name << " entry " << i;
      EXPECT_TRUE(IsValidUtf8(e)) << name << ": " << e;
      EXPECT_NE(e.front(), ' ') << name << ": \"" << e << "\"";
      EXPECT_NE(e.back(), ' ') << name << ": \"" << e << "\"";
      EXPECT_EQ(e.find_first_of("\t\r\n\v\f0123456789"), std::string_view::npos) << name << ": " << e;
      // string_view compares as unsigned bytes: the order of LC_ALL=C sort.
      if (i > 0) {
        EXPECT_LT(list[i - 1], e) << name << ": not sorted or not unique at entry " << i;
      }
    }
  }
}

TEST(LocaleDataTest, FirstNamesAreTheUnionOfFemaleAndMale) {
  for (const std::string& locale : ShippedLocales()) {
    std::set<std::string_view> both(List(locale + "/first_names_female").begin(),
                                    List(locale + "/first_names_female").end());
    both.insert(List(locale + "/first_names_male").begin(), List(locale + "/first_names_male").end());
    const auto& first = List(locale + "/first_names");
    EXPECT_TRUE(std::equal(both.begin(), both.end(), first.begin(), first.end())) << locale;
  }
}

TEST(LocaleDataTest, KnownEntriesArePresent) {
  const auto& tr_first = List("tr_TR/first_names");
  EXPECT_TRUE(std::any_of(tr_first.begin(), tr_first.end(), [](std::string_view e) {
    return e.find("ş") != std::string_view::npos || e.find("ğ") != std::string_view::npos;
  }));
  EXPECT_TRUE(Has("tr_TR/first_names_female", "Emine")) << "repaired from Faker's \"Emine.\"";
  EXPECT_TRUE(Has("tr_TR/first_names_male", "Nizamettin")) << "repaired from Faker's mojibake";
  EXPECT_TRUE(Has("tr_TR/last_names", "Yılmaz"));
  // Common names come from phony's supplement (Faker's tr_TR lacks them);
  // political figures' surnames are left out.
  for (const char* name : {"Mehmet", "Ahmet", "Mustafa", "Ayşe", "Fatma", "Zeynep"}) {
    EXPECT_TRUE(Has("tr_TR/first_names", name)) << name;
  }
  for (const char* name : {"Kaya", "Demir", "Şahin", "Çelik", "Öztürk"}) {
    EXPECT_TRUE(Has("tr_TR/last_names", name)) << name;
  }
  for (const char* name : {"Öcalan", "Gülen", "Erdoğan"}) EXPECT_FALSE(Has("tr_TR/last_names", name)) << name;
  EXPECT_TRUE(Has("tr_TR/cities", "İstanbul"));
  EXPECT_TRUE(Has("tr_TR/streets", "Yılmaz Caddesi"));
  EXPECT_TRUE(Has("de_DE/last_names", "Müller"));
  EXPECT_TRUE(Has("de_DE/cities", "München"));
  EXPECT_TRUE(Has("de_DE/streets", "Schmidtweg"));
  EXPECT_TRUE(Has("en_US/last_names", "Smith"));
  EXPECT_TRUE(Has("en_US/streets", "Johnson Street"));
  EXPECT_TRUE(Has("fr_FR/first_names_female", "Adèle"));
  EXPECT_TRUE(Has("fr_FR/cities", "Paris"));
  EXPECT_TRUE(Has("fr_FR/streets", "Rue Martin"));
  EXPECT_TRUE(Has("es_ES/first_names_male", "José"));
  EXPECT_TRUE(Has("es_ES/cities", "Madrid"));
  // Faker's data errors stay out.
  EXPECT_FALSE(Has("de_DE/last_names", "Koch II"));
  EXPECT_FALSE(Has("de_DE/first_names_male", "Hans-J."));
  EXPECT_FALSE(Has("es_ES/cities", "Ciudad"));
}

TEST(LocaleDataTest, UnknownListsAreNull) {
  EXPECT_EQ(LocaleList("tr_TR/nope"), nullptr);
  EXPECT_EQ(LocaleList("xx_XX/first_names"), nullptr);
  EXPECT_EQ(LocaleList("tr_TR"), nullptr);
  EXPECT_EQ(LocaleList("tr_TR/first_names.txt"), nullptr);
  EXPECT_EQ(LocaleList("first_names"), nullptr);
  EXPECT_EQ(LocaleList(""), nullptr);
}

TEST(LocaleDataTest, NamesAreSortedAndEachResolves) {
  const std::vector<std::string> names = LocaleListNames();
  EXPECT_TRUE(std::is_sorted(names.begin(), names.end()));
  EXPECT_THAT(names, Contains("tr_TR/first_names"));
  for (const std::string& name : names) {
    EXPECT_NE(LocaleList(name), nullptr) << name;
  }
}

// gtest_discover_tests runs each test in its own process, so this one
// races the lazy first parse.
TEST(LocaleDataTest, ParsedOnceAcrossThreads) {
  std::vector<const std::vector<std::string_view>*> seen(8);
  std::vector<std::thread> threads;
  for (size_t i = 0; i < seen.size(); ++i) {
    threads.emplace_back([&seen, i] { seen[i] = LocaleList("de_DE/cities"); });
  }
  for (std::thread& t : threads) t.join();
  ASSERT_NE(seen[0], nullptr);
  for (const auto* list : seen) EXPECT_EQ(list, seen[0]);
  EXPECT_EQ(LocaleList("de_DE/cities"), seen[0]);
}

// Dictionary version 1 is frozen (data/locales/SOURCES.md): existing fakes
// depend on every entry and its position. A failure here means a list was
// edited in place; ship the change as a new dictionary version instead.
TEST(LocaleDataTest, DictionaryVersion1IsFrozen) {
  const struct {
    const char* name;
    size_t entries;
    uint64_t fingerprint;
  } kVersion1[] = {
      {"de_DE/cities", 392, 0x82bd81ee99b8b604u},
      {"de_DE/first_names", 1997, 0x62f3c631b32143d6u},
      {"de_DE/first_names_female", 1003, 0x779aa01d1ef6c098u},
      {"de_DE/first_names_male", 994, 0xcd61e6ce84357e57u},
      {"de_DE/last_names", 401, 0x1663eb4b4ac3bae0u},
      {"de_DE/street_suffixes", 6, 0xea044681f8d5ecd2u},
      {"de_DE/streets", 2000, 0x4f7dc9c59734921cu},
      {"en_US/cities", 1000, 0x803c36e82a499feeu},
      {"en_US/first_names", 690, 0xefc23496796c97d0u},
      {"en_US/first_names_female", 381, 0xb364d69cf1c1027cu},
      {"en_US/first_names_male", 322, 0x683929f7259c7c4eu},
      {"en_US/last_names", 1000, 0x2c98da009bf044a2u},
      {"en_US/street_suffixes", 195, 0x9a2c1b3099a76de2u},
      {"en_US/streets", 2000, 0x14759439b5fd3eb6u},
      {"es_ES/cities", 51, 0x9bdcbcfaf2ea7a43u},
      {"es_ES/first_names", 934, 0xb2e61ee662b05dc0u},
      {"es_ES/first_names_female", 478, 0x3b1944d49ba312c8u},
      {"es_ES/first_names_male", 473, 0x37e27a792cbcd2a5u},
      {"es_ES/last_names", 1085, 0xfbc370fe91b6b057u},
      {"es_ES/street_prefixes", 18, 0x4833a3513f89d591u},
      {"es_ES/streets", 2000, 0xf948d4851d1cd215u},
      {"fr_FR/cities", 101, 0x4007867922a442a0u},
      {"fr_FR/first_names", 215, 0xe533b9bf627da0f4u},
      {"fr_FR/first_names_female", 127, 0xdd9dfda7dacc1af1u},
      {"fr_FR/first_names_male", 88, 0xc2dda1ce760d926au},
      {"fr_FR/last_names", 400, 0xc3c42a0d1e8acf0du},
      {"fr_FR/street_prefixes", 4, 0xd8e4965159bdd063u},
      {"fr_FR/streets", 2000, 0x54403e845b422954u},
      {"tr_TR/cities", 81, 0xff42de8fb56d21abu},
      {"tr_TR/first_names", 1561, 0x724c04c1f81c0f07u},
      {"tr_TR/first_names_female", 669, 0xf1ff74c2a4c445dfu},
      {"tr_TR/first_names_male", 906, 0xd6db48c6268fef82u},
      {"tr_TR/last_names", 151, 0x6392cb475427e11bu},
      {"tr_TR/streets", 2000, 0x236722cef99c2c0cu},
  };
  std::vector<std::string> pinned;
  for (const auto& v : kVersion1) {
    pinned.push_back(v.name);
    const auto& list = List(v.name);
    EXPECT_EQ(list.size(), v.entries) << v.name;
    EXPECT_EQ(Fingerprint(list), v.fingerprint) << v.name;
  }
  EXPECT_EQ(LocaleListNames(), pinned) << "a list was added or removed";
}

}  // namespace
}  // namespace phony::transform
