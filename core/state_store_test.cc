#include "core/state_store.h"

#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "core/testing/status_matchers.h"
#include "gtest/gtest.h"

namespace phony {
namespace {

using ::phony::testing::StatusIs;
using ::testing::HasSubstr;

class StateStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ::testing::TempDir() + "/phony_state_" + std::to_string(getpid()) + "_" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::filesystem::remove_all(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  StateStore::Options Opts() const { return {.job_name = "job1", .stage = "capture"}; }
  std::string dir_;
};

TEST_F(StateStoreTest, StageDirLayout) {
  EXPECT_EQ(StageStateDir("./phony-state/orders", "capture", 0), "./phony-state/orders/capture-0");
}

TEST_F(StateStoreTest, PersistsAcrossReopenInEveryFamily) {
  {
    ASSERT_OK_AND_ASSIGN(auto store, StateStore::Open(dir_, Opts()));
    for (int f = 0; f < kStateFamilyCount; ++f) {
      ASSERT_OK(store->Put(static_cast<StateFamily>(f), "k", std::string("v") + std::to_string(f)));
    }
    StateStore::Batch batch;
    batch.Put(StateFamily::kPositions, "slot", "0/16B3748");
    batch.Put(StateFamily::kMappings, std::string("\x00\x01", 2), std::string("\xff\x00", 2));
    batch.Delete(StateFamily::kSnapshotChunks, "k");
    ASSERT_OK(store->Write(batch));
  }
  ASSERT_OK_AND_ASSIGN(auto store, StateStore::Open(dir_, Opts()));
  for (int f = 0; f < kStateFamilyCount; ++f) {
    const auto family = static_cast<StateFamily>(f);
    ASSERT_OK_AND_ASSIGN(auto v, store->Get(family, "k"));
    if (family == StateFamily::kSnapshotChunks) {
      EXPECT_FALSE(v.has_value());
    } else {
      ASSERT_TRUE(v.has_value()) << StateFamilyName(family);
      EXPECT_EQ(*v, std::string("v") + std::to_string(f));
    }
  }
  ASSERT_OK_AND_ASSIGN(auto pos, store->Get(StateFamily::kPositions, "slot"));
  EXPECT_EQ(pos, "0/16B3748");
  ASSERT_OK_AND_ASSIGN(auto bin, store->Get(StateFamily::kMappings, std::string("\x00\x01", 2)));
  EXPECT_EQ(bin, std::string("\xff\x00", 2));
  // Families are separate key spaces.
  ASSERT_OK(store->Delete(StateFamily::kMappings, "k"));
  ASSERT_OK_AND_ASSIGN(auto gone, store->Get(StateFamily::kMappings, "k"));
  EXPECT_FALSE(gone.has_value());
  ASSERT_OK_AND_ASSIGN(auto still, store->Get(StateFamily::kPositions, "k"));
  EXPECT_TRUE(still.has_value());
}

TEST_F(StateStoreTest, ScanByPrefixInKeyOrder) {
  ASSERT_OK_AND_ASSIGN(auto store, StateStore::Open(dir_, Opts()));
  for (const char* k : {"t/b", "t/a", "u/a", "t/c", "s/z"}) {
    ASSERT_OK(store->Put(StateFamily::kSchemaHistory, k, k, /*sync=*/false));
  }
  std::vector<std::string> seen;
  ASSERT_OK(store->Scan(StateFamily::kSchemaHistory, "t/", [&](std::string_view k, std::string_view v) {
    EXPECT_EQ(k, v);
    seen.emplace_back(k);
    return true;
  }));
  EXPECT_EQ(seen, (std::vector<std::string>{"t/a", "t/b", "t/c"}));
  seen.clear();
  ASSERT_OK(store->Scan(StateFamily::kSchemaHistory, "", [&](std::string_view k, std::string_view) {
    seen.emplace_back(k);
    return seen.size() < 2;
  }));
  EXPECT_EQ(seen.size(), 2u);
}

TEST_F(StateStoreTest, SecondOpenInSameProcessIsRefused) {
  ASSERT_OK_AND_ASSIGN(auto store, StateStore::Open(dir_, Opts()));
  EXPECT_THAT(StateStore::Open(dir_, Opts()).status(),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("in use by another process (pid " + std::to_string(getpid()))));
}

TEST_F(StateStoreTest, AnotherProcessIsRefusedWhileHeldAndAdmittedAfter) {
  ASSERT_OK_AND_ASSIGN(auto store, StateStore::Open(dir_, Opts()));
  auto child_can_open = [&]() -> int {
    const pid_t pid = fork();
    if (pid == 0) {
      auto s = StateStore::Open(dir_, Opts());
      _exit(s.ok() ? 0 : (s.status().code() == absl::StatusCode::kFailedPrecondition ? 1 : 2));
    }
    int status = 0;
    waitpid(pid, &status, 0);
    return WEXITSTATUS(status);
  };
  EXPECT_EQ(child_can_open(), 1);
  store.reset();
  EXPECT_EQ(child_can_open(), 0);
}

TEST_F(StateStoreTest, BelongsToOneJobAndStage) {
  { ASSERT_OK_AND_ASSIGN(auto store, StateStore::Open(dir_, Opts())); }
  EXPECT_THAT(StateStore::Open(dir_, {.job_name = "other-job", .stage = "capture"}).status(),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("belongs to job 'job1'")));
  EXPECT_THAT(StateStore::Open(dir_, {.job_name = "job1", .stage = "apply"}).status(),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("belongs to stage 'capture'")));
}

TEST_F(StateStoreTest, MissingDirWithoutCreate) {
  EXPECT_THAT(StateStore::Open(dir_ + "/nope", {.job_name = "j", .stage = "s", .create_if_missing = false})
                  .status(),
              StatusIs(absl::StatusCode::kNotFound));
}

}  // namespace
}  // namespace phony
