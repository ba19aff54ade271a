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

// Deletes the topics that exist among `names` (the others are skipped) and
// returns the ones deleted. A refusal is kFailedPrecondition with the
// broker's reason.
absl::StatusOr<std::vector<std::string>> DeleteTopics(const KafkaConfig& kafka, const std::vector<std::string>& names,
                                                      absl::Duration timeout = absl::Seconds(30));

// Deletes consumer groups (their committed offsets); a group that does not
// exist is skipped, one that still has members goes to `busy` (a stopped
// static member stays until its session times out). Returns the ones deleted.
absl::StatusOr<std::vector<std::string>> DeleteGroups(const KafkaConfig& kafka, const std::vector<std::string>& groups,
                                                      std::vector<std::string>* busy,
                                                      absl::Duration timeout = absl::Seconds(30));

}  // namespace phony::kafka
