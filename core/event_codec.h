// The internal, lossless binary encoding of events and positions: what the
// raw and anonymized internal streams carry (Kafka message values, or the
// embedded bus when it must cross a process boundary), and what the state
// store keeps for positions. Every Value round-trips byte for byte, including
// the kUnchanged sentinel, NaN payloads and ±infinity.
//
// Layout (docs/internal-encoding.md): a format byte (kEventFormatV1), an
// event type byte, the position, then the body; integers are LEB128 varints
// (zig-zag for signed), strings are length-prefixed, doubles 8 bytes LE.
// Decoding is strict: unknown tags, counts over the limits, truncation and
// trailing bytes are kDataLoss with the offset. Pure functions, thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "core/byte_reader.h"
#include "core/event.h"
#include "core/position.h"

namespace phony {

inline constexpr uint8_t kEventFormatV1 = 1;
// Upper bounds checked before any allocation sized from the wire.
inline constexpr uint64_t kMaxColumns = 4096;
inline constexpr uint64_t kMaxTruncatedTables = 65536;
inline constexpr uint64_t kMaxForeignKeys = 4096;

void EncodeEvent(const Event& event, std::string* out);
absl::StatusOr<Event> DecodeEvent(std::string_view bytes);

void EncodeValue(const Value& value, std::string* out);
absl::StatusOr<Value> DecodeValue(ByteReader& reader);

void EncodePosition(const EventPosition& position, std::string* out);
absl::StatusOr<EventPosition> DecodePosition(ByteReader& reader);
void EncodeGtidSet(const GtidSet& set, std::string* out);
absl::StatusOr<GtidSet> DecodeGtidSet(ByteReader& reader);

}  // namespace phony
