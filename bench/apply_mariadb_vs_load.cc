// Issue #6's MariaDB bar: an insert-only stream of 10-column rows applied by
// the applier (decoding, grouping, LOAD DATA LOCAL from memory or multi-row
// upserts, progress) against LOAD DATA LOCAL INFILE of the same rows from a
// file into the same kind of table, in the same run on the same server;
// then a mixed insert/update/delete stream. bench/apply_mariadb_vs_load.sh
// starts a private server and runs it.
//
//   apply_mariadb_vs_load --host H --port P --user U [--rows N] [--tx-rows K]
#include <mysql.h>

#include <cstdio>
#include <fstream>
#include <string>

#include "bench/apply_bench_stream.h"
#include "src/apply/mysql/my_writer.h"
#include "src/apply/postgres/pg_text.h"

namespace phony {
namespace {

using namespace ::phony::bench;  // NOLINT: the shared stream

MYSQL* Connect(const Args& a) {
  MYSQL* m = mysql_init(nullptr);
  unsigned int on = 1;
  mysql_optionsv(m, MYSQL_OPT_LOCAL_INFILE, &on);
  if (!mysql_real_connect(m, a.host.c_str(), a.user.c_str(), "", nullptr, static_cast<unsigned>(a.port), nullptr, 0)) {
    Die(mysql_error(m));
  }
  return m;
}

void Exec(MYSQL* m, const std::string& sql) {
  if (mysql_query(m, sql.c_str()) != 0) Die(sql + ": " + mysql_error(m));
  if (MYSQL_RES* r = mysql_store_result(m)) mysql_free_result(r);
}

// LOAD DATA LOCAL INFILE from a file written before the clock starts.
double LoadRun(const Args& a, const std::string& file) {
  MYSQL* m = Connect(a);
  const TableSchema schema = Schema(true);
  std::string ddl = "CREATE TABLE bench_load.rows10 (";
  for (const ColumnDef& c : schema.columns) ddl += "`" + c.name + "` " + apply::MyStagingType(c, false) + ", ";
  Exec(m, ddl + "PRIMARY KEY (id)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4");
  const auto t0 = Clock::now();
  Exec(m, "START TRANSACTION");
  Exec(m, "LOAD DATA LOCAL INFILE '" + file + "' INTO TABLE bench_load.rows10 CHARACTER SET utf8mb4 FIELDS "
          "TERMINATED BY '\\t' LINES TERMINATED BY '\\n'");
  Exec(m, "COMMIT");
  const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  Exec(m, "DROP TABLE bench_load.rows10");
  mysql_close(m);
  return secs;
}

}  // namespace
}  // namespace phony

int main(int argc, char** argv) {
  using namespace phony;
  const Args a = ParseArgs(argc, argv, {.user = "root", .port = 3306});
  MYSQL* admin = Connect(a);
  Exec(admin, "DROP DATABASE IF EXISTS bench_load");
  Exec(admin, "CREATE DATABASE bench_load");
  // The same rows as the stream, as a tab-separated file.
  const std::string file = "/tmp/phony_apply_bench_rows.tsv";
  {
    std::mt19937_64 rng(1);
    std::ofstream out(file);
    std::string line;
    for (int64_t id = 1; id <= a.rows; ++id) {
      const Row row = MakeRow(id, rng, true);
      line.clear();
      for (size_t i = 0; i < row.size(); ++i) {
        if (i) line.push_back('\t');
        if (row[i].kind() == ValueKind::kBool) line.push_back(row[i].bool_value() ? '1' : '0');
        else apply::pg::AppendText(row[i], &line);
      }
      line.push_back('\n');
      out << line;
    }
  }
  const Stream inserts = Build(a.rows, a.tx_rows, false, true);
  const Stream mixed = Build(a.rows, a.tx_rows, true, true);
  apply::MyWriterOptions options{.host = a.host, .port = a.port, .user = a.user};
  std::printf("rows %lld, %d per source transaction, 10 columns\n", static_cast<long long>(a.rows), a.tx_rows);
  double best_load = 1e9, best_apply = 1e9;
  for (int run = 1; run <= 2; ++run) {
    Exec(admin, "DROP DATABASE IF EXISTS public");
    Exec(admin, "DROP DATABASE IF EXISTS phony");
    const double load = LoadRun(a, file);
    apply::MyWriter writer(options);
    const double applied = ApplyRun(&writer, inserts);
    best_load = std::min(best_load, load);
    best_apply = std::min(best_apply, applied);
    std::printf("run %d: LOAD DATA %.2f s (%.0f rows/s)   apply %.2f s (%.0f rows/s, applier CPU %.2f s)   ratio %.2f\n",
                run, load, a.rows / load, applied, a.rows / applied, g_apply_cpu, load / applied);
  }
  std::printf("insert-only: best LOAD DATA %.0f rows/s, best apply %.0f rows/s, apply/LOAD DATA = %.2f (bar >= 0.5)\n",
              a.rows / best_load, a.rows / best_apply, best_load / best_apply);
  Exec(admin, "DROP DATABASE IF EXISTS public");
  Exec(admin, "DROP DATABASE IF EXISTS phony");
  apply::MyWriter mixed_writer(options);
  const double m = ApplyRun(&mixed_writer, mixed);
  std::printf("mixed 50%% insert / 30%% update / 20%% delete: apply %.2f s (%.0f changes/s)\n", m, a.rows / m);
  Exec(admin, "DROP DATABASE IF EXISTS public");
  Exec(admin, "DROP DATABASE IF EXISTS phony");
  Exec(admin, "DROP DATABASE bench_load");
  std::remove(file.c_str());
  mysql_close(admin);
  return 0;
}
