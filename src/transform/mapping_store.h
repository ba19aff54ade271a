// MappingStore: the transformer's record of the mappings it made
// (DESIGN.md "Anonymization", docs/anonymization.md "The mapping store"),
// kept in the `mappings` column family of the stage's StateStore. It is a
// cache for expensive generators, the ledger that reports a collision in a
// unique domain loudly, and the home of operator overrides (a fixed fake for
// a given original, such as a test account). Every stored key is a keyed
// SipHash-128 of (domain, value) behind a one-byte record type, so no
// original is ever written; fakes are stored as they are. The ledger only
// detects: outputs are pure functions of (secret, domain, value), so two
// transformers with separate state directories agree without sharing one.
// One instance per StateStore, owned by the transform stage; the StateStore
// must outlive it. Thread-safe: Lookup, Record, the override calls and Flush
// may all run concurrently (sharded mutexes over the cache and the pending
// batch).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/state_store.h"
#include "src/transform/keyed.h"

namespace phony::transform {

class MappingStore {
 public:
  struct Options {
    // Lookup results held in memory in front of RocksDB, over all shards
    // (CLOCK eviction per shard); a known absence counts as one. About 100
    // bytes each, plus the fake's length beyond 15 bytes. 0 turns the cache
    // off.
    size_t cache_entries = size_t{1} << 20;
  };

  struct Stats {
    uint64_t override_hits = 0;  // Lookups answered by an operator override
    uint64_t cache_hits = 0;     // ... by the cache or the pending batch
    uint64_t store_hits = 0;     // ... by RocksDB
    uint64_t misses = 0;         // Lookups that found nothing
    uint64_t records = 0;        // new mappings recorded (no-op re-records excluded)
    uint64_t collisions = 0;     // Records and overrides refused by a unique domain's ledger
  };

  // `index_key` comes from the job's secret:
  // DeriveKey(secret, "mapping-index:v1"). Under another secret none of the
  // old entries is found (they are orphaned, never misread). Loads the
  // overrides (few: test accounts) into memory; kDataLoss for a malformed
  // one.
  static absl::StatusOr<std::unique_ptr<MappingStore>> Open(StateStore* store, Key128 index_key,
                                                            Options options);
  static absl::StatusOr<std::unique_ptr<MappingStore>> Open(StateStore* store, Key128 index_key) {
    return Open(store, index_key, Options());
  }
  ~MappingStore();
  MappingStore(const MappingStore&) = delete;
  MappingStore& operator=(const MappingStore&) = delete;

  // The operator override for (domain, original) if there is one, else the
  // recorded fake if there is one (pending batch, cache, then RocksDB).
  // `domain` names the mapping domain and its generator version (e.g.
  // "customer_email:v1"); it must be non-empty and free of NUL bytes
  // (kInvalidArgument), which keeps (domain, original) unambiguous.
  absl::StatusOr<std::optional<std::string>> Lookup(std::string_view domain,
                                                    std::string_view original);

  // The operator override for (domain, original) only (in memory: cheap).
  absl::StatusOr<std::optional<std::string>> Override(std::string_view domain, std::string_view original) const;
  // How many overrides exist (in every domain).
  size_t override_count() const { return override_count_.load(std::memory_order_acquire); }

  // Records that (domain, original) maps to `fake`, in the pending batch
  // (visible to Lookup at once, durable after Flush). In a unique domain it
  // also enters the ledger (fake -> original); when the ledger holds `fake`
  // for a different original, nothing is recorded and the result is
  // kFailedPrecondition "collision in unique domain <domain>". Messages name
  // the domain only, never a value.
  // Re-recording the same pair is a no-op, and so is recording an original
  // that has an override (the override wins). A different fake for an
  // original that has one is kFailedPrecondition too: generators are pure
  // functions, so it means a non-deterministic generator or a new generator
  // version under an old domain name.
  absl::Status Record(std::string_view domain, std::string_view original, std::string_view fake,
                      bool unique);

  // The ledger half of Record in a unique domain, without remembering the
  // mapping itself: for generators that are cheap to re-run (all of ours),
  // one lookup and one write instead of two. Same collision semantics.
  absl::Status RecordInLedger(std::string_view domain, std::string_view original, std::string_view fake);

  // An operator override: `fake` for `original` whatever the generator says,
  // durable (fsync'd) on return; replaces an earlier override. In a unique
  // domain `fake` enters the ledger, and an override whose fake is already
  // another original's in that domain is refused (kFailedPrecondition).
  absl::Status SetOverride(std::string_view domain, std::string_view original,
                           std::string_view fake, bool unique);
  // Removes the override (durable on return); the original falls back to its
  // recorded or generated fake. The ledger keeps the override's fake, since
  // rows written downstream carry it. Removing a missing override is OK.
  absl::Status RemoveOverride(std::string_view domain, std::string_view original);

  // Writes the pending batch as one atomic RocksDB write batch; `sync`
  // fsyncs the WAL. The caller flushes at its commit points: what was not
  // flushed is lost on destruction or a crash, and is recorded again when
  // the caller replays from its last commit point.
  absl::Status Flush(bool sync);

  Stats stats() const;
  // Entries waiting for Flush (mappings and ledger entries).
  size_t pending() const;

 private:
  struct Hash128 {
    uint64_t hi = 0, lo = 0;
    friend bool operator==(const Hash128&, const Hash128&) = default;
  };
  struct Shard;
  struct Global;  // the flush and override mutexes and the overrides

  MappingStore(StateStore* store, Key128 index_key, Options options);

  // SipHash-128 under `key` of domain || 0x00 || value.
  static Hash128 HashOf(const Key128& key, std::string_view domain, std::string_view value);
  Shard& ShardOf(const Hash128& h) const;
  std::optional<std::string> FindOverride(const Hash128& h) const;
  // Reads the mapping of `h` from RocksDB into the shard's cache under its
  // lock; checks that a recorded fake, if any, is `fake`. Sets `*recorded`.
  absl::Status CheckRecorded(Shard& shard, std::string_view domain, const Hash128& h,
                             std::string_view fake, bool* recorded);
  // The ledger's check-and-enter of fake `fh` -> original `h`, atomic under
  // the ledger shard's lock. With `durable`, that batch (an override) is
  // written together with the ledger entry under the lock; without, the
  // entry goes to the pending batch.
  absl::Status EnterLedger(std::string_view domain, const Hash128& fh, const Hash128& h,
                           StateStore::Batch* durable);

  StateStore* const store_;
  const Key128 index_key_;
  const Key128 ledger_key_;  // fakes are hashed under their own key
  const size_t shard_capacity_;
  std::unique_ptr<Shard[]> shards_;
  std::unique_ptr<Global> global_;
  std::atomic<size_t> override_count_{0};
  mutable std::atomic<uint64_t> override_hits_{0};
};

// Flushes a MappingStore from a thread of its own whenever `threshold`
// entries are pending, so that the stage's thread never waits for the
// RocksDB write (sorting and inserting the ledger's keys is most of a
// unique domain's cost). The stage still bounds memory: past
// `4 * threshold` pending entries it should Flush itself (see Backlogged).
// Not synced: the stage's own final Flush(true) is.
class BackgroundFlusher {
 public:
  BackgroundFlusher(MappingStore* store, size_t threshold);
  ~BackgroundFlusher();  // Stop()
  BackgroundFlusher(const BackgroundFlusher&) = delete;
  BackgroundFlusher& operator=(const BackgroundFlusher&) = delete;

  // The first failed Flush (the thread stops flushing then).
  absl::Status status() const;
  // Whether the thread has fallen so far behind that the caller should
  // flush inline.
  bool Backlogged() const;
  // Ends the thread; returns status().
  absl::Status Stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace phony::transform
