#include "src/cli/embedded_pipeline.h"

#include <chrono>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <utility>

#include "core/embedded_bus.h"
#include "core/event_codec.h"
#include "core/state_store.h"
#include "core/status_macros.h"
#include "spdlog/spdlog.h"
#include "src/apply/apply_loop.h"
#include "src/apply/apply_stage.h"
#include "src/capture/mysql/my_capture.h"
#include "src/capture/postgres/pg_capture.h"
#include "src/capture/postgres/replication_client.h"
#include "src/cli/apply_command.h"
#include "src/cli/mapping_state.h"
#include "src/cli/retry.h"
#include "src/cli/stage_common.h"
#include "src/transform/store_ledger.h"
#include "src/transform/transformer.h"

namespace phony::cli {
namespace {

// The anonymized bus as the apply loop's rewindable source: every delivery
// is kept until the applier acks it (staging committed it), and a rewind
// delivers the kept ones again, in order. They are kept encoded (the
// internal codec): cheaper than a deep copy of the events and its
// destruction, and a fraction of their memory; decoding happens only on a
// rewind, which is rare (staging restarts, a dead letter to isolate). Offsets of a
// restarted process start over, so stored start offsets are not used: the
// stage skips what it has by event position. The end of the stream
// (transform closed its producer after a stop) ends the loop through
// `drained`.
class ReplayingSource : public apply::ApplySource {
 public:
  ReplayingSource(BusConsumer* consumer, std::atomic<bool>* drained, PipelineCounters* counters)
      : consumer_(consumer), drained_(drained), counters_(counters) {}

  absl::StatusOr<std::optional<Delivery>> Poll(absl::Duration timeout) override {
    if (cursor_ < kept_.size()) {
      PHONY_ASSIGN_OR_RETURN(Delivery d, Decode(kept_[cursor_]));
      ++cursor_;
      return std::optional<Delivery>(std::move(d));
    }
    auto d = consumer_->Poll(timeout);
    if (!d.ok()) {
      if (absl::IsOutOfRange(d.status()) || absl::IsCancelled(d.status())) {
        drained_->store(true);
        return std::optional<Delivery>();
      }
      return d.status();
    }
    if (!d->has_value()) return d;
    kept_.push_back(Encode(**d));
    cursor_ = kept_.size();
    return d;
  }

  absl::Status Ack(const KafkaOffset& offset) override {
    for (size_t i = 0; i < kept_.size(); ++i) {
      if (kept_[i].offset.offset != offset.offset) continue;
      if (counters_ != nullptr) Count(kept_[i]);
      kept_.erase(kept_.begin() + static_cast<std::ptrdiff_t>(i));
      if (i < cursor_) --cursor_;
      break;
    }
    return consumer_->Ack(offset);
  }

  absl::Status Rewind(const std::function<int64_t(const apply::StreamPartition&)>&) override {
    cursor_ = 0;
    return absl::OkStatus();
  }

 private:
  struct Kept {
    KafkaOffset offset;
    uint64_t id = 0;
    int32_t partition = 0;
    std::string bytes;          // the events, encoded one after another
    std::vector<uint32_t> ends;  // where each event's encoding ends
    uint64_t transactions = 0;   // for the counters
    uint64_t rows = 0;
    int64_t last_commit_us = 0;
  };

  Kept Encode(const Delivery& d) {
    Kept k;
    k.offset = d.offset;
    k.id = d.batch.id;
    k.partition = d.batch.partition;
    k.ends.reserve(d.batch.events.size());
    // Batches are alike: the last one's size avoids regrowing the buffer.
    if (!d.batch.events.empty()) k.bytes.reserve(bytes_per_event_ * d.batch.events.size() * 9 / 8);
    for (const Event& e : d.batch.events) {
      EncodeEvent(e, &k.bytes);
      k.ends.push_back(static_cast<uint32_t>(k.bytes.size()));
      if (const auto* c = std::get_if<TxCommit>(&e)) {
        ++k.transactions;
        k.rows += c->event_count;
        k.last_commit_us = c->commit_ts_us;
      }
    }
    if (!d.batch.events.empty()) bytes_per_event_ = k.bytes.size() / d.batch.events.size() + 1;
    return k;
  }

  static absl::StatusOr<Delivery> Decode(const Kept& k) {
    Delivery d;
    d.offset = k.offset;
    d.batch.id = k.id;
    d.batch.partition = k.partition;
    d.batch.events.reserve(k.ends.size());
    uint32_t begin = 0;
    for (uint32_t end : k.ends) {
      PHONY_ASSIGN_OR_RETURN(Event e, DecodeEvent(std::string_view(k.bytes).substr(begin, end - begin)));
      d.batch.events.push_back(std::move(e));
      begin = end;
    }
    return d;
  }

  void Count(const Kept& k) {
    if (k.transactions == 0) return;
    counters_->applied_transactions.fetch_add(k.transactions, std::memory_order_relaxed);
    counters_->applied_rows.fetch_add(k.rows, std::memory_order_relaxed);
    counters_->applied_commit_micros.store(k.last_commit_us, std::memory_order_relaxed);
  }

  BusConsumer* consumer_;
  std::atomic<bool>* drained_;
  PipelineCounters* counters_;
  std::deque<Kept> kept_;
  size_t cursor_ = 0;  // kept_[cursor_] is the next to deliver again
  size_t bytes_per_event_ = 64;
};

// The first failure of any stage, and the stop it triggers everywhere.
class Failure {
 public:
  Failure(EmbeddedBus* raw, EmbeddedBus* anonymized) : raw_(raw), anonymized_(anonymized) {}
  void Set(absl::Status s) {
    {
      std::lock_guard<std::mutex> l(mu_);
      if (status_.ok()) status_ = std::move(s);
    }
    failed_.store(true);
    raw_->Shutdown();
    anonymized_->Shutdown();
  }
  bool failed() const { return failed_.load(); }
  absl::Status status() const {
    std::lock_guard<std::mutex> l(mu_);
    return status_;
  }

 private:
  EmbeddedBus* raw_;
  EmbeddedBus* anonymized_;
  mutable std::mutex mu_;
  absl::Status status_;
  std::atomic<bool> failed_{false};
};

// Pending mapping-store entries the background flusher writes at once:
// sorted, the skiplist inserts of a large batch start near each other
// (bench/transform_bench.cc BM_MappingStoreLedgerInsert, flush_every).
constexpr size_t kLedgerFlushEntries = 50000;

mysql::MySqlCaptureOptions MySqlCaptureOptionsFor(const JobConfig& config, const ResolvedSecrets& secrets,
                                                  const EmbeddedPipelineOptions& o, StateStore* state) {
  mysql::MySqlCaptureOptions m;
  m.client.host = config.source.host;
  m.client.port = static_cast<uint16_t>(config.source.port);
  m.client.user = config.source.user;
  m.client.password = PasswordOf(secrets.source_password);
  m.client.server_id = ReplicaServerId(config.name);
  m.filter = config.Filter();
  m.stop_after_idle = o.stop_after_idle;
  m.state = state;
  return m;
}

absl::Status WithContext(const char* stage, const absl::Status& s) {
  return absl::Status(s.code(), std::string(stage) + ": " + std::string(s.message()));
}

}  // namespace

absl::Status RunEmbeddedPipeline(const EmbeddedPipelineOptions& o) {
  const JobConfig& config = *o.config;
  const ResolvedSecrets& secrets = *o.secrets;
  PipelineCounters scratch;
  PipelineCounters& counters = o.counters != nullptr ? *o.counters : scratch;

  // State: capture's (slot continuity, schema history, spill files) and
  // transform's (the mapping store).
  auto capture_state = StateStore::Open(StageStateDir(config.state_dir, "capture", 0),
                                        {.job_name = config.name, .stage = "capture"});
  if (!capture_state.ok()) return capture_state.status();
  auto mappings = OpenMappings(config, secrets.anonymization_secret, 0);
  if (!mappings.ok()) return mappings.status();
  transform::StoreLedger ledger(mappings->store.get());
  auto transformer = transform::Transformer::Create(config, secrets.anonymization_secret.value(), {.ledger = &ledger});
  if (!transformer.ok()) return transformer.status();

  std::unique_ptr<apply::StagingWriter> writer = MakeStagingWriter(config, secrets);
  apply::ApplyStage stage(writer.get(), ApplyOptionsFor(config, 1));
  absl::Status started =
      RetryWhileUnavailable("apply: staging", "connecting", *o.stop, [&] { return stage.Start(); });
  if (!started.ok()) return WithContext("apply", started);

  // Every table version capture described before: a restarted capture does
  // not describe known tables again, and replayed events may be older.
  auto history = config.source.is_postgres() ? pg::ReadSchemaHistory(**capture_state)
                                             : mysql::ReadMySqlSchemaHistory(**capture_state);
  if (!history.ok()) return history.status();
  for (const TableSchema& schema : *history) {
    if (absl::Status s = (*transformer)->LearnSchema(schema); !s.ok()) return WithContext("transform", s);
    stage.LearnSchema(schema);
  }

  // Bounds: enough to keep each stage busy while the next works, small
  // enough that the buses hold tens of MB, not hundreds (measured in
  // bench/run_e2e.sh: larger queues bought no throughput).
  EmbeddedBus raw({.name = "raw", .max_queued_events = 50000, .max_queued_bytes = 32 << 20});
  EmbeddedBus anonymized({.name = "embedded." + config.name, .max_queued_events = 50000, .max_queued_bytes = 32 << 20});
  Failure failure(&raw, &anonymized);

  // The capture of the source's kind, behind one small interface.
  std::function<void(uint64_t)> on_ack;
  auto raw_producer = raw.CreateProducer([&](uint64_t id) { on_ack(id); });
  std::unique_ptr<pg::PgCapture> pg_capture;
  std::unique_ptr<mysql::MySqlCapture> my_capture;
  if (config.source.is_postgres()) {
    pg::PgCaptureOptions copts;
    copts.connect = {.host = config.source.host, .port = config.source.port, .database = config.source.database,
                     .user = config.source.user,
                     .password = PasswordOf(secrets.source_password),
                     .application_name = "phony-run-" + config.name};
    copts.filter = config.Filter();
    copts.slot = pg::DefaultSlotName(config.name);
    copts.publication = pg::DefaultPublicationName(config.name);
    copts.table_refresh_interval = o.table_refresh;
    copts.stop_after_idle = o.stop_after_idle;
    copts.state = capture_state->get();
    copts.spill_dir = (*capture_state)->dir();
    copts.on_tables_added = o.on_tables_added;

    pg_capture = std::make_unique<pg::PgCapture>(copts, raw_producer.get());
    on_ack = [&](uint64_t id) { pg_capture->OnAck(id); };
  } else {
    my_capture = std::make_unique<mysql::MySqlCapture>(MySqlCaptureOptionsFor(config, secrets, o, capture_state->get()),
                                                       raw_producer.get());
    on_ack = [&](uint64_t id) { my_capture->OnAck(id); };
  }
  auto capture_run = [&](const std::atomic<bool>& stop) {
    return pg_capture ? pg_capture->Run(stop) : my_capture->Run(stop);
  };
  auto capture_transactions = [&] {
    return pg_capture ? pg_capture->transactions_published() : my_capture->transactions_published();
  };
  auto capture_confirmed = [&] { return pg_capture ? pg_capture->confirmed().ToString() : my_capture->confirmed(); };
  auto raw_consumer = raw.CreateConsumer();

  // Which raw delivery each anonymized batch came from (one for one).
  std::mutex acks_mu;
  std::unordered_map<uint64_t, KafkaOffset> raw_of;
  auto anonymized_producer = anonymized.CreateProducer([&](uint64_t id) {
    KafkaOffset offset;
    {
      std::lock_guard<std::mutex> l(acks_mu);
      auto it = raw_of.find(id);
      if (it == raw_of.end()) return;
      offset = std::move(it->second);
      raw_of.erase(it);
    }
    (void)raw_consumer->Ack(offset);
  });
  auto anonymized_consumer = anonymized.CreateConsumer();

  // The ledger's RocksDB writes run beside the transform thread.
  transform::BackgroundFlusher flusher(mappings->store.get(), kLedgerFlushEntries);
  std::thread transform_thread([&] {
    NameThisThread("phony-transform");
    transform::MappingStore* store = mappings->store.get();
    uint64_t next_id = 0;
    while (!failure.failed()) {
      auto d = raw_consumer->Poll(absl::Milliseconds(200));
      if (!d.ok()) {
        if (absl::IsOutOfRange(d.status())) anonymized_producer->Close();  // drained after a stop
        return;
      }
      if (!d->has_value()) continue;
      Delivery& delivery = **d;
      for (Event& e : delivery.batch.events) {
        if (absl::Status s = (*transformer)->Transform(&e); !s.ok()) {
          spdlog::error("transform: {} (at {}); the pipeline stops, nothing after it is confirmed",
                        std::string(s.message()), delivery.offset.ToString());
          failure.Set(WithContext("transform", s));
          return;
        }
      }
      counters.transformed_events.fetch_add(delivery.batch.events.size(), std::memory_order_relaxed);
      for (const Event& e : delivery.batch.events) {
        if (std::holds_alternative<TxCommit>(e)) counters.transformed_transactions.fetch_add(1, std::memory_order_relaxed);
      }
      EventBatch out;
      out.id = ++next_id;
      out.events = std::move(delivery.batch.events);
      {
        std::lock_guard<std::mutex> l(acks_mu);
        raw_of[out.id] = delivery.offset;
      }
      while (true) {
        absl::Status s = anonymized_producer->Publish(std::move(out), absl::Seconds(1));
        if (s.ok()) break;
        if (!absl::IsDeadlineExceeded(s)) return;  // shut down
      }
      absl::Status flushed = flusher.status();
      if (flushed.ok() && flusher.Backlogged()) flushed = store->Flush(false);
      if (!flushed.ok()) {
        failure.Set(WithContext("transform: mapping store", flushed));
        return;
      }
    }
  });

  std::atomic<bool> apply_drained{false};
  std::atomic<bool> apply_done{false};
  std::thread apply_thread([&] {
    NameThisThread("phony-apply");
    ReplayingSource source(anonymized_consumer.get(), &apply_drained, &counters);
    absl::Status s = apply::RunApplyLoop(stage, source, {.stop = &apply_drained});
    if (!s.ok() && !failure.failed()) {
      spdlog::error("apply: {}", std::string(s.message()));
      failure.Set(WithContext("apply", s));
    }
    apply_done.store(true);
  });

  // Capture stops on a stop request or on another stage's failure.
  std::atomic<bool> capture_stop{false};
  std::atomic<bool> capture_done{false};
  std::thread watcher([&] {
    NameThisThread("phony-watch");
    while (!capture_done.load()) {
      if (o.stop->load() || (o.pause != nullptr && o.pause->load()) || failure.failed()) capture_stop.store(true);
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  });
  counters.running.store(true);
  absl::Status captured = capture_run(capture_stop);
  counters.running.store(false);
  capture_done.store(true);
  watcher.join();
  counters.captured_transactions.store(capture_transactions());
  if (!captured.ok() && !failure.failed()) failure.Set(WithContext("capture", captured));
  raw_producer->Close();  // transform and apply drain what capture read
  // ... but not forever: staging may be down while stopping. After the
  // grace period the buses are shut; what staging lacks is unacked, so
  // the slot still holds it for the next start.
  const absl::Time drain_deadline = absl::Now() + absl::Seconds(30);
  while (!apply_done.load() && !failure.failed() && absl::Now() < drain_deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  if (!apply_done.load() && !failure.failed()) {
    spdlog::warn("run: staging did not take the last changes within 30 s of the stop; they stay in the slot for the "
                 "next start");
    apply_drained.store(true);
    raw.Shutdown();
    anonymized.Shutdown();
  }
  transform_thread.join();
  apply_thread.join();
  if (absl::Status s = flusher.Stop(); !s.ok() && !failure.failed()) {
    failure.Set(WithContext("transform: mapping store", s));
  }
  if (absl::Status s = mappings->store->Flush(true); !s.ok() && !failure.failed()) {
    failure.Set(WithContext("transform: mapping store", s));
  }
  const apply::ApplyStats& st = stage.stats();
  counters.dead_letters.store(st.dead_letters);
  spdlog::info("run: stopped: {} source transactions captured, {} rows applied in {} staging commits ({} re-deliveries "
               "skipped, {} rows older than their table's copy skipped, {} dead letters); slot confirmed {}",
               capture_transactions(), st.events, st.commits, st.skipped, st.before_copy, st.dead_letters,
               capture_confirmed());
  return failure.status();
}

}  // namespace phony::cli
