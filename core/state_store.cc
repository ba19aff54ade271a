#include "core/state_store.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <string>

#include "rocksdb/db.h"
#include "rocksdb/slice_transform.h"
#include "rocksdb/options.h"
#include "rocksdb/utilities/options_util.h"
#include "rocksdb/write_batch.h"

namespace phony {
namespace {

constexpr const char* kFamilyNames[kStateFamilyCount] = {
    "default", "mappings", "schema_history", "positions", "snapshot_chunks", "subset_membership"};
constexpr const char* kFormatVersion = "1";

// The one place rocksdb::Status becomes absl::Status.
absl::Status FromRocks(const rocksdb::Status& s, const std::string& what) {
  if (s.ok()) return absl::OkStatus();
  const std::string msg = what + ": " + s.ToString();
  if (s.IsNotFound()) return absl::NotFoundError(msg);
  if (s.IsCorruption()) return absl::DataLossError(msg);
  if (s.IsIOError() && s.IsNoSpace()) return absl::ResourceExhaustedError(msg);
  if (s.IsBusy() || s.IsTryAgain() || s.IsTimedOut()) return absl::UnavailableError(msg);
  if (s.IsInvalidArgument()) return absl::InvalidArgumentError(msg);
  return absl::InternalError(msg);
}

}  // namespace

const char* StateFamilyName(StateFamily family) {
  return kFamilyNames[static_cast<int>(family)];
}

std::string StageStateDir(const std::string& job_state_dir, std::string_view stage, int instance) {
  return (std::filesystem::path(job_state_dir) /
          (std::string(stage) + "-" + std::to_string(instance)))
      .string();
}

struct StateStore::Impl {
  std::string dir;
  int lock_fd = -1;
  std::unique_ptr<rocksdb::DB> db;
  std::vector<rocksdb::ColumnFamilyHandle*> handles;

  ~Impl() {
    for (auto* h : handles) {
      if (db && h) db->DestroyColumnFamilyHandle(h);
    }
    if (db) db->Close();
    db.reset();
    if (lock_fd >= 0) {
      flock(lock_fd, LOCK_UN);
      close(lock_fd);
    }
  }
  rocksdb::ColumnFamilyHandle* cf(StateFamily f) const { return handles[static_cast<int>(f)]; }
};

StateStore::StateStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
StateStore::~StateStore() = default;

const std::string& StateStore::dir() const { return impl_->dir; }

absl::StatusOr<std::unique_ptr<StateStore>> StateStore::Open(const std::string& dir,
                                                             const Options& options) {
  std::error_code ec;
  if (options.create_if_missing) {
    std::filesystem::create_directories(dir, ec);
    if (ec) return absl::PermissionDeniedError("cannot create state directory " + dir + ": " + ec.message());
  } else if (!std::filesystem::is_directory(dir)) {
    return absl::NotFoundError("state directory " + dir + " does not exist");
  }
  auto impl = std::make_unique<Impl>();
  impl->dir = dir;

  // Our own lock with the holder's pid, so the error can say who holds it
  // (RocksDB's LOCK file would only say "lock hold by current process" or
  // "Resource temporarily unavailable").
  const std::string lock_path = (std::filesystem::path(dir) / "phony.lock").string();
  impl->lock_fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (impl->lock_fd < 0) {
    return absl::PermissionDeniedError("cannot open " + lock_path + ": " + std::strerror(errno));
  }
  if (flock(impl->lock_fd, LOCK_EX | LOCK_NB) != 0) {
    char buf[32] = {0};
    const ssize_t n = pread(impl->lock_fd, buf, sizeof(buf) - 1, 0);
    std::string holder = n > 0 ? std::string(buf, static_cast<size_t>(n)) : "unknown";
    while (!holder.empty() && (holder.back() == '\n' || holder.back() == ' ')) holder.pop_back();
    return absl::FailedPreconditionError("state directory " + dir +
                                         " is in use by another process (pid " + holder +
                                         "); two stage instances cannot share one");
  }
  const std::string pid = std::to_string(getpid()) + "\n";
  if (ftruncate(impl->lock_fd, 0) != 0 ||
      pwrite(impl->lock_fd, pid.data(), pid.size(), 0) != static_cast<ssize_t>(pid.size())) {
    return absl::InternalError("cannot write " + lock_path + ": " + std::strerror(errno));
  }

  rocksdb::DBOptions db_options;
  db_options.create_if_missing = options.create_if_missing;
  db_options.create_missing_column_families = true;
  db_options.max_open_files = 256;
  db_options.keep_log_file_num = 3;
  db_options.info_log_level = rocksdb::InfoLogLevel::WARN_LEVEL;
  rocksdb::ColumnFamilyOptions cf_options;
  if (!options.compression) {
    cf_options.compression = rocksdb::kNoCompression;
    cf_options.bottommost_compression = rocksdb::kNoCompression;
  }
  std::vector<rocksdb::ColumnFamilyDescriptor> families;
  for (int f = 0; f < kStateFamilyCount; ++f) {
    rocksdb::ColumnFamilyOptions family_options = cf_options;
    if (static_cast<StateFamily>(f) == StateFamily::kMappings) {
      // The mapping store only does point reads, most of them of absent keys
      // (a new value's lookup, a new fake's ledger check): bloom filters on
      // the memtable and the SST files answer those without a search, and a
      // hash index inside data blocks serves the hits. (A hash memtable would
      // make inserts cheaper but its flush sorts every entry into a skiplist:
      // slower overall once memtables flush.)
      family_options.OptimizeForPointLookup(/*block_cache_size_mb=*/64);
      // 32 MB memtables (not 64): as fast for the ledger's sorted batches
      // (transform_bench BM_MappingStoreLedgerInsert), and less memory.
      family_options.write_buffer_size = size_t{32} << 20;
      // Flush writes its batch in key order: with a hint per record type,
      // each memtable insert starts where the previous one ended.
      family_options.memtable_insert_with_hint_prefix_extractor.reset(rocksdb::NewFixedPrefixTransform(1));
    }
    families.emplace_back(kFamilyNames[f], family_options);
  }
  const std::string db_path = (std::filesystem::path(dir) / "db").string();
  rocksdb::DB* raw = nullptr;
  auto s = rocksdb::DB::Open(db_options, db_path, families, &impl->handles, &raw);
  if (!s.ok()) return FromRocks(s, "opening state store " + db_path);
  impl->db.reset(raw);

  std::unique_ptr<StateStore> store(new StateStore(std::move(impl)));
  // Identity check: a state directory belongs to one job and stage.
  for (const auto& [key, expected] :
       {std::pair<std::string, std::string>{"job", options.job_name}, {"stage", options.stage},
        {"format", kFormatVersion}}) {
    auto current = store->Get(StateFamily::kMeta, key);
    if (!current.ok()) return current.status();
    if (!current->has_value()) {
      auto put = store->Put(StateFamily::kMeta, key, expected);
      if (!put.ok()) return put;
    } else if (**current != expected) {
      return absl::FailedPreconditionError("state directory " + dir + " belongs to " + key + " '" +
                                           **current + "', not '" + expected +
                                           "'; point state.dir elsewhere");
    }
  }
  return store;
}

absl::StatusOr<std::optional<std::string>> StateStore::Get(StateFamily family,
                                                           std::string_view key) const {
  std::string value;
  auto s = impl_->db->Get(rocksdb::ReadOptions(), impl_->cf(family),
                          rocksdb::Slice(key.data(), key.size()), &value);
  if (s.IsNotFound()) return std::optional<std::string>();
  if (!s.ok()) return FromRocks(s, std::string("reading ") + StateFamilyName(family));
  return std::optional<std::string>(std::move(value));
}

absl::Status StateStore::Put(StateFamily family, std::string_view key, std::string_view value,
                             bool sync) {
  rocksdb::WriteOptions wo;
  wo.sync = sync;
  return FromRocks(impl_->db->Put(wo, impl_->cf(family), rocksdb::Slice(key.data(), key.size()),
                                  rocksdb::Slice(value.data(), value.size())),
                   std::string("writing ") + StateFamilyName(family));
}

absl::Status StateStore::Delete(StateFamily family, std::string_view key, bool sync) {
  rocksdb::WriteOptions wo;
  wo.sync = sync;
  return FromRocks(impl_->db->Delete(wo, impl_->cf(family), rocksdb::Slice(key.data(), key.size())),
                   std::string("deleting from ") + StateFamilyName(family));
}

void StateStore::Batch::Put(StateFamily family, std::string_view key, std::string_view value) {
  ops_.push_back(Op{family, false, std::string(key), std::string(value)});
}

void StateStore::Batch::Delete(StateFamily family, std::string_view key) {
  ops_.push_back(Op{family, true, std::string(key), std::string()});
}

absl::Status StateStore::Write(const Batch& batch, bool sync) {
  rocksdb::WriteBatch wb;
  for (const auto& op : batch.ops_) {
    rocksdb::Status s = op.is_delete ? wb.Delete(impl_->cf(op.family), op.key)
                                     : wb.Put(impl_->cf(op.family), op.key, op.value);
    if (!s.ok()) return FromRocks(s, "building a state batch");
  }
  rocksdb::WriteOptions wo;
  wo.sync = sync;
  return FromRocks(impl_->db->Write(wo, &wb), "writing a state batch");
}

absl::Status StateStore::Scan(
    StateFamily family, std::string_view prefix,
    const std::function<bool(std::string_view, std::string_view)>& fn) const {
  std::unique_ptr<rocksdb::Iterator> it(impl_->db->NewIterator(rocksdb::ReadOptions(), impl_->cf(family)));
  for (it->Seek(rocksdb::Slice(prefix.data(), prefix.size())); it->Valid(); it->Next()) {
    const rocksdb::Slice k = it->key();
    if (!k.starts_with(rocksdb::Slice(prefix.data(), prefix.size()))) break;
    if (!fn(std::string_view(k.data(), k.size()),
            std::string_view(it->value().data(), it->value().size()))) {
      break;
    }
  }
  return FromRocks(it->status(), std::string("scanning ") + StateFamilyName(family));
}

}  // namespace phony
