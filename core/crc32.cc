#include "core/crc32.h"

#include <zlib.h>

#if defined(__x86_64__)
#include <cpuid.h>
#include <immintrin.h>
#endif

namespace phony {

uint32_t Crc32Portable(uint32_t crc, const void* data, size_t n) {
  const auto* p = static_cast<const Bytef*>(data);
  // zlib takes at most uInt bytes a call.
  while (n > 0) {
    const uInt step = n > (1u << 30) ? (1u << 30) : static_cast<uInt>(n);
    crc = static_cast<uint32_t>(crc32(crc, p, step));
    p += step;
    n -= step;
  }
  return crc;
}

#if defined(__x86_64__)
namespace {

bool HasPclmul() {
  unsigned a = 0, b = 0, c = 0, d = 0;
  if (__get_cpuid(1, &a, &b, &c, &d) == 0) return false;
  return (c & bit_PCLMUL) != 0 && (c & bit_SSE4_1) != 0;
}

// One lane folded forward by the distance `k` encodes, plus the next block.
__attribute__((target("pclmul,sse4.1"))) inline __m128i fold(__m128i x, __m128i k, __m128i next) {
  return _mm_xor_si128(_mm_xor_si128(_mm_clmulepi64_si128(x, k, 0x00), _mm_clmulepi64_si128(x, k, 0x11)), next);
}

// Folds `n` bytes (n >= 64, a multiple of 16) into the CRC register `crc`
// (not inverted), the reduction Intel's "Fast CRC Computation for Generic
// Polynomials Using PCLMULQDQ" describes for the reflected IEEE polynomial.
// Constants: x^(4*128+32) mod P and x^(4*128-32) mod P (four lanes),
// x^(128+32) mod P and x^(128-32) mod P (one lane), x^64 mod P, and for
// Barrett reduction floor(x^64 / P) and P itself, all bit-reflected.
__attribute__((target("pclmul,sse4.1"))) uint32_t Fold(uint32_t crc, const uint8_t* p, size_t n) {
  const __m128i k1k2 = _mm_set_epi64x(0x1c6e41596, 0x154442bd4);
  const __m128i k3k4 = _mm_set_epi64x(0x0ccaa009e, 0x1751997d0);
  const __m128i k5 = _mm_set_epi64x(0, 0x163cd6124);
  const __m128i poly_mu = _mm_set_epi64x(0x1f7011641, 0x1db710641);
  const __m128i mask32 = _mm_set_epi32(0, 0, 0, -1);
  auto load = [](const uint8_t* q) { return _mm_loadu_si128(reinterpret_cast<const __m128i*>(q)); };

  __m128i x0 = _mm_xor_si128(load(p), _mm_cvtsi32_si128(static_cast<int>(crc)));
  __m128i x1 = load(p + 16), x2 = load(p + 32), x3 = load(p + 48);
  p += 64;
  n -= 64;
  while (n >= 64) {
    x0 = fold(x0, k1k2, load(p));
    x1 = fold(x1, k1k2, load(p + 16));
    x2 = fold(x2, k1k2, load(p + 32));
    x3 = fold(x3, k1k2, load(p + 48));
    p += 64;
    n -= 64;
  }
  x0 = fold(x0, k3k4, x1);
  x0 = fold(x0, k3k4, x2);
  x0 = fold(x0, k3k4, x3);
  while (n >= 16) {
    x0 = fold(x0, k3k4, load(p));
    p += 16;
    n -= 16;
  }
  // 128 bits to 64.
  __m128i x = _mm_xor_si128(_mm_clmulepi64_si128(x0, k3k4, 0x10), _mm_srli_si128(x0, 8));
  // 64 bits to 32.
  x = _mm_xor_si128(_mm_srli_si128(x, 4), _mm_clmulepi64_si128(_mm_and_si128(x, mask32), k5, 0x00));
  // Barrett reduction to the 32-bit remainder.
  __m128i t = _mm_and_si128(_mm_clmulepi64_si128(_mm_and_si128(x, mask32), poly_mu, 0x10), mask32);
  t = _mm_clmulepi64_si128(t, poly_mu, 0x00);
  return static_cast<uint32_t>(_mm_extract_epi32(_mm_xor_si128(x, t), 1));
}

const bool kPclmul = HasPclmul();

}  // namespace

uint32_t Crc32(uint32_t crc, const void* data, size_t n) {
  if (!kPclmul || n < 64) return Crc32Portable(crc, data, n);
  const auto* p = static_cast<const uint8_t*>(data);
  const size_t bulk = n & ~static_cast<size_t>(15);
  const uint32_t reg = Fold(~crc, p, bulk);
  return Crc32Portable(~reg, p + bulk, n - bulk);
}
#else
uint32_t Crc32(uint32_t crc, const void* data, size_t n) { return Crc32Portable(crc, data, n); }
#endif

}  // namespace phony
