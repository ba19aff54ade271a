// Consume-transform-produce, exactly once (Kafka transactions, KIP-98): a
// consumer group member reads its input topics with read_committed, a
// caller's function turns each message into output records, and a
// transactional producer writes the outputs and the consumed offsets in one
// Kafka transaction, many input messages per transaction (bounded by count
// and time). A crash anywhere leaves either the whole transaction (outputs
// and offsets) or none of it: a read_committed reader of the outputs sees
// every input exactly once.
//
// One transactional producer per assigned input partition, its id derived
// from the partition: the member that takes a partition over fences the
// previous owner's producer for it, which aborts that owner's open
// transaction at once. With one id per process, a member that died for good
// would leave its last transaction open until the broker's
// transaction.timeout.ms, and every read_committed reader of the partitions
// it wrote to would stall that long. docs/kafka.md "The transform stage".
// librdkafka stays behind this header.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "core/config.h"

namespace phony::kafka {

struct ExactlyOnceOptions {
  KafkaConfig kafka;
  std::string group_id;
  std::vector<std::string> input_topics;
  // Each input partition's producer has the transactional id
  // "<transactional_id_prefix>-<topic>-<partition>": whoever owns the
  // partition next fences it (Run then returns kFailedPrecondition naming it).
  std::string transactional_id_prefix;
  // The consumer's group.instance.id (static membership, KIP-345): unique
  // per stage instance, so a restarted instance takes its partitions back
  // at once. A second process with the same id fences this one.
  std::string member_id;
  std::string client_id = "phony-transform";
  // Each commit costs a few broker round trips during which nothing is
  // processed: fewer, larger transactions, at the price of up to this much
  // delay before read_committed readers see an event.
  size_t max_tx_messages = 200000;
  absl::Duration max_tx_interval = absl::Seconds(1);
};

class ExactlyOnceStage {
 public:
  struct Input {
    std::string_view topic;
    int32_t partition = 0;
    int64_t offset = 0;
    std::string_view key;
    std::string_view value;
  };
  struct Output {
    std::string topic;
    int32_t partition = -1;  // -1: Java's murmur2 of the key (partition 0 when keyless)
    std::string key;
    std::string value;
    bool tombstone = false;  // null value
  };
  // Turns one input into outputs (appended). `*boundary` says whether a
  // Kafka transaction may end after this input (the caller keeps source
  // transactions whole); it starts true. An error stops Run, which returns
  // it with the input's topic, partition and offset added: the open Kafka
  // transaction is committed first when the inputs before the bad one end
  // at a boundary, and aborted otherwise (none of its outputs become
  // visible, its offsets are not committed).
  using Process = std::function<absl::Status(const Input& in, std::vector<Output>* out, bool* boundary)>;

  static absl::StatusOr<std::unique_ptr<ExactlyOnceStage>> Create(ExactlyOnceOptions options);
  ~ExactlyOnceStage();

  // Consumes and processes until `stop()` returns true (then commits what is
  // complete and returns OK) or an error: a fenced producer, a processing
  // error, a broker that stays unreachable past the transaction timeout.
  // Aborted transactions (a broker hiccup) are retried from the last
  // committed offsets without the caller noticing.
  absl::Status Run(const Process& process, const std::function<bool()>& stop);

  struct Stats {
    uint64_t inputs = 0;
    uint64_t outputs = 0;
    uint64_t transactions = 0;
    uint64_t aborts = 0;
    uint64_t assignments = 0;  // partition assignments received
    uint64_t producers = 0;    // transactional producers started (one per partition taken)
    absl::Time first_input = absl::InfinitePast();  // when the first and the last input came
    absl::Time last_input = absl::InfinitePast();
  };
  Stats stats() const;

  struct Impl;

 private:
  explicit ExactlyOnceStage(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Reads a topic from its beginning to its end (read_committed) and calls
// `fn` with each record, in offset order per partition. For the compacted
// schema and positions topics. kFailedPrecondition when the topic does not
// exist; kUnavailable on timeout; `fn`'s error stops the read.
absl::Status ReadWholeTopic(
    const KafkaConfig& kafka, const std::string& topic, absl::Duration timeout,
    const std::function<absl::Status(int32_t partition, int64_t offset, std::string_view key,
                                     std::string_view value)>& fn);

// The high watermark (next offset to be written, committed or not) of
// each partition of `topic`: for progress and lag. kFailedPrecondition when
// the topic does not exist.
absl::StatusOr<std::vector<int64_t>> HighWatermarks(const KafkaConfig& kafka, const std::string& topic,
                                                    absl::Duration timeout);

}  // namespace phony::kafka
