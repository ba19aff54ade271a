// CRC-32 as zlib's crc32() computes it (the IEEE polynomial, reflected,
// inverted in and out), the checksum of MySQL/MariaDB binlog events. On CPUs
// with carry-less multiplication (PCLMULQDQ, every x86-64 since 2010) the
// bulk of a buffer is folded 64 bytes at a time, about ten times zlib's
// table-driven rate; the tail and other CPUs go through zlib.
#pragma once

#include <cstddef>
#include <cstdint>

namespace phony {

// The CRC-32 of `n` bytes at `data`, continuing from `crc` (0 to start),
// exactly as zlib's crc32(crc, data, n).
uint32_t Crc32(uint32_t crc, const void* data, size_t n);

// The same through zlib alone (for tests and comparison).
uint32_t Crc32Portable(uint32_t crc, const void* data, size_t n);

}  // namespace phony
