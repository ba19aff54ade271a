// The MySQL/MariaDB capture stage against the live MariaDB: transactions in
// commit order on the bus, schema versions across an ALTER, TRUNCATE, the
// table filter, and a restart that resumes after the last acked transaction
// and loses nothing.
#include "src/capture/mysql/my_capture.h"

#include <mysql.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/time/clock.h"
#include "core/embedded_bus.h"
#include "core/state_store.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/integration/mariadb_admin.h"

namespace phony::mysql {
namespace {

using ::testing::ElementsAre;

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v == nullptr ? "" : v;
}

using Admin = ::phony::testing::MariaDbAdmin;

MySqlCaptureOptions Options(const std::string& db, StateStore* state) {
  MySqlCaptureOptions o;
  o.client.host = Env("PHONY_MARIADB_HOST");
  o.client.port = static_cast<uint16_t>(std::atoi(Env("PHONY_MARIADB_PORT").c_str()));
  o.client.user = Env("PHONY_MARIADB_USER");
  o.client.password = Env("PHONY_MARIADB_PASSWORD");
  o.client.server_id = 2000 + static_cast<uint32_t>(getpid() % 10000);
  o.filter = TableFilter({db + ".*"}, {db + ".skipped"}, db);
  o.state = state;
  o.max_batch_delay = absl::Milliseconds(10);
  o.initial_backoff = absl::Milliseconds(100);
  return o;
}

// Runs a capture on a thread; collects what reaches the bus, acking the
// first `ack_limit` batches only.
class Harness {
 public:
  Harness(MySqlCaptureOptions options, size_t ack_limit = SIZE_MAX)
      : bus_({.name = "raw"}), ack_limit_(ack_limit) {
    producer_ = bus_.CreateProducer([this](uint64_t id) { capture_->OnAck(id); });
    consumer_ = bus_.CreateConsumer();
    capture_ = std::make_unique<MySqlCapture>(std::move(options), producer_.get());
    thread_ = std::thread([this] { status_ = capture_->Run(stop_); });
    consumer_thread_ = std::thread([this] {
      while (!stop_.load()) {
        auto d = consumer_->Poll(absl::Milliseconds(50));
        if (!d.ok() || !d->has_value()) continue;
        std::lock_guard lock(mu_);
        for (Event& e : (*d)->batch.events) events_.push_back(std::move(e));
        if (acked_ < ack_limit_) {
          ++acked_;
          acked_events_ = events_.size();
          (void)consumer_->Ack((*d)->offset);
        }
      }
    });
  }
  ~Harness() { (void)Stop(); }
  absl::Status Stop() {
    if (!thread_.joinable()) return status_;
    stop_.store(true);
    thread_.join();
    consumer_thread_.join();
    bus_.Shutdown();
    return status_;
  }
  // Waits until `pred` holds for the events seen.
  bool WaitFor(const std::function<bool(const std::vector<Event>&)>& pred, absl::Duration timeout = absl::Seconds(20)) {
    for (absl::Time until = absl::Now() + timeout; absl::Now() < until;) {
      {
        std::lock_guard lock(mu_);
        if (pred(events_)) return true;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
  }
  std::vector<Event> events() {
    std::lock_guard lock(mu_);
    return events_;
  }
  std::vector<Event> acked_events() {
    std::lock_guard lock(mu_);
    return std::vector<Event>(events_.begin(), events_.begin() + static_cast<std::ptrdiff_t>(acked_events_));
  }
  MySqlCapture& capture() { return *capture_; }

 private:
  EmbeddedBus bus_;
  std::unique_ptr<BusProducer> producer_;
  std::unique_ptr<BusConsumer> consumer_;
  std::unique_ptr<MySqlCapture> capture_;
  std::atomic<bool> stop_{false};
  absl::Status status_;
  std::thread thread_, consumer_thread_;
  std::mutex mu_;
  std::vector<Event> events_;
  size_t ack_limit_;
  size_t acked_ = 0;
  size_t acked_events_ = 0;
};

std::vector<int64_t> InsertedIds(const std::vector<Event>& events, const std::string& table) {
  std::vector<int64_t> ids;
  for (const Event& e : events) {
    const auto* c = std::get_if<ChangeEvent>(&e);
    if (c != nullptr && c->op == ChangeOp::kInsert && c->table.table == table) ids.push_back((*c->after)[0].int64_value());
  }
  return ids;
}

TEST(MariaDbCaptureTest, TransactionsSchemaVersionsTruncateAndFilter) {
  Admin admin;
  const std::string db = "cap_" + std::to_string(getpid());
  admin.Exec("CREATE DATABASE " + db);
  admin.Exec("CREATE TABLE " + db + ".t (id INT PRIMARY KEY, v VARCHAR(16)) DEFAULT CHARSET utf8mb4");
  admin.Exec("CREATE TABLE " + db + ".skipped (id INT PRIMARY KEY)");
  const std::string dir = ::testing::TempDir() + "/mycap-" + db;
  std::filesystem::remove_all(dir);
  auto state = StateStore::Open(dir, {.job_name = "t", .stage = "capture"});
  ASSERT_TRUE(state.ok()) << state.status();
  Harness h(Options(db, state->get()));
  // Capture starts "from now": wait until it streams before writing.
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  admin.Exec("INSERT INTO " + db + ".t VALUES (1, 'a'), (2, 'b')");
  admin.Exec("INSERT INTO " + db + ".skipped VALUES (1)");
  admin.Exec("UPDATE " + db + ".t SET v = 'bb' WHERE id = 2");
  admin.Exec("ALTER TABLE " + db + ".t ADD COLUMN n INT");
  admin.Exec("INSERT INTO " + db + ".t VALUES (3, 'c', 30)");
  admin.Exec("TRUNCATE TABLE " + db + ".t");
  ASSERT_TRUE(h.WaitFor([&](const std::vector<Event>& es) {
    for (const Event& e : es) {
      if (const auto* c = std::get_if<ChangeEvent>(&e); c && c->op == ChangeOp::kTruncate) return true;
    }
    return false;
  })) << "the TRUNCATE never arrived: " << h.Stop() << " after " << h.events().size() << " events";
  ASSERT_TRUE(h.Stop().ok());
  const std::vector<Event> events = h.events();
  EXPECT_THAT(InsertedIds(events, "t"), ElementsAre(1, 2, 3));
  std::vector<std::string> seen;
  std::optional<EventPosition> last;
  for (const Event& e : events) {
    if (last) {
      EXPECT_LT(*last, PositionOf(e));
    }
    last = PositionOf(e);
    if (const auto* s = std::get_if<SchemaEvent>(&e)) {
      seen.push_back("schema v" + std::to_string(s->schema.version) + " " + std::to_string(s->schema.columns.size()));
    } else if (const auto* c = std::get_if<ChangeEvent>(&e)) {
      EXPECT_EQ(c->table.schema, db);
      EXPECT_NE(c->table.table, "skipped");
      seen.push_back(std::string(ChangeOpName(c->op)) + " v" + std::to_string(c->schema_version));
    }
  }
  EXPECT_THAT(seen, ElementsAre("schema v1 2", "insert v1", "insert v1", "update v1", "schema v2 3", "insert v2",
                                "truncate v2"));
  EXPECT_FALSE(h.capture().confirmed().empty());
}

// Only the first batch is acked; after a restart on the same state
// directory, everything after it arrives again and nothing is missing.
TEST(MariaDbCaptureTest, RestartResumesAfterTheLastAckedTransaction) {
  Admin admin;
  const std::string db = "res_" + std::to_string(getpid());
  admin.Exec("CREATE DATABASE " + db);
  admin.Exec("CREATE TABLE " + db + ".t (id INT PRIMARY KEY)");
  const std::string dir = ::testing::TempDir() + "/mycap-" + db;
  std::filesystem::remove_all(dir);
  std::vector<Event> first_acked;
  {
    auto state = StateStore::Open(dir, {.job_name = "t", .stage = "capture"});
    ASSERT_TRUE(state.ok()) << state.status();
    MySqlCaptureOptions o = Options(db, state->get());
    o.max_batch_events = 1;  // one batch per event: the first ack covers one transaction
    Harness h(o, /*ack_limit=*/3);
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    for (int i = 1; i <= 5; ++i) admin.Exec("INSERT INTO " + db + ".t VALUES (" + std::to_string(i) + ")");
    ASSERT_TRUE(h.WaitFor([](const std::vector<Event>& es) { return InsertedIds(es, "t").size() == 5; }));
    ASSERT_TRUE(h.Stop().ok());
    first_acked = h.acked_events();
  }
  const std::vector<int64_t> acked_ids = InsertedIds(first_acked, "t");
  ASSERT_LT(acked_ids.size(), 5u);
  for (int i = 6; i <= 7; ++i) admin.Exec("INSERT INTO " + db + ".t VALUES (" + std::to_string(i) + ")");
  auto state = StateStore::Open(dir, {.job_name = "t", .stage = "capture"});
  ASSERT_TRUE(state.ok()) << state.status();
  Harness h(Options(db, state->get()));
  ASSERT_TRUE(h.WaitFor([](const std::vector<Event>& es) {
    const auto ids = InsertedIds(es, "t");
    return !ids.empty() && ids.back() == 7;
  }));
  ASSERT_TRUE(h.Stop().ok());
  std::vector<int64_t> all = acked_ids;
  for (int64_t id : InsertedIds(h.events(), "t")) all.push_back(id);
  std::set<int64_t> distinct(all.begin(), all.end());
  EXPECT_EQ(distinct, (std::set<int64_t>{1, 2, 3, 4, 5, 6, 7})) << "a committed change is missing";
  // Resumed after the acked prefix: nothing acked arrives again.
  for (int64_t id : InsertedIds(h.events(), "t")) {
    EXPECT_THAT(acked_ids, ::testing::Not(::testing::Contains(id)));
  }
}

}  // namespace
}  // namespace phony::mysql
