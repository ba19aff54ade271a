// Topic names, canonical keys and Java-compatible key partitioning for the
// Kafka transport (DESIGN.md "Topics and order", docs/kafka.md). Pure.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/config.h"
#include "core/event.h"
#include "core/schema.h"

namespace phony::kafka {

struct TopicNames {
  std::string raw;           // <internal>.<job>.raw: captured events (PII: ACL-protect it)
  std::string anonymized;    // <internal>.<job>.anonymized: what our applier reads
  std::string schemas;       // <internal>.<job>.schemas: compacted, one record per table version
  std::string positions;     // <internal>.<job>.positions: compacted capture positions (transactions on)
  std::string transactions;  // <prefix>.transaction: public BEGIN/END metadata (Debezium's name)
  std::string public_prefix;
};
TopicNames TopicsFor(const KafkaConfig& kafka, const std::string& job_name);

// <topic_prefix>.<schema>.<table>, characters Kafka does not allow in topic
// names replaced by '_' (as Debezium does).
std::string PublicTopic(const std::string& topic_prefix, const TableId& table);
std::string SanitizeTopicName(std::string_view name);

// Java's org.apache.kafka.common.utils.Utils.murmur2, and the partition the
// Java default partitioner (and librdkafka's murmur2_random) picks for a
// non-empty key: (murmur2(key) & 0x7fffffff) % partitions.
int32_t Murmur2(std::string_view key);
int32_t PartitionForKey(std::string_view key, int32_t partitions);

// Canonical key bytes of a row change: the table's qualified name, then the
// key columns' values in the internal encoding. Equal keys give equal bytes
// in every process, so per-key order holds across N partitions. Empty for
// events without a key (truncates, tables without a primary key).
std::string EventKey(const ChangeEvent& event);

// The compacted schema topic's key of one table version: "<db>.<schema>.<table>@<version>".
std::string SchemaKey(const TableSchema& schema);

}  // namespace phony::kafka
