// Topic administration for the Kafka transport.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "core/config.h"

namespace phony::kafka {

struct TopicSpec {
  std::string name;
  int partitions = 1;
  int replication_factor = -1;  // broker default
  std::map<std::string, std::string> configs;  // cleanup.policy, retention.ms, …
};

// Makes sure every topic exists: missing ones are created as specified when
// `kafka.create_topics` (else kFailedPrecondition naming them); an existing
// topic with fewer partitions than specified is kFailedPrecondition (the
// partitioning of keys would change under the consumers). kUnavailable when
// no broker answers within `timeout`; a refusal (authorization, policy) is
// kFailedPrecondition with the broker's reason.
absl::Status EnsureTopics(const KafkaConfig& kafka, const std::vector<TopicSpec>& topics,
                          absl::Duration timeout = absl::Seconds(30));

// The partition count of each existing topic (absent: missing).
absl::StatusOr<std::map<std::string, int>> DescribeTopics(const KafkaConfig& kafka,
                                                           const std::vector<std::string>& names,
                                                           absl::Duration timeout);

}  // namespace phony::kafka
