// SpillFile: where a large open transaction's events go when the assembler's
// memory budget is exceeded. An unlinked temporary file (it disappears with
// the process, even after kill -9) holding records of (subtransaction xid,
// event in the internal encoding), appended through a write buffer, read
// back sequentially at commit, and truncatable at a recorded offset when a
// subtransaction aborts. The raw stream's data is sensitive: the file is
// created 0600 in the capture's spill directory. Not thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "core/event.h"

namespace phony::pg {

class SpillFile {
 public:
  static absl::StatusOr<std::unique_ptr<SpillFile>> Create(const std::string& dir);
  ~SpillFile();
  SpillFile(const SpillFile&) = delete;
  SpillFile& operator=(const SpillFile&) = delete;

  absl::Status Append(uint32_t subxid, const Event& event);
  // Logical size in bytes and records, including buffered ones.
  uint64_t size() const { return size_; }
  uint64_t count() const { return count_; }

  // Cuts the file back to (`offset`, `count`), values size()/count() had
  // earlier. Returns how many records were removed and the schema events
  // among them, which outlive an aborted subtransaction.
  struct Truncated {
    uint64_t removed = 0;
    std::vector<Event> schema_events;
  };
  absl::StatusOr<Truncated> TruncateTo(uint64_t offset, uint64_t count);

  // Reads records from the start, one at a time; std::nullopt at the end.
  absl::StatusOr<std::optional<std::pair<uint32_t, Event>>> ReadNext();

 private:
  explicit SpillFile(int fd) : fd_(fd) {}
  absl::Status FlushWrites();

  int fd_;
  uint64_t size_ = 0;
  uint64_t count_ = 0;
  uint64_t flushed_ = 0;       // bytes on disk
  std::string write_buffer_;
  uint64_t read_offset_ = 0;
  std::string read_buffer_;    // read-ahead; unconsumed bytes start at read_pos_
  size_t read_pos_ = 0;
};

}  // namespace phony::pg
