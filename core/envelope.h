// Renders change events as Debezium-style JSON envelopes (payload form):
// {"before":…,"after":…,"source":{…},"op":"c|u|d|r|t","ts_ms":…,"transaction":null}.
// This is the one envelope serializer of the project: `phony capture --sink
// jsonl` uses it now, and the public Kafka topics (issue #4) complete it
// (schema-embedded form, decimal handling modes, transaction metadata).
// Value conventions follow Debezium's defaults; docs/envelope.md lists them.
// Pure functions, thread-safe.
#pragma once

#include <cstdint>
#include <string>

#include "core/event.h"
#include "core/schema.h"

namespace phony {

struct EnvelopeSource {
  std::string connector;   // "postgresql", "mysql", "mariadb"
  std::string name;        // logical server name (topic prefix)
  std::string version = "phony-0.1.0";
  bool snapshot = false;
  uint64_t tx_id = 0;      // PostgreSQL xid
};

// Debezium's placeholder for a TOAST value the source did not send.
inline constexpr const char* kUnavailableValuePlaceholder = "__debezium_unavailable_value";

// `schema` must be the version the event names. `now_ms` is the envelope's
// ts_ms (processing time). Truncate events render with null before/after.
std::string RenderEnvelope(const ChangeEvent& event, const TableSchema& schema,
                           const EnvelopeSource& source, int64_t now_ms);

// One value in Debezium's JSON convention (exposed for tests).
void AppendEnvelopeValue(const Value& value, std::string* out);

}  // namespace phony
