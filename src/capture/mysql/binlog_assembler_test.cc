// The assembler on recorded binlogs: whole transactions with increasing
// positions, schema events before a table's first change, GTIDs, resume
// positions, payload transactions, TRUNCATE, and the filter.
#include "src/capture/mysql/binlog_assembler.h"

#include <set>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "src/capture/mysql/binlog_file.h"

namespace phony::mysql {
namespace {

using ::testing::ElementsAre;

const std::string kFixtures = PHONY_BINLOG_FIXTURES;

struct Assembled {
  std::vector<Event> events;
  std::vector<uint64_t> xid_ends;  // end positions of XID events in the file
  absl::Status status;
  std::string next_file;
  uint64_t next_position = 0;
  std::string gtids;
};

Assembled Assemble(const std::string& rel, TableFilter filter = TableFilter()) {
  Assembled a;
  const std::string file = rel.substr(rel.find_last_of('/') + 1);
  auto reader = BinlogFileReader::Open(kFixtures + "/" + rel);
  if (!reader.ok()) {
    a.status = reader.status();
    return a;
  }
  BinlogDecoder decoder;
  // Files written without binlog_row_metadata=FULL: the capture completes
  // their table maps from the catalog; here, placeholder names.
  decoder.set_table_map_hook([](TableMap* m) {
    if (m->has_names) return absl::OkStatus();
    for (size_t i = 0; i < m->columns.size(); ++i) m->columns[i].name = "c" + std::to_string(i + 1);
    return absl::OkStatus();
  });
  BinlogAssembler assembler({.filter = std::move(filter)}, file, 4);
  std::vector<BinlogEvent> decoded;
  while (true) {
    auto next = (*reader)->Next();
    if (!next.ok()) {
      a.status = next.status();
      return a;
    }
    if (!next->has_value()) break;
    decoded.clear();
    a.status = decoder.Decode((*next)->bytes, (*next)->offset, &decoded);
    if (!a.status.ok()) return a;
    const uint64_t end = (*next)->offset + (*next)->bytes.size();
    for (const BinlogEvent& e : decoded) {
      if (std::holds_alternative<Xid>(e.body)) a.xid_ends.push_back(end);
      a.status = assembler.Add(e, end, &a.events);
      if (!a.status.ok()) return a;
    }
  }
  a.next_file = assembler.next_file();
  a.next_position = assembler.next_position();
  a.gtids = assembler.gtids().ToString();
  return a;
}

TEST(BinlogAssemblerTest, WholeTransactionsInOrder) {
  const Assembled a = Assemble("mysql-binlog-connector-java/mysql-bin.checksum-crc32");
  ASSERT_TRUE(a.status.ok()) << a.status;
  int begins = 0, commits = 0, changes = 0;
  std::set<std::string> described;
  std::optional<EventPosition> last;
  bool in_tx = false;
  uint64_t count = 0;
  std::vector<uint64_t> commit_offsets;
  for (const Event& e : a.events) {
    const EventPosition& p = PositionOf(e);
    if (last) {
      EXPECT_LT(*last, p) << DescribeEvent(e);
    }
    last = p;
    if (std::holds_alternative<TxBegin>(e)) {
      EXPECT_FALSE(in_tx);
      in_tx = true;
      count = 0;
      ++begins;
    } else if (const auto* c = std::get_if<TxCommit>(&e)) {
      EXPECT_TRUE(in_tx);
      in_tx = false;
      EXPECT_EQ(c->event_count, count);
      commit_offsets.push_back(c->position.commit_offset());
      ++commits;
    } else if (const auto* s = std::get_if<SchemaEvent>(&e)) {
      EXPECT_TRUE(in_tx);
      described.insert(s->schema.id.QualifiedName());
    } else if (const auto* ch = std::get_if<ChangeEvent>(&e)) {
      EXPECT_TRUE(in_tx);
      EXPECT_TRUE(described.count(ch->table.QualifiedName())) << "a change before its table's schema";
      ++count;
      ++changes;
    }
  }
  EXPECT_EQ(begins, commits);
  EXPECT_EQ(changes, 34 + 23 + 6);  // the rows mariadb-binlog prints for this file
  EXPECT_EQ(described.size(), 17u);
  // Every transaction's commit offset is the end of its XID event.
  for (uint64_t off : commit_offsets) {
    EXPECT_THAT(a.xid_ends, ::testing::Contains(off));
  }
  // The next transaction starts after the ROTATE: in the next file.
  EXPECT_EQ(a.next_position, 4u);
  EXPECT_NE(a.next_file, "mysql-bin.checksum-crc32");
}

TEST(BinlogAssemblerTest, MariaDbGtidsAndResumePosition) {
  const Assembled a = Assemble("rust_mysql_common/mariadb-bin.000001");
  ASSERT_TRUE(a.status.ok()) << a.status;
  std::vector<std::string> gtids;
  for (const Event& e : a.events) {
    if (const auto* b = std::get_if<TxBegin>(&e)) gtids.push_back(b->position.gtid()->ToString());
  }
  EXPECT_THAT(gtids, ElementsAre("0-1-1", "0-1-2"));
  EXPECT_EQ(a.gtids, "0-1-2");
  EXPECT_EQ(a.next_file, "mariadb-bin.000001");
  EXPECT_EQ(a.next_position, a.xid_ends.back());
  // The schema: names, key, types from the table map.
  const SchemaEvent* s = nullptr;
  for (const Event& e : a.events) {
    if (const auto* x = std::get_if<SchemaEvent>(&e)) s = x;
  }
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->schema.id.QualifiedName(), "toddy_test.outbox");
  EXPECT_EQ(s->schema.version, 1u);
  std::vector<std::string> types;
  for (const ColumnDef& c : s->schema.columns) types.push_back(c.name + " " + c.type_name);
  EXPECT_THAT(types, ElementsAre("id int", "topic varchar(255)", "event_type enum('BLOB','JSON','PROTOBUF')", "event blob",
                                 "created timestamp"));
  EXPECT_THAT(s->schema.KeyColumns(), ElementsAre(0));
}

TEST(BinlogAssemblerTest, CompressedPayloadIsOneTransaction) {
  const Assembled a = Assemble("rust_mysql_common/transaction_compression.000001");
  ASSERT_TRUE(a.status.ok()) << a.status;
  int commits = 0;
  for (const Event& e : a.events) commits += std::holds_alternative<TxCommit>(e);
  EXPECT_EQ(commits, 1);
}

TEST(BinlogAssemblerTest, FilteredTablesEmitNothingButPositionsMove) {
  const Assembled a = Assemble("rust_mysql_common/mariadb-bin.000001", TableFilter({"other.*"}, {}, ""));
  ASSERT_TRUE(a.status.ok()) << a.status;
  EXPECT_TRUE(a.events.empty());
  EXPECT_EQ(a.next_position, a.xid_ends.back());
  EXPECT_EQ(a.gtids, "0-1-2");
}

TEST(BinlogAssemblerTest, TruncateStatementsAreChanges) {
  BinlogAssembler assembler({}, "mariadb-bin.000001", 4);
  std::vector<Event> out;
  auto statement = [&](std::string db, std::string text, uint64_t end) {
    BinlogEvent e;
    e.header.log_pos = static_cast<uint32_t>(end);
    e.body = Query{.database = std::move(db), .text = std::move(text)};
    return assembler.Add(e, end, &out);
  };
  ASSERT_TRUE(statement("shop", "TRUNCATE TABLE `sales`.`orders`", 500).ok());
  ASSERT_TRUE(statement("shop", "truncate users", 600).ok());
  ASSERT_TRUE(statement("shop", "CREATE TABLE x (id int)", 700).ok());
  std::vector<std::string> truncated;
  for (const Event& e : out) {
    if (const auto* c = std::get_if<ChangeEvent>(&e)) {
      EXPECT_EQ(c->op, ChangeOp::kTruncate);
      truncated.push_back(c->table.QualifiedName());
    }
  }
  EXPECT_THAT(truncated, ElementsAre("sales.orders", "shop.users"));
  EXPECT_EQ(assembler.next_position(), 700u);
  BinlogEvent xa;
  xa.body = Query{.database = "shop", .text = "XA START 'x'"};
  EXPECT_EQ(assembler.Add(xa, 800, &out).code(), absl::StatusCode::kUnimplemented);
}

}  // namespace
}  // namespace phony::mysql
