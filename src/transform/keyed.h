// The keyed primitives every anonymization rule is built on
// (docs/anonymization.md): SipHash-2-4 as the PRF, per-purpose keys derived
// from the job's secret with HKDF-SHA256, and a format-preserving,
// bijective tokenization of digit strings and integer ids (a Feistel
// network with SipHash round functions, FF1's structure). Outputs depend
// only on (secret, purpose, input): the same in every process, machine and
// run, and nothing depends on the order values arrive in. Pure and
// thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace phony::transform {

// 128-bit unsigned arithmetic (GCC and Clang; marked so -Wpedantic accepts it).
__extension__ typedef unsigned __int128 U128;

struct Key128 {
  uint64_t k0 = 0, k1 = 0;
  friend bool operator==(const Key128&, const Key128&) = default;
};

// SipHash-2-4 with 64-bit and 128-bit output (the reference algorithm; the
// 128-bit variant as in the reference implementation's vectors).
uint64_t SipHash64(const Key128& key, std::string_view data);
std::array<uint8_t, 16> SipHash128(const Key128& key, std::string_view data);

// HKDF-SHA256 (RFC 5869) of the job's secret with the salt
// "phony-sync/v1" and info `purpose` (e.g. "domain:customer_email:v1"),
// truncated to a SipHash key. kInvalidArgument for an empty secret.
absl::StatusOr<Key128> DeriveKey(std::string_view secret, std::string_view purpose);

// A keyed permutation of the decimal digit strings of each length 1..36.
// Encrypt keeps the length and the digit alphabet and never maps two inputs
// to one output (so a unique column stays unique without any coordination);
// Decrypt is its inverse (for tests and operator overrides).
class DigitTokenizer {
 public:
  static constexpr size_t kMaxDigits = 36;

  // Derives one round key per (length, round) from `key`.
  explicit DigitTokenizer(Key128 key);

  // kInvalidArgument for an empty string, a non-digit, or more than
  // kMaxDigits digits.
  absl::StatusOr<std::string> Encrypt(std::string_view digits) const;
  absl::StatusOr<std::string> Decrypt(std::string_view digits) const;

  // An integer id to an integer id with the same sign and the same number of
  // decimal digits, bijective on each (sign, digit count) class; always
  // within int64 (cycle-walking past values that would leave it).
  int64_t TokenizeInt64(int64_t value) const;

 private:
  static constexpr int kRounds = 10;  // FF1's round count
  absl::StatusOr<std::string> Apply(std::string_view digits, bool inverse) const;
  // The permutation of the n-digit numbers [0, 10^n) and its inverse.
  U128 EncryptNumber(size_t n, U128 x) const;
  U128 DecryptNumber(size_t n, U128 x) const;
  // F_i(half) mod 10^m under the (n, i) round key; halves are < 10^18.
  uint64_t Round(size_t n, int round, uint64_t half, size_t m) const;
  // A magnitude permuted within its class: the same number of digits (no
  // leading zero unless it is one digit), at most `limit`, and not zero
  // unless `zero_allowed`.
  uint64_t PermuteMagnitude(uint64_t magnitude, uint64_t limit, bool zero_allowed) const;

  Key128 round_keys_[kMaxDigits + 1][kRounds];
};

}  // namespace phony::transform
