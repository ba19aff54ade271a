// Shared helpers for the PostgreSQL integration tests: connections to the
// servers scripts/services.sh starts, queries that fail the test loudly, a
// replication stream reader, and slot cleanup.
#pragma once

#include <libpq-fe.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "tests/integration/services_env.h"

namespace phony::testing {

struct PgConnDeleter {
  void operator()(PGconn* c) const { PQfinish(c); }
};
using PgConn = std::unique_ptr<PGconn, PgConnDeleter>;

// `prefix` is PG15 or PG17; `extra` is appended to the conninfo.
inline PgConn ConnectPg(const std::string& prefix, bool replication, const std::string& extra = "") {
  std::string info = "host=" + ServiceEnv("PHONY_" + prefix + "_HOST") + " port=" +
                     ServiceEnv("PHONY_" + prefix + "_PORT") + " user=" +
                     ServiceEnv("PHONY_" + prefix + "_USER") + " dbname=postgres connect_timeout=10";
  if (replication) info += " replication=database";
  if (!extra.empty()) info += " " + extra;
  PgConn conn(PQconnectdb(info.c_str()));
  EXPECT_EQ(PQstatus(conn.get()), CONNECTION_OK) << PQerrorMessage(conn.get());
  return conn;
}

// Runs `sql`, failing the test on error; returns the rows as text ("<null>"
// for NULL).
inline std::vector<std::vector<std::string>> PgQuery(PGconn* conn, const std::string& sql) {
  PGresult* r = PQexec(conn, sql.c_str());
  std::vector<std::vector<std::string>> rows;
  const ExecStatusType st = PQresultStatus(r);
  EXPECT_TRUE(st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) << sql << ": " << PQresultErrorMessage(r);
  for (int i = 0; i < PQntuples(r); ++i) {
    std::vector<std::string> row;
    for (int j = 0; j < PQnfields(r); ++j) {
      row.push_back(PQgetisnull(r, i, j) ? "<null>" : PQgetvalue(r, i, j));
    }
    rows.push_back(std::move(row));
  }
  PQclear(r);
  return rows;
}

// Starts pgoutput replication on `conn` (a replication connection).
inline bool StartPgoutput(PGconn* conn, const std::string& slot, const std::string& options) {
  PGresult* r = PQexec(conn, ("START_REPLICATION SLOT " + slot + " LOGICAL 0/0 (" + options + ")").c_str());
  const bool ok = PQresultStatus(r) == PGRES_COPY_BOTH;
  EXPECT_TRUE(ok) << PQresultErrorMessage(r);
  PQclear(r);
  return ok;
}

// The next XLogData payload (the pgoutput message), skipping keepalives;
// empty when the stream ended.
inline std::string NextPgoutputMessage(PGconn* conn) {
  while (true) {
    char* buf = nullptr;
    const int n = PQgetCopyData(conn, &buf, /*async=*/0);
    if (n <= 0) {
      ADD_FAILURE() << "replication stream ended: " << PQerrorMessage(conn);
      return "";
    }
    std::string data(buf, static_cast<size_t>(n));
    PQfreemem(buf);
    if (data[0] == 'w' && data.size() > 25) return data.substr(25);
  }
}

// Drops a slot once its walsender has let go of it.
inline void DropSlot(PGconn* conn, const std::string& slot) {
  for (int i = 0; i < 50; ++i) {
    PGresult* d = PQexec(conn, ("SELECT pg_drop_replication_slot('" + slot + "')").c_str());
    const bool ok = PQresultStatus(d) == PGRES_TUPLES_OK;
    PQclear(d);
    if (ok) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ADD_FAILURE() << "could not drop slot " << slot;
}

// Drops every replication slot of database `db`, then the database. A
// walsender may still hold its slot for a moment after the client closed its
// connection; it is given 5 s to let go, then terminated.
inline void DropDatabaseAndSlots(PGconn* admin, const std::string& db) {
  const std::string slots = "FROM pg_replication_slots WHERE database = '" + db + "'";
  for (int i = 0; i < 100; ++i) {
    if (i == 50) PgQuery(admin, "SELECT pg_terminate_backend(active_pid) " + slots + " AND active");
    PgQuery(admin, "SELECT pg_drop_replication_slot(slot_name) " + slots + " AND NOT active");
    if (PgQuery(admin, "SELECT count(*) " + slots)[0][0] == "0") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  PgQuery(admin, "DROP DATABASE IF EXISTS " + db + " WITH (FORCE)");
}

}  // namespace phony::testing
