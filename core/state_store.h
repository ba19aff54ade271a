// StateStore: a stage instance's state directory (DESIGN.md "State"): one
// RocksDB database with a column family per later user, locked so that two
// processes cannot share it by accident. Keys and values are opaque bytes;
// each family's owner defines its encoding. RocksDB stays behind this header
// (pimpl) so that including it does not drag RocksDB into every translation
// unit. Thread-safe: RocksDB serializes writers; reads run concurrently.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace phony {

enum class StateFamily {
  kMeta = 0,           // job name, stage, format version
  kMappings,           // transform: keyed hashes of originals -> fakes
  kSchemaHistory,      // capture/transform/apply: table schema versions
  kPositions,          // capture: confirmed source positions
  kSnapshotChunks,     // snapshot: finished chunk checkpoints
  kSubsetMembership,   // snapshot: subset key membership
};
inline constexpr int kStateFamilyCount = 6;
const char* StateFamilyName(StateFamily family);

// `<state.dir>/<stage>-<instance>` per DESIGN.md.
std::string StageStateDir(const std::string& job_state_dir, std::string_view stage, int instance);

class StateStore {
 public:
  struct Options {
    std::string job_name;  // recorded at creation; a different job is refused
    std::string stage;     // "capture", "transform", "apply", "snapshot"
    bool create_if_missing = true;
    // Block compression of SST files (RocksDB's default). Tests that scan the
    // files' bytes for a value turn it off so that the bytes are plain.
    bool compression = true;
  };

  // Opens (creating) the directory. kFailedPrecondition when another process
  // holds it (naming that process) or when it belongs to another job/stage.
  static absl::StatusOr<std::unique_ptr<StateStore>> Open(const std::string& dir,
                                                          const Options& options);
  ~StateStore();
  StateStore(const StateStore&) = delete;
  StateStore& operator=(const StateStore&) = delete;

  const std::string& dir() const;

  absl::StatusOr<std::optional<std::string>> Get(StateFamily family, std::string_view key) const;
  // Durable (fsync'd WAL) unless `sync` is false.
  absl::Status Put(StateFamily family, std::string_view key, std::string_view value,
                   bool sync = true);
  absl::Status Delete(StateFamily family, std::string_view key, bool sync = true);

  // Several writes applied atomically.
  class Batch {
   public:
    void Put(StateFamily family, std::string_view key, std::string_view value);
    void Delete(StateFamily family, std::string_view key);
    size_t size() const { return ops_.size(); }

   private:
    friend class StateStore;
    struct Op {
      StateFamily family;
      bool is_delete;
      std::string key, value;
    };
    std::vector<Op> ops_;
  };
  absl::Status Write(const Batch& batch, bool sync = true);

  // Calls `fn` for each key starting with `prefix`, in key order, until it
  // returns false.
  absl::Status Scan(StateFamily family, std::string_view prefix,
                    const std::function<bool(std::string_view key, std::string_view value)>& fn) const;

 private:
  struct Impl;
  explicit StateStore(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace phony
