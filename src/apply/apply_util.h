// Small helpers the appliers share: hex for their bookkeeping columns
// (positions and definitions are stored as bytes, which both servers print
// as hex), and whether a row is complete. Pure.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <variant>

#include "absl/status/statusor.h"
#include "core/byte_reader.h"
#include "core/event_codec.h"
#include "core/value.h"

namespace phony::apply {

// Lowercase hex of `bytes`, no prefix.
inline std::string ToHex(std::string_view bytes) {
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 15]);
  }
  return out;
}

// The bytes of hex text (either case, no prefix); kDataLoss otherwise.
inline absl::StatusOr<std::string> FromHex(std::string_view text) {
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  if (text.size() % 2 != 0) return absl::DataLossError("hex text of odd length");
  std::string out;
  out.reserve(text.size() / 2);
  for (size_t i = 0; i < text.size(); i += 2) {
    const int hi = nibble(text[i]), lo = nibble(text[i + 1]);
    if (hi < 0 || lo < 0) return absl::DataLossError("not hex text");
    out.push_back(static_cast<char>(hi << 4 | lo));
  }
  return out;
}

// The bookkeeping values as the writers store them: an encoded
// EventPosition (phony.apply_progress.position) and an encoded SchemaEvent
// (phony.schemas.definition). kDataLoss naming `what` otherwise.
inline absl::StatusOr<EventPosition> DecodeStoredPosition(std::string_view bytes, const std::string& what) {
  ByteReader reader(bytes, "apply progress");
  auto pos = DecodePosition(reader);
  if (!pos.ok()) {
    return absl::DataLossError("staging: " + what + " has a position that does not decode: " +
                               std::string(pos.status().message()));
  }
  return *pos;
}
inline absl::StatusOr<TableSchema> DecodeStoredSchema(std::string_view bytes) {
  auto event = DecodeEvent(bytes);
  if (!event.ok() || !std::holds_alternative<SchemaEvent>(*event)) {
    return absl::DataLossError("staging: a phony.schemas row does not decode as a table definition");
  }
  return std::move(std::get<SchemaEvent>(*event).schema);
}

// True when no column of `row` is kUnchanged.
inline bool IsComplete(const Row& row) {
  for (const Value& v : row) {
    if (v.is_unchanged()) return false;
  }
  return true;
}

}  // namespace phony::apply
