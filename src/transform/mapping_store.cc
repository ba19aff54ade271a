#include "src/transform/mapping_store.h"

#include <pthread.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <shared_mutex>
#include <thread>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "core/status_macros.h"

namespace phony::transform {
namespace {

// The record types: the first byte of every key in the mappings family,
// followed by 16 bytes of keyed hash.
constexpr char kMappingRecord = 'm';   // H(domain, original) -> fake
constexpr char kOverrideRecord = 'o';  // H(domain, original) -> fake set by an operator
constexpr char kLedgerRecord = 'l';    // H'(domain, fake) -> H(domain, original), unique domains
constexpr size_t kHashBytes = 16;
constexpr size_t kKeyBytes = 1 + kHashBytes;

// Shards of the cache and the pending batch, chosen by the hash's top bits.
constexpr size_t kShardBits = 6;
constexpr size_t kShards = size_t{1} << kShardBits;

// The hashes are PRF outputs: any 64 of their bits are already uniform.
struct LowBitsHasher {
  template <typename H>
  size_t operator()(const H& h) const {
    return static_cast<size_t>(h.lo);
  }
};

uint64_t LoadBE64(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | p[i];
  return v;
}

void StoreBE64(uint64_t v, char* p) {
  for (int i = 7; i >= 0; --i) {
    p[i] = static_cast<char>(v & 0xff);
    v >>= 8;
  }
}

absl::Status CheckDomain(std::string_view domain) {
  if (domain.empty() || domain.find('\0') != std::string_view::npos) {
    return absl::InvalidArgumentError(
        "mapping store: a mapping domain must be non-empty and free of NUL bytes");
  }
  return absl::OkStatus();
}

absl::Status ChangedFake(std::string_view domain) {
  return absl::FailedPreconditionError(
      "mapping store: domain " + std::string(domain) +
      " already maps this original to a different fake (a generator that is not deterministic, "
      "or a new generator version under the same domain name)");
}

}  // namespace

struct alignas(64) MappingStore::Shard {  // a cache line of its own
  struct Slot {
    Hash128 key;
    std::string fake;
    bool present = false;  // false: known to be absent from RocksDB
    bool referenced = false;
  };

  std::mutex mu;  // guards everything below
  // Recorded and not yet flushed: original hash -> fake.
  absl::flat_hash_map<Hash128, std::string, LowBitsHasher> pending;
  // Ledger entries not yet flushed: fake hash -> original hash.
  absl::flat_hash_map<Hash128, Hash128, LowBitsHasher> pending_ledger;
  // The cache: a CLOCK over `slots`, indexed by original hash.
  absl::flat_hash_map<Hash128, uint32_t, LowBitsHasher> index;
  std::vector<Slot> slots;
  size_t hand = 0;
  // Bumped each time Flush moves entries from `pending` to RocksDB, so that
  // a reader that dropped the lock for a RocksDB read knows whether a
  // "not found" may still be cached as an absence.
  uint64_t generation = 0;
  uint64_t cache_hits = 0;
  uint64_t store_hits = 0;
  uint64_t misses = 0;
  uint64_t records = 0;
  uint64_t collisions = 0;

  Slot* Cached(const Hash128& h) {
    auto it = index.find(h);
    if (it == index.end()) return nullptr;
    Slot& slot = slots[it->second];
    slot.referenced = true;
    return &slot;
  }

  // Caches `h`; a known absence never replaces a cached value.
  void Cache(const Hash128& h, bool present, std::string_view fake, size_t capacity)
      {
    if (capacity == 0) return;
    if (auto it = index.find(h); it != index.end()) {
      Slot& slot = slots[it->second];
      if (present) {
        slot.present = true;
        slot.fake.assign(fake);
      }
      return;
    }
    uint32_t at;
    if (slots.size() < capacity) {
      at = static_cast<uint32_t>(slots.size());
      slots.emplace_back();
    } else {
      while (slots[hand].referenced) {
        slots[hand].referenced = false;
        hand = (hand + 1) % slots.size();
      }
      at = static_cast<uint32_t>(hand);
      index.erase(slots[at].key);
      hand = (hand + 1) % slots.size();
    }
    Slot& slot = slots[at];
    slot.key = h;
    slot.present = present;
    slot.fake.assign(present ? fake : std::string_view());
    slot.referenced = false;
    index.emplace(h, at);
  }
};

struct MappingStore::Global {
  // std::mutex rather than absl::Mutex: Debian's Abseil is built without
  // NDEBUG, so absl::Mutex runs its deadlock detector on every lock.
  std::mutex flush_mu;  // one Flush at a time
  std::mutex admin_mu;  // one override change at a time, held across its write
  mutable std::shared_mutex overrides_mu;
  absl::flat_hash_map<Hash128, std::string, LowBitsHasher> overrides;
};

namespace {

std::string StoredKey(char type, uint64_t hi, uint64_t lo) {
  std::string key(kKeyBytes, '\0');
  key[0] = type;
  StoreBE64(hi, &key[1]);
  StoreBE64(lo, &key[1 + 8]);
  return key;
}

}  // namespace

MappingStore::MappingStore(StateStore* store, Key128 index_key, Options options)
    : store_(store),
      index_key_(index_key),
      ledger_key_([&] {
        // An independent key for fakes, so that a fake equal to some original
        // of the same domain does not show up as equal hashes.
        const auto bytes = SipHash128(index_key, "mapping-ledger-fake:v1");
        return Key128{LoadBE64(bytes.data()), LoadBE64(bytes.data() + 8)};
      }()),
      shard_capacity_((options.cache_entries + kShards - 1) / kShards),
      shards_(new Shard[kShards]),
      global_(std::make_unique<Global>()) {}

MappingStore::~MappingStore() = default;

absl::StatusOr<std::unique_ptr<MappingStore>> MappingStore::Open(StateStore* store,
                                                                 Key128 index_key,
                                                                 Options options) {
  std::unique_ptr<MappingStore> ms(new MappingStore(store, index_key, options));
  absl::Status malformed;
  size_t count = 0;
  {
    std::unique_lock lock(ms->global_->overrides_mu);
    PHONY_RETURN_IF_ERROR(store->Scan(
        StateFamily::kMappings, std::string(1, kOverrideRecord),
        [&](std::string_view key, std::string_view value) {
          if (key.size() != kKeyBytes) {
            malformed = absl::DataLossError("mapping store: an override key has " +
                                            std::to_string(key.size()) + " bytes, not " +
                                            std::to_string(kKeyBytes));
            return false;
          }
          const auto* p = reinterpret_cast<const uint8_t*>(key.data()) + 1;
          ms->global_->overrides[Hash128{LoadBE64(p), LoadBE64(p + 8)}] = std::string(value);
          return true;
        }));
    count = ms->global_->overrides.size();
  }
  PHONY_RETURN_IF_ERROR(malformed);
  ms->override_count_.store(count, std::memory_order_release);
  return ms;
}

MappingStore::Hash128 MappingStore::HashOf(const Key128& key, std::string_view domain,
                                           std::string_view value) {
  const size_t n = domain.size() + 1 + value.size();
  char stack[256];
  std::string heap;
  char* buf = stack;
  if (n > sizeof(stack)) {
    heap.resize(n);
    buf = heap.data();
  }
  std::memcpy(buf, domain.data(), domain.size());
  buf[domain.size()] = '\0';
  if (!value.empty()) std::memcpy(buf + domain.size() + 1, value.data(), value.size());
  const auto bytes = SipHash128(key, std::string_view(buf, n));
  return Hash128{LoadBE64(bytes.data()), LoadBE64(bytes.data() + 8)};
}

MappingStore::Shard& MappingStore::ShardOf(const Hash128& h) const {
  return shards_[h.hi >> (64 - kShardBits)];
}

std::optional<std::string> MappingStore::FindOverride(const Hash128& h) const {
  std::shared_lock lock(global_->overrides_mu);
  auto it = global_->overrides.find(h);
  if (it == global_->overrides.end()) return std::nullopt;
  return it->second;
}

absl::StatusOr<std::optional<std::string>> MappingStore::Override(std::string_view domain,
                                                                  std::string_view original) const {
  PHONY_RETURN_IF_ERROR(CheckDomain(domain));
  if (override_count_.load(std::memory_order_acquire) == 0) return std::optional<std::string>();
  auto fake = FindOverride(HashOf(index_key_, domain, original));
  if (fake) override_hits_.fetch_add(1, std::memory_order_relaxed);
  return fake;
}

absl::StatusOr<std::optional<std::string>> MappingStore::Lookup(std::string_view domain,
                                                                std::string_view original) {
  PHONY_RETURN_IF_ERROR(CheckDomain(domain));
  const Hash128 h = HashOf(index_key_, domain, original);
  if (override_count_.load(std::memory_order_acquire) > 0) {
    if (auto fake = FindOverride(h)) {
      override_hits_.fetch_add(1, std::memory_order_relaxed);
      return fake;
    }
  }
  Shard& shard = ShardOf(h);
  uint64_t generation;
  {
    std::lock_guard lock(shard.mu);
    if (auto it = shard.pending.find(h); it != shard.pending.end()) {
      ++shard.cache_hits;
      return std::optional<std::string>(it->second);
    }
    if (Shard::Slot* slot = shard.Cached(h)) {
      if (!slot->present) {
        ++shard.misses;
        return std::optional<std::string>();
      }
      ++shard.cache_hits;
      return std::optional<std::string>(slot->fake);
    }
    generation = shard.generation;
  }
  // Read without the shard's lock, so that other keys of the shard wait for
  // no I/O. A value once recorded never changes, so a found value is safe to
  // cache; an absence only when no Flush has run in between.
  PHONY_ASSIGN_OR_RETURN(std::optional<std::string> stored,
                         store_->Get(StateFamily::kMappings,
                                     StoredKey(kMappingRecord, h.hi, h.lo)));
  std::lock_guard lock(shard.mu);
  if (stored.has_value()) {
    ++shard.store_hits;
    shard.Cache(h, true, *stored, shard_capacity_);
  } else if (auto it = shard.pending.find(h); it != shard.pending.end()) {
    // Recorded by another thread meanwhile.
    ++shard.cache_hits;
    return std::optional<std::string>(it->second);
  } else {
    ++shard.misses;
    if (generation == shard.generation) shard.Cache(h, false, {}, shard_capacity_);
  }
  return stored;
}

absl::Status MappingStore::CheckRecorded(Shard& shard, std::string_view domain, const Hash128& h,
                                         std::string_view fake, bool* recorded) {
  // The caller holds shard.mu.
  *recorded = false;
  if (auto it = shard.pending.find(h); it != shard.pending.end()) {
    if (it->second != fake) return ChangedFake(domain);
    *recorded = true;
    return absl::OkStatus();
  }
  if (Shard::Slot* slot = shard.Cached(h)) {
    if (!slot->present) return absl::OkStatus();
    if (slot->fake != fake) return ChangedFake(domain);
    *recorded = true;
    return absl::OkStatus();
  }
  // Read under the lock: nothing reaches RocksDB for this shard meanwhile,
  // so the answer is exact (and may be cached as an absence).
  PHONY_ASSIGN_OR_RETURN(std::optional<std::string> stored,
                         store_->Get(StateFamily::kMappings,
                                     StoredKey(kMappingRecord, h.hi, h.lo)));
  shard.Cache(h, stored.has_value(), stored.value_or(std::string()), shard_capacity_);
  if (!stored.has_value()) return absl::OkStatus();
  if (*stored != fake) return ChangedFake(domain);
  *recorded = true;
  return absl::OkStatus();
}

absl::Status MappingStore::EnterLedger(std::string_view domain, const Hash128& fh,
                                       const Hash128& h, StateStore::Batch* durable) {
  Shard& shard = ShardOf(fh);
  std::lock_guard lock(shard.mu);
  std::optional<Hash128> holder;
  if (auto it = shard.pending_ledger.find(fh); it != shard.pending_ledger.end()) {
    holder = it->second;
  } else {
    PHONY_ASSIGN_OR_RETURN(std::optional<std::string> stored,
                           store_->Get(StateFamily::kMappings,
                                       StoredKey(kLedgerRecord, fh.hi, fh.lo)));
    if (stored.has_value()) {
      if (stored->size() != kHashBytes) {
        return absl::DataLossError("mapping store: a ledger entry of domain " +
                                   std::string(domain) + " has " +
                                   std::to_string(stored->size()) + " bytes, not " +
                                   std::to_string(kHashBytes));
      }
      const auto* p = reinterpret_cast<const uint8_t*>(stored->data());
      holder = Hash128{LoadBE64(p), LoadBE64(p + 8)};
    }
  }
  if (holder.has_value() && !(*holder == h)) {
    ++shard.collisions;
    return absl::FailedPreconditionError(
        "collision in unique domain " + std::string(domain) +
        (durable != nullptr ? ": the override's fake is already another original's fake"
                            : ": two originals were given one fake (the generator is not "
                              "injective on them, or an override holds that fake)"));
  }
  std::string encoded(kHashBytes, '\0');
  StoreBE64(h.hi, &encoded[0]);
  StoreBE64(h.lo, &encoded[8]);
  if (durable != nullptr) {
    // Written with the override, under this lock, so that no Record can
    // take the fake in between.
    durable->Put(StateFamily::kMappings, StoredKey(kLedgerRecord, fh.hi, fh.lo), encoded);
    return store_->Write(*durable, /*sync=*/true);
  }
  if (!holder.has_value()) shard.pending_ledger.emplace(fh, h);
  return absl::OkStatus();
}

absl::Status MappingStore::Record(std::string_view domain, std::string_view original,
                                  std::string_view fake, bool unique) {
  PHONY_RETURN_IF_ERROR(CheckDomain(domain));
  const Hash128 h = HashOf(index_key_, domain, original);
  if (override_count_.load(std::memory_order_acquire) > 0 && FindOverride(h).has_value()) {
    return absl::OkStatus();  // the override wins
  }
  Shard& shard = ShardOf(h);
  uint64_t generation;
  {
    std::lock_guard lock(shard.mu);
    bool recorded;
    PHONY_RETURN_IF_ERROR(CheckRecorded(shard, domain, h, fake, &recorded));
    if (recorded) return absl::OkStatus();
    generation = shard.generation;
  }
  // The ledger entry may live in another shard: take one lock at a time.
  if (unique) PHONY_RETURN_IF_ERROR(EnterLedger(domain, HashOf(ledger_key_, domain, fake), h, nullptr));
  std::lock_guard lock(shard.mu);
  if (auto it = shard.pending.find(h); it != shard.pending.end()) {
    return it->second == fake ? absl::OkStatus() : ChangedFake(domain);  // another thread's
  }
  if (generation != shard.generation) {
    // A Flush ran meanwhile: another thread's record may have gone to RocksDB.
    bool recorded;
    PHONY_RETURN_IF_ERROR(CheckRecorded(shard, domain, h, fake, &recorded));
    if (recorded) return absl::OkStatus();
  }
  shard.pending.emplace(h, std::string(fake));
  ++shard.records;
  return absl::OkStatus();
}

absl::Status MappingStore::RecordInLedger(std::string_view domain, std::string_view original,
                                          std::string_view fake) {
  PHONY_RETURN_IF_ERROR(CheckDomain(domain));
  const Hash128 h = HashOf(index_key_, domain, original);
  if (override_count_.load(std::memory_order_acquire) > 0 && FindOverride(h).has_value()) {
    return absl::OkStatus();  // the override's fake entered the ledger with it
  }
  return EnterLedger(domain, HashOf(ledger_key_, domain, fake), h, nullptr);
}

absl::Status MappingStore::SetOverride(std::string_view domain, std::string_view original,
                                       std::string_view fake, bool unique) {
  PHONY_RETURN_IF_ERROR(CheckDomain(domain));
  const Hash128 h = HashOf(index_key_, domain, original);
  std::lock_guard admin(global_->admin_mu);
  StateStore::Batch batch;
  batch.Put(StateFamily::kMappings, StoredKey(kOverrideRecord, h.hi, h.lo), fake);
  if (unique) {
    PHONY_RETURN_IF_ERROR(EnterLedger(domain, HashOf(ledger_key_, domain, fake), h, &batch));
  } else {
    PHONY_RETURN_IF_ERROR(store_->Write(batch, /*sync=*/true));
  }
  std::unique_lock lock(global_->overrides_mu);
  global_->overrides[h] = std::string(fake);
  override_count_.store(global_->overrides.size(), std::memory_order_release);
  return absl::OkStatus();
}

absl::Status MappingStore::RemoveOverride(std::string_view domain, std::string_view original) {
  PHONY_RETURN_IF_ERROR(CheckDomain(domain));
  const Hash128 h = HashOf(index_key_, domain, original);
  std::lock_guard admin(global_->admin_mu);
  PHONY_RETURN_IF_ERROR(store_->Delete(StateFamily::kMappings,
                                       StoredKey(kOverrideRecord, h.hi, h.lo), /*sync=*/true));
  std::unique_lock lock(global_->overrides_mu);
  global_->overrides.erase(h);
  override_count_.store(global_->overrides.size(), std::memory_order_release);
  return absl::OkStatus();
}

absl::Status MappingStore::Flush(bool sync) {
  std::lock_guard flush(global_->flush_mu);
  // Copy the pending entries out; they stay visible in `pending` until
  // RocksDB holds them, and leave it only afterwards.
  std::vector<std::pair<std::string, std::string>> writes;
  std::vector<std::vector<Hash128>> mappings(kShards), ledger(kShards);
  std::string encoded(kHashBytes, '\0');
  for (size_t i = 0; i < kShards; ++i) {
    Shard& shard = shards_[i];
    std::lock_guard lock(shard.mu);
    for (const auto& [h, fake] : shard.pending) {
      writes.emplace_back(StoredKey(kMappingRecord, h.hi, h.lo), fake);
      mappings[i].push_back(h);
    }
    for (const auto& [fh, h] : shard.pending_ledger) {
      StoreBE64(h.hi, &encoded[0]);
      StoreBE64(h.lo, &encoded[8]);
      writes.emplace_back(StoredKey(kLedgerRecord, fh.hi, fh.lo), encoded);
      ledger[i].push_back(fh);
    }
  }
  if (writes.empty()) return absl::OkStatus();
  // In key order: the memtable's skiplist then inserts each key from its
  // predecessor's position instead of searching from the top.
  std::sort(writes.begin(), writes.end());
  StateStore::Batch batch;
  for (const auto& [key, value] : writes) batch.Put(StateFamily::kMappings, key, value);
  PHONY_RETURN_IF_ERROR(store_->Write(batch, sync));
  for (size_t i = 0; i < kShards; ++i) {
    if (mappings[i].empty() && ledger[i].empty()) continue;
    Shard& shard = shards_[i];
    std::lock_guard lock(shard.mu);
    for (const Hash128& h : mappings[i]) {
      auto it = shard.pending.find(h);
      shard.Cache(h, true, it->second, shard_capacity_);
      shard.pending.erase(it);
    }
    for (const Hash128& fh : ledger[i]) shard.pending_ledger.erase(fh);
    ++shard.generation;
  }
  return absl::OkStatus();
}

MappingStore::Stats MappingStore::stats() const {
  Stats stats;
  stats.override_hits = override_hits_.load(std::memory_order_relaxed);
  for (size_t i = 0; i < kShards; ++i) {
    Shard& shard = shards_[i];
    std::lock_guard lock(shard.mu);
    stats.cache_hits += shard.cache_hits;
    stats.store_hits += shard.store_hits;
    stats.misses += shard.misses;
    stats.records += shard.records;
    stats.collisions += shard.collisions;
  }
  return stats;
}

size_t MappingStore::pending() const {
  size_t n = 0;
  for (size_t i = 0; i < kShards; ++i) {
    Shard& shard = shards_[i];
    std::lock_guard lock(shard.mu);
    n += shard.pending.size() + shard.pending_ledger.size();
  }
  return n;
}

struct BackgroundFlusher::Impl {
  MappingStore* store;
  size_t threshold;
  mutable std::mutex mu;
  std::condition_variable cv;
  bool stop = false;
  absl::Status status;
  std::thread thread;

  void Run() {
    pthread_setname_np(pthread_self(), "phony-ledger");
    std::unique_lock lock(mu);
    while (!stop) {
      cv.wait_for(lock, std::chrono::milliseconds(10));
      if (stop || !status.ok()) continue;
      if (store->pending() < threshold) continue;
      lock.unlock();
      absl::Status s = store->Flush(false);
      lock.lock();
      if (!s.ok()) status = s;
    }
  }
};

BackgroundFlusher::BackgroundFlusher(MappingStore* store, size_t threshold) : impl_(std::make_unique<Impl>()) {
  impl_->store = store;
  impl_->threshold = std::max<size_t>(threshold, 1);
  impl_->thread = std::thread([impl = impl_.get()] { impl->Run(); });
}

BackgroundFlusher::~BackgroundFlusher() { (void)Stop(); }

absl::Status BackgroundFlusher::status() const {
  std::lock_guard lock(impl_->mu);
  return impl_->status;
}

bool BackgroundFlusher::Backlogged() const { return impl_->store->pending() >= 4 * impl_->threshold; }

absl::Status BackgroundFlusher::Stop() {
  {
    std::lock_guard lock(impl_->mu);
    impl_->stop = true;
  }
  impl_->cv.notify_all();
  if (impl_->thread.joinable()) impl_->thread.join();
  return status();
}

}  // namespace phony::transform
