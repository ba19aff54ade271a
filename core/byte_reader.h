// ByteReader: a bounded, non-owning cursor over a byte buffer, the only way
// decoders read wire data. Every read checks `n > remaining()` (never
// `pos + n > size`, which can overflow) and fails with kDataLoss naming what
// was being read, at which absolute offset, how many bytes were wanted and how
// many were left. Sub-readers keep absolute offsets so errors point into the
// original message. Not thread-safe; cheap to copy.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace phony {

class ByteReader {
 public:
  // `context` names the message being decoded ("pgoutput Insert"); it must
  // outlive the reader (string literals do).
  explicit ByteReader(std::string_view data, const char* context = "buffer",
                      uint64_t base_offset = 0)
      : data_(data), context_(context), base_offset_(base_offset) {}

  size_t remaining() const { return data_.size() - pos_; }
  bool empty() const { return pos_ == data_.size(); }
  // Absolute offset of the next byte to read.
  uint64_t offset() const { return base_offset_ + pos_; }
  const char* context() const { return context_; }
  // The unread bytes, not consumed.
  std::string_view Peek() const { return data_.substr(pos_); }

  absl::StatusOr<uint8_t> ReadU8();
  absl::StatusOr<uint16_t> ReadU16BE();
  absl::StatusOr<uint16_t> ReadU16LE();
  absl::StatusOr<uint32_t> ReadU24LE();
  absl::StatusOr<uint32_t> ReadU32BE();
  absl::StatusOr<uint32_t> ReadU32LE();
  absl::StatusOr<uint64_t> ReadU48LE();
  absl::StatusOr<uint64_t> ReadU64BE();
  absl::StatusOr<uint64_t> ReadU64LE();
  absl::StatusOr<int16_t> ReadI16BE();
  absl::StatusOr<int32_t> ReadI32BE();
  absl::StatusOr<int64_t> ReadI64BE();
  // LEB128 unsigned varint, at most 10 bytes; an overlong or unterminated
  // encoding is kDataLoss.
  absl::StatusOr<uint64_t> ReadVarint64();
  // Zig-zag signed varint.
  absl::StatusOr<int64_t> ReadSignedVarint64();

  // The next `n` bytes, consumed, or nullptr with nothing consumed when
  // fewer remain: for hot paths that hand the shortage to a checked read
  // (which then reports it).
  const char* TryTake(size_t n) {
    if (n > remaining()) return nullptr;
    const char* p = data_.data() + pos_;
    pos_ += n;
    return p;
  }

  // Returns a view of the next `n` bytes (valid while the buffer lives).
  absl::StatusOr<std::string_view> ReadBytes(uint64_t n);
  // Reads up to and including a NUL that must lie inside the buffer; returns
  // the bytes before it.
  absl::StatusOr<std::string_view> ReadCString();
  // A reader over the next `n` bytes, which this reader skips.
  absl::StatusOr<ByteReader> Sub(uint64_t n, const char* context = nullptr);
  absl::Status Skip(uint64_t n);

  // Checks a length or count read from the wire against a maximum before it
  // sizes an allocation.
  absl::Status CheckCount(uint64_t count, uint64_t max, const char* what) const;
  // Fails unless every byte was consumed (trailing bytes are corruption).
  absl::Status ExpectEnd() const;

  // A kDataLoss error at the current offset, for decoder-level checks
  // ("bad flags 0x03").
  absl::Status Error(std::string_view what) const;

 private:
  absl::Status Short(uint64_t wanted, const char* what) const;
  template <typename T, bool kBigEndian>
  absl::StatusOr<T> ReadFixed(const char* what);

  std::string_view data_;
  size_t pos_ = 0;
  const char* context_;
  uint64_t base_offset_;
};

// Encoding helpers, the writer side of ByteReader.
void PutU8(std::string* out, uint8_t v);
void PutU16BE(std::string* out, uint16_t v);
void PutU32BE(std::string* out, uint32_t v);
void PutU64BE(std::string* out, uint64_t v);
void PutU32LE(std::string* out, uint32_t v);
void PutU64LE(std::string* out, uint64_t v);
void PutVarint64(std::string* out, uint64_t v);
void PutSignedVarint64(std::string* out, int64_t v);
// Varint length followed by the bytes.
void PutLengthPrefixed(std::string* out, std::string_view bytes);

}  // namespace phony
