// Renders change events as Debezium change-event JSON: the envelope
// {"before":…,"after":…,"source":{…},"op":"c|u|d|r|t","ts_ms":…,"transaction":…}
// in the payload form, or with Kafka Connect's embedded schema
// ({"schema":…,"payload":…}) so JsonConverter-based sinks read it; the
// record key (the key columns); and the transaction metadata records
// (BEGIN/END with per-table counts). This is the one envelope serializer of
// the project: `phony capture --sink jsonl` and the public Kafka topics use
// it. Value conventions follow Debezium's defaults (docs/envelope.md has the
// table per type). Pure functions, thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "core/event.h"
#include "core/schema.h"

namespace phony {

// Debezium's placeholder for a TOAST value the source did not send.
inline constexpr const char* kUnavailableValuePlaceholder = "__debezium_unavailable_value";

// decimal.handling.mode: precise (Connect Decimal / VariableScaleDecimal,
// Debezium's default), string, or double.
enum class DecimalHandling : uint8_t { kPrecise, kString, kDouble };

struct EnvelopeOptions {
  DecimalHandling decimal_handling = DecimalHandling::kString;
  // {"schema":…,"payload":…} (JsonConverter with schemas.enable=true).
  bool include_schema = false;
  std::string unavailable_placeholder = kUnavailableValuePlaceholder;
  // Names the Connect schemas: "<topic_prefix>.<schema>.<table>.Value".
  std::string topic_prefix = "phony";
};

struct EnvelopeSource {
  std::string connector;   // "postgresql", "mysql", "mariadb"
  std::string name;        // logical server name (topic prefix)
  std::string version = "phony-0.1.0";
  bool snapshot = false;
  uint64_t tx_id = 0;      // PostgreSQL xid
};

// The envelope's `transaction` block (null when absent).
struct EnvelopeTransaction {
  std::string id;                      // "<xid>:<commit lsn>" (PostgreSQL)
  uint64_t total_order = 0;            // 1-based, within the transaction
  uint64_t data_collection_order = 0;  // 1-based, within the transaction and table
};

// `schema` must be the version the event names. `now_ms` is the envelope's
// ts_ms (processing time). Truncate events render with null before/after.
std::string RenderEnvelope(const ChangeEvent& event, const TableSchema& schema,
                           const EnvelopeSource& source, int64_t now_ms,
                           const EnvelopeOptions& options = {},
                           const EnvelopeTransaction* transaction = nullptr);

// Renders the envelopes of one table version with everything that does not
// change between its events prepared once (field names, the source header,
// the Connect schema): what a stream of many events should use.
class EnvelopeRenderer {
 public:
  EnvelopeRenderer(const TableSchema& schema, const EnvelopeSource& source, const EnvelopeOptions& options);
  // `source_tx_id` and `snapshot` fill source.txId and source.snapshot.
  std::string Render(const ChangeEvent& event, uint64_t source_tx_id, bool snapshot, int64_t now_ms,
                     const EnvelopeTransaction* transaction) const;
  std::string Key(const Row& row) const;
  const TableSchema& schema() const { return schema_; }

 private:
  void AppendRowTo(const std::optional<Row>& row, bool keys_only, std::string* out) const;

  TableSchema schema_;
  EnvelopeSource source_;
  EnvelopeOptions options_;
  std::vector<std::string> field_keys_;  // "\"name\":" per column
  std::string schema_prefix_;            // {"schema":…,"payload": (include_schema)
  std::string key_prefix_;               // the same for keys
  std::string source_head_;              // ,"source":{"version":…,"connector":…,"name":…,"ts_ms":
  std::string table_part_;               // ,"db":…,"schema":…,"table":… of schema.id
};

// The record key: the key columns of `row` ({"id":1}), with the key schema
// when options.include_schema. Empty when the table has no key columns.
std::string RenderKey(const Row& row, const TableSchema& schema, const EnvelopeOptions& options);

// Debezium's transaction metadata records (value; the key is
// RenderTransactionKey). `per_table` lists "<schema>.<table>" with the
// table's change count in the transaction.
std::string RenderTransactionKey(const std::string& id, const EnvelopeOptions& options);
std::string RenderTransactionBegin(const std::string& id, int64_t ts_ms, const EnvelopeOptions& options);
std::string RenderTransactionEnd(const std::string& id, int64_t ts_ms,
                                 const std::vector<std::pair<std::string, uint64_t>>& per_table,
                                 const EnvelopeOptions& options);

// One value in Debezium's JSON convention for `column` (exposed for tests).
void AppendEnvelopeValue(const Value& value, const ColumnDef& column, const EnvelopeOptions& options,
                         std::string* out);
// The same with a generic column and the default options.
void AppendEnvelopeValue(const Value& value, std::string* out);

// The unscaled value of a decimal string at `scale` as Java's
// BigInteger.toByteArray() (big-endian two's complement, minimal), which is
// what Connect's Decimal carries. False for NaN/Infinity.
bool DecimalToUnscaledBytes(std::string_view decimal, int scale, std::string* out);

}  // namespace phony
