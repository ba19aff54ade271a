// Streams binlog files from a MySQL/MariaDB server with phony's replica
// client and decodes every event (a null sink): issue #9's streaming bar,
// run by bench/binlog_decode.sh beside `mariadb-binlog
// --read-from-remote-server` on the same files.
//
//   binlog_stream HOST PORT USER PASSWORD FIRST_FILE LAST_FILE
// Streams from FIRST_FILE:4 until the first event of LAST_FILE (exclusive)
// and prints: rows, events, bytes, seconds, rows/s, MB/s.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "src/capture/mysql/binlog_client.h"
#include "src/capture/mysql/binlog_decoder.h"

int main(int argc, char** argv) {
  if (argc != 7) {
    std::fprintf(stderr, "usage: %s HOST PORT USER PASSWORD FIRST_FILE LAST_FILE\n", argv[0]);
    return 2;
  }
  phony::mysql::BinlogClientOptions o;
  o.host = argv[1];
  o.port = static_cast<uint16_t>(std::atoi(argv[2]));
  o.user = argv[3];
  o.password = argv[4];
  o.server_id = 4242;
  o.non_blocking = true;
  const std::string first = argv[5], last = argv[6];
  const auto start = std::chrono::steady_clock::now();
  auto client = phony::mysql::BinlogClient::Start(o, {.file = first, .position = 4});
  if (!client.ok()) {
    std::fprintf(stderr, "%s\n", std::string(client.status().message()).c_str());
    return 1;
  }
  phony::mysql::BinlogDecoder decoder;
  decoder.AssumeChecksum((*client)->crc32() ? 1 : 0);
  std::vector<phony::mysql::BinlogEvent> out;
  uint64_t rows = 0, events = 0, bytes = 0;
  bool done = false;
  while (!done) {
    auto next = (*client)->Next();
    if (!next.ok()) {
      std::fprintf(stderr, "%s\n", std::string(next.status().message()).c_str());
      return 1;
    }
    if (!next->has_value()) break;
    out.clear();
    if (auto s = decoder.Decode(**next, 0, &out); !s.ok()) {
      std::fprintf(stderr, "%s\n", std::string(s.message()).c_str());
      return 1;
    }
    ++events;
    bytes += (*next)->size();
    for (const auto& e : out) {
      if (const auto* r = std::get_if<phony::mysql::RowsEvent>(&e.body)) rows += r->rows.size();
      if (const auto* rot = std::get_if<phony::mysql::Rotate>(&e.body); rot && rot->next_file >= last) done = true;
    }
  }
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("%llu %llu %llu %.3f %.0f %.1f\n", static_cast<unsigned long long>(rows),
              static_cast<unsigned long long>(events), static_cast<unsigned long long>(bytes), secs, rows / secs,
              bytes / secs / 1e6);
  return 0;
}
