#include "core/ack_tracker.h"

#include <algorithm>
#include <random>
#include <thread>
#include <vector>

#include "core/testing/status_matchers.h"
#include "gtest/gtest.h"

namespace phony {
namespace {

using ::phony::testing::StatusIs;

TEST(AckTrackerTest, GapStopsConfirmation) {
  AckTracker t;
  ASSERT_OK(t.Track(1, EventPosition::Postgres(Lsn(10), 0)));
  ASSERT_OK(t.Track(2, std::nullopt));  // ends mid-transaction
  ASSERT_OK(t.Track(3, EventPosition::Postgres(Lsn(30), 0)));
  ASSERT_OK(t.Ack(3));
  EXPECT_FALSE(t.Confirmed().has_value());
  ASSERT_OK(t.Ack(1));
  EXPECT_EQ(t.Confirmed(), EventPosition::Postgres(Lsn(10), 0));
  ASSERT_OK(t.Ack(2));
  EXPECT_EQ(t.Confirmed(), EventPosition::Postgres(Lsn(30), 0));
  EXPECT_TRUE(t.idle());
}

TEST(AckTrackerTest, AbandonedBatchUnblocksWithoutConfirming) {
  AckTracker t;
  ASSERT_OK(t.Track(1, EventPosition::Postgres(Lsn(10), 0)));
  ASSERT_OK(t.Track(2, EventPosition::Postgres(Lsn(20), 0)));  // its publish failed
  ASSERT_OK(t.Ack(1));
  ASSERT_OK(t.Abandon(2));
  EXPECT_EQ(t.Confirmed(), EventPosition::Postgres(Lsn(10), 0)) << "an abandoned batch confirms nothing";
  EXPECT_TRUE(t.idle());
  ASSERT_OK(t.Track(3, EventPosition::Postgres(Lsn(20), 0)));  // the re-sent transaction
  ASSERT_OK(t.Ack(3));
  EXPECT_EQ(t.Confirmed(), EventPosition::Postgres(Lsn(20), 0));
  EXPECT_THAT(t.Abandon(3), StatusIs(absl::StatusCode::kNotFound));
}

TEST(AckTrackerTest, FailedDeliveryBlocksLaterAcksUntilReset) {
  AckTracker t;
  ASSERT_OK(t.Track(1, EventPosition::Postgres(Lsn(10), 0)));
  ASSERT_OK(t.Track(2, EventPosition::Postgres(Lsn(20), 0)));  // the broker refuses it
  ASSERT_OK(t.Track(3, EventPosition::Postgres(Lsn(30), 0)));
  ASSERT_OK(t.Ack(1));
  ASSERT_OK(t.Fail(2));
  EXPECT_TRUE(t.failed());
  ASSERT_OK(t.Ack(3));
  EXPECT_EQ(t.Confirmed(), EventPosition::Postgres(Lsn(10), 0)) << "never past an undelivered batch";
  EXPECT_THAT(t.Ack(2), StatusIs(absl::StatusCode::kNotFound));
  t.Reset();  // the stage restarts from Lsn 10
  EXPECT_FALSE(t.failed());
  EXPECT_TRUE(t.idle());
  ASSERT_OK(t.Track(4, EventPosition::Postgres(Lsn(20), 0)));
  ASSERT_OK(t.Ack(4));
  EXPECT_EQ(t.Confirmed(), EventPosition::Postgres(Lsn(20), 0));
}

TEST(AckTrackerTest, RejectsBadIds) {
  AckTracker t;
  ASSERT_OK(t.Track(5, std::nullopt));
  EXPECT_THAT(t.Track(5, std::nullopt), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(t.Track(4, std::nullopt), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(t.Ack(6), StatusIs(absl::StatusCode::kNotFound));
  ASSERT_OK(t.Ack(5));
  EXPECT_THAT(t.Ack(5), StatusIs(absl::StatusCode::kNotFound));
}

TEST(AckTrackerTest, RandomOrderFromManyThreadsConfirmsTheLast) {
  constexpr uint64_t kN = 20000;
  AckTracker t;
  for (uint64_t i = 1; i <= kN; ++i) ASSERT_OK(t.Track(i, EventPosition::Postgres(Lsn(i), 0)));
  std::vector<uint64_t> ids(kN);
  for (uint64_t i = 0; i < kN; ++i) ids[i] = i + 1;
  std::shuffle(ids.begin(), ids.end(), std::mt19937(42));
  std::vector<std::thread> threads;
  for (int w = 0; w < 4; ++w) {
    threads.emplace_back([&, w] {
      for (size_t i = static_cast<size_t>(w); i < ids.size(); i += 4) ASSERT_OK(t.Ack(ids[i]));
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(t.Confirmed(), EventPosition::Postgres(Lsn(kN), 0));
  EXPECT_TRUE(t.idle());
}

}  // namespace
}  // namespace phony
