// The per-locale word lists the generators draw from (first names, last
// names, cities, streets, …): data/locales/<locale>/<list>.txt, taken from
// Faker (data/locales/SOURCES.md), compiled into the binary at build time and
// never read from disk. They are dictionary version 1: existing fakes depend
// on every entry and its position, so a list is never edited in place (a
// change is a new version). Thread-safe: the lists are parsed once, on first
// use, and are immutable afterwards; the views stay valid for the process.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace phony::transform {

// A list shipped in data/locales, e.g. "tr_TR/first_names": its entries in
// file order (byte order, unique, non-empty). nullptr when there is no such
// list. Parsed once (thread-safe, lazily), then views into the embedded bytes.
const std::vector<std::string_view>* LocaleList(std::string_view source);

// Every "locale/list" name, sorted.
std::vector<std::string> LocaleListNames();

// The locales that ship lists, sorted: {"de_DE","en_US","es_ES","fr_FR","tr_TR"}.
std::vector<std::string> ShippedLocales();

}  // namespace phony::transform
