// A character n-gram model of one locale's words (first names, surnames,
// cities, streets), the core of the `model` generator: trained on a word
// list, it turns a 64-bit seed into a plausible new word of that locale.
// Symbols are Unicode code points (Turkish ş/ğ/İ, German ß, French é are one
// symbol each; spaces and hyphens inside a word are symbols too), so outputs
// use only symbols seen in training, with the training words' capitalization.
//
// Algorithm (version 1). Each word is padded with `order` start markers and
// one end marker; a context is the last 1..order symbols before a position
// (start markers included), and every context seen in training gets an
// alias table (Walker/Vose, exact integer construction, 32-bit thresholds,
// padded with never-drawn columns to a power of two) over its followers,
// weighted by count, plus, above one symbol, a back-off entry weighted by
// its number of distinct followers: Witten-Bell smoothing drawn as a
// mixture, which reaches the one-symbol context at worst, never the
// unigram, so every bigram of an output (boundaries included) was seen in
// training. A context whose shorter suffix has the very same follower
// counts absorbs the suffix's level (the same mixture, one draw fewer).
// The walk's state is a seen context: a follower x of context c
// leads to c + x less its oldest symbol if c already has `order`; the
// back-off entry leads to c less its oldest symbol and emits nothing (the
// shorter context is kept for the next symbol too, as a variable-order
// chain does). Each draw is one wyrand step: bits 32..63 pick the column
// (its top log2(columns) bits), bits 0..31 the side. Column entries hold
// the next table's reference and a symbol id whose UTF-8 bytes Generate
// appends; nothing is hashed or allocated but *out.
// Length bounds: an attempt that draws the end marker before min_length
// symbols, or a symbol after max_length, fails; attempt k (0..3) walks from
// the state SplitMix64(seed + k * 0x9E3779B97F4A7C15); after four failures
// the output is the training word (distinct, within the bounds, sorted by
// bytes) at index floor(SplitMix64(seed ^ 0xD1B54A32D192ED03) * count / 2^64).
//
// Outputs are a pure function of (the multiset of training words, options,
// seed): ids come from sorted symbols and contexts, arithmetic is integer,
// so they are the same in every process, run and machine. Existing fakes
// must never change silently: any change to this algorithm, its constants
// or its tables changes outputs (name_model_test.cc's golden test fails) and
// requires a new generator version, keeping this one for configs pinned to
// it. Immutable after Train; Generate is const and thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace phony::transform {

class NameModel {
 public:
  static constexpr int kMaxOrder = 6;
  // Longest training word and longest max_length, in code points.
  static constexpr size_t kMaxCodePoints = 256;

  struct Options {
    int order = 3;  // context length in code points, 1..kMaxOrder
    // Bounds of generated words in code points; 0 = from the training data
    // (its shortest and its longest word).
    size_t min_length = 0;
    size_t max_length = 0;
  };

  // Trains on `words` (UTF-8; repeats count as more occurrences, the order
  // does not matter). kInvalidArgument for an empty list, an empty word,
  // invalid UTF-8 (with the word's index and byte offset), a word longer
  // than kMaxCodePoints, more than 65533 distinct code points, an order
  // outside 1..kMaxOrder, min_length > max_length, max_length >
  // kMaxCodePoints, bounds that no training word fits, or tables past 2^26
  // columns (far beyond any word list).
  static absl::StatusOr<NameModel> Train(const std::vector<std::string_view>& words, const Options& options);

  // Appends one generated word for `seed` to *out: valid UTF-8 of
  // [min_length(), max_length()] code points.
  void Generate(uint64_t seed, std::string* out) const;

  size_t min_length() const { return min_length_; }
  size_t max_length() const { return max_length_; }
  size_t num_contexts() const { return num_contexts_; }

 private:
  static constexpr uint16_t kEndSymbol = 0, kBackoffSymbol = 1, kFirstSymbol = 2;
  // A table reference: bits 0..25 its first column, bits 26..31 32 minus
  // log2 of its column count (a power of two).
  static constexpr uint32_t kFirstColumnMask = (uint32_t{1} << 26) - 1;
  static constexpr int kShiftBit = 26;

  // One alias-table column: side 0 when the low 32 random bits are below
  // `threshold`, else side 1 (the alias). Each side is a symbol id and the
  // table reference of the context after it.
  struct alignas(16) Column {
    uint32_t threshold;
    uint32_t next[2];
    uint16_t symbol[2];
  };
  struct Symbol {
    char utf8[4];    // zero-padded
    uint32_t bytes;  // 0 for the end and back-off symbols
  };

  NameModel() = default;
  // One walk from the start context; the UTF-8 byte count written to `buf`,
  // or -1 when the bounds were not met.
  long Walk(uint64_t state, char* buf) const;

  std::vector<Column> columns_;
  std::vector<Symbol> symbols_;
  uint32_t start_ = 0;
  size_t num_contexts_ = 0;
  size_t min_length_ = 0;
  size_t max_length_ = 0;
  // Distinct training words within the bounds, sorted: the fallback.
  std::vector<std::string> fallback_words_;
};

}  // namespace phony::transform
