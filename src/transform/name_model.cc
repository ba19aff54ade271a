#include "src/transform/name_model.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cstring>
#include <map>
#include <set>

#include "absl/status/status.h"
#include "src/transform/keyed.h"

namespace phony::transform {
namespace {

// Symbol id 0 is the boundary: the start marker inside contexts, the end
// marker as a follower; 1 is the back-off entry's. Code points get ids 2..
// in code-point order.
constexpr uint32_t kBoundary = 0;
constexpr uint64_t kAttempts = 4;
constexpr uint64_t kGolden = 0x9E3779B97F4A7C15ULL;
constexpr uint64_t kFallbackSalt = 0xD1B54A32D192ED03ULL;

inline uint64_t SplitMix64(uint64_t x) {
  uint64_t z = x + kGolden;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

// wyrand (Wang Yi's wyhash PRNG): one 64x64->128 multiply per step.
inline uint64_t WyRand(uint64_t* state) {
  *state += 0xA0761D6478BD642FULL;
  const U128 t = static_cast<U128>(*state) * (*state ^ 0xE7037ED1A0B428DBULL);
  return static_cast<uint64_t>(t >> 64) ^ static_cast<uint64_t>(t);
}

// Byte length of a UTF-8 sequence by its lead byte's high nibble (the
// symbols are valid, so continuation nibbles never occur).
constexpr std::array<uint8_t, 16> kUtf8Length = {1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 2, 2, 3, 4};

// Strict UTF-8 (no overlongs, surrogates or code points past U+10FFFF).
// Returns the byte offset of the first bad sequence, or npos.
size_t DecodeUtf8(std::string_view s, std::vector<char32_t>* out) {
  size_t i = 0;
  while (i < s.size()) {
    const auto b0 = static_cast<unsigned char>(s[i]);
    size_t n;
    char32_t cp, min;
    if (b0 < 0x80) {
      n = 1, cp = b0, min = 0;
    } else if ((b0 & 0xE0) == 0xC0) {
      n = 2, cp = b0 & 0x1F, min = 0x80;
    } else if ((b0 & 0xF0) == 0xE0) {
      n = 3, cp = b0 & 0x0F, min = 0x800;
    } else if ((b0 & 0xF8) == 0xF0) {
      n = 4, cp = b0 & 0x07, min = 0x10000;
    } else {
      return i;
    }
    if (n > s.size() - i) return i;
    for (size_t k = 1; k < n; ++k) {
      const auto b = static_cast<unsigned char>(s[i + k]);
      if ((b & 0xC0) != 0x80) return i;
      cp = (cp << 6) | (b & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return i;
    out->push_back(cp);
    i += n;
  }
  return std::string_view::npos;
}

std::array<char, 4> EncodeUtf8(char32_t cp) {
  std::array<char, 4> b{};
  auto c = [](uint32_t v) { return static_cast<char>(static_cast<unsigned char>(v)); };
  if (cp < 0x80) {
    b[0] = c(cp);
  } else if (cp < 0x800) {
    b[0] = c(0xC0 | (cp >> 6)), b[1] = c(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    b[0] = c(0xE0 | (cp >> 12)), b[1] = c(0x80 | ((cp >> 6) & 0x3F)), b[2] = c(0x80 | (cp & 0x3F));
  } else {
    b[0] = c(0xF0 | (cp >> 18)), b[1] = c(0x80 | ((cp >> 12) & 0x3F)), b[2] = c(0x80 | ((cp >> 6) & 0x3F));
    b[3] = c(0x80 | (cp & 0x3F));
  }
  return b;
}

// A context: its length, then its symbol ids oldest first, zero-padded.
// Ordered by length, then symbols: that order assigns the dense ids.
using ContextKey = std::array<uint32_t, NameModel::kMaxOrder + 1>;

ContextKey Suffix(const ContextKey& c, uint32_t length) {
  ContextKey s{};
  s[0] = length;
  for (uint32_t i = 0; i < length; ++i) s[1 + i] = c[1 + c[0] - length + i];
  return s;
}

// c followed by `symbol`, less c's oldest symbol when c has `order`.
ContextKey Extend(const ContextKey& c, uint32_t symbol, uint32_t order) {
  ContextKey e{};
  const uint32_t keep = std::min(c[0], order - 1);
  e[0] = keep + 1;
  for (uint32_t i = 0; i < keep; ++i) e[1 + i] = c[1 + c[0] - keep + i];
  e[1 + keep] = symbol;
  return e;
}

struct ContextStats {
  uint32_t id = 0;
  std::map<uint32_t, uint64_t> followers;  // symbol id -> count
};

}  // namespace

absl::StatusOr<NameModel> NameModel::Train(const std::vector<std::string_view>& words, const Options& options) {
  if (words.empty()) return absl::InvalidArgumentError("name model: the word list is empty");
  if (options.order < 1 || options.order > kMaxOrder) {
    return absl::InvalidArgumentError("name model: order " + std::to_string(options.order) + " is outside 1.." +
                                      std::to_string(kMaxOrder));
  }
  const auto order = static_cast<uint32_t>(options.order);

  // Decode; collect the alphabet and the length range.
  std::vector<std::vector<char32_t>> decoded(words.size());
  std::set<char32_t> alphabet;
  size_t shortest = kMaxCodePoints, longest = 0;
  for (size_t w = 0; w < words.size(); ++w) {
    if (words[w].empty()) return absl::InvalidArgumentError("name model: word " + std::to_string(w) + " is empty");
    if (const size_t bad = DecodeUtf8(words[w], &decoded[w]); bad != std::string_view::npos) {
      return absl::InvalidArgumentError("name model: word " + std::to_string(w) + " is not valid UTF-8 at byte " +
                                        std::to_string(bad));
    }
    if (decoded[w].size() > kMaxCodePoints) {
      return absl::InvalidArgumentError("name model: word " + std::to_string(w) + " has " +
                                        std::to_string(decoded[w].size()) + " code points, more than " +
                                        std::to_string(kMaxCodePoints));
    }
    alphabet.insert(decoded[w].begin(), decoded[w].end());
    shortest = std::min(shortest, decoded[w].size());
    longest = std::max(longest, decoded[w].size());
  }

  NameModel m;
  m.min_length_ = options.min_length != 0 ? options.min_length : shortest;
  m.max_length_ = options.max_length != 0 ? options.max_length : longest;
  if (m.max_length_ > kMaxCodePoints) {
    return absl::InvalidArgumentError("name model: max_length " + std::to_string(m.max_length_) + " is above " +
                                      std::to_string(kMaxCodePoints));
  }
  if (m.min_length_ > m.max_length_) {
    return absl::InvalidArgumentError("name model: min_length " + std::to_string(m.min_length_) +
                                      " is above max_length " + std::to_string(m.max_length_));
  }
  std::set<std::string_view> fallback;
  for (size_t w = 0; w < words.size(); ++w) {
    if (decoded[w].size() >= m.min_length_ && decoded[w].size() <= m.max_length_) fallback.insert(words[w]);
  }
  if (fallback.empty()) {
    return absl::InvalidArgumentError("name model: no training word has between " + std::to_string(m.min_length_) +
                                      " and " + std::to_string(m.max_length_) + " code points");
  }
  m.fallback_words_.assign(fallback.begin(), fallback.end());

  if (alphabet.size() > 0xFFFF - kFirstSymbol) {
    return absl::InvalidArgumentError("name model: the words have " + std::to_string(alphabet.size()) +
                                      " distinct code points, more than " + std::to_string(0xFFFF - kFirstSymbol));
  }
  std::vector<char32_t> code_points(alphabet.begin(), alphabet.end());
  auto symbol_id = [&](char32_t cp) {
    return static_cast<uint32_t>(std::lower_bound(code_points.begin(), code_points.end(), cp) - code_points.begin()) +
           kFirstSymbol;
  };

  // Follower counts of every context of length 1..order at every position
  // of every word padded with `order` start markers.
  std::map<ContextKey, ContextStats> contexts;
  std::vector<uint32_t> padded;
  for (const auto& word : decoded) {
    padded.assign(order, kBoundary);
    for (char32_t cp : word) padded.push_back(symbol_id(cp));
    padded.push_back(kBoundary);
    for (size_t pos = order; pos < padded.size(); ++pos) {
      for (uint32_t length = 1; length <= order; ++length) {
        ContextKey key{};
        key[0] = length;
        for (uint32_t i = 0; i < length; ++i) key[1 + i] = padded[pos - length + i];
        ContextStats& stats = contexts[key];
        ++stats.followers[padded[pos]];
      }
    }
  }
  uint32_t next_id = 0;
  for (auto& [key, stats] : contexts) stats.id = next_id++;
  m.num_contexts_ = contexts.size();

  // One alias table per context, in id order: its followers weighted by
  // their counts N(x), and (above one symbol) the back-off entry weighted by
  // the number of distinct followers T (Witten-Bell: the shorter context's
  // share is T / (N + T)). Entries first hold the next context's id,
  // resolved to a table reference below.
  std::vector<uint32_t> table_refs;
  table_refs.reserve(contexts.size());
  struct Entry {
    uint64_t weight;
    uint32_t next;
    uint16_t symbol;
  };
  std::vector<Entry> entries;
  std::vector<uint64_t> scaled;
  std::vector<uint32_t> small, large;
  for (const auto& [key, stats] : contexts) {
    // Shorter contexts with the very same follower counts (every occurrence
    // of the shorter one continues this one) draw from the same
    // distribution, so their levels merge into this table: past m such
    // levels of N occurrences and T distinct followers, the back-off is
    // reached with probability (T / (N + T))^m, so a follower weighs
    // count * ((N + T)^m - T^m) / N and the back-off T^m; (N + T)^m stays
    // below 2^40. Merged down to one symbol, there is no back-off.
    uint64_t occurrences = 0;
    for (const auto& [symbol, count] : stats.followers) occurrences += count;
    const uint64_t distinct = stats.followers.size();
    uint32_t length = key[0];
    uint64_t all_power = occurrences + distinct, back_off_power = distinct;
    while (length > 1 && contexts.at(Suffix(key, length - 1)).followers == stats.followers &&
           all_power * (occurrences + distinct) < (uint64_t{1} << 40)) {
      --length;
      all_power *= occurrences + distinct;
      back_off_power *= distinct;
    }
    const uint64_t follower_scale = length > 1 ? (all_power - back_off_power) / occurrences : 1;
    entries.clear();
    for (const auto& [symbol, count] : stats.followers) {
      // A follower's context, the last `order` symbols, was seen here.
      const uint32_t next = symbol == kBoundary ? 0 : contexts.at(Extend(key, symbol, order)).id;
      entries.push_back(Entry{count * follower_scale, next, static_cast<uint16_t>(symbol)});
    }
    if (length > 1) {
      const uint32_t shorter = contexts.at(Suffix(key, length - 1)).id;
      entries.push_back(Entry{back_off_power, shorter, kBackoffSymbol});
    }
    // Zero-weight padding to a power of two of columns (never drawn).
    const size_t n = std::bit_ceil(entries.size());
    entries.resize(n, Entry{0, 0, kEndSymbol});

    // Vose's alias method in exact integers: column capacity is the total
    // weight, each entry brings weight * n.
    uint64_t total = 0;
    for (const Entry& e : entries) total += e.weight;
    scaled.clear();
    small.clear();
    large.clear();
    for (size_t i = 0; i < n; ++i) {
      scaled.push_back(entries[i].weight * n);
      (scaled[i] < total ? small : large).push_back(static_cast<uint32_t>(i));
    }
    const size_t first = m.columns_.size();
    if (first + n > kFirstColumnMask) return absl::InvalidArgumentError("name model: the word list is too large");
    table_refs.push_back(static_cast<uint32_t>(first) | static_cast<uint32_t>(32 - std::countr_zero(n)) << kShiftBit);
    for (const Entry& e : entries) m.columns_.push_back(Column{0, {e.next, e.next}, {e.symbol, e.symbol}});  // full
    while (!small.empty() && !large.empty()) {
      const uint32_t s = small.back();
      small.pop_back();
      const uint32_t l = large.back();
      Column& column = m.columns_[first + s];
      column.threshold = static_cast<uint32_t>((static_cast<U128>(scaled[s]) << 32) / total);
      column.next[1] = entries[l].next;
      column.symbol[1] = entries[l].symbol;
      scaled[l] -= total - scaled[s];
      if (scaled[l] < total) {
        large.pop_back();
        small.push_back(l);
      }
    }
  }
  for (Column& column : m.columns_) {
    for (int side = 0; side < 2; ++side) {
      if (column.symbol[side] != kEndSymbol) column.next[side] = table_refs[column.next[side]];
    }
  }
  ContextKey start{};
  start[0] = order;
  m.start_ = table_refs[contexts.at(start).id];

  m.symbols_.resize(code_points.size() + kFirstSymbol);  // the end and back-off symbols emit nothing
  for (size_t i = 0; i < code_points.size(); ++i) {
    const std::array<char, 4> bytes = EncodeUtf8(code_points[i]);
    Symbol& symbol = m.symbols_[kFirstSymbol + i];
    std::memcpy(symbol.utf8, bytes.data(), 4);
    symbol.bytes = kUtf8Length[static_cast<unsigned char>(bytes[0]) >> 4];
  }
  return m;
}

long NameModel::Walk(uint64_t state, char* buf) const {
  static_assert(sizeof(Column) == 16);
  // Locals, so stores to `buf` do not force reloads.
  const Column* const columns = columns_.data();
  const Symbol* const symbols = symbols_.data();
  const size_t min_length = min_length_, max_length = max_length_;
  uint32_t table = start_;
  char* p = buf;
  size_t length = 0;
  for (;;) {
    const uint64_t r = WyRand(&state);
    // The top log2(columns) of bits 32..63 pick the column (a one-column
    // table shifts them all out); the low 32 bits pick its side.
    const Column& column = columns[(table & kFirstColumnMask) + ((r >> 32) >> (table >> kShiftBit))];
    // Both sides are loaded and one is selected by masking: the next
    // column's address waits on one load and a compare, never on a branch.
    const uint32_t keep = 0u - static_cast<uint32_t>(static_cast<uint32_t>(r) < column.threshold);  // cmp, sbb
    table = column.next[1] ^ ((column.next[0] ^ column.next[1]) & keep);
    const uint32_t symbol_id = column.symbol[1] ^ ((column.symbol[0] ^ column.symbol[1]) & keep);
    if (symbol_id == kEndSymbol) return length >= min_length ? p - buf : -1;
    // A back-off emits nothing (zero bytes) and keeps the length.
    const Symbol& symbol = symbols[symbol_id];
    std::memcpy(p, symbol.utf8, 4);
    p += symbol.bytes;
    length += symbol.bytes != 0;
    if (length > max_length) return -1;
  }
}

void NameModel::Generate(uint64_t seed, std::string* out) const {
  char buf[kMaxCodePoints * 4 + 4];
  for (uint64_t attempt = 0; attempt < kAttempts; ++attempt) {
    const long n = Walk(SplitMix64(seed + attempt * kGolden), buf);
    if (n >= 0) {
      out->append(buf, static_cast<size_t>(n));
      return;
    }
  }
  const U128 pick = static_cast<U128>(SplitMix64(seed ^ kFallbackSalt)) * fallback_words_.size();
  out->append(fallback_words_[static_cast<size_t>(pick >> 64)]);
}

}  // namespace phony::transform
