// Records a golden pgoutput stream from a real server: runs a workload in a
// fresh database, captures the slot's raw messages into CASE.bin
// (u32 big-endian length + message, in order) and writes their assembled
// rendering to CASE.expected. See tests/golden/pgoutput/README.md.
//
//   pgoutput_record SERVER(PG15|PG17) PROTO CASE WORKLOAD.sql OUT_DIR
#include <libpq-fe.h>
#include <unistd.h>

#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "core/byte_reader.h"
#include "src/capture/postgres/pg_values.h"
#include "src/capture/postgres/pgoutput_assembler.h"
#include "tests/golden/golden_render.h"

namespace {

std::string Env(const std::string& name) {
  const char* v = std::getenv(name.c_str());
  if (!v) {
    std::cerr << name << " is not set (source build/services.env)\n";
    std::exit(2);
  }
  return v;
}

PGconn* Connect(const std::string& server, const std::string& db, bool replication) {
  std::string info = "host=" + Env("PHONY_" + server + "_HOST") + " port=" + Env("PHONY_" + server + "_PORT") +
                     " user=" + Env("PHONY_" + server + "_USER") + " dbname=" + db +
                     " options='" + phony::pg::kReplicationSessionOptions + " -c synchronous_commit=on" +
                     (replication ? " -c logical_decoding_work_mem=64kB" : "") + "'" +
                     (replication ? " replication=database" : "");
  PGconn* c = PQconnectdb(info.c_str());
  if (PQstatus(c) != CONNECTION_OK) {
    std::cerr << PQerrorMessage(c);
    std::exit(1);
  }
  return c;
}

void Exec(PGconn* c, const std::string& sql) {
  PGresult* r = PQexec(c, sql.c_str());
  if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK) {
    std::cerr << sql.substr(0, 200) << ": " << PQresultErrorMessage(r);
    std::exit(1);
  }
  PQclear(r);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 6) {
    std::cerr << "usage: pgoutput_record SERVER PROTO CASE WORKLOAD.sql OUT_DIR\n";
    return 2;
  }
  const std::string server = argv[1], kase = argv[3], out_dir = argv[5];
  const int proto = std::stoi(argv[2]);
  std::ifstream in(argv[4]);
  std::stringstream workload;
  workload << in.rdbuf();
  const std::string db = "golden_" + std::to_string(getpid());

  PGconn* admin = Connect(server, "postgres", false);
  Exec(admin, "CREATE DATABASE " + db);
  PGconn* sql = Connect(server, db, false);
  // The workload's first statement block creates tables and the publication
  // `golden_pub`; the slot comes right after, then the rest.
  const std::string text = workload.str();
  const size_t split = text.find("-- changes");
  Exec(sql, text.substr(0, split));  // DDL only: one implicit transaction is fine
  Exec(sql, "SELECT pg_create_logical_replication_slot('" + db + "', 'pgoutput', false, false)");
  // One statement at a time: a multi-statement query would run as one
  // implicit transaction, and a ROLLBACK in it would undo everything.
  const std::string changes = text.substr(split);
  size_t start = changes.find('\n') + 1;
  while (start < changes.size()) {
    size_t end = changes.find(";\n", start);
    if (end == std::string::npos) end = changes.size();
    const std::string stmt = changes.substr(start, end - start);
    if (stmt.find_first_not_of(" \n") != std::string::npos) Exec(sql, stmt);
    start = end + 2;
  }
  Exec(sql, "CREATE TABLE golden_end (id int PRIMARY KEY)");
  Exec(sql, "ALTER PUBLICATION golden_pub ADD TABLE golden_end");
  Exec(sql, "INSERT INTO golden_end VALUES (1)");

  PGconn* repl = Connect(server, db, true);
  PGresult* r = PQexec(repl, ("START_REPLICATION SLOT " + db + " LOGICAL 0/0 (proto_version '" +
                              std::to_string(proto) + "', publication_names 'golden_pub'" +
                              (proto >= 2 ? ", streaming 'on'" : "") + ")").c_str());
  if (PQresultStatus(r) != PGRES_COPY_BOTH) {
    std::cerr << PQresultErrorMessage(r);
    return 1;
  }
  PQclear(r);
  phony::pg::PgoutputAssembler assembler({.database = "golden", .protocol_version = proto});
  std::vector<phony::Event> events;
  std::string bin;
  // Records messages until the end marker's transaction has committed.
  bool saw_marker = false;
  while (!saw_marker || !std::holds_alternative<phony::TxCommit>(events.back())) {
    char* buf = nullptr;
    const int n = PQgetCopyData(repl, &buf, 0);
    if (n <= 0) {
      std::cerr << "stream ended: " << PQerrorMessage(repl);
      return 1;
    }
    std::string data(buf, static_cast<size_t>(n));
    PQfreemem(buf);
    if (data[0] != 'w') continue;
    const std::string msg = data.substr(25);
    phony::PutU32BE(&bin, static_cast<uint32_t>(msg.size()));
    bin += msg;
    const size_t before = events.size();
    auto fed = assembler.Feed(msg, &events);
    if (!fed.ok()) {
      std::cerr << fed.status() << "\n";
      return 1;
    }
    for (size_t i = before; i < events.size(); ++i) {
      if (const auto* c = std::get_if<phony::ChangeEvent>(&events[i])) saw_marker |= c->table.table == "golden_end";
    }
  }
  PQfinish(repl);
  std::ofstream(out_dir + "/" + kase + ".bin", std::ios::binary) << bin;
  std::ofstream(out_dir + "/" + kase + ".expected") << phony::testing::RenderGolden(events);
  Exec(admin, "SELECT pg_drop_replication_slot('" + db + "')");
  PQfinish(sql);
  Exec(admin, "DROP DATABASE " + db);
  PQfinish(admin);
  std::cout << "wrote " << out_dir << "/" << kase << ".bin (" << bin.size() << " bytes) and .expected\n";
  return 0;
}
