#include "src/kafka/kafka_topics.h"

#include <cstring>

#include "core/event_codec.h"

namespace phony::kafka {

std::string SanitizeTopicName(std::string_view name) {
  std::string out;
  out.reserve(name.size());
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-';
    out.push_back(ok ? c : '_');
  }
  if (out.size() > 249) out.resize(249);
  return out;
}

TopicNames TopicsFor(const KafkaConfig& kafka, const std::string& job_name) {
  const std::string base = kafka.internal_topic_prefix + "." + job_name;
  TopicNames t;
  t.raw = SanitizeTopicName(base + ".raw");
  t.anonymized = SanitizeTopicName(base + ".anonymized");
  t.schemas = SanitizeTopicName(base + ".schemas");
  t.positions = SanitizeTopicName(base + ".positions");
  t.transactions = SanitizeTopicName(kafka.topic_prefix + ".transaction");
  t.public_prefix = kafka.topic_prefix;
  return t;
}

std::string PublicTopic(const std::string& topic_prefix, const TableId& table) {
  return SanitizeTopicName(topic_prefix + "." + table.schema + "." + table.table);
}

int32_t Murmur2(std::string_view key) {
  const auto* data = reinterpret_cast<const uint8_t*>(key.data());
  const int32_t length = static_cast<int32_t>(key.size());
  constexpr uint32_t kSeed = 0x9747b28c, m = 0x5bd1e995;
  constexpr int r = 24;
  uint32_t h = kSeed ^ static_cast<uint32_t>(length);
  const int32_t length4 = length / 4;
  for (int32_t i = 0; i < length4; ++i) {
    const int32_t i4 = i * 4;
    uint32_t k = static_cast<uint32_t>(data[i4]) | (static_cast<uint32_t>(data[i4 + 1]) << 8) |
                 (static_cast<uint32_t>(data[i4 + 2]) << 16) | (static_cast<uint32_t>(data[i4 + 3]) << 24);
    k *= m;
    k ^= k >> r;
    k *= m;
    h *= m;
    h ^= k;
  }
  const int32_t tail = length4 * 4;
  switch (length % 4) {
    case 3:
      h ^= static_cast<uint32_t>(data[tail + 2]) << 16;
      [[fallthrough]];
    case 2:
      h ^= static_cast<uint32_t>(data[tail + 1]) << 8;
      [[fallthrough]];
    case 1:
      h ^= static_cast<uint32_t>(data[tail]);
      h *= m;
  }
  h ^= h >> 13;
  h *= m;
  h ^= h >> 15;
  int32_t out;
  std::memcpy(&out, &h, 4);
  return out;
}

int32_t PartitionForKey(std::string_view key, int32_t partitions) {
  return static_cast<int32_t>((static_cast<uint32_t>(Murmur2(key)) & 0x7fffffffu) %
                              static_cast<uint32_t>(partitions));
}

std::string EventKey(const ChangeEvent& event) {
  if (event.key_columns.empty() || event.op == ChangeOp::kTruncate) return {};
  const std::optional<Row>& row = event.after ? event.after : event.before;
  if (!row) return {};
  std::string key = event.table.QualifiedName();
  key.push_back('\0');
  for (uint16_t i : event.key_columns) {
    if (i < row->size()) EncodeValue((*row)[i], &key);
  }
  return key;
}

std::string SchemaKey(const TableSchema& schema) {
  return schema.id.database + "." + schema.id.schema + "." + schema.id.table + "@" +
         std::to_string(schema.version);
}

}  // namespace phony::kafka
