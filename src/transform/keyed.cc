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

DigitTokenizer::DigitTokenizer(Key128 key) {
  // Round keys: SipHash-128 of ("round", n, i) under the tokenizer's key, so
  // every (length, round) pair has its own keyed round function.
  for (size_t n = 0; n <= kMaxDigits; ++n) {
    for (int i = 0; i < kRounds; ++i) {
      const unsigned char in[7] = {'r', 'o', 'u', 'n', 'd', static_cast<unsigned char>(n),
                                   static_cast<unsigned char>(i)};
      const std::array<uint8_t, 16> h = SipHash128(key, std::string_view(reinterpret_cast<const char*>(in), 7));
      round_keys_[n][i] = Key128{Load64(h.data()), Load64(h.data() + 8)};
    }
  }
}

namespace {

// (hi * 2^64 + lo) mod m, for m < 2^63.
inline uint64_t Mod128(uint64_t hi, uint64_t lo, uint64_t m) {
  hi %= m;
#if defined(__x86_64__)
  uint64_t q, r;
  __asm__("divq %4" : "=a"(q), "=d"(r) : "a"(lo), "d"(hi), "rm"(m));
  (void)q;
  return r;
#else
  return static_cast<uint64_t>(((static_cast<U128>(hi) << 64) | lo) % m);
#endif
}

}  // namespace

uint64_t DigitTokenizer::Round(size_t n, int round, uint64_t half, size_t m) const {
  char in[8];
  std::memcpy(in, &half, 8);
  const Key128& k = round_keys_[n][round];
  const uint64_t mod = static_cast<uint64_t>(Pow10(m));
  if (m <= 9) {
    // A 64-bit PRF output reduced mod 10^m (bias below 2^-34).
    return SipHash64(k, std::string_view(in, 8)) % mod;
  }
  const std::array<uint8_t, 16> h = SipHash128(k, std::string_view(in, 8));
  return Mod128(Load64(h.data() + 8), Load64(h.data()), mod);  // bias below 2^-68
}

// FF1's numeral-string Feistel: A has u = n/2 digits, B has v = n - u;
// round i computes C = (A + F_i(B)) mod 10^m (m = u on even rounds, v on odd
// ones), then A = B, B = C. Each round is invertible, so the whole is a
// permutation of the n-digit numbers whatever the round function.
U128 DigitTokenizer::EncryptNumber(size_t n, U128 x) const {
  const size_t u = n / 2, v = n - u;
  const U128 split = Pow10(v);
  uint64_t a = static_cast<uint64_t>(x / split), b = static_cast<uint64_t>(x % split);
  for (int i = 0; i < kRounds; ++i) {
    const size_t m = i % 2 == 0 ? u : v;
    const uint64_t mod = static_cast<uint64_t>(Pow10(m));
    uint64_t c = a + Round(n, i, b, m);  // both < 10^18: no overflow
    if (c >= mod) c -= mod;
    a = b;
    b = c;
  }
  // After an even number of rounds A holds u digits again and B holds v.
  return static_cast<U128>(a) * split + b;
}

U128 DigitTokenizer::DecryptNumber(size_t n, U128 x) const {
  const size_t u = n / 2, v = n - u;
  const U128 split = Pow10(v);
  uint64_t a = static_cast<uint64_t>(x / split), b = static_cast<uint64_t>(x % split);
  for (int i = kRounds - 1; i >= 0; --i) {
    const size_t m = i % 2 == 0 ? u : v;
    const uint64_t mod = static_cast<uint64_t>(Pow10(m));
    const uint64_t c = b;
    b = a;
    const uint64_t f = Round(n, i, b, m);
    a = c >= f ? c - f : c + mod - f;
  }
  return static_cast<U128>(a) * split + b;
}

absl::StatusOr<std::string> DigitTokenizer::Encrypt(std::string_view digits) const {
  return Apply(digits, /*inverse=*/false);
}

absl::StatusOr<std::string> DigitTokenizer::Decrypt(std::string_view digits) const {
  return Apply(digits, /*inverse=*/true);
}

absl::StatusOr<std::string> DigitTokenizer::Apply(std::string_view digits, bool inverse) const {
  if (absl::Status s = CheckDigits(digits); !s.ok()) return s;
  const size_t n = digits.size();
  auto step = [&](size_t len, U128 x) { return inverse ? DecryptNumber(len, x) : EncryptNumber(len, x); };
  U128 x = ParseDigits(digits);
  if (n == 1) {
    // One digit: the keyed permutation of 0-9 from the two-digit network
    // (cycle-walking inside 00..09).
    do {
      x = step(2, x);
    } while (x >= 10);
  } else {
    x = step(n, x);
  }
  std::string out;
  AppendDigits(x, n, &out);
  return out;
}

uint64_t DigitTokenizer::PermuteMagnitude(uint64_t magnitude, uint64_t limit, bool zero_allowed) const {
  size_t n = 1;
  while (n < 20 && Pow10(n) <= magnitude) ++n;
  const U128 lowest = n > 1 ? Pow10(n - 1) : 0;  // no leading zero
  // Cycle-walking: apply the permutation of the n-digit numbers until the
  // result is in the class. The walk stays on the input's cycle, so the
  // restriction is a bijection of the class.
  U128 x = magnitude;
  while (true) {
    if (n == 1) {
      do {
        x = EncryptNumber(2, x);
      } while (x >= 10);
    } else {
      x = EncryptNumber(n, x);
    }
    if (x >= lowest && x <= limit && (zero_allowed || x != 0)) return static_cast<uint64_t>(x);
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
