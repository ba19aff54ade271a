// libFuzzer target for the binlog decoder and assembler. The input is the
// body of a binlog file (without the 4-byte magic): events one after
// another, each cut at the length its header gives, fed to one decoder and
// one assembler as a replica would. The whole input is also read as one
// MySQL binary JSON document and as one list of partial-JSON diffs. Any
// input must yield events or a clean error, never a crash, a hang or
// unbounded memory. The corpus starts from the recorded binlogs in
// tests/fixtures/binlog (their events, magic stripped).
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "src/capture/mysql/binlog_assembler.h"
#include "src/capture/mysql/binlog_decoder.h"
#include "src/capture/mysql/binlog_json.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  std::string json;
  (void)phony::mysql::BinaryJsonToText(input, &json);
  (void)phony::mysql::DecodeJsonDiffs(input);

  phony::mysql::BinlogDecoder decoder;
  // Table maps without names (MINIMAL metadata) get placeholders, as the
  // capture's catalog completion would give them.
  decoder.set_table_map_hook([](phony::mysql::TableMap* m) {
    for (size_t i = 0; i < m->columns.size(); ++i) {
      if (m->columns[i].name.empty()) m->columns[i].name = "c" + std::to_string(i);
    }
    return absl::OkStatus();
  });
  phony::mysql::BinlogAssembler assembler({}, "fuzz-bin.000001", 4);
  std::vector<phony::mysql::BinlogEvent> decoded;
  std::vector<phony::Event> out;
  size_t pos = 0;
  while (size - pos >= phony::mysql::kEventHeaderSize) {
    uint32_t len = 0;
    std::memcpy(&len, data + pos + 9, 4);
    if (len < phony::mysql::kEventHeaderSize || len > size - pos) break;
    decoded.clear();
    if (!decoder.Decode(input.substr(pos, len), 4 + pos, &decoded).ok()) break;
    for (const phony::mysql::BinlogEvent& e : decoded) {
      if (!assembler.Add(e, 4 + pos + len, &out).ok()) return 0;
    }
    out.clear();
    pos += len;
  }
  return 0;
}
