// The apply benchmarks' shared stream: 10-column rows, an insert-only or a
// mixed insert/update/delete stream encoded as the Kafka topic holds it, and
// a timed run of the apply stage over it with any staging writer.
#pragma once

#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "core/event_codec.h"
#include "src/apply/apply_stage.h"

namespace phony::bench {

using Clock = std::chrono::steady_clock;

inline void Die(const std::string& what) {
  std::fprintf(stderr, "apply bench: %s\n", what.c_str());
  std::exit(1);
}

// The benchmarks' flags: --host H --port P --user U [--rows N] [--tx-rows K].
struct Args {
  std::string host = "127.0.0.1", user;
  int port = 0;
  int64_t rows = 1000000;
  int tx_rows = 100;
};
inline Args ParseArgs(int argc, char** argv, Args a) {
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i], v = argv[i + 1];
    if (k == "--host") a.host = v;
    else if (k == "--port") a.port = std::atoi(v.c_str());
    else if (k == "--user") a.user = v;
    else if (k == "--rows") a.rows = std::atoll(v.c_str());
    else if (k == "--tx-rows") a.tx_rows = std::atoi(v.c_str());
    else Die("unknown flag " + k);
  }
  return a;
}

// Column types as the source names them: PostgreSQL's or MySQL's.
inline TableSchema Schema(bool mysql_types) {
  TableSchema s{.id = {"bench", "public", "rows10"}, .version = 1};
  auto col = [](const char* n, const char* t, ValueKind k, uint32_t oid, uint16_t key = 0) {
    return ColumnDef{.name = n, .type_name = t, .kind = k, .type_id = oid, .nullable = key == 0, .key_ordinal = key};
  };
  if (mysql_types) {  // MySQL column type bytes as type ids
    s.columns = {col("id", "bigint", ValueKind::kInt64, 8, 1),
                 col("account", "int", ValueKind::kInt64, 3),
                 col("name", "varchar(64)", ValueKind::kText, 15),
                 col("email", "varchar(128)", ValueKind::kText, 15),
                 col("city", "varchar(40)", ValueKind::kText, 15),
                 col("amount", "decimal(12,2)", ValueKind::kDecimal, 246),
                 col("created", "datetime(6)", ValueKind::kTimestamp, 18),
                 col("active", "tinyint(1)", ValueKind::kBool, 1),
                 col("score", "double", ValueKind::kDouble, 5),
                 col("birthday", "date", ValueKind::kDate, 10)};
  } else {
    s.columns = {col("id", "bigint", ValueKind::kInt64, 20, 1),
                 col("account", "integer", ValueKind::kInt64, 23),
                 col("name", "text", ValueKind::kText, 25),
                 col("email", "text", ValueKind::kText, 25),
                 col("city", "character varying(40)", ValueKind::kText, 1043),
                 col("amount", "numeric(12,2)", ValueKind::kDecimal, 1700),
                 col("created", "timestamp with time zone", ValueKind::kTimestampTz, 1184),
                 col("active", "boolean", ValueKind::kBool, 16),
                 col("score", "double precision", ValueKind::kDouble, 701),
                 col("birthday", "date", ValueKind::kDate, 1082)};
  }
  return s;
}

inline Row MakeRow(int64_t id, std::mt19937_64& rng, bool mysql_types = false) {
  const uint64_t r = rng();
  const int64_t created = 1700000000000000 + static_cast<int64_t>(r % 1000000000) * 1000;
  return Row{Value::Int64(id),
             Value::Int64(static_cast<int64_t>(r % 100000)),
             Value::Text("Ayşe Yılmaz " + std::to_string(r % 9973)),
             Value::Text("user" + std::to_string(id) + "@example.com"),
             Value::Text(r % 2 ? "Istanbul" : "Izmir"),
             Value::Decimal(std::to_string(r % 100000) + "." + std::to_string(10 + r % 90)),
             mysql_types ? Value::Timestamp(created) : Value::TimestampTz(created),
             Value::Bool(r & 1),
             Value::Double(static_cast<double>(r % 1000000) / 7.0),
             Value::Date(static_cast<int32_t>(7000 + r % 10000))};
}

// The stream as the applier reads it from Kafka: encoded events, one
// message each; deliveries of up to 10000 messages (the consumer's default).
struct Stream {
  std::vector<std::string> messages;
  int64_t changes = 0;
};

inline Stream Build(int64_t rows, int tx_rows, bool mixed, bool mysql_types) {
  std::mt19937_64 rng(mixed ? 2 : 1);
  Stream out;
  const TableSchema schema = Schema(mysql_types);
  std::vector<int64_t> live;
  int64_t next_id = 1;
  uint64_t lsn = 0x1000000;
  auto push = [&](const Event& e) {
    std::string bytes;
    EncodeEvent(e, &bytes);
    out.messages.push_back(std::move(bytes));
  };
  while (out.changes < rows) {
    lsn += 0x100;
    uint64_t seq = 0;
    auto pos = [&] { return EventPosition::Postgres(Lsn(lsn), seq++); };
    push(TxBegin{.position = pos(), .xid = lsn});
    if (out.changes == 0) push(SchemaEvent{.position = pos(), .schema = schema});
    for (int i = 0; i < tx_rows && out.changes < rows; ++i, ++out.changes) {
      ChangeEvent e;
      e.table = schema.id;
      e.schema_version = 1;
      e.key_columns = {0};
      const uint64_t dice = rng() % 10;
      if (!mixed || live.size() < 1000 || dice < 5) {
        e.op = ChangeOp::kInsert;
        e.after = MakeRow(next_id, rng, mysql_types);
        live.push_back(next_id++);
      } else if (dice < 8) {
        e.op = ChangeOp::kUpdate;
        e.after = MakeRow(live[rng() % live.size()], rng, mysql_types);
      } else {
        const size_t at = rng() % live.size();
        e.op = ChangeOp::kDelete;
        e.before = Row(10);
        (*e.before)[0] = Value::Int64(live[at]);
        live[at] = live.back();
        live.pop_back();
      }
      e.position = pos();
      push(e);
    }
    push(TxCommit{.position = pos(), .xid = lsn});
  }
  return out;
}

inline double CpuSeconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}
inline double g_apply_cpu = 0;  // the applier's own CPU seconds in the last ApplyRun

inline double ApplyRun(apply::StagingWriter* writer, const Stream& stream) {
  apply::ApplyStage stage(writer, {});
  if (auto s = stage.Start(); !s.ok()) Die(std::string(s.message()));
  std::vector<KafkaOffset> durable;
  const double cpu0 = CpuSeconds();
  const auto t0 = Clock::now();
  for (size_t at = 0; at < stream.messages.size();) {
    Delivery d;
    d.offset.topic = "bench";
    const size_t end = std::min(stream.messages.size(), at + 10000);
    for (; at < end; ++at) {
      auto e = DecodeEvent(stream.messages[at]);
      if (!e.ok()) Die("decode");
      d.batch.events.push_back(*std::move(e));
    }
    d.offset.offset = static_cast<int64_t>(end - 1);
    if (auto s = stage.Add(d, &durable); !s.ok()) Die(std::string(s.message()));
  }
  if (auto s = stage.Finish(&durable); !s.ok()) Die(std::string(s.message()));
  g_apply_cpu = CpuSeconds() - cpu0;
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

}  // namespace phony::bench
