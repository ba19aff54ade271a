// Positions: strong types for where data lives in a source or on the bus, and
// the totally ordered EventPosition every change event carries (DESIGN.md
// "Events and positions"). Never pass a bare uint64_t across an interface.
//
//   Lsn              PostgreSQL WAL location, printed "16/B374D848"
//   BinlogPosition   MySQL/MariaDB binlog file + byte offset
//   Gtid             MariaDB domain-server-sequence, or MySQL uuid[:tag]:gno
//   GtidSet          MariaDB: last GTID per domain; MySQL: intervals per uuid[:tag]
//   KafkaOffset      topic, partition, offset
//   EventPosition    PostgreSQL (commit end LSN, seq in transaction);
//                    MySQL/MariaDB (file index, commit offset, event index,
//                    row index) + GTID; snapshot reads (table, chunk, row)
//
// Value types, thread-compatible.
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace phony {

class Lsn {
 public:
  constexpr Lsn() = default;
  constexpr explicit Lsn(uint64_t value) : value_(value) {}
  static absl::StatusOr<Lsn> Parse(std::string_view text);  // "16/B374D848"

  constexpr uint64_t value() const { return value_; }
  constexpr bool is_valid() const { return value_ != 0; }
  std::string ToString() const;
  friend constexpr auto operator<=>(Lsn, Lsn) = default;

 private:
  uint64_t value_ = 0;  // 0 is InvalidXLogRecPtr
};

class BinlogPosition {
 public:
  BinlogPosition() = default;
  // `file` is a binlog file name such as "mysql-bin.000042"; its numeric
  // extension is the file index that orders files.
  static absl::StatusOr<BinlogPosition> Make(std::string file, uint64_t offset);

  const std::string& file() const { return file_; }
  uint32_t file_index() const { return file_index_; }
  uint64_t offset() const { return offset_; }
  std::string ToString() const { return file_ + ":" + std::to_string(offset_); }

  friend auto operator<=>(const BinlogPosition& a, const BinlogPosition& b) {
    return std::tie(a.file_index_, a.offset_) <=> std::tie(b.file_index_, b.offset_);
  }
  friend bool operator==(const BinlogPosition& a, const BinlogPosition& b) {
    return a.file_index_ == b.file_index_ && a.offset_ == b.offset_ && a.file_ == b.file_;
  }

 private:
  std::string file_;
  uint32_t file_index_ = 0;
  uint64_t offset_ = 0;
};

enum class GtidFlavor : uint8_t { kMariaDb = 1, kMySql = 2 };

using Uuid16 = std::array<uint8_t, 16>;

struct Gtid {
  GtidFlavor flavor = GtidFlavor::kMariaDb;
  // MariaDB
  uint32_t domain = 0;
  uint32_t server_id = 0;
  uint64_t sequence = 0;
  // MySQL: source uuid, optional tag (8.3+), transaction number.
  Uuid16 uuid{};
  std::string tag;
  uint64_t gno = 0;

  static Gtid MariaDb(uint32_t domain, uint32_t server_id, uint64_t sequence);
  static Gtid MySql(const Uuid16& uuid, uint64_t gno, std::string tag = "");
  // "0-1-42" or "3e11fa47-71ca-11e1-9e33-c80aa9429562[:tag]:42".
  static absl::StatusOr<Gtid> Parse(std::string_view text);
  std::string ToString() const;
  friend bool operator==(const Gtid&, const Gtid&) = default;
};

class GtidSet {
 public:
  explicit GtidSet(GtidFlavor flavor = GtidFlavor::kMariaDb) : flavor_(flavor) {}
  // MariaDB: "0-1-100,1-2-5"; MySQL: "uuid:1-5:7,uuid2:tag:1-3". Empty text
  // is the empty set of the given flavor.
  static absl::StatusOr<GtidSet> Parse(GtidFlavor flavor, std::string_view text);

  GtidFlavor flavor() const { return flavor_; }
  bool empty() const { return mariadb_.empty() && mysql_.empty(); }
  // Records a transaction. MariaDB keeps the latest GTID per domain; MySQL
  // merges the number into the uuid's intervals. A flavor mismatch is an
  // InvalidArgument error.
  absl::Status Add(const Gtid& gtid);
  bool Contains(const Gtid& gtid) const;
  std::string ToString() const;  // canonical, sorted
  friend bool operator==(const GtidSet&, const GtidSet&) = default;

  struct MariaDbEntry {
    uint32_t server_id = 0;
    uint64_t sequence = 0;
    friend bool operator==(const MariaDbEntry&, const MariaDbEntry&) = default;
  };
  using Intervals = std::vector<std::pair<uint64_t, uint64_t>>;  // closed, sorted, disjoint
  const std::map<uint32_t, MariaDbEntry>& mariadb_domains() const { return mariadb_; }
  const std::map<std::pair<Uuid16, std::string>, Intervals>& mysql_sources() const {
    return mysql_;
  }
  // Adds a closed interval [first, last] for a MySQL source (decoding sets).
  absl::Status AddInterval(const Uuid16& uuid, const std::string& tag, uint64_t first,
                           uint64_t last);

 private:
  GtidFlavor flavor_;
  std::map<uint32_t, MariaDbEntry> mariadb_;
  std::map<std::pair<Uuid16, std::string>, Intervals> mysql_;
};

struct KafkaOffset {
  std::string topic;
  int32_t partition = 0;
  int64_t offset = -1;
  std::string ToString() const {
    return topic + "[" + std::to_string(partition) + "]@" + std::to_string(offset);
  }
  friend auto operator<=>(const KafkaOffset&, const KafkaOffset&) = default;
};

// The position of one event within its source: totally ordered and unique.
// Positions of different kinds order by kind (snapshot < PostgreSQL <
// MySQL); a stream only ever carries one CDC kind.
class EventPosition {
 public:
  enum class Kind : uint8_t { kNone = 0, kSnapshot = 1, kPostgres = 2, kMySql = 3 };

  EventPosition() = default;
  static EventPosition Postgres(Lsn commit_end, uint64_t seq);
  static EventPosition MySql(uint32_t file_index, uint64_t commit_offset, uint32_t event_index,
                             uint32_t row_index, std::optional<Gtid> gtid = std::nullopt);
  static EventPosition Snapshot(std::string table, uint64_t chunk, uint64_t row);

  Kind kind() const { return kind_; }
  // PostgreSQL
  Lsn commit_lsn() const { return Lsn(a_); }
  uint64_t seq() const { return b_; }
  // MySQL/MariaDB
  uint32_t file_index() const { return static_cast<uint32_t>(a_); }
  uint64_t commit_offset() const { return b_; }
  uint32_t event_index() const { return static_cast<uint32_t>(c_); }
  uint32_t row_index() const { return static_cast<uint32_t>(d_); }
  const std::optional<Gtid>& gtid() const { return gtid_; }
  // Snapshot
  const std::string& snapshot_table() const { return table_; }
  uint64_t chunk() const { return a_; }
  uint64_t row() const { return b_; }

  std::string ToString() const;

  // The GTID does not take part in ordering: it is a function of the position.
  friend std::strong_ordering operator<=>(const EventPosition& x, const EventPosition& y) {
    return std::tie(x.kind_, x.table_, x.a_, x.b_, x.c_, x.d_) <=>
           std::tie(y.kind_, y.table_, y.a_, y.b_, y.c_, y.d_);
  }
  friend bool operator==(const EventPosition& x, const EventPosition& y) {
    return (x <=> y) == std::strong_ordering::equal && x.gtid_ == y.gtid_;
  }

 private:
  Kind kind_ = Kind::kNone;
  std::string table_;
  uint64_t a_ = 0, b_ = 0, c_ = 0, d_ = 0;
  std::optional<Gtid> gtid_;
};

}  // namespace phony
