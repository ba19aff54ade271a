#include "src/transform/locale_data.h"

#include <functional>
#include <map>
#include <set>

namespace phony::transform {
namespace {

// One file of data/locales as the linker placed it: "locale/list" and its bytes.
struct EmbeddedFile {
  std::string_view name;
  const char* begin;
  const char* end;
};

}  // namespace
}  // namespace phony::transform

// Generated at configure time by src/transform/CMakeLists.txt: the .incbin
// directives and `kEmbeddedFiles`, one row per data/locales/*/*.txt, by name.
#include "src/transform/locale_data_embedded.inc"

namespace phony::transform {
namespace {

using Lists = std::map<std::string, std::vector<std::string_view>, std::less<>>;

// One entry per '\n'-terminated line; a last line without '\n' counts too.
std::vector<std::string_view> SplitLines(std::string_view bytes) {
  std::vector<std::string_view> lines;
  while (!bytes.empty()) {
    const size_t end = bytes.find('\n');
    if (end == std::string_view::npos) {
      lines.push_back(bytes);
      break;
    }
    lines.push_back(bytes.substr(0, end));
    bytes.remove_prefix(end + 1);
  }
  return lines;
}

// Built on first use (a function-local static: thread-safe), never destroyed.
const Lists& AllLists() {
  static const Lists* const lists = [] {
    auto* built = new Lists;
    for (const EmbeddedFile& file : kEmbeddedFiles) {
      built->emplace(std::string(file.name),
                     SplitLines(std::string_view(file.begin, static_cast<size_t>(file.end - file.begin))));
    }
    return built;
  }();
  return *lists;
}

}  // namespace

const std::vector<std::string_view>* LocaleList(std::string_view source) {
  const Lists& lists = AllLists();
  const auto it = lists.find(source);
  return it == lists.end() ? nullptr : &it->second;
}

std::vector<std::string> LocaleListNames() {
  std::vector<std::string> names;
  for (const auto& [name, entries] : AllLists()) names.push_back(name);
  return names;
}

std::vector<std::string> ShippedLocales() {
  std::set<std::string, std::less<>> locales;
  for (const auto& [name, entries] : AllLists()) locales.emplace(name.substr(0, name.find('/')));
  return {locales.begin(), locales.end()};
}

}  // namespace phony::transform
