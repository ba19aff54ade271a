#include "src/capture/mysql/binlog_file.h"

#include <cerrno>
#include <cstring>

#include "src/capture/mysql/binlog_decoder.h"

namespace phony::mysql {

absl::StatusOr<std::unique_ptr<BinlogFileReader>> BinlogFileReader::Open(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) {
    const std::string why = std::strerror(errno);
    if (errno == ENOENT) return absl::NotFoundError("binlog file " + path + ": " + why);
    return absl::PermissionDeniedError("binlog file " + path + ": " + why);
  }
  std::unique_ptr<BinlogFileReader> reader(new BinlogFileReader(f, path));
  char magic[4];
  if (std::fread(magic, 1, 4, f) != 4 || std::string_view(magic, 4) != kBinlogMagic) {
    return absl::DataLossError(path + " is not a binlog file (it does not start with \\xfebin)");
  }
  return reader;
}

BinlogFileReader::~BinlogFileReader() { std::fclose(file_); }

absl::StatusOr<std::optional<BinlogFileReader::Event>> BinlogFileReader::Next() {
  buffer_.resize(kEventHeaderSize);
  const size_t got = std::fread(buffer_.data(), 1, kEventHeaderSize, file_);
  if (got == 0 && std::feof(file_)) return std::optional<Event>();
  if (got != kEventHeaderSize) {
    return absl::DataLossError(path_ + " ends inside the header of the event at offset " + std::to_string(offset_));
  }
  auto h = BinlogDecoder::ParseHeader(buffer_, offset_);
  if (!h.ok()) return absl::DataLossError(path_ + ": " + std::string(h.status().message()));
  buffer_.resize(h->event_size);
  const size_t rest = h->event_size - kEventHeaderSize;
  if (std::fread(buffer_.data() + kEventHeaderSize, 1, rest, file_) != rest) {
    return absl::DataLossError(path_ + " ends inside the " + EventTypeName(h->type) + " event at offset " +
                               std::to_string(offset_) + " (" + std::to_string(h->event_size) + " bytes)");
  }
  Event e{.bytes = buffer_, .offset = offset_};
  offset_ += h->event_size;
  return std::optional<Event>(e);
}

}  // namespace phony::mysql
