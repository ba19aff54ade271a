#include "src/transform/keyed.h"

#include <openssl/evp.h>
#include <openssl/kdf.h>

#include <cstring>
#include <memory>

namespace phony::transform {
namespace {

inline uint64_t Rotl(uint64_t x, int b) { return (x << b) | (x >> (64 - b)); }

inline uint64_t Load64(const unsigned char* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);  // little-endian hosts (x86-64, aarch64)
  return v;
}

struct SipState {
  uint64_t v0, v1, v2, v3;
  void Round() {
    v0 += v1;
    v1 = Rotl(v1, 13);
    v1 ^= v0;
    v0 = Rotl(v0, 32);
    v2 += v3;
    v3 = Rotl(v3, 16);
    v3 ^= v2;
    v0 += v3;
    v3 = Rotl(v3, 21);
    v3 ^= v0;
    v2 += v1;
    v1 = Rotl(v1, 17);
    v1 ^= v2;
    v2 = Rotl(v2, 32);
  }
  uint64_t Fold() const { return v0 ^ v1 ^ v2 ^ v3; }
};

// Compression of `data` (c = 2 rounds per block); returns the state before
// finalization.
SipState Compress(const Key128& key, std::string_view data, bool wide) {
  SipState s{0x736f6d6570736575ULL ^ key.k0, 0x646f72616e646f6dULL ^ key.k1, 0x6c7967656e657261ULL ^ key.k0,
             0x7465646279746573ULL ^ key.k1};
  if (wide) s.v1 ^= 0xee;
  const auto* p = reinterpret_cast<const unsigned char*>(data.data());
  const size_t blocks = data.size() / 8;
  for (size_t i = 0; i < blocks; ++i) {
    const uint64_t m = Load64(p + 8 * i);
    s.v3 ^= m;
    s.Round();
    s.Round();
    s.v0 ^= m;
  }
  uint64_t last = static_cast<uint64_t>(data.size()) << 56;
  const size_t tail = data.size() % 8;
  for (size_t i = 0; i < tail; ++i) last |= static_cast<uint64_t>(p[8 * blocks + i]) << (8 * i);
  s.v3 ^= last;
  s.Round();
  s.Round();
  s.v0 ^= last;
  return s;
}

struct Pow10Table {
  U128 p[39];
  constexpr Pow10Table() : p() {
    p[0] = 1;
    for (int i = 1; i < 39; ++i) p[i] = p[i - 1] * 10;
  }
};
constexpr Pow10Table kPow10;
inline U128 Pow10(size_t n) { return kPow10.p[n]; }

U128 ParseDigits(std::string_view d) {
  U128 v = 0;
  for (char c : d) v = v * 10 + static_cast<unsigned>(c - '0');
  return v;
}

void AppendDigits(U128 v, size_t width, std::string* out) {
  char buf[40];
  for (size_t i = width; i-- > 0;) {
    buf[i] = static_cast<char>('0' + static_cast<int>(v % 10));
    v /= 10;
  }
  out->append(buf, width);
}

absl::Status CheckDigits(std::string_view digits) {
  if (digits.empty() || digits.size() > DigitTokenizer::kMaxDigits) {
    return absl::InvalidArgumentError("TOKENIZE takes 1 to " + std::to_string(DigitTokenizer::kMaxDigits) +
                                      " digits, got " + std::to_string(digits.size()));
  }
  for (char c : digits) {
    if (c < '0' || c > '9') return absl::InvalidArgumentError("TOKENIZE input holds a character that is not a digit");
  }
  return absl::OkStatus();
}

constexpr int kRounds = 10;  // FF1's round count

}  // namespace

uint64_t SipHash64(const Key128& key, std::string_view data) {
  SipState s = Compress(key, data, false);
  s.v2 ^= 0xff;
  for (int i = 0; i < 4; ++i) s.Round();
  return s.Fold();
}

std::array<uint8_t, 16> SipHash128(const Key128& key, std::string_view data) {
  SipState s = Compress(key, data, true);
  s.v2 ^= 0xee;
  for (int i = 0; i < 4; ++i) s.Round();
  const uint64_t lo = s.Fold();
  s.v1 ^= 0xdd;
  for (int i = 0; i < 4; ++i) s.Round();
  const uint64_t hi = s.Fold();
  std::array<uint8_t, 16> out;
  std::memcpy(out.data(), &lo, 8);
  std::memcpy(out.data() + 8, &hi, 8);
  return out;
}

absl::StatusOr<Key128> DeriveKey(std::string_view secret, std::string_view purpose) {
  if (secret.empty()) return absl::InvalidArgumentError("the anonymization secret is empty");
  std::unique_ptr<EVP_PKEY_CTX, decltype(&EVP_PKEY_CTX_free)> ctx(EVP_PKEY_CTX_new_id(EVP_PKEY_HKDF, nullptr),
                                                                  &EVP_PKEY_CTX_free);
  static constexpr unsigned char kSalt[] = "phony-sync/v1";
  unsigned char out[16];
  size_t len = sizeof(out);
  if (!ctx || EVP_PKEY_derive_init(ctx.get()) <= 0 || EVP_PKEY_CTX_set_hkdf_md(ctx.get(), EVP_sha256()) <= 0 ||
      EVP_PKEY_CTX_set1_hkdf_salt(ctx.get(), kSalt, sizeof(kSalt) - 1) <= 0 ||
      EVP_PKEY_CTX_set1_hkdf_key(ctx.get(), reinterpret_cast<const unsigned char*>(secret.data()),
                                 static_cast<int>(secret.size())) <= 0 ||
      EVP_PKEY_CTX_add1_hkdf_info(ctx.get(), reinterpret_cast<const unsigned char*>(purpose.data()),
                                  static_cast<int>(purpose.size())) <= 0 ||
      EVP_PKEY_derive(ctx.get(), out, &len) <= 0 || len != sizeof(out)) {
    return absl::InternalError("HKDF-SHA256 key derivation failed");
  }
  Key128 key{Load64(out), Load64(out + 8)};
  OPENSSL_cleanse(out, sizeof(out));
  return key;
}

U128 DigitTokenizer::Round(size_t n, int round, U128 half, size_t out_digits) const {
  // Round input: the total length and the round number (domain separation),
  // then the half as 16 little-endian bytes.
  unsigned char in[18];
  in[0] = static_cast<unsigned char>(n);
  in[1] = static_cast<unsigned char>(round);
  std::memcpy(in + 2, &half, 16);
  const std::array<uint8_t, 16> h = SipHash128(key_, std::string_view(reinterpret_cast<char*>(in), sizeof(in)));
  U128 v;
  std::memcpy(&v, h.data(), 16);
  return v % Pow10(out_digits);
}

// FF1's numeral-string Feistel: A has u = n/2 digits, B has v = n - u;
// round i computes C = (A + F_i(B)) mod 10^m (m = u on even rounds, v on odd
// ones), then A = B, B = C. Each round is invertible, so the whole is a
// permutation of the n-digit strings whatever the round function.
void DigitTokenizer::Forward(size_t n, U128* a, U128* b) const {
  const size_t u = n / 2, v = n - u;
  for (int i = 0; i < kRounds; ++i) {
    const size_t m = i % 2 == 0 ? u : v;
    const U128 c = (*a + Round(n, i, *b, m)) % Pow10(m);
    *a = *b;
    *b = c;
  }
}

void DigitTokenizer::Backward(size_t n, U128* a, U128* b) const {
  const size_t u = n / 2, v = n - u;
  for (int i = kRounds - 1; i >= 0; --i) {
    const size_t m = i % 2 == 0 ? u : v;
    const U128 mod = Pow10(m);
    const U128 c = *b;
    *b = *a;
    *a = (c + mod - Round(n, i, *b, m)) % mod;
  }
}

absl::StatusOr<std::string> DigitTokenizer::Encrypt(std::string_view digits) const {
  if (absl::Status s = CheckDigits(digits); !s.ok()) return s;
  const size_t n = digits.size();
  std::string out;
  if (n == 1) {
    // One digit: the keyed permutation of 0-9 from the two-digit network
    // (cycle-walking inside "00".."09").
    U128 a = 0, b = static_cast<unsigned>(digits[0] - '0');
    do {
      Forward(2, &a, &b);
    } while (a != 0);
    AppendDigits(b, 1, &out);
    return out;
  }
  const size_t u = n / 2;
  U128 a = ParseDigits(digits.substr(0, u)), b = ParseDigits(digits.substr(u));
  Forward(n, &a, &b);
  // After an even number of rounds A holds u digits again and B holds v.
  AppendDigits(a, u, &out);
  AppendDigits(b, n - u, &out);
  return out;
}

absl::StatusOr<std::string> DigitTokenizer::Decrypt(std::string_view digits) const {
  if (absl::Status s = CheckDigits(digits); !s.ok()) return s;
  const size_t n = digits.size();
  std::string out;
  if (n == 1) {
    U128 a = 0, b = static_cast<unsigned>(digits[0] - '0');
    do {
      Backward(2, &a, &b);
    } while (a != 0);
    AppendDigits(b, 1, &out);
    return out;
  }
  const size_t u = n / 2;
  U128 a = ParseDigits(digits.substr(0, u)), b = ParseDigits(digits.substr(u));
  Backward(n, &a, &b);
  AppendDigits(a, u, &out);
  AppendDigits(b, n - u, &out);
  return out;
}

uint64_t DigitTokenizer::PermuteMagnitude(uint64_t magnitude, uint64_t limit, bool zero_allowed) const {
  std::string digits = std::to_string(magnitude);
  const size_t n = digits.size();
  // Cycle-walking: apply the permutation of n-digit strings until the
  // result is in the class (no leading zero for n > 1, at most `limit`).
  // The walk stays on the input's cycle, so the restriction is a bijection.
  while (true) {
    digits = *Encrypt(digits);
    if (n > 1 && digits[0] == '0') continue;
    const U128 v = ParseDigits(digits);
    if (v <= limit && (zero_allowed || v != 0)) return static_cast<uint64_t>(v);
  }
}

int64_t DigitTokenizer::TokenizeInt64(int64_t value) const {
  if (value >= 0) {
    return static_cast<int64_t>(PermuteMagnitude(static_cast<uint64_t>(value), INT64_MAX, /*zero_allowed=*/true));
  }
  const uint64_t magnitude = 0 - static_cast<uint64_t>(value);  // up to 2^63
  const uint64_t out = PermuteMagnitude(magnitude, static_cast<uint64_t>(INT64_MAX) + 1, /*zero_allowed=*/false);
  return out == static_cast<uint64_t>(INT64_MAX) + 1 ? INT64_MIN : -static_cast<int64_t>(out);
}

}  // namespace phony::transform
