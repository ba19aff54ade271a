#include "src/transform/mapping_store.h"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "core/testing/status_matchers.h"
#include "gtest/gtest.h"

namespace phony::transform {
namespace {

using ::phony::testing::StatusIs;
using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kEmails[] = "customer_email:v1";  // a unique domain
constexpr char kCities[] = "city:v1";             // a non-unique one

Key128 IndexKey(const char* secret = "0123456789abcdef0123456789abcdef") {
  return *DeriveKey(secret, "mapping-index:v1");
}

std::string Original(int i) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "secret-original-%05d@corp.test", i);
  return buf;
}

std::string Fake(int i) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "fake-%05d@example.test", i);
  return buf;
}

class MappingStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ::testing::TempDir() + "/phony_mappings_" + std::to_string(getpid()) + "_" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::filesystem::remove_all(dir_);
    Open();
  }
  void TearDown() override {
    Close();
    std::filesystem::remove_all(dir_);
  }

  void Open(MappingStore::Options options = MappingStore::Options(), bool compression = true) {
    Close();
    auto state = StateStore::Open(
        dir_, {.job_name = "job1", .stage = "transform", .compression = compression});
    ASSERT_TRUE(state.ok()) << state.status();
    state_ = *std::move(state);
    auto store = MappingStore::Open(state_.get(), IndexKey(), options);
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
  }
  void Close() {
    store_.reset();
    state_.reset();
  }

  std::optional<std::string> Find(std::string_view domain, std::string_view original) {
    auto found = store_->Lookup(domain, original);
    EXPECT_TRUE(found.ok()) << found.status();
    return found.ok() ? *found : std::nullopt;
  }

  std::string dir_;
  std::unique_ptr<StateStore> state_;
  std::unique_ptr<MappingStore> store_;
};

TEST_F(MappingStoreTest, RecordThenLookup) {
  EXPECT_EQ(Find(kEmails, "jane@corp.com"), std::nullopt);
  ASSERT_OK(store_->Record(kEmails, "jane@corp.com", "user-81@example.test", true));
  EXPECT_EQ(Find(kEmails, "jane@corp.com"), "user-81@example.test") << "pending, visible at once";
  EXPECT_EQ(Find(kCities, "jane@corp.com"), std::nullopt) << "domains are separate";
  EXPECT_EQ(Find(kEmails, "john@corp.com"), std::nullopt);
  // Empty originals and fakes are values like any other.
  ASSERT_OK(store_->Record(kCities, "", "", false));
  EXPECT_EQ(Find(kCities, ""), "");

  const MappingStore::Stats stats = store_->stats();
  EXPECT_EQ(stats.records, 2u);
  EXPECT_EQ(stats.cache_hits, 2u);
  EXPECT_EQ(stats.misses, 3u);
  EXPECT_EQ(stats.collisions, 0u);
  EXPECT_EQ(store_->pending(), 3u) << "two mappings and one ledger entry";
  ASSERT_OK(store_->Flush(/*sync=*/false));
  EXPECT_EQ(store_->pending(), 0u);
  EXPECT_EQ(Find(kEmails, "jane@corp.com"), "user-81@example.test");
}

TEST_F(MappingStoreTest, SurvivesReopenAfterFlush) {
  ASSERT_OK(store_->Record(kEmails, "jane@corp.com", "user-81@example.test", true));
  ASSERT_OK(store_->Record(kCities, "Ankara", "Springfield", false));
  ASSERT_OK(store_->Flush(/*sync=*/true));
  ASSERT_OK(store_->Record(kCities, "Izmir", "Shelbyville", false));  // never flushed
  Open();
  EXPECT_EQ(Find(kEmails, "jane@corp.com"), "user-81@example.test");
  EXPECT_EQ(Find(kCities, "Ankara"), "Springfield");
  EXPECT_EQ(Find(kCities, "Izmir"), std::nullopt) << "unflushed records are dropped, as by a crash";
  EXPECT_EQ(store_->stats().store_hits, 2u);
  // The ledger survived too.
  EXPECT_THAT(store_->Record(kEmails, "john@corp.com", "user-81@example.test", true),
              StatusIs(absl::StatusCode::kFailedPrecondition));
}

// The background flusher writes the ledger once `threshold` entries are
// pending, while the caller goes on recording; what it wrote survives a
// reopen, and a collision with a flushed entry is still caught.
TEST_F(MappingStoreTest, BackgroundFlusherWritesPastItsThreshold) {
  BackgroundFlusher flusher(store_.get(), 100);
  for (int i = 0; i < 250; ++i) {
    ASSERT_OK(store_->RecordInLedger(kEmails, "person" + std::to_string(i) + "@corp.com",
                                     "fake" + std::to_string(i) + "@example.test"));
  }
  for (int i = 0; i < 500 && store_->pending() >= 100; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_LT(store_->pending(), 100u) << "the flusher wrote the batch";
  EXPECT_FALSE(flusher.Backlogged());
  ASSERT_OK(flusher.Stop());
  ASSERT_OK(store_->Flush(/*sync=*/true));
  Open();
  EXPECT_THAT(store_->RecordInLedger(kEmails, "someone.else@corp.com", "fake7@example.test"),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_OK(store_->RecordInLedger(kEmails, "person7@corp.com", "fake7@example.test"));
}

// Below its threshold it writes nothing: the caller's own Flush does.
TEST_F(MappingStoreTest, BackgroundFlusherLeavesSmallBatchesToTheCaller) {
  BackgroundFlusher flusher(store_.get(), 1000);
  ASSERT_OK(store_->RecordInLedger(kEmails, "a@corp.com", "x@example.test"));
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(store_->pending(), 1u);
  ASSERT_OK(flusher.Stop());
  ASSERT_OK(flusher.Stop()) << "stopping twice is fine";
}

TEST_F(MappingStoreTest, AnotherSecretFindsNothing) {
  ASSERT_OK(store_->Record(kEmails, "jane@corp.com", "user-81@example.test", true));
  ASSERT_OK(store_->Flush(/*sync=*/true));
  ASSERT_OK_AND_ASSIGN(auto other,
                       MappingStore::Open(state_.get(), IndexKey("another secret, 32 bytes long!!")));
  ASSERT_OK_AND_ASSIGN(auto found, other->Lookup(kEmails, "jane@corp.com"));
  EXPECT_EQ(found, std::nullopt);
  EXPECT_OK(other->Record(kEmails, "john@corp.com", "user-81@example.test", true))
      << "another secret has its own ledger";
}

TEST_F(MappingStoreTest, OverridesWinAndPersist) {
  ASSERT_OK(store_->Record(kEmails, "qa@corp.com", "user-5@example.test", true));
  ASSERT_OK(store_->Flush(/*sync=*/true));
  ASSERT_OK(store_->SetOverride(kEmails, "qa@corp.com", "qa-fixed@example.test", true));
  EXPECT_EQ(Find(kEmails, "qa@corp.com"), "qa-fixed@example.test");
  EXPECT_EQ(store_->stats().override_hits, 1u);
  // A generator's record for an overridden original is a no-op.
  EXPECT_OK(store_->Record(kEmails, "qa@corp.com", "user-5@example.test", true));
  EXPECT_OK(store_->Record(kEmails, "qa@corp.com", "anything@example.test", true));
  EXPECT_EQ(Find(kEmails, "qa@corp.com"), "qa-fixed@example.test");

  Open();  // durable without a Flush
  EXPECT_EQ(Find(kEmails, "qa@corp.com"), "qa-fixed@example.test");
  // Its fake is in the ledger.
  EXPECT_THAT(store_->Record(kEmails, "other@corp.com", "qa-fixed@example.test", true),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("collision in unique domain customer_email:v1")));
  // Replaced, then removed: back to the recorded fake.
  ASSERT_OK(store_->SetOverride(kEmails, "qa@corp.com", "qa-2@example.test", true));
  EXPECT_EQ(Find(kEmails, "qa@corp.com"), "qa-2@example.test");
  ASSERT_OK(store_->RemoveOverride(kEmails, "qa@corp.com"));
  EXPECT_EQ(Find(kEmails, "qa@corp.com"), "user-5@example.test");
  ASSERT_OK(store_->RemoveOverride(kEmails, "never-overridden@corp.com"));
  Open();
  EXPECT_EQ(Find(kEmails, "qa@corp.com"), "user-5@example.test");
  // The ledger keeps the removed override's fake: rows downstream carry it.
  EXPECT_THAT(store_->Record(kEmails, "other@corp.com", "qa-2@example.test", true),
              StatusIs(absl::StatusCode::kFailedPrecondition));

  // A second instance on the live store reads the overrides from the
  // memtable, not only from SST files.
  ASSERT_OK(store_->SetOverride(kEmails, "qa@corp.com", "qa-3@example.test", true));
  ASSERT_OK_AND_ASSIGN(auto second, MappingStore::Open(state_.get(), IndexKey()));
  ASSERT_OK_AND_ASSIGN(auto found, second->Lookup(kEmails, "qa@corp.com"));
  EXPECT_EQ(found, "qa-3@example.test");

  // An override may apply to an original never seen, in a non-unique domain.
  ASSERT_OK(store_->SetOverride(kCities, "Ankara", "Testville", false));
  EXPECT_EQ(Find(kCities, "Ankara"), "Testville");
}

TEST_F(MappingStoreTest, OverrideRefusesAnotherOriginalsFake) {
  ASSERT_OK(store_->Record(kEmails, "jane@corp.com", "user-81@example.test", true));
  EXPECT_THAT(store_->SetOverride(kEmails, "qa@corp.com", "user-81@example.test", true),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       AllOf(HasSubstr("collision in unique domain customer_email:v1"),
                             Not(HasSubstr("jane")), Not(HasSubstr("qa@")),
                             Not(HasSubstr("user-81")))));
  EXPECT_EQ(Find(kEmails, "qa@corp.com"), std::nullopt) << "a refused override is not set";
  EXPECT_EQ(store_->stats().collisions, 1u);
  // Its own fake is fine, and a non-unique domain never refuses.
  EXPECT_OK(store_->SetOverride(kEmails, "jane@corp.com", "user-81@example.test", true));
  EXPECT_OK(store_->SetOverride(kCities, "qa@corp.com", "user-81@example.test", false));
}

TEST_F(MappingStoreTest, CollisionInAUniqueDomainIsReportedLoudly) {
  ASSERT_OK(store_->Record(kEmails, "jane@corp.com", "user-81@example.test", true));
  const absl::Status collision =
      store_->Record(kEmails, "john@corp.com", "user-81@example.test", true);
  EXPECT_THAT(collision, StatusIs(absl::StatusCode::kFailedPrecondition,
                                  AllOf(HasSubstr("collision in unique domain customer_email:v1"),
                                        Not(HasSubstr("jane")), Not(HasSubstr("john")),
                                        Not(HasSubstr("user-81")))));
  EXPECT_EQ(Find(kEmails, "john@corp.com"), std::nullopt) << "nothing recorded";
  EXPECT_EQ(store_->stats().collisions, 1u);
  // Also once the first is in RocksDB and out of the cache.
  ASSERT_OK(store_->Flush(/*sync=*/true));
  Open();
  EXPECT_THAT(store_->Record(kEmails, "john@corp.com", "user-81@example.test", true),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  // The same fake in another unique domain is no collision.
  EXPECT_OK(store_->Record("work_email:v1", "john@corp.com", "user-81@example.test", true));
}

TEST_F(MappingStoreTest, LedgerOnlyRecordsCatchCollisionsToo) {
  ASSERT_OK(store_->RecordInLedger(kEmails, "jane@corp.com", "user-81@example.test"));
  ASSERT_OK(store_->RecordInLedger(kEmails, "jane@corp.com", "user-81@example.test")) << "a replay is fine";
  EXPECT_EQ(Find(kEmails, "jane@corp.com"), std::nullopt) << "the mapping itself is not kept";
  EXPECT_THAT(store_->RecordInLedger(kEmails, "john@corp.com", "user-81@example.test"),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("collision in unique domain")));
  ASSERT_OK(store_->Flush(/*sync=*/true));
  Open();
  EXPECT_THAT(store_->RecordInLedger(kEmails, "john@corp.com", "user-81@example.test"),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  // A full Record of the same fake for another original collides with it as well.
  EXPECT_THAT(store_->Record(kEmails, "john@corp.com", "user-81@example.test", true),
              StatusIs(absl::StatusCode::kFailedPrecondition));
}

TEST_F(MappingStoreTest, NonUniqueDomainAcceptsSharedFakes) {
  ASSERT_OK(store_->Record(kCities, "Ankara", "Springfield", false));
  ASSERT_OK(store_->Record(kCities, "Izmir", "Springfield", false));
  EXPECT_EQ(Find(kCities, "Ankara"), "Springfield");
  EXPECT_EQ(Find(kCities, "Izmir"), "Springfield");
  EXPECT_EQ(store_->stats().collisions, 0u);
  EXPECT_EQ(store_->pending(), 2u) << "no ledger entries";
}

TEST_F(MappingStoreTest, SamePairTwiceIsANoOp) {
  ASSERT_OK(store_->Record(kEmails, "jane@corp.com", "user-81@example.test", true));
  ASSERT_OK(store_->Record(kEmails, "jane@corp.com", "user-81@example.test", true));
  EXPECT_EQ(store_->pending(), 2u);
  ASSERT_OK(store_->Flush(/*sync=*/true));
  ASSERT_OK(store_->Record(kEmails, "jane@corp.com", "user-81@example.test", true));
  Open();
  ASSERT_OK(store_->Record(kEmails, "jane@corp.com", "user-81@example.test", true));
  EXPECT_EQ(store_->pending(), 0u) << "already in RocksDB";
  EXPECT_EQ(store_->stats().records, 0u);
}

TEST_F(MappingStoreTest, ChangedFakeIsRefused) {
  ASSERT_OK(store_->Record(kCities, "Ankara", "Springfield", false));
  EXPECT_THAT(store_->Record(kCities, "Ankara", "Shelbyville", false),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       AllOf(HasSubstr("city:v1"), Not(HasSubstr("Ankara")),
                             Not(HasSubstr("ville")))));
  ASSERT_OK(store_->Flush(/*sync=*/true));
  Open({.cache_entries = 0});
  EXPECT_THAT(store_->Record(kCities, "Ankara", "Shelbyville", false),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_EQ(Find(kCities, "Ankara"), "Springfield");
}

TEST_F(MappingStoreTest, DomainMustBeNonEmptyWithoutNul) {
  EXPECT_THAT(store_->Lookup("", "x"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(store_->Record(std::string("a\0b", 3), "x", "y", false),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(store_->SetOverride("", "x", "y", false),
              StatusIs(absl::StatusCode::kInvalidArgument));
  // A NUL inside the original is fine: the domain ends at the first NUL.
  ASSERT_OK(store_->Record("a", std::string("b\0c", 3), "1", false));
  EXPECT_EQ(Find("a", std::string("b\0c", 3)), "1");
  EXPECT_EQ(Find("a", "b"), std::nullopt);
}

TEST_F(MappingStoreTest, CacheEvictionStillFindsValuesInRocksDB) {
  Open({.cache_entries = 64});
  constexpr int kCount = 10000;
  for (int i = 0; i < kCount; ++i) ASSERT_OK(store_->Record(kEmails, Original(i), Fake(i), true));
  ASSERT_OK(store_->Flush(/*sync=*/false));
  for (int i = 0; i < kCount; ++i) ASSERT_EQ(Find(kEmails, Original(i)), Fake(i)) << i;
  for (int i = kCount; i < kCount + 100; ++i) ASSERT_EQ(Find(kEmails, Original(i)), std::nullopt);
  const MappingStore::Stats stats = store_->stats();
  EXPECT_GT(stats.store_hits, kCount - 200u) << "the cache holds 64 entries";
  EXPECT_EQ(stats.cache_hits + stats.store_hits, static_cast<uint64_t>(kCount));
  // The ledger is found in RocksDB too.
  EXPECT_THAT(store_->Record(kEmails, "someone-else", Fake(17), true),
              StatusIs(absl::StatusCode::kFailedPrecondition));
}

TEST_F(MappingStoreTest, ConcurrentRecordsLookupsAndFlushes) {
  Open({.cache_entries = 4096});  // small, so that eviction races too
  constexpr int kThreads = 4;
  constexpr int kPerThread = 100000;
  constexpr int kStride = kPerThread / 2;  // neighbours overlap by half
  std::atomic<bool> done{false};
  std::atomic<int> failures{0};
  std::thread flusher([&] {
    while (!done.load()) {
      if (!store_->Flush(/*sync=*/false).ok()) failures.fetch_add(1);
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  });
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = t * kStride; i < t * kStride + kPerThread; ++i) {
        const std::string original = Original(i);
        auto found = store_->Lookup(kEmails, original);
        if (!found.ok() || (found->has_value() && **found != Fake(i))) {
          failures.fetch_add(1);
          continue;
        }
        if (!found->has_value() && !store_->Record(kEmails, original, Fake(i), true).ok()) {
          failures.fetch_add(1);
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  done.store(true);
  flusher.join();
  ASSERT_EQ(failures.load(), 0);
  ASSERT_OK(store_->Flush(/*sync=*/true));

  constexpr int kDistinct = (kThreads - 1) * kStride + kPerThread;
  EXPECT_EQ(store_->stats().records, static_cast<uint64_t>(kDistinct));
  EXPECT_EQ(store_->stats().collisions, 0u);
  Open({.cache_entries = 4096});
  std::vector<std::thread> readers;
  for (int t = 0; t < kThreads; ++t) {
    readers.emplace_back([&, t] {
      for (int i = t; i < kDistinct; i += kThreads) {
        auto found = store_->Lookup(kEmails, Original(i));
        if (!found.ok() || *found != Fake(i)) failures.fetch_add(1);
      }
    });
  }
  for (auto& thread : readers) thread.join();
  EXPECT_EQ(failures.load(), 0);
}

TEST_F(MappingStoreTest, ConcurrentRecordsOfOneFakeCollideExactlyOnce) {
  // Many threads race to give one fake to different originals: one wins.
  constexpr int kThreads = 8;
  std::atomic<int> ok{0}, refused{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < 200; ++round) {
        const absl::Status s = store_->Record(kEmails, Original(round * kThreads + t),
                                              Fake(round), true);
        (s.ok() ? ok : refused).fetch_add(1);
        if (t == 0 && round % 16 == 0) (void)store_->Flush(false);
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(ok.load(), 200);
  EXPECT_EQ(refused.load(), 200 * (kThreads - 1));
}

// Every byte of every file of the state directory, concatenated by file.
std::vector<std::pair<std::string, std::string>> ReadAllFiles(const std::string& dir) {
  std::vector<std::pair<std::string, std::string>> files;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir)) {
    if (!entry.is_regular_file()) continue;
    std::string bytes(entry.file_size(), '\0');
    std::ifstream in(entry.path(), std::ios::binary);
    in.read(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    EXPECT_TRUE(in.good()) << "cannot read " << entry.path();
    files.emplace_back(entry.path().filename().string(), std::move(bytes));
  }
  return files;
}

TEST_F(MappingStoreTest, NoOriginalAnywhereInTheStateDirectory) {
  // Uncompressed, so that a value written would show as plain bytes.
  Open(MappingStore::Options(), /*compression=*/false);
  constexpr int kCount = 10000;
  for (int i = 0; i < kCount; ++i) {
    const bool unique = i % 2 == 0;
    ASSERT_OK(store_->Record(unique ? kEmails : kCities, Original(i), Fake(i), unique));
  }
  ASSERT_OK(store_->SetOverride(kEmails, Original(kCount), "qa-fixed@example.test", true));
  ASSERT_OK(store_->SetOverride(kCities, Original(kCount + 1), "qa-city@example.test", false));
  ASSERT_OK(store_->RemoveOverride(kCities, Original(kCount + 1)));
  ASSERT_OK(store_->Flush(/*sync=*/true));

  // Every original contains these; the fakes contain neither.
  const std::vector<std::string> leaks = {"secret-original-", "@corp.test", "corp.test",
                                          Original(0), Original(kCount)};
  auto scan = [&](const char* phase, const std::string& must_hold_fakes) {
    bool fakes_seen = false;
    for (const auto& [name, bytes] : ReadAllFiles(dir_)) {
      for (const std::string& leak : leaks) {
        EXPECT_EQ(bytes.find(leak), std::string::npos)
            << phase << ": " << name << " holds original bytes '" << leak << "'";
      }
      // The control: the store's plain bytes are visible to this scan.
      if (name.ends_with(must_hold_fakes) && bytes.find(Fake(1234)) != std::string::npos &&
          bytes.find("qa-fixed@example.test") != std::string::npos) {
        fakes_seen = true;
      }
    }
    EXPECT_TRUE(fakes_seen) << phase << ": no " << must_hold_fakes
                            << " file holds the fakes, so the scan proves nothing";
  };

  Close();
  scan("after close (WAL)", ".log");
  // Reopening replays the WAL into an SST file (RocksDB flushes recovered
  // memtables); check the values and scan again.
  Open(MappingStore::Options(), /*compression=*/false);
  for (int i = 0; i < kCount; i += 97) {
    ASSERT_EQ(Find(i % 2 == 0 ? kEmails : kCities, Original(i)), Fake(i)) << i;
  }
  EXPECT_EQ(Find(kEmails, Original(kCount)), "qa-fixed@example.test");
  Close();
  scan("after reopen (SST)", ".sst");
}

}  // namespace
}  // namespace phony::transform
