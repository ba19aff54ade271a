#include "src/capture/postgres/spill_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>

#include "core/byte_reader.h"
#include "core/event_codec.h"
#include "core/status_macros.h"

namespace phony::pg {
namespace {

constexpr size_t kWriteBufferBytes = 1 << 20;
constexpr size_t kReadChunkBytes = 1 << 20;
constexpr uint32_t kMaxRecordBytes = 1u << 30;

absl::Status IoError(const std::string& what) {
  return absl::InternalError("spill file: " + what + ": " + std::strerror(errno));
}

}  // namespace

absl::StatusOr<std::unique_ptr<SpillFile>> SpillFile::Create(const std::string& dir) {
  std::string path = dir + "/phony-spill-XXXXXX";
  const int fd = mkostemp(path.data(), O_CLOEXEC);  // created 0600
  if (fd < 0) return IoError("cannot create a file in " + dir);
  unlink(path.c_str());  // gone with the process, whatever way it ends
  return std::unique_ptr<SpillFile>(new SpillFile(fd));
}

SpillFile::~SpillFile() { close(fd_); }

absl::Status SpillFile::FlushWrites() {
  size_t done = 0;
  while (done < write_buffer_.size()) {
    const ssize_t n = pwrite(fd_, write_buffer_.data() + done, write_buffer_.size() - done,
                             static_cast<off_t>(flushed_ + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return IoError("write");
    }
    done += static_cast<size_t>(n);
  }
  flushed_ += write_buffer_.size();
  write_buffer_.clear();
  return absl::OkStatus();
}

absl::Status SpillFile::Append(uint32_t subxid, const Event& event) {
  const size_t start = write_buffer_.size();
  write_buffer_.append(8, '\0');  // length and subxid, filled below
  EncodeEvent(event, &write_buffer_);
  const size_t encoded = write_buffer_.size() - start - 8;
  if (encoded > kMaxRecordBytes) {
    write_buffer_.resize(start);
    return absl::ResourceExhaustedError("spill file: an event of " + std::to_string(encoded) +
                                        " bytes exceeds the 1 GiB record limit");
  }
  const uint32_t len = static_cast<uint32_t>(encoded);
  std::string header;
  PutU32LE(&header, len);
  PutU32LE(&header, subxid);
  std::memcpy(write_buffer_.data() + start, header.data(), 8);
  size_ += 8 + len;
  ++count_;
  if (write_buffer_.size() >= kWriteBufferBytes) return FlushWrites();
  return absl::OkStatus();
}

absl::StatusOr<std::optional<std::pair<uint32_t, Event>>> SpillFile::ReadNext() {
  PHONY_RETURN_IF_ERROR(FlushWrites());
  // Makes at least `need` unconsumed bytes available (fewer at the end).
  auto fill = [&](size_t need) -> absl::Status {
    if (read_buffer_.size() - read_pos_ >= need) return absl::OkStatus();
    read_buffer_.erase(0, read_pos_);  // compact once per refill, not per record
    read_pos_ = 0;
    while (read_buffer_.size() < need && read_offset_ < flushed_) {
      const size_t want = std::max(kReadChunkBytes, need - read_buffer_.size());
      const size_t old = read_buffer_.size();
      read_buffer_.resize(old + want);
      const ssize_t n = pread(fd_, read_buffer_.data() + old, want, static_cast<off_t>(read_offset_));
      if (n < 0) {
        read_buffer_.resize(old);
        if (errno == EINTR) continue;
        return IoError("read");
      }
      read_buffer_.resize(old + static_cast<size_t>(n));
      read_offset_ += static_cast<uint64_t>(n);
      if (n == 0) break;
    }
    return absl::OkStatus();
  };
  PHONY_RETURN_IF_ERROR(fill(8));
  const std::string_view avail = std::string_view(read_buffer_).substr(read_pos_);
  if (avail.empty()) return std::optional<std::pair<uint32_t, Event>>();
  ByteReader header(avail.substr(0, std::min<size_t>(8, avail.size())), "spill record");
  PHONY_ASSIGN_OR_RETURN(uint32_t len, header.ReadU32LE());
  PHONY_ASSIGN_OR_RETURN(uint32_t subxid, header.ReadU32LE());
  if (len > kMaxRecordBytes) return absl::DataLossError("spill file: record too large");
  PHONY_RETURN_IF_ERROR(fill(8 + static_cast<size_t>(len)));
  if (read_buffer_.size() - read_pos_ < 8 + static_cast<size_t>(len)) {
    return absl::DataLossError("spill file: truncated record");
  }
  PHONY_ASSIGN_OR_RETURN(Event event,
                         DecodeEvent(std::string_view(read_buffer_).substr(read_pos_ + 8, len)));
  read_pos_ += 8 + static_cast<size_t>(len);
  return std::optional<std::pair<uint32_t, Event>>(std::make_pair(subxid, std::move(event)));
}

absl::StatusOr<SpillFile::Truncated> SpillFile::TruncateTo(uint64_t offset, uint64_t count) {
  PHONY_RETURN_IF_ERROR(FlushWrites());
  Truncated out;
  // Read the tail being removed to rescue its schema events. Truncation
  // happens while the transaction is open, before any reading.
  read_offset_ = offset;
  read_buffer_.clear();
  read_pos_ = 0;
  while (true) {
    PHONY_ASSIGN_OR_RETURN(auto rec, ReadNext());
    if (!rec) break;
    ++out.removed;
    if (std::holds_alternative<SchemaEvent>(rec->second)) out.schema_events.push_back(std::move(rec->second));
  }
  if (ftruncate(fd_, static_cast<off_t>(offset)) != 0) return IoError("truncate");
  flushed_ = size_ = offset;
  count_ = count;
  read_offset_ = 0;
  read_buffer_.clear();
  read_pos_ = 0;
  return out;
}

}  // namespace phony::pg
