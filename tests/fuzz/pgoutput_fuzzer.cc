// libFuzzer target for the pgoutput decoder and assembler. The first input
// byte picks the decode context (protocol version, stream block, parallel
// streaming); the rest is a sequence of messages, each prefixed by a 2-byte
// big-endian length, fed to one assembler. Any input must yield a value or a
// clean error, never a crash, a hang or unbounded memory. The whole input is
// also read as one binary value of a container type the high nibble picks
// (arrays, ranges, multiranges, composites, money, geometric types).
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "src/capture/postgres/pg_values.h"
#include "src/capture/postgres/pgoutput_assembler.h"
#include "src/capture/postgres/pgoutput_decoder.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const uint8_t mode = data[0];
  std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);
  phony::pg::DecodeContext ctx{.protocol_version = 1 + (mode & 3),
                               .in_stream = (mode & 4) != 0,
                               .parallel_streaming = (mode & 8) != 0};
  // The whole input as one message.
  (void)phony::pg::DecodePgoutputMessage(rest, ctx);
  // The whole input as one binary value; 20000-20003 are catalog types.
  static constexpr uint32_t kTypes[16] = {1007, 1009, 1016, 1185, 1231, 1187, 1020, 3904,
                                          3910, 4451, 790,  602,  20000, 20001, 20002, 20003};
  using phony::pg::PgTypeInfo;
  phony::pg::PgTypeCache types([](uint32_t oid) -> absl::StatusOr<PgTypeInfo> {
    switch (oid) {
      case 20000: return PgTypeInfo{.kind = PgTypeInfo::Kind::kDomain, .target = 1007};
      case 20001: return PgTypeInfo{.kind = PgTypeInfo::Kind::kComposite};
      case 20002: return PgTypeInfo{.kind = PgTypeInfo::Kind::kArray, .target = 20003};
      case 20003: return PgTypeInfo{.kind = PgTypeInfo::Kind::kEnum};
      default: return absl::NotFoundError("unknown type");
    }
  });
  (void)phony::pg::ParseBinaryValue(kTypes[mode >> 4], rest, &types);
  // The input as a message sequence through the assembler.
  phony::pg::PgoutputAssembler assembler(
      {.database = "fuzz", .protocol_version = ctx.protocol_version,
       .parallel_streaming = ctx.parallel_streaming});
  std::vector<phony::Event> events;
  while (rest.size() >= 2) {
    const size_t len = (static_cast<uint8_t>(rest[0]) << 8) | static_cast<uint8_t>(rest[1]);
    rest.remove_prefix(2);
    if (len > rest.size()) break;
    auto r = assembler.Feed(rest.substr(0, len), &events);
    rest.remove_prefix(len);
    if (!r.ok()) break;  // a real stream stops at the first error
    events.clear();
  }
  return 0;
}
