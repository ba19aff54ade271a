// Test-only: builds pgoutput messages byte for byte the way PostgreSQL's
// proto.c writes them, for decoder and assembler tests.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include "core/byte_reader.h"

namespace phony::pg::testing {

class Msg {
 public:
  explicit Msg(char tag) { buf_.push_back(tag); }
  Msg& U8(uint8_t v) { PutU8(&buf_, v); return *this; }
  Msg& U16(uint16_t v) { PutU16BE(&buf_, v); return *this; }
  Msg& U32(uint32_t v) { PutU32BE(&buf_, v); return *this; }
  Msg& U64(uint64_t v) { PutU64BE(&buf_, v); return *this; }
  Msg& Str(std::string_view s) { buf_.append(s); buf_.push_back('\0'); return *this; }
  Msg& Bytes(std::string_view s) { buf_.append(s); return *this; }
  // One TupleData column: 'n', 'u', or 't'/'b' with its bytes.
  Msg& Col(char kind, std::string_view data = {}) {
    U8(static_cast<uint8_t>(kind));
    if (kind == 't' || kind == 'b') {
      U32(static_cast<uint32_t>(data.size()));
      Bytes(data);
    }
    return *this;
  }
  const std::string& str() const& { return buf_; }
  std::string str() && { return std::move(buf_); }

 private:
  std::string buf_;
};

}  // namespace phony::pg::testing
