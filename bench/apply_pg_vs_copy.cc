// Issue #6's PostgreSQL bar: an insert-only stream of 10-column rows
// applied by the applier (decoding the internal encoding, grouping, COPY,
// progress) against a plain COPY of the same rows into the same kind of
// table, in the same run on the same server; then a mixed
// insert/update/delete stream. Runs alternate (COPY, apply, COPY, apply) so
// drift on a shared machine hits both. bench/apply_pg_vs_copy.sh starts a
// private server and runs it.
//
//   apply_pg_vs_copy --host H --port P --user U [--rows N] [--tx-rows K]
#include <libpq-fe.h>
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "core/event_codec.h"
#include "src/apply/apply_stage.h"
#include "src/apply/postgres/pg_text.h"
#include "src/apply/postgres/pg_writer.h"

namespace phony {
namespace {

using Clock = std::chrono::steady_clock;

struct Args {
  std::string host = "127.0.0.1", user = "postgres";
  int port = 5432;
  int64_t rows = 1000000;
  int tx_rows = 100;
};

void Die(const std::string& what) {
  std::fprintf(stderr, "apply_pg_vs_copy: %s\n", what.c_str());
  std::exit(1);
}

PGconn* Connect(const Args& a, const std::string& db) {
  const std::string info = "host=" + a.host + " port=" + std::to_string(a.port) + " user=" + a.user + " dbname=" + db;
  PGconn* c = PQconnectdb(info.c_str());
  if (PQstatus(c) != CONNECTION_OK) Die(PQerrorMessage(c));
  PQsetNoticeProcessor(c, [](void*, const char*) {}, nullptr);
  return c;
}

void Exec(PGconn* c, const std::string& sql) {
  PGresult* r = PQexec(c, sql.c_str());
  if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK) {
    Die(sql + ": " + PQresultErrorMessage(r));
  }
  PQclear(r);
}

TableSchema Schema() {
  TableSchema s{.id = {"bench", "public", "rows10"}, .version = 1};
  auto col = [](const char* n, const char* t, ValueKind k, uint32_t oid, uint16_t key = 0) {
    return ColumnDef{.name = n, .type_name = t, .kind = k, .type_id = oid, .nullable = key == 0, .key_ordinal = key};
  };
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
  return s;
}

Row MakeRow(int64_t id, std::mt19937_64& rng) {
  const uint64_t r = rng();
  return Row{Value::Int64(id),
             Value::Int64(static_cast<int64_t>(r % 100000)),
             Value::Text("Ayşe Yılmaz " + std::to_string(r % 9973)),
             Value::Text("user" + std::to_string(id) + "@example.com"),
             Value::Text(r % 2 ? "Istanbul" : "Izmir"),
             Value::Decimal(std::to_string(r % 100000) + "." + std::to_string(10 + r % 90)),
             Value::TimestampTz(1700000000000000 + static_cast<int64_t>(r % 1000000000) * 1000),
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

Stream Build(const Args& a, bool mixed) {
  std::mt19937_64 rng(mixed ? 2 : 1);
  Stream out;
  const TableSchema schema = Schema();
  std::vector<int64_t> live;
  int64_t next_id = 1;
  uint64_t lsn = 0x1000000;
  auto push = [&](const Event& e) {
    std::string bytes;
    EncodeEvent(e, &bytes);
    out.messages.push_back(std::move(bytes));
  };
  while (out.changes < a.rows) {
    lsn += 0x100;
    uint64_t seq = 0;
    auto pos = [&] { return EventPosition::Postgres(Lsn(lsn), seq++); };
    push(TxBegin{.position = pos(), .xid = lsn});
    if (out.changes == 0) push(SchemaEvent{.position = pos(), .schema = schema});
    for (int i = 0; i < a.tx_rows && out.changes < a.rows; ++i, ++out.changes) {
      ChangeEvent e;
      e.table = schema.id;
      e.schema_version = 1;
      e.key_columns = {0};
      const uint64_t dice = rng() % 10;
      if (!mixed || live.size() < 1000 || dice < 5) {
        e.op = ChangeOp::kInsert;
        e.after = MakeRow(next_id, rng);
        live.push_back(next_id++);
      } else if (dice < 8) {
        e.op = ChangeOp::kUpdate;
        e.after = MakeRow(live[rng() % live.size()], rng);
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

double CpuSeconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}
double g_apply_cpu = 0;  // the applier's own CPU seconds in the last ApplyRun

double ApplyRun(const Args& a, const std::string& db, const Stream& stream) {
  apply::PgWriter writer({.host = a.host, .port = a.port, .database = db, .user = a.user});
  apply::ApplyStage stage(&writer, {});
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

double CopyRun(const Args& a, const std::string& db) {
  PGconn* c = Connect(a, db);
  const TableSchema schema = Schema();
  std::string ddl = "CREATE TABLE copy_target (";
  for (const ColumnDef& col : schema.columns) ddl += apply::pg::QuoteIdent(col.name) + " " + col.type_name + ", ";
  Exec(c, ddl + "PRIMARY KEY (id))");
  // The rows as COPY text, prepared before the clock starts: COPY at its best.
  std::mt19937_64 rng(1);
  std::string text;
  for (int64_t id = 1; id <= a.rows; ++id) {
    const Row row = MakeRow(id, rng);
    for (size_t i = 0; i < row.size(); ++i) {
      if (i) text.push_back('\t');
      apply::pg::AppendCopyField(row[i], &text);
    }
    text.push_back('\n');
  }
  const auto t0 = Clock::now();
  Exec(c, "BEGIN");
  PGresult* r = PQexec(c, "COPY copy_target FROM STDIN");
  if (PQresultStatus(r) != PGRES_COPY_IN) Die(PQresultErrorMessage(r));
  PQclear(r);
  for (size_t at = 0; at < text.size(); at += 1 << 20) {
    PQputCopyData(c, text.data() + at, static_cast<int>(std::min<size_t>(1 << 20, text.size() - at)));
  }
  PQputCopyEnd(c, nullptr);
  while (PGresult* res = PQgetResult(c)) {
    if (PQresultStatus(res) != PGRES_COMMAND_OK) Die(PQresultErrorMessage(res));
    PQclear(res);
  }
  Exec(c, "COMMIT");
  const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  PQfinish(c);
  return secs;
}

}  // namespace
}  // namespace phony

int main(int argc, char** argv) {
  using namespace phony;
  Args a;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i], v = argv[i + 1];
    if (k == "--host") a.host = v;
    else if (k == "--port") a.port = std::atoi(v.c_str());
    else if (k == "--user") a.user = v;
    else if (k == "--rows") a.rows = std::atoll(v.c_str());
    else if (k == "--tx-rows") a.tx_rows = std::atoi(v.c_str());
    else Die("unknown flag " + k);
  }
  PGconn* admin = Connect(a, "postgres");
  const Stream inserts = Build(a, false);
  const Stream mixed = Build(a, true);
  std::printf("rows %lld, %d per source transaction, 10 columns\n", static_cast<long long>(a.rows), a.tx_rows);
  double best_copy = 1e9, best_apply = 1e9;
  for (int run = 1; run <= 2; ++run) {
    const std::string db = "phony_apply_bench_" + std::to_string(run);
    Exec(admin, "DROP DATABASE IF EXISTS " + db + " WITH (FORCE)");
    Exec(admin, "CREATE DATABASE " + db);
    const double copy = CopyRun(a, db);
    const double applied = ApplyRun(a, db, inserts);
    best_copy = std::min(best_copy, copy);
    best_apply = std::min(best_apply, applied);
    std::printf("run %d: COPY %.2f s (%.0f rows/s)   apply %.2f s (%.0f rows/s, applier CPU %.2f s)   ratio %.2f\n",
                run, copy, a.rows / copy, applied, a.rows / applied, g_apply_cpu, copy / applied);
    Exec(admin, "DROP DATABASE " + db + " WITH (FORCE)");
  }
  std::printf("insert-only: best COPY %.0f rows/s, best apply %.0f rows/s, apply/COPY = %.2f (bar >= 0.5)\n",
              a.rows / best_copy, a.rows / best_apply, best_copy / best_apply);
  Exec(admin, "DROP DATABASE IF EXISTS phony_apply_bench_mixed WITH (FORCE)");
  Exec(admin, "CREATE DATABASE phony_apply_bench_mixed");
  const double m = ApplyRun(a, "phony_apply_bench_mixed", mixed);
  std::printf("mixed 50%% insert / 30%% update / 20%% delete: apply %.2f s (%.0f changes/s)\n", m, a.rows / m);
  Exec(admin, "DROP DATABASE phony_apply_bench_mixed WITH (FORCE)");
  PQfinish(admin);
  return 0;
}
