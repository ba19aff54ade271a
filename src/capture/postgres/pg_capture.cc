#include "src/capture/postgres/pg_capture.h"

#include <charconv>
#include <cstdio>
#include <map>
#include <set>
#include <thread>
#include <utility>

#include "core/event_codec.h"
#include "core/backoff.h"
#include "core/status_macros.h"
#include "spdlog/spdlog.h"
#include "src/capture/postgres/pgoutput_assembler.h"

namespace phony::pg {

PgCapture::PgCapture(PgCaptureOptions options, BusProducer* producer)
    : options_(std::move(options)), producer_(producer) {}

void PgCapture::OnAck(uint64_t batch_id) {
  absl::Status s = tracker_.Ack(batch_id);
  // kNotFound: a late ack for a batch of a stream that was restarted.
  if (!s.ok()) spdlog::debug("capture: {}", std::string(s.message()));
}

void PgCapture::OnNack(uint64_t batch_id, const absl::Status& why) {
  {
    std::lock_guard<std::mutex> lock(nack_mu_);
    if (nack_reason_.ok()) nack_reason_ = why;
  }
  absl::Status s = tracker_.Fail(batch_id);
  if (!s.ok()) spdlog::debug("capture: {}", std::string(s.message()));
}

namespace {
std::string SlotKey(const std::string& slot) { return "pg/slot/" + slot; }
constexpr const char* kRelationPrefix = "pg/rel/";
constexpr const char* kVersionPrefix = "pg/ver/";

std::string VersionKey(const TableSchema& schema) {
  char version[16];
  std::snprintf(version, sizeof(version), "%010u", schema.version);
  return kVersionPrefix + schema.id.QualifiedName() + "/" + version;
}
}  // namespace

// Schema versions survive restarts: each emitted schema is kept under its
// relation OID and seeds the next run, so versions only grow.
absl::Status PgCapture::LoadSchemas() {
  if (options_.state == nullptr) return absl::OkStatus();
  absl::Status inner;
  PHONY_RETURN_IF_ERROR(options_.state->Scan(
      StateFamily::kSchemaHistory, kRelationPrefix, [&](std::string_view key, std::string_view value) {
        auto event = DecodeEvent(value);
        if (!event.ok() || !std::holds_alternative<SchemaEvent>(*event)) {
          inner = absl::DataLossError("state: unreadable schema history entry " + std::string(key));
          return false;
        }
        uint32_t oid = 0;
        const std::string_view digits = key.substr(7);
        if (std::from_chars(digits.data(), digits.data() + digits.size(), oid).ec != std::errc()) {
          inner = absl::DataLossError("state: bad schema history key " + std::string(key));
          return false;
        }
        assembler_->SeedSchema(oid, std::get<SchemaEvent>(*event).schema);
        return true;
      }));
  return inner;
}

absl::Status PgCapture::PersistSchema(const TableSchema& schema) {
  if (options_.state == nullptr) return absl::OkStatus();
  for (const auto& [oid, s] : assembler_->schemas()) {
    if (s.id == schema.id && s.version == schema.version) {
      std::string value;
      EncodeEvent(SchemaEvent{EventPosition(), schema}, &value);
      // The relation's latest version (what a restart seeds the assembler
      // with) and every version (what an embedded pipeline's later stages
      // learn at start, so replayed events of any version decode).
      StateStore::Batch batch;
      batch.Put(StateFamily::kSchemaHistory, kRelationPrefix + std::to_string(oid), value);
      batch.Put(StateFamily::kSchemaHistory, VersionKey(schema), value);
      return options_.state->Write(batch);
    }
  }
  return absl::OkStatus();
}

absl::Status PgCapture::CheckSlotContinuity(const PreflightReport& report) {
  if (options_.state == nullptr) return absl::OkStatus();
  PHONY_ASSIGN_OR_RETURN(auto recorded, options_.state->Get(StateFamily::kPositions, SlotKey(options_.slot)));
  if (recorded.has_value() && !report.slot_exists) {
    return absl::FailedPreconditionError(
        "replication slot " + options_.slot + " is gone (this capture last confirmed " + *recorded +
        "): changes since then were not kept for us, so the mirror needs a new snapshot; Phony "
        "Sync will not silently restart from now. Run a full sync to recreate it");
  }
  if (!recorded.has_value()) {
    // First use of this slot by this job: remember it from now on.
    PHONY_RETURN_IF_ERROR(options_.state->Put(StateFamily::kPositions, SlotKey(options_.slot),
                                              report.slot_confirmed_flush
                                                  ? report.slot_confirmed_flush->ToString()
                                                  : Lsn().ToString()));
  }
  return absl::OkStatus();
}

absl::Status PgCapture::PersistConfirmed(Lsn lsn, bool force) {
  if (options_.state == nullptr || lsn <= persisted_) return absl::OkStatus();
  if (!force && absl::Now() - last_persist_ < absl::Seconds(1)) return absl::OkStatus();
  PHONY_RETURN_IF_ERROR(options_.state->Put(StateFamily::kPositions, SlotKey(options_.slot), lsn.ToString()));
  persisted_ = lsn;
  last_persist_ = absl::Now();
  return absl::OkStatus();
}

absl::StatusOr<PreflightReport> PgCapture::Check() {
  PHONY_ASSIGN_OR_RETURN(auto client, PgReplicationClient::Connect(options_.connect));
  return client->Preflight(options_.filter, options_.slot);
}

absl::Status PgCapture::Publish(std::vector<Event>* batch, PgReplicationClient& client,
                                const std::atomic<bool>& stop) {
  if (batch->empty()) return absl::OkStatus();
  std::optional<EventPosition> confirm_at;
  uint64_t txs = 0;
  for (const Event& e : *batch) {
    if (const auto* c = std::get_if<TxCommit>(&e)) {
      confirm_at = c->position;
      ++txs;
    } else if (const auto* s = std::get_if<SchemaEvent>(&e)) {
      // Every schema event goes through here (whole transactions and the
      // pieces of large ones alike): the one place to record it.
      spdlog::info("capture: table {} schema version {} ({} columns)",
                   s->schema.id.QualifiedName(), s->schema.version, s->schema.columns.size());
      PHONY_RETURN_IF_ERROR(PersistSchema(s->schema));
    }
  }
  const uint64_t id = ++next_batch_id_;
  PHONY_RETURN_IF_ERROR(tracker_.Track(id, confirm_at));
  EventBatch b;
  b.id = id;
  b.events = std::move(*batch);
  batch->clear();
  // Backpressure: while the bus is full, keep the walsender from timing us
  // out with status updates. Publish keeps the batch when it refuses it.
  absl::Status failed = PublishWaiting(producer_, std::move(b), stop, [&] { return client.Flush(); });
  if (!failed.ok()) {
    // Never delivered: it must not hold confirmation back; the source
    // re-sends it after the reconnect.
    (void)tracker_.Abandon(id);
    return failed;
  }
  transactions_ += txs;
  return absl::OkStatus();
}

absl::StatusOr<bool> PgCapture::UseBinary(PgReplicationClient& client) {
  if (!options_.binary) return false;
  // pgoutput's binary option covers every column of every table: one type
  // without a binary reader would stop the stream, so fall back to text.
  PgTypeCache types([&client](uint32_t oid) { return client.DescribeType(oid); });
  PHONY_ASSIGN_OR_RETURN(std::vector<uint32_t> oids, client.PublishedColumnTypes(options_.publication));
  std::string unreadable;
  for (uint32_t oid : oids) {
    PHONY_ASSIGN_OR_RETURN(bool readable, BinaryReadable(oid, &types));
    if (readable) continue;
    auto described = client.DescribeType(oid);
    unreadable += (unreadable.empty() ? "" : ", ") +
                  (described.ok() ? described->name : "OID " + std::to_string(oid));
  }
  if (unreadable.empty()) return true;
  spdlog::warn("capture: published columns of type {} have no binary reader; streaming in the text "
               "format instead", unreadable);
  return false;
}

absl::Status PgCapture::RunOnce(const std::atomic<bool>& stop, bool* made_progress) {
  // This attempt streams from the slot's confirmed position: batches still
  // in flight from an earlier attempt are re-sent, so they confirm nothing.
  tracker_.Reset();
  {
    std::lock_guard<std::mutex> lock(nack_mu_);
    nack_reason_ = absl::OkStatus();
  }
  PHONY_ASSIGN_OR_RETURN(auto client, PgReplicationClient::Connect(options_.connect));
  PHONY_ASSIGN_OR_RETURN(PreflightReport report, client->Preflight(options_.filter, options_.slot));
  for (const auto& w : report.warnings) spdlog::warn("capture preflight: {}", w);
  if (!report.errors.empty()) {
    std::string all;
    for (const auto& e : report.errors) all += (all.empty() ? "" : "; ") + e;
    return absl::FailedPreconditionError("capture preflight failed: " + all);
  }
  if (report.slot_active_pid) {
    // Typically the walsender of a capture that just died: it lets go once
    // it notices. Retried with backoff.
    return absl::UnavailableError("slot " + options_.slot + " is in use by process " +
                                  *report.slot_active_pid);
  }
  PHONY_RETURN_IF_ERROR(CheckSlotContinuity(report));
  PHONY_ASSIGN_OR_RETURN(auto added, client->EnsurePublication(options_.publication, report));
  for (const TableId& t : added) {
    spdlog::info("capture: table {} added to publication {}", t.QualifiedName(), options_.publication);
  }
  if (!added.empty() && options_.on_tables_added) options_.on_tables_added(added);
  PHONY_RETURN_IF_ERROR(client->EnsureSlot(options_.slot));
  PHONY_ASSIGN_OR_RETURN(const bool binary, UseBinary(*client));
  Lsn start_at;
  if (options_.resume_after) {
    PHONY_ASSIGN_OR_RETURN(std::optional<Lsn> after, options_.resume_after());
    if (after) {
      start_at = *after;
      spdlog::info("capture: the stream already holds everything up to {}; resuming after it",
                   start_at.ToString());
    }
  }
  PHONY_RETURN_IF_ERROR(client->Start(options_.slot, options_.publication, report.protocol_version,
                                      options_.streaming, binary, start_at));
  *made_progress = true;
  spdlog::info("capture: streaming slot {} (publication {}, pgoutput protocol {}, server {}, {} tables)",
               options_.slot, options_.publication, report.protocol_version, report.server_version,
               report.tables.size());

  client_ = client.get();
  if (!assembler_) {
    assembler_ = std::make_unique<PgoutputAssembler>(PgoutputAssembler::Options{
        .database = options_.connect.database,
        .protocol_version = report.protocol_version,
        .enrich = [this](uint32_t oid, TableSchema* schema) {
          return client_->DescribeTable(oid, schema);
        },
        .describe_type = [this](uint32_t oid) { return client_->DescribeType(oid); },
        .spill_threshold_bytes = options_.spill_threshold_bytes,
        .spill_dir = options_.spill_dir,
        .max_emit_events = options_.max_batch_events});
    PHONY_RETURN_IF_ERROR(LoadSchemas());
  } else {
    assembler_->ResetStream();
  }
  PgoutputAssembler& assembler = *assembler_;

  std::vector<Event> batch;
  absl::Time batch_started = absl::InfinitePast();
  absl::Time last_table_refresh = absl::Now();
  absl::Time last_heartbeat = absl::InfinitePast();
  std::set<std::string> known_warnings(report.warnings.begin(), report.warnings.end());
  absl::Time last_message = absl::Now();
  auto sync_confirmations = [&](bool force_persist) -> absl::Status {
    if (auto c = tracker_.Confirmed()) client->Confirm(c->commit_lsn());
    // Nothing in flight and nothing open: the server's WAL end is safe.
    if (tracker_.idle() && batch.empty() && !assembler.in_transaction() &&
        assembler.streamed_transactions() == 0) {
      client->Confirm(client->server_wal_end());
    }
    confirmed_ = client->confirmed();
    return PersistConfirmed(confirmed_, force_persist);
  };

  while (true) {
    if (tracker_.failed()) {
      // Confirmation stops before the undelivered batch; resume from there.
      std::lock_guard<std::mutex> lock(nack_mu_);
      return absl::UnavailableError("the bus could not deliver a batch (" +
                                    std::string(nack_reason_.message()) +
                                    "); resuming from the last confirmed position " +
                                    client->confirmed().ToString());
    }
    PHONY_RETURN_IF_ERROR(sync_confirmations(false));
    const bool quiet = tracker_.idle() && batch.empty() && !assembler.in_transaction() &&
                       assembler.streamed_transactions() == 0;
    if (stop.load()) {
      PHONY_RETURN_IF_ERROR(Publish(&batch, *client, stop));
      for (int i = 0; i < 100 && !tracker_.idle(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
      PHONY_RETURN_IF_ERROR(sync_confirmations(true));
      return client->Flush();
    }
    const bool at_stop_lsn = options_.stop_at_lsn && client->confirmed() >= *options_.stop_at_lsn;
    const bool idle_enough =
        options_.stop_after_idle && absl::Now() - last_message >= *options_.stop_after_idle;
    if (quiet && (at_stop_lsn || idle_enough)) {
      PHONY_RETURN_IF_ERROR(sync_confirmations(true));
      return client->Flush();
    }

    if (absl::Now() - last_table_refresh >= options_.table_refresh_interval) {
      last_table_refresh = absl::Now();
      std::vector<std::string> warnings;
      PHONY_ASSIGN_OR_RETURN(report.tables, client->DiscoverTables(options_.filter, &warnings));
      PHONY_ASSIGN_OR_RETURN(auto new_tables, client->EnsurePublication(options_.publication, report));
      for (const TableId& t : new_tables) {
        if (options_.on_tables_added) {
          spdlog::info("capture: new table {} matches the job and was added to publication {}",
                       t.QualifiedName(), options_.publication);
        } else {
          spdlog::warn("capture: new table {} matches the job and was added to publication {}; it "
                       "needs a snapshot of its existing rows", t.QualifiedName(), options_.publication);
        }
      }
      if (!new_tables.empty() && options_.on_tables_added) options_.on_tables_added(new_tables);
      for (const auto& w : warnings) {
        if (known_warnings.insert(w).second) spdlog::warn("capture: {}", w);
      }
    }
    if (options_.heartbeat_interval && absl::Now() - last_message >= *options_.heartbeat_interval &&
        absl::Now() - last_heartbeat >= *options_.heartbeat_interval) {
      last_heartbeat = absl::Now();
      PHONY_RETURN_IF_ERROR(client->EmitHeartbeat());
      spdlog::debug("capture: heartbeat written to {}", options_.connect.database);
    }

    PHONY_ASSIGN_OR_RETURN(std::optional<XLogData> x, client->Next(absl::Milliseconds(100)));
    if (!x) {
      PHONY_RETURN_IF_ERROR(Publish(&batch, *client, stop));
      continue;
    }
    last_message = absl::Now();
    const size_t before = batch.size();
    auto fed = assembler.Feed(x->payload, &batch);
    if (!fed.ok()) {
      return absl::Status(fed.status().code(), std::string(fed.status().message()) +
                                                   " (message at WAL " + x->wal_start.ToString() +
                                                   "; the stream stops here)");
    }
    if (batch.size() > before && before == 0) batch_started = absl::Now();
    if (fed->empty_commit_end && tracker_.idle() && batch.empty() && !assembler.in_transaction() &&
        assembler.streamed_transactions() == 0) {
      client->Confirm(*fed->empty_commit_end);
    }
    // A large committed transaction is handed out in pieces: publish each
    // (only the piece holding its commit confirms anything).
    while (assembler.draining()) {
      PHONY_RETURN_IF_ERROR(Publish(&batch, *client, stop));
      PHONY_RETURN_IF_ERROR(assembler.Drain(&batch));
    }
    if (batch.size() >= options_.max_batch_events ||
        (!batch.empty() && absl::Now() - batch_started >= options_.max_batch_delay)) {
      PHONY_RETURN_IF_ERROR(Publish(&batch, *client, stop));
    }
  }
}

absl::Status PgCapture::Run(const std::atomic<bool>& stop) {
  return RetryWithBackoff({.what = "source", .initial = options_.initial_backoff, .max = options_.max_backoff,
                           .max_retries = options_.max_retries},
                          stop, [&](bool* made_progress) { return RunOnce(stop, made_progress); });
}

absl::StatusOr<std::vector<TableSchema>> ReadSchemaHistory(const StateStore& state) {
  std::map<std::pair<std::string, uint32_t>, TableSchema> found;
  absl::Status inner;
  auto collect = [&](std::string_view key, std::string_view value) {
    auto event = DecodeEvent(value);
    if (!event.ok() || !std::holds_alternative<SchemaEvent>(*event)) {
      inner = absl::DataLossError("state: unreadable schema history entry " + std::string(key));
      return false;
    }
    const TableSchema& schema = std::get<SchemaEvent>(*event).schema;
    found.emplace(std::make_pair(schema.id.QualifiedName(), schema.version), schema);
    return true;
  };
  PHONY_RETURN_IF_ERROR(state.Scan(StateFamily::kSchemaHistory, kVersionPrefix, collect));
  PHONY_RETURN_IF_ERROR(inner);
  // States written before versions were kept hold each relation's latest.
  PHONY_RETURN_IF_ERROR(state.Scan(StateFamily::kSchemaHistory, kRelationPrefix, collect));
  PHONY_RETURN_IF_ERROR(inner);
  std::vector<TableSchema> out;
  for (auto& [key, schema] : found) out.push_back(std::move(schema));
  return out;
}

}  // namespace phony::pg
