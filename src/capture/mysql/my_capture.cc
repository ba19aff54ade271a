#include "src/capture/mysql/my_capture.h"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <thread>

#include "core/event_codec.h"
#include "core/backoff.h"
#include "core/status_macros.h"
#include "spdlog/spdlog.h"
#include "src/capture/mysql/binlog_assembler.h"
#include "src/capture/mysql/binlog_decoder.h"
#include "src/capture/mysql/my_catalog.h"
#include "src/capture/mysql/my_session.h"

namespace phony::mysql {
namespace {

constexpr const char* kPositionKey = "mysql/position";  // "file:offset\ngtid set"
constexpr const char* kLatestPrefix = "my/tbl/";
constexpr const char* kVersionPrefix = "my/ver/";
// Raw events read ahead of the decoder, at most.
constexpr size_t kReadAheadBytes = size_t{32} << 20;

std::string VersionKey(const TableSchema& schema) {
  char version[16];
  std::snprintf(version, sizeof(version), "%010u", schema.version);
  return kVersionPrefix + schema.id.QualifiedName() + "/" + version;
}

}  // namespace

// Reads the binlog connection on a thread of its own, ahead of the decoder.
struct MySqlCapture::Reader {
  std::unique_ptr<BinlogClient> client;
  std::mutex mu;
  std::condition_variable changed;
  std::deque<std::string> queue;
  size_t bytes = 0;
  absl::Status status;  // why reading ended
  bool ended = false;
  std::atomic<bool> stop{false};
  std::thread thread;

  explicit Reader(std::unique_ptr<BinlogClient> c) : client(std::move(c)) {
    thread = std::thread([this] { Loop(); });
  }
  ~Reader() {
    stop.store(true);
    changed.notify_all();
    // The client's read returns within a heartbeat period.
    if (thread.joinable()) thread.join();
  }
  void Loop() {
    while (!stop.load()) {
      auto next = client->Next();
      std::unique_lock lock(mu);
      if (!next.ok() || !next->has_value()) {
        status = next.ok() ? absl::OkStatus() : next.status();
        ended = true;
        changed.notify_all();
        return;
      }
      changed.wait(lock, [&] { return bytes < kReadAheadBytes || stop.load(); });
      queue.emplace_back(**next);
      bytes += queue.back().size();
      changed.notify_all();
    }
  }
  // The next event, nullopt after `timeout` without one; the reader's
  // status once it ended (OK: the end of a non-blocking dump).
  absl::StatusOr<std::optional<std::string>> Pop(absl::Duration timeout) {
    std::unique_lock lock(mu);
    changed.wait_for(lock, absl::ToChronoMilliseconds(timeout), [&] { return !queue.empty() || ended; });
    if (queue.empty()) {
      if (ended) {
        if (!status.ok()) return status;
        return absl::OutOfRangeError("the end of the binlog");
      }
      return std::optional<std::string>();
    }
    std::string out = std::move(queue.front());
    queue.pop_front();
    bytes -= out.size();
    changed.notify_all();
    return std::optional<std::string>(std::move(out));
  }
};

MySqlCapture::MySqlCapture(MySqlCaptureOptions options, BusProducer* producer)
    : options_(std::move(options)), producer_(producer) {}

MySqlCapture::~MySqlCapture() = default;

void MySqlCapture::OnAck(uint64_t batch_id) { (void)tracker_.Ack(batch_id); }

void MySqlCapture::OnNack(uint64_t batch_id, const absl::Status& why) {
  (void)tracker_.Fail(batch_id);
  std::lock_guard lock(mu_);
  if (nack_reason_.ok()) nack_reason_ = why;
}

std::string MySqlCapture::confirmed() const {
  return confirmed_.file.empty() ? "" : confirmed_.file + ":" + std::to_string(confirmed_.position);
}

absl::Status MySqlCapture::LoadState() {
  if (options_.state == nullptr) return absl::OkStatus();
  PHONY_ASSIGN_OR_RETURN(std::optional<std::string> pos, options_.state->Get(StateFamily::kPositions, kPositionKey));
  if (!pos) return absl::OkStatus();
  const size_t nl = pos->find('\n');
  const std::string where = pos->substr(0, nl);
  const size_t colon = where.rfind(':');
  if (colon == std::string::npos) return absl::DataLossError("state: unreadable binlog position " + where);
  confirmed_.file = where.substr(0, colon);
  confirmed_.position = std::strtoull(where.substr(colon + 1).c_str(), nullptr, 10);
  confirmed_.gtids = nl == std::string::npos ? "" : pos->substr(nl + 1);
  persisted_ = confirmed_;
  return absl::OkStatus();
}

absl::Status MySqlCapture::SeedSchemas() {
  if (options_.state == nullptr) return absl::OkStatus();
  absl::Status inner;
  PHONY_RETURN_IF_ERROR(options_.state->Scan(
      StateFamily::kSchemaHistory, kLatestPrefix, [&](std::string_view key, std::string_view value) {
        auto event = DecodeEvent(value);
        if (!event.ok() || !std::holds_alternative<SchemaEvent>(*event)) {
          inner = absl::DataLossError("state: unreadable schema entry " + std::string(key));
          return false;
        }
        assembler_->SeedSchema(std::get<SchemaEvent>(*event).schema);
        return true;
      }));
  return inner;
}

absl::Status MySqlCapture::PersistSchema(const TableSchema& schema) {
  if (options_.state == nullptr) return absl::OkStatus();
  std::string value;
  EncodeEvent(SchemaEvent{EventPosition(), schema}, &value);
  StateStore::Batch batch;
  batch.Put(StateFamily::kSchemaHistory, kLatestPrefix + schema.id.QualifiedName(), value);
  batch.Put(StateFamily::kSchemaHistory, VersionKey(schema), value);
  return options_.state->Write(batch);
}

absl::Status MySqlCapture::PersistConfirmed(bool force) {
  if (auto c = tracker_.Confirmed()) {
    std::lock_guard lock(mu_);
    while (!confirms_.empty() && confirms_.front().first <= *c) {
      if (confirms_.front().first == *c) confirmed_ = confirms_.front().second;
      confirms_.erase(confirms_.begin());
    }
  }
  if (options_.state == nullptr || confirmed_.file.empty()) return absl::OkStatus();
  if (confirmed_.file == persisted_.file && confirmed_.position == persisted_.position) return absl::OkStatus();
  if (!force && absl::Now() - last_persist_ < absl::Seconds(1)) return absl::OkStatus();
  PHONY_RETURN_IF_ERROR(options_.state->Put(
      StateFamily::kPositions, kPositionKey,
      confirmed_.file + ":" + std::to_string(confirmed_.position) + "\n" + confirmed_.gtids));
  persisted_ = confirmed_;
  last_persist_ = absl::Now();
  return absl::OkStatus();
}

absl::Status MySqlCapture::CompleteSchema(TableSchema* schema) {
  if (options_.client.user.empty()) return absl::OkStatus();  // tests without a server
  if (!catalog_) {
    PHONY_ASSIGN_OR_RETURN(catalog_, MySession::Connect({.host = options_.client.host, .port = options_.client.port,
                                                         .user = options_.client.user,
                                                         .password = options_.client.password, .label = "source"}));
  }
  auto fks = ReadForeignKeys(*catalog_, schema->id);
  if (!fks.ok()) {
    catalog_.reset();  // reconnects next time
    return fks.status();
  }
  schema->foreign_keys = *std::move(fks);
  return absl::OkStatus();
}

absl::Status MySqlCapture::Publish(std::vector<Event>* batch, const std::atomic<bool>& stop) {
  if (batch->empty()) return absl::OkStatus();
  std::optional<EventPosition> confirm_at;
  uint64_t txs = 0;
  for (Event& e : *batch) {
    if (const auto* c = std::get_if<TxCommit>(&e)) {
      confirm_at = c->position;
      ++txs;
    } else if (auto* s = std::get_if<SchemaEvent>(&e)) {
      PHONY_RETURN_IF_ERROR(CompleteSchema(&s->schema));
      spdlog::info("capture: table {} schema version {} ({} columns)", s->schema.id.QualifiedName(),
                   s->schema.version, s->schema.columns.size());
      PHONY_RETURN_IF_ERROR(PersistSchema(s->schema));
    }
  }
  const uint64_t id = ++next_batch_id_;
  PHONY_RETURN_IF_ERROR(tracker_.Track(id, confirm_at));
  if (confirm_at) {
    // The batch ends with the last transaction the assembler returned.
    std::lock_guard lock(mu_);
    confirms_.emplace_back(*confirm_at, Confirm{.file = assembler_->FileOf(confirm_at->file_index()).value_or(""),
                                                .position = confirm_at->commit_offset(),
                                                .gtids = assembler_->gtids().ToString()});
  }
  EventBatch b;
  b.id = id;
  b.events = std::move(*batch);
  batch->clear();
  // The reader thread keeps the connection alive while the bus is full.
  if (absl::Status failed = PublishWaiting(producer_, std::move(b), stop); !failed.ok()) {
    (void)tracker_.Abandon(id);  // never delivered: the source sends it again
    return failed;
  }
  transactions_ += txs;
  return absl::OkStatus();
}

absl::Status MySqlCapture::RunOnce(const std::atomic<bool>& stop, bool* made_progress) {
  tracker_.Reset();
  {
    std::lock_guard lock(mu_);
    nack_reason_ = absl::OkStatus();
    confirms_.clear();
  }
  PHONY_ASSIGN_OR_RETURN(SourceInfo info, BinlogClient::Preflight(options_.client));
  for (const auto& w : info.warnings) spdlog::warn("capture preflight: {}", w);
  if (!info.errors.empty()) {
    std::string all;
    for (const auto& e : info.errors) all += (all.empty() ? "" : "; ") + e;
    return absl::FailedPreconditionError("capture preflight failed: " + all);
  }
  if (!assembler_) {
    PHONY_RETURN_IF_ERROR(LoadState());
    if (options_.resume_after) {
      PHONY_ASSIGN_OR_RETURN(std::optional<EventPosition> committed, options_.resume_after());
      // The state directory may lag the broker by one commit, never lead
      // it, unless a snapshot moved capture to its newer cut: then the cut
      // stands.
      auto stored = BinlogPosition::Make(confirmed_.file, confirmed_.position);
      const bool cut_ahead = stored.ok() && committed &&
                             std::make_pair(stored->file_index(), stored->offset()) >
                                 std::make_pair(committed->file_index(), committed->commit_offset());
      if (committed && committed->kind() == EventPosition::Kind::kMySql && !cut_ahead) {
        const std::string file = BinlogFileNamed(info.current_file, committed->file_index());
        if (confirmed_.file != file || confirmed_.position != committed->commit_offset()) {
          spdlog::info("capture: the positions topic says the stream ends at {}:{}; continuing from there", file,
                       committed->commit_offset());
        }
        confirmed_ = {.file = file, .position = committed->commit_offset(), .gtids = ""};
        persisted_ = Confirm();
        PHONY_RETURN_IF_ERROR(PersistConfirmed(true));
      }
    }
    BinlogStart from;
    if (!confirmed_.file.empty()) {
      from = {.file = confirmed_.file, .position = confirmed_.position};
    } else if (options_.start) {
      from = *options_.start;
    } else {
      from = {.file = info.current_file, .position = info.current_position};
    }
    assembler_ = std::make_unique<BinlogAssembler>(BinlogAssembler::Options{.filter = options_.filter}, from.file,
                                                   from.position);
    PHONY_RETURN_IF_ERROR(SeedSchemas());
    if (confirmed_.file.empty()) {
      // First start: from here on, this position is ours to continue from.
      confirmed_ = {.file = from.file, .position = from.position, .gtids = info.gtid_executed};
      PHONY_RETURN_IF_ERROR(PersistConfirmed(true));
    }
  }
  assembler_->ResetStream();
  const std::string file = assembler_->next_file();
  const uint64_t position = assembler_->next_position();
  if (!info.files.empty() && std::find(info.files.begin(), info.files.end(), file) == info.files.end()) {
    return absl::FailedPreconditionError("binlog " + file + " is no longer on the source (its oldest is " +
                                         info.files.front() + "): the changes since " + file + ":" +
                                         std::to_string(position) +
                                         " are lost to us, so the mirror needs a new snapshot; phony will not "
                                         "silently continue from now");
  }
  BinlogClientOptions client_options = options_.client;
  client_options.heartbeat = std::min(client_options.heartbeat, absl::Seconds(1));  // bounds how long a stop waits
  PHONY_ASSIGN_OR_RETURN(std::unique_ptr<BinlogClient> client,
                         BinlogClient::Start(client_options, {.file = file, .position = position}));
  *made_progress = true;
  spdlog::info("capture: streaming the binlog of {} from {}:{} ({})", info.version, file, position,
               info.mariadb ? "MariaDB" : "MySQL");
  BinlogDecoder decoder;
  decoder.AssumeChecksum(client->crc32() ? 1 : 0);
  Reader reader(std::move(client));
  std::vector<BinlogEvent> decoded;
  std::vector<Event> batch;
  absl::Time batch_started = absl::InfinitePast();
  absl::Time last_activity = absl::Now();
  while (true) {
    if (tracker_.failed()) {
      std::lock_guard lock(mu_);
      return absl::UnavailableError("the bus could not deliver a batch (" + std::string(nack_reason_.message()) +
                                    "); resuming from the last confirmed position");
    }
    PHONY_RETURN_IF_ERROR(PersistConfirmed(false));
    const bool quiet = tracker_.idle() && batch.empty();
    if (quiet) {
      // Nothing in flight: the end of the last transaction read (filtered
      // tables, DDL) is safe to continue from.
      std::lock_guard lock(mu_);
      if (!assembler_->next_file().empty()) {
        confirmed_ = {.file = assembler_->next_file(), .position = assembler_->next_position(),
                      .gtids = assembler_->gtids().ToString()};
      }
    }
    if (stop.load()) {
      PHONY_RETURN_IF_ERROR(Publish(&batch, stop));
      for (int i = 0; i < 100 && !tracker_.idle(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
      return PersistConfirmed(true);
    }
    if (quiet && options_.stop_after_idle && absl::Now() - last_activity >= *options_.stop_after_idle) {
      return PersistConfirmed(true);
    }
    auto raw = reader.Pop(absl::Milliseconds(50));
    if (!raw.ok()) {
      if (absl::IsOutOfRange(raw.status())) {  // the end of a non-blocking dump
        PHONY_RETURN_IF_ERROR(Publish(&batch, stop));
        for (int i = 0; i < 100 && !tracker_.idle(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
        return PersistConfirmed(true);
      }
      return raw.status();
    }
    if (!raw->has_value()) {
      PHONY_RETURN_IF_ERROR(Publish(&batch, stop));
      continue;
    }
    const std::string& bytes = **raw;
    PHONY_ASSIGN_OR_RETURN(EventHeader h, BinlogDecoder::ParseHeader(bytes, 0));
    const uint64_t end = h.log_pos;
    const uint64_t offset = end >= h.event_size ? end - h.event_size : 0;
    decoded.clear();
    if (absl::Status s = decoder.Decode(bytes, offset, &decoded); !s.ok()) {
      return absl::Status(s.code(), std::string(s.message()) + " (in " + assembler_->next_file() +
                                        "; the stream stops here)");
    }
    const size_t before = batch.size();
    for (const BinlogEvent& e : decoded) {
      if (absl::Status s = assembler_->Add(e, end, &batch); !s.ok()) return s;
    }
    if (batch.size() > before) {
      if (before == 0) batch_started = absl::Now();
      last_activity = absl::Now();
    }
    if (batch.size() >= options_.max_batch_events ||
        (!batch.empty() && absl::Now() - batch_started >= options_.max_batch_delay)) {
      PHONY_RETURN_IF_ERROR(Publish(&batch, stop));
    }
  }
}

absl::Status MySqlCapture::Run(const std::atomic<bool>& stop) {
  return RetryWithBackoff({.what = "source", .initial = options_.initial_backoff, .max = options_.max_backoff,
                           .max_retries = options_.max_retries},
                          stop, [&](bool* made_progress) { return RunOnce(stop, made_progress); });
}

absl::StatusOr<std::vector<TableSchema>> ReadMySqlSchemaHistory(const StateStore& state) {
  std::vector<TableSchema> out;
  absl::Status inner;
  PHONY_RETURN_IF_ERROR(state.Scan(StateFamily::kSchemaHistory, kVersionPrefix,
                                   [&](std::string_view key, std::string_view value) {
                                     auto event = DecodeEvent(value);
                                     if (!event.ok() || !std::holds_alternative<SchemaEvent>(*event)) {
                                       inner = absl::DataLossError("state: unreadable schema entry " +
                                                                   std::string(key));
                                       return false;
                                     }
                                     out.push_back(std::get<SchemaEvent>(*event).schema);
                                     return true;
                                   }));
  PHONY_RETURN_IF_ERROR(inner);
  return out;
}

absl::StatusOr<std::optional<std::string>> ReadMySqlPosition(const StateStore& state) {
  PHONY_ASSIGN_OR_RETURN(std::optional<std::string> pos, state.Get(StateFamily::kPositions, kPositionKey));
  if (!pos) return pos;
  return std::optional<std::string>(pos->substr(0, pos->find('\n')));
}

absl::Status StoreMySqlPosition(StateStore& state, const std::string& file, uint64_t position,
                                const std::string& gtids) {
  return state.Put(StateFamily::kPositions, kPositionKey, file + ":" + std::to_string(position) + "\n" + gtids);
}

std::string BinlogFileNamed(const std::string& like, uint32_t index) {
  const size_t dot = like.rfind('.');
  const size_t width = dot == std::string::npos ? 6 : like.size() - dot - 1;
  std::string digits = std::to_string(index);
  if (digits.size() < width) digits.insert(0, width - digits.size(), '0');
  return (dot == std::string::npos ? like : like.substr(0, dot)) + "." + digits;
}

}  // namespace phony::mysql
