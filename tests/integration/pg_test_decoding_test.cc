// Differential test against PostgreSQL's own test_decoding plugin: one
// workload decoded through two slots — test_decoding (the server's reference
// rendering, read through the SQL interface) and pgoutput through our
// decoder and assembler (streaming on, logical_decoding_work_mem = 64kB) —
// must yield the same transactions, operations, tables and values. The
// workload covers a types matrix, unchanged TOAST, REPLICA IDENTITY FULL, a
// table without a replica identity (left out, its UPDATE still works),
// subtransactions and rollbacks, a multi-table TRUNCATE, a partitioned table
// published through its root, ALTER TABLE ADD/DROP COLUMN mid-stream, and a
// 200 000-row transaction that pgoutput streams in progress.
#include <unistd.h>

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "core/testing/status_matchers.h"
#include "gtest/gtest.h"
#include "src/capture/postgres/pg_values.h"
#include "src/capture/postgres/pgoutput_assembler.h"
#include "tests/integration/pg_test_util.h"

namespace phony::pg {
namespace {

using ::phony::testing::ConnectPg;
using ::phony::testing::DropDatabaseAndSlots;
using ::phony::testing::DropSlot;
using ::phony::testing::NextPgoutputMessage;
using ::phony::testing::PgConn;
using ::phony::testing::PgQuery;
using ::phony::testing::StartPgoutput;

// One change as both sides can express it.
struct Change {
  std::string table;  // schema.table (partitions mapped to their root)
  std::string op;     // INSERT, UPDATE, DELETE, TRUNCATE
  std::map<std::string, std::string> old_values;  // non-null old columns (rendered)
  std::map<std::string, std::string> new_values;  // all new columns (rendered)
  std::string truncated;  // TRUNCATE: "public.a, public.b: cascade"
  bool operator==(const Change&) const = default;
};

std::ostream& operator<<(std::ostream& os, const Change& c) {
  os << c.op << " " << c.table << " old{";
  for (const auto& [k, v] : c.old_values) os << k << "=" << v.substr(0, 40) << " ";
  os << "} new{";
  for (const auto& [k, v] : c.new_values) os << k << "=" << v.substr(0, 40) << " ";
  return os << "} " << c.truncated;
}

// Parses one test_decoding column list: `name[type]:value name[type]:'text' …`.
std::map<std::string, std::string> ParseColumns(std::string_view s, bool skip_nulls) {
  std::map<std::string, std::string> out;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && s[i] == ' ') ++i;
    if (i >= s.size()) break;
    const size_t lb = s.find('[', i);
    const std::string name(s.substr(i, lb - i));
    // The type may contain brackets (arrays: integer[]): find "]:".
    const size_t colon = s.find("]:", lb);
    i = colon + 2;
    std::string value;
    if (s[i] == '\'') {
      ++i;
      while (i < s.size()) {
        if (s[i] == '\'' && i + 1 < s.size() && s[i + 1] == '\'') {
          value.push_back('\'');
          i += 2;
        } else if (s[i] == '\'') {
          ++i;
          break;
        } else {
          value.push_back(s[i++]);
        }
      }
    } else {
      const size_t end = s.find(' ', i);
      value = std::string(s.substr(i, end == std::string_view::npos ? std::string_view::npos : end - i));
      i = end == std::string_view::npos ? s.size() : end;
    }
    if (skip_nulls && value == "null") continue;
    out[name] = value;
  }
  return out;
}

// Renders a Value as test_decoding prints it (after unquoting).
std::string Render(const Value& v, uint32_t type_oid, const std::string& server_text) {
  if (v.is_null()) return "null";
  if (v.is_unchanged()) return "unchanged-toast-datum";
  if (type_oid == kBoolOid) return v.bool_value() ? "true" : "false";
  // Every other value: the server's own text, re-parsed, must equal ours.
  auto reparsed = ParseTextValue(type_oid, server_text);
  return reparsed.ok() && *reparsed == v ? server_text : "MISMATCH:" + v.DebugString();
}

class PgTestDecodingTest : public ::testing::TestWithParam<std::pair<const char*, int>> {};

TEST_P(PgTestDecodingTest, PgoutputPathMatchesTestDecoding) {
  const std::string server = GetParam().first;
  const int proto = GetParam().second;
  const std::string db = "tdiff_" + std::to_string(getpid()) + "_" + std::to_string(proto);
  PgConn admin = ConnectPg(server, false);
  PgQuery(admin.get(), "CREATE DATABASE " + db);
  // synchronous_commit: the test servers run with it off, and logical
  // decoding reads only flushed WAL; the reference read below must see the
  // whole workload.
  PgConn sql = ConnectPg(server, false, "dbname=" + db + " options='" +
                                            std::string(kReplicationSessionOptions) +
                                            " -c synchronous_commit=on'");
  for (const char* ddl : {
           "CREATE TABLE t_types (id int PRIMARY KEY, b bool, i8 bigint, f8 float8, n numeric, "
           "tx text, by bytea, d date, ts timestamp, tstz timestamptz, iv interval, u uuid, "
           "j jsonb, ip inet, arr int[])",
           "CREATE TABLE t_toast (id int PRIMARY KEY, big text, n int)",
           "ALTER TABLE t_toast ALTER big SET STORAGE EXTERNAL",
           "CREATE TABLE t_full (a int, b text)",
           "ALTER TABLE t_full REPLICA IDENTITY FULL",
           "CREATE TABLE t_nopk (a int)",
           "CREATE TABLE ta (id int PRIMARY KEY)",
           "CREATE TABLE tb (id int PRIMARY KEY)",
           "CREATE TABLE t_part (id int, k int, PRIMARY KEY (id, k)) PARTITION BY RANGE (k)",
           "CREATE TABLE t_part_1 PARTITION OF t_part FOR VALUES FROM (0) TO (100)",
           "CREATE TABLE t_part_2 PARTITION OF t_part FOR VALUES FROM (100) TO (200)",
           "CREATE TABLE t_alter (id int PRIMARY KEY, a text)",
           "CREATE TABLE t_big (id int PRIMARY KEY, v text)",
           "CREATE PUBLICATION tdiff_pub FOR TABLE t_types, t_toast, t_full, ta, tb, t_part, "
           "t_alter, t_big WITH (publish_via_partition_root = true)",
       }) {
    PgQuery(sql.get(), ddl);
  }
  PgQuery(sql.get(), "SELECT pg_create_logical_replication_slot('" + db + "_ours', 'pgoutput', false, false)");
  PgQuery(sql.get(), "SELECT pg_create_logical_replication_slot('" + db + "_ref', 'test_decoding', false, false)");

  for (const char* w : {
           "INSERT INTO t_types VALUES (1, true, 9007199254740993, 2.5, 1.10, 'it''s', '\\x00ff', "
           "'2024-02-29', '2024-02-29 13:45:06.5', '2024-02-29 13:45:06.5+02', '1 day 02:00:00', "
           "'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '{\"k\": [1]}', '10.0.0.1/8', '{1,NULL,3}')",
           "INSERT INTO t_types (id) VALUES (2)",
           "UPDATE t_types SET id = 3, tx = 'moved' WHERE id = 1",
           "INSERT INTO t_toast VALUES (1, repeat('x', 10000), 1)",
           "UPDATE t_toast SET n = 2 WHERE id = 1",
           "INSERT INTO t_full VALUES (1, 'one'), (2, 'two')",
           "UPDATE t_full SET b = 'uno' WHERE a = 1",
           "DELETE FROM t_full WHERE a = 2",
           "INSERT INTO t_nopk VALUES (1)",
           "UPDATE t_nopk SET a = 2",  // must work: t_nopk is not published
           "BEGIN; INSERT INTO ta VALUES (1); SAVEPOINT s; INSERT INTO ta VALUES (2); "
           "ROLLBACK TO SAVEPOINT s; INSERT INTO ta VALUES (3); COMMIT",
           "BEGIN; INSERT INTO ta VALUES (99); ROLLBACK",
           "INSERT INTO tb VALUES (1)",
           "TRUNCATE ta, tb CASCADE",
           "INSERT INTO t_part VALUES (1, 5), (2, 150)",
           "UPDATE t_part SET id = 3 WHERE k = 150",
           "INSERT INTO t_alter VALUES (1, 'a')",
           "ALTER TABLE t_alter ADD COLUMN c int DEFAULT 7",
           "INSERT INTO t_alter VALUES (2, 'b', 8)",
           "ALTER TABLE t_alter DROP COLUMN a",
           "INSERT INTO t_alter VALUES (3, 9)",
           "INSERT INTO t_big SELECT g, repeat('v', 30) FROM generate_series(1, 200000) g",
           "DELETE FROM t_alter WHERE id = 3",  // the last change: marks the end
       }) {
    PgQuery(sql.get(), w);
  }

  // Reference: test_decoding through the SQL interface, in the same session
  // settings our replication session uses.
  std::vector<std::string> ref_lines;
  for (const auto& row : PgQuery(sql.get(), "SELECT data FROM pg_logical_slot_get_changes('" + db + "_ref', "
                                            "NULL, NULL, 'include-xids', '0', 'skip-empty-xacts', '1')")) {
    ref_lines.push_back(row[0]);
  }
  std::map<std::string, std::string> partition_root = {{"public.t_part_1", "public.t_part"},
                                                       {"public.t_part_2", "public.t_part"}};
  std::vector<Change> expected;
  int expected_tx = 0;
  bool tx_counted = false;
  for (const std::string& line : ref_lines) {
    if (line == "BEGIN") {
      tx_counted = false;
      continue;
    }
    if (line == "COMMIT") continue;
    ASSERT_EQ(line.rfind("table ", 0), 0u) << line;
    const size_t colon = line.find(": ");
    std::string table = line.substr(6, colon - 6);
    const std::string rest = line.substr(colon + 2);
    Change c;
    if (rest.rfind("TRUNCATE:", 0) == 0) {
      c.op = "TRUNCATE";
      c.table = table.substr(0, table.find(','));
      c.truncated = table + ":" + rest.substr(9);
    } else {
      if (partition_root.count(table)) table = partition_root[table];
      if (table == "public.t_nopk") continue;  // not published: not ours to see
      c.table = table;
      const size_t op_end = rest.find(':');
      c.op = rest.substr(0, op_end);
      std::string cols = rest.substr(op_end + 1);
      if (c.op == "UPDATE" && cols.find(" old-key: ") == 0) {
        const size_t nt = cols.find(" new-tuple: ");
        c.old_values = ParseColumns(cols.substr(10, nt - 10), true);
        cols = cols.substr(nt + 12);
      }
      if (c.op == "DELETE") {
        c.old_values = ParseColumns(cols, true);
      } else {
        c.new_values = ParseColumns(cols, false);
      }
    }
    if (!tx_counted) {
      ++expected_tx;  // a transaction with at least one published change
      tx_counted = true;
    }
    expected.push_back(std::move(c));
  }
  ASSERT_GT(expected.size(), 200000u);

  // Ours: pgoutput through the decoder and assembler, streaming.
  PgConn repl = ConnectPg(server, true,
                          "dbname=" + db + " options='" + std::string(kReplicationSessionOptions) +
                              " -c logical_decoding_work_mem=64kB'");
  ASSERT_TRUE(StartPgoutput(repl.get(), db + "_ours",
                            "proto_version '" + std::to_string(proto) +
                                "', publication_names 'tdiff_pub', streaming 'on'"));
  PgoutputAssembler assembler({.database = db, .protocol_version = proto,
                               .spill_threshold_bytes = 1 << 20, .spill_dir = ::testing::TempDir()});
  std::map<std::pair<TableId, uint32_t>, TableSchema> schemas;
  std::vector<Change> actual;
  int actual_tx = 0;
  bool done = false;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(180);
  std::vector<Event> events;
  while (!done && std::chrono::steady_clock::now() < deadline) {
    const std::string msg = NextPgoutputMessage(repl.get());
    ASSERT_FALSE(msg.empty());
    events.clear();
    ASSERT_OK(assembler.Feed(msg, &events).status());
    for (const Event& e : events) {
      if (const auto* s = std::get_if<SchemaEvent>(&e)) schemas[{s->schema.id, s->schema.version}] = s->schema;
      if (std::holds_alternative<TxBegin>(e)) ++actual_tx;
      const auto* ch = std::get_if<ChangeEvent>(&e);
      if (ch == nullptr) continue;
      Change c;
      c.table = ch->table.QualifiedName();
      if (ch->op == ChangeOp::kTruncate) {
        c.op = "TRUNCATE";
        std::string names;
        for (const auto& t : ch->truncated) names += (names.empty() ? "" : ", ") + t.QualifiedName();
        std::string flags;
        if (ch->flags & kFlagTruncateRestartIdentity) flags += " restart_seqs";
        if (ch->flags & kFlagTruncateCascade) flags += " cascade";
        c.truncated = names + ":" + (flags.empty() ? " (no-flags)" : flags);
        actual.push_back(std::move(c));
        continue;
      }
      c.op = ch->op == ChangeOp::kInsert ? "INSERT" : ch->op == ChangeOp::kUpdate ? "UPDATE" : "DELETE";
      const TableSchema& schema = schemas.at({ch->table, ch->schema_version});
      // Render against the reference's own text where it has one, so the
      // comparison checks values, not printing.
      const Change* ref = expected.size() > actual.size() ? &expected[actual.size()] : nullptr;
      auto render_row = [&](const Row& row, bool skip_nulls, const std::map<std::string, std::string>* ref_cols) {
        std::map<std::string, std::string> out;
        for (size_t i = 0; i < row.size(); ++i) {
          if (skip_nulls && row[i].is_null()) continue;
          const std::string& name = schema.columns[i].name;
          std::string server_text;
          if (ref_cols && ref_cols->count(name)) server_text = ref_cols->at(name);
          out[name] = Render(row[i], schema.columns[i].type_id, server_text);
        }
        return out;
      };
      if (ch->op == ChangeOp::kDelete) {
        c.old_values = render_row(*ch->before, true, ref ? &ref->old_values : nullptr);
      } else {
        if (ch->before) c.old_values = render_row(*ch->before, true, ref ? &ref->old_values : nullptr);
        c.new_values = render_row(*ch->after, false, ref ? &ref->new_values : nullptr);
      }
      done = c.table == "public.t_alter" && c.op == "DELETE";
      actual.push_back(std::move(c));
    }
  }
  ASSERT_TRUE(done) << "did not see the workload's last change";
  EXPECT_EQ(actual_tx, expected_tx);
  ASSERT_EQ(actual.size(), expected.size());
  size_t mismatches = 0;
  for (size_t i = 0; i < expected.size() && mismatches < 5; ++i) {
    if (!(actual[i] == expected[i])) {
      ++mismatches;
      ADD_FAILURE() << "change " << i << "\n  test_decoding: " << expected[i] << "\n  ours:          " << actual[i];
    }
  }
  EXPECT_GT(assembler.spilled_events(), 0u) << "the large transaction must have spilled";

  repl.reset();
  sql.reset();
  DropDatabaseAndSlots(admin.get(), db);
}

INSTANTIATE_TEST_SUITE_P(Servers, PgTestDecodingTest,
                         ::testing::Values(std::pair{"PG15", 2}, std::pair{"PG17", 4}),
                         [](const auto& param_info) {
                           return std::string(param_info.param.first) + "_proto" +
                                  std::to_string(param_info.param.second);
                         });

}  // namespace
}  // namespace phony::pg
