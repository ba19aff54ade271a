// Reads a binlog file from disk event by event: the 4-byte magic, then each
// event's bytes as the server wrote them (header, body, checksum), for the
// decoder. Streams through a buffer the size of the largest event, so a
// 1 GiB binlog is never in memory at once. Not thread-safe.
#pragma once

#include <cstdint>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace phony::mysql {

inline constexpr std::string_view kBinlogMagic = "\xfe" "bin";

class BinlogFileReader {
 public:
  // kNotFound / kPermissionDenied when the file cannot be opened, kDataLoss
  // when it does not start with the binlog magic.
  static absl::StatusOr<std::unique_ptr<BinlogFileReader>> Open(const std::string& path);
  ~BinlogFileReader();
  BinlogFileReader(const BinlogFileReader&) = delete;
  BinlogFileReader& operator=(const BinlogFileReader&) = delete;

  struct Event {
    std::string_view bytes;  // valid until the next call
    uint64_t offset = 0;     // where it starts in the file
  };
  // The next event, nullopt at the end of the file. kDataLoss when the file
  // ends inside an event (a file still being written, or cut short): the
  // message names the offset.
  absl::StatusOr<std::optional<Event>> Next();

 private:
  BinlogFileReader(std::FILE* f, std::string path) : file_(f), path_(std::move(path)) {}
  std::FILE* file_;
  std::string path_;
  uint64_t offset_ = 4;
  std::string buffer_;
};

}  // namespace phony::mysql
