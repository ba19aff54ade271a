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

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "bench/apply_bench_stream.h"
#include "src/apply/apply_stage.h"
#include "src/apply/postgres/pg_text.h"
#include "src/apply/postgres/pg_writer.h"

namespace phony {
namespace {

using namespace ::phony::bench;  // NOLINT: the shared stream

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

double CopyRun(const Args& a, const std::string& db) {
  PGconn* c = Connect(a, db);
  const TableSchema schema = Schema(false);
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
  const Args a = ParseArgs(argc, argv, {.user = "postgres", .port = 5432});
  PGconn* admin = Connect(a, "postgres");
  const Stream inserts = Build(a.rows, a.tx_rows, false, false);
  const Stream mixed = Build(a.rows, a.tx_rows, true, false);
  std::printf("rows %lld, %d per source transaction, 10 columns\n", static_cast<long long>(a.rows), a.tx_rows);
  double best_copy = 1e9, best_apply = 1e9;
  for (int run = 1; run <= 2; ++run) {
    const std::string db = "phony_apply_bench_" + std::to_string(run);
    Exec(admin, "DROP DATABASE IF EXISTS " + db + " WITH (FORCE)");
    Exec(admin, "CREATE DATABASE " + db);
    const double copy = CopyRun(a, db);
    apply::PgWriter writer({.host = a.host, .port = a.port, .database = db, .user = a.user});
    const double applied = ApplyRun(&writer, inserts);
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
  apply::PgWriter mixed_writer({.host = a.host, .port = a.port, .database = "phony_apply_bench_mixed", .user = a.user});
  const double m = ApplyRun(&mixed_writer, mixed);
  std::printf("mixed 50%% insert / 30%% update / 20%% delete: apply %.2f s (%.0f changes/s)\n", m, a.rows / m);
  Exec(admin, "DROP DATABASE phony_apply_bench_mixed WITH (FORCE)");
  PQfinish(admin);
  return 0;
}
