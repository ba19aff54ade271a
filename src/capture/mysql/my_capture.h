// MySqlCapture: the MySQL/MariaDB capture stage. It reads the binlog with
// BinlogClient (on a reader thread, so the network and the decoding
// overlap), decodes it, assembles whole source transactions, publishes them
// in batches to a BusProducer in commit order, and stores as its position
// only the end of the unbroken prefix of acked transactions
// (core/ack_tracker.h): the binlog file and offset after it, and the GTID
// set. A broken connection is retried with exponential backoff from the end
// of the last transaction read (at-least-once); corrupt input and
// configuration problems stop it with the reason. Logs name tables,
// positions and counts, never row values. docs/mysql.md ("Capture").
//
// Threading: Run() on one thread; OnAck() from the bus's acking thread.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "core/ack_tracker.h"
#include "core/bus.h"
#include "core/config.h"
#include "core/position.h"
#include "core/state_store.h"
#include "src/capture/mysql/binlog_client.h"

namespace phony::mysql {

class BinlogAssembler;

struct MySqlCaptureOptions {
  BinlogClientOptions client;
  TableFilter filter;
  size_t max_batch_events = 10000;
  absl::Duration max_batch_delay = absl::Milliseconds(50);
  // Where to start when the state directory has no position: the source's
  // current end when unset ("from now"), else this file and offset.
  std::optional<BinlogStart> start;
  // Stop after this long without a transaction, once everything is
  // confirmed (tools and tests).
  std::optional<absl::Duration> stop_after_idle;
  absl::Duration initial_backoff = absl::Seconds(1);
  absl::Duration max_backoff = absl::Seconds(30);
  int max_retries = -1;  // consecutive failed attempts before giving up (-1: never)
  // The capture's state directory: its position and its table versions.
  // Optional (tests).
  StateStore* state = nullptr;
  // Exactly-once into Kafka: where the stream's last committed Kafka
  // transaction ended (the positions topic), read at the first start. When
  // it names a position, capture continues after it, whatever the state
  // directory says (that may lag the broker by one commit).
  std::function<absl::StatusOr<std::optional<EventPosition>>()> resume_after;
};

class MySqlCapture {
 public:
  MySqlCapture(MySqlCaptureOptions options, BusProducer* producer);
  ~MySqlCapture();

  // The bus's AckCallback must forward here.
  void OnAck(uint64_t batch_id);
  void OnNack(uint64_t batch_id, const absl::Status& why);

  // Preflight only.
  absl::StatusOr<SourceInfo> Check() { return BinlogClient::Preflight(options_.client); }

  // Streams until `stop` is set or a stop condition is met (OK), or a
  // non-retryable error (its status, naming the binlog position).
  absl::Status Run(const std::atomic<bool>& stop);

  // "file:offset" of the confirmed position ("" before the first).
  std::string confirmed() const;
  uint64_t transactions_published() const { return transactions_; }

 private:
  struct Reader;
  struct Confirm {
    std::string file;
    uint64_t position = 0;
    std::string gtids;
  };
  absl::Status RunOnce(const std::atomic<bool>& stop, bool* made_progress);
  absl::Status Publish(std::vector<Event>* batch, const std::atomic<bool>& stop);
  absl::Status LoadState();    // the stored position
  absl::Status SeedSchemas();  // the stored table versions, into the assembler
  absl::Status PersistConfirmed(bool force);
  absl::Status PersistSchema(const TableSchema& schema);

  MySqlCaptureOptions options_;
  BusProducer* producer_;
  AckTracker tracker_;
  std::mutex mu_;  // guards nack_reason_ and confirms_
  absl::Status nack_reason_;
  // What each tracked transaction's commit position confirms, by commit
  // offset and file index (EventPosition carries the index, not the name).
  std::vector<std::pair<EventPosition, Confirm>> confirms_;
  uint64_t next_batch_id_ = 0;
  uint64_t transactions_ = 0;
  Confirm confirmed_;
  Confirm persisted_;
  absl::Time last_persist_ = absl::InfinitePast();
  std::unique_ptr<BinlogAssembler> assembler_;
  // Completes a schema event from the source's catalog: table maps never
  // carry foreign keys, which the staging writer needs.
  absl::Status CompleteSchema(TableSchema* schema);
  std::unique_ptr<class MySession> catalog_;
};

// Every table version a MySQL capture with this state directory has
// described (oldest first per table).
absl::StatusOr<std::vector<TableSchema>> ReadMySqlSchemaHistory(const StateStore& state);

// The position a capture with this state directory continues from
// ("file:offset"; nullopt before its first start), and setting it: a
// snapshot that replaced every table of the job sets its cut here.
absl::StatusOr<std::optional<std::string>> ReadMySqlPosition(const StateStore& state);
absl::Status StoreMySqlPosition(StateStore& state, const std::string& file, uint64_t position,
                                const std::string& gtids);

// The binlog file with index `index` in the naming of `like` (another file
// of the same server): "mariadb-bin.000007" for 7 and "mariadb-bin.000003".
std::string BinlogFileNamed(const std::string& like, uint32_t index);

}  // namespace phony::mysql
