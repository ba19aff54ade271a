#include "core/byte_reader.h"

#include <cstring>
#include <string>

namespace phony {

absl::Status ByteReader::Short(uint64_t wanted, const char* what) const {
  return absl::DataLossError(std::string(context_) + ": truncated reading " + what +
                             " at offset " + std::to_string(offset()) + ": wanted " +
                             std::to_string(wanted) + " bytes, " +
                             std::to_string(remaining()) + " left");
}

absl::Status ByteReader::Error(std::string_view what) const {
  return absl::DataLossError(std::string(context_) + ": " + std::string(what) +
                             " at offset " + std::to_string(offset()));
}

template <typename T, bool kBigEndian>
absl::StatusOr<T> ByteReader::ReadFixed(const char* what) {
  if (sizeof(T) > remaining()) return Short(sizeof(T), what);
  const auto* p = reinterpret_cast<const uint8_t*>(data_.data() + pos_);
  uint64_t v = 0;
  for (size_t i = 0; i < sizeof(T); ++i) {
    const size_t shift = kBigEndian ? (sizeof(T) - 1 - i) * 8 : i * 8;
    v |= static_cast<uint64_t>(p[i]) << shift;
  }
  pos_ += sizeof(T);
  return static_cast<T>(v);
}

absl::StatusOr<uint8_t> ByteReader::ReadU8() { return ReadFixed<uint8_t, true>("u8"); }
absl::StatusOr<uint16_t> ByteReader::ReadU16BE() { return ReadFixed<uint16_t, true>("u16"); }
absl::StatusOr<uint16_t> ByteReader::ReadU16LE() { return ReadFixed<uint16_t, false>("u16"); }
absl::StatusOr<uint32_t> ByteReader::ReadU32BE() { return ReadFixed<uint32_t, true>("u32"); }
absl::StatusOr<uint32_t> ByteReader::ReadU32LE() { return ReadFixed<uint32_t, false>("u32"); }
absl::StatusOr<uint64_t> ByteReader::ReadU64BE() { return ReadFixed<uint64_t, true>("u64"); }
absl::StatusOr<uint64_t> ByteReader::ReadU64LE() { return ReadFixed<uint64_t, false>("u64"); }

absl::StatusOr<uint32_t> ByteReader::ReadU24LE() {
  if (3 > remaining()) return Short(3, "u24");
  const auto* p = reinterpret_cast<const uint8_t*>(data_.data() + pos_);
  pos_ += 3;
  return static_cast<uint32_t>(p[0]) | (static_cast<uint32_t>(p[1]) << 8) |
         (static_cast<uint32_t>(p[2]) << 16);
}

absl::StatusOr<uint64_t> ByteReader::ReadU48LE() {
  if (6 > remaining()) return Short(6, "u48");
  const auto* p = reinterpret_cast<const uint8_t*>(data_.data() + pos_);
  uint64_t v = 0;
  for (int i = 0; i < 6; ++i) v |= static_cast<uint64_t>(p[i]) << (8 * i);
  pos_ += 6;
  return v;
}

absl::StatusOr<int16_t> ByteReader::ReadI16BE() {
  auto v = ReadFixed<uint16_t, true>("i16");
  if (!v.ok()) return v.status();
  return static_cast<int16_t>(*v);
}
absl::StatusOr<int32_t> ByteReader::ReadI32BE() {
  auto v = ReadFixed<uint32_t, true>("i32");
  if (!v.ok()) return v.status();
  return static_cast<int32_t>(*v);
}
absl::StatusOr<int64_t> ByteReader::ReadI64BE() {
  auto v = ReadFixed<uint64_t, true>("i64");
  if (!v.ok()) return v.status();
  return static_cast<int64_t>(*v);
}

absl::StatusOr<uint64_t> ByteReader::ReadVarint64() {
  uint64_t result = 0;
  const size_t start = pos_;
  for (int shift = 0; shift < 64; shift += 7) {
    if (pos_ >= data_.size()) {
      pos_ = start;
      return Short(1, "varint");
    }
    const uint8_t byte = static_cast<uint8_t>(data_[pos_++]);
    if (shift == 63 && byte > 1) {
      pos_ = start;
      return Error("varint overflows 64 bits");
    }
    result |= static_cast<uint64_t>(byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) return result;
  }
  pos_ = start;
  return Error("varint longer than 10 bytes");
}

absl::StatusOr<int64_t> ByteReader::ReadSignedVarint64() {
  auto v = ReadVarint64();
  if (!v.ok()) return v.status();
  return static_cast<int64_t>((*v >> 1) ^ (~(*v & 1) + 1));
}

absl::StatusOr<std::string_view> ByteReader::ReadBytes(uint64_t n) {
  if (n > remaining()) return Short(n, "bytes");
  std::string_view out = data_.substr(pos_, static_cast<size_t>(n));
  pos_ += static_cast<size_t>(n);
  return out;
}

absl::StatusOr<std::string_view> ByteReader::ReadCString() {
  const size_t nul = data_.find('\0', pos_);
  if (nul == std::string_view::npos) {
    return Error("string without NUL terminator (" + std::to_string(remaining()) +
                 " bytes left)");
  }
  std::string_view out = data_.substr(pos_, nul - pos_);
  pos_ = nul + 1;
  return out;
}

absl::StatusOr<ByteReader> ByteReader::Sub(uint64_t n, const char* context) {
  if (n > remaining()) return Short(n, "sub-message");
  ByteReader sub(data_.substr(pos_, static_cast<size_t>(n)), context ? context : context_,
                 offset());
  pos_ += static_cast<size_t>(n);
  return sub;
}

absl::Status ByteReader::Skip(uint64_t n) {
  if (n > remaining()) return Short(n, "skipped bytes");
  pos_ += static_cast<size_t>(n);
  return absl::OkStatus();
}

absl::Status ByteReader::CheckCount(uint64_t count, uint64_t max, const char* what) const {
  if (count > max) {
    return Error(std::string(what) + " " + std::to_string(count) + " exceeds the maximum " +
                 std::to_string(max));
  }
  return absl::OkStatus();
}

absl::Status ByteReader::ExpectEnd() const {
  if (!empty()) return Error(std::to_string(remaining()) + " trailing bytes");
  return absl::OkStatus();
}

void PutU8(std::string* out, uint8_t v) { out->push_back(static_cast<char>(v)); }

template <typename T>
static void PutFixed(std::string* out, T v, bool big_endian) {
  char buf[sizeof(T)];
  for (size_t i = 0; i < sizeof(T); ++i) {
    const size_t shift = big_endian ? (sizeof(T) - 1 - i) * 8 : i * 8;
    buf[i] = static_cast<char>((static_cast<uint64_t>(v) >> shift) & 0xff);
  }
  out->append(buf, sizeof(T));
}

void PutU16BE(std::string* out, uint16_t v) { PutFixed(out, v, true); }
void PutU32BE(std::string* out, uint32_t v) { PutFixed(out, v, true); }
void PutU64BE(std::string* out, uint64_t v) { PutFixed(out, v, true); }
void PutU32LE(std::string* out, uint32_t v) { PutFixed(out, v, false); }
void PutU64LE(std::string* out, uint64_t v) { PutFixed(out, v, false); }

void PutVarint64(std::string* out, uint64_t v) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

void PutSignedVarint64(std::string* out, int64_t v) {
  PutVarint64(out, (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63));
}

void PutLengthPrefixed(std::string* out, std::string_view bytes) {
  PutVarint64(out, bytes.size());
  out->append(bytes);
}

}  // namespace phony
