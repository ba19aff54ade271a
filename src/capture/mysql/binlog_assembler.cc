#include "src/capture/mysql/binlog_assembler.h"

#include <cctype>
#include <limits>

#include "core/status_macros.h"

namespace phony::mysql {
namespace {

// The first word of a statement, upper-cased ("BEGIN", "COMMIT", "XA", ...).
std::string FirstWord(std::string_view text, size_t* end = nullptr) {
  size_t i = 0;
  while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
  // A leading comment (/* ... */), as some tools prefix statements.
  while (i + 1 < text.size() && text[i] == '/' && text[i + 1] == '*') {
    const size_t close = text.find("*/", i + 2);
    if (close == std::string_view::npos) return "";
    i = close + 2;
    while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
  }
  std::string word;
  while (i < text.size() && (std::isalnum(static_cast<unsigned char>(text[i])) || text[i] == '_')) {
    word.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(text[i]))));
    ++i;
  }
  if (end != nullptr) *end = i;
  return word;
}

// An identifier at the start of `text`: `quoted` (with `` doubling) or bare.
std::string TakeIdent(std::string_view* text) {
  size_t i = 0;
  while (i < text->size() && std::isspace(static_cast<unsigned char>((*text)[i]))) ++i;
  std::string out;
  if (i < text->size() && (*text)[i] == '`') {
    ++i;
    while (i < text->size()) {
      if ((*text)[i] == '`') {
        if (i + 1 < text->size() && (*text)[i + 1] == '`') {
          out.push_back('`');
          i += 2;
          continue;
        }
        ++i;
        break;
      }
      out.push_back((*text)[i++]);
    }
  } else {
    while (i < text->size() && !std::isspace(static_cast<unsigned char>((*text)[i])) && (*text)[i] != '.' &&
           (*text)[i] != ';') {
      out.push_back((*text)[i++]);
    }
  }
  text->remove_prefix(i);
  return out;
}

bool SameShape(const TableSchema& a, const TableSchema& b) {
  if (a.columns.size() != b.columns.size()) return false;
  for (size_t i = 0; i < a.columns.size(); ++i) {
    const ColumnDef& x = a.columns[i];
    const ColumnDef& y = b.columns[i];
    if (x.name != y.name || x.type_id != y.type_id || x.type_modifier != y.type_modifier || x.kind != y.kind ||
        x.nullable != y.nullable || x.key_ordinal != y.key_ordinal) {
      return false;
    }
  }
  return true;
}

}  // namespace

absl::StatusOr<TableSchema> SchemaFromTableMap(const TableMap& map) {
  TableSchema s;
  s.id = TableId{.database = map.database, .schema = map.database, .table = map.table};
  s.replica_identity = ReplicaIdentity::kDefault;
  for (size_t i = 0; i < map.columns.size(); ++i) {
    const ColumnInfo& c = map.columns[i];
    if (c.name.empty()) {
      return absl::DataLossError("the table map of " + map.database + "." + map.table +
                                 " has no column names: the source must run with binlog_row_metadata=FULL");
    }
    ColumnDef d;
    d.name = c.name;
    d.type_name = TypeName(c);
    d.kind = KindOf(c);
    d.type_id = c.type;
    d.type_modifier = c.meta;
    d.nullable = c.nullable;
    d.key_ordinal = c.key_ordinal;
    s.columns.push_back(std::move(d));
  }
  return s;
}

BinlogAssembler::BinlogAssembler(Options options, std::string file, uint64_t position)
    : options_(std::move(options)), next_file_(file), next_position_(position), gtids_(GtidFlavor::kMariaDb) {
  if (!file.empty()) {
    file_ = file;
    auto p = BinlogPosition::Make(file, position);
    if (p.ok()) {
      file_index_ = p->file_index();
      files_[file_index_] = file;
    }
  }
}

void BinlogAssembler::SeedSchema(const TableSchema& schema) {
  auto it = schemas_.find(schema.id);
  if (it == schemas_.end() || it->second.version < schema.version) schemas_[schema.id] = schema;
}

std::optional<std::string> BinlogAssembler::FileOf(uint32_t index) const {
  auto it = files_.find(index);
  if (it == files_.end()) return std::nullopt;
  return it->second;
}

void BinlogAssembler::ResetStream() {
  AbandonTransaction();
  described_.clear();
}

void BinlogAssembler::AbandonTransaction() {
  in_tx_ = false;
  gtid_.reset();
  gtid_commit_ts_us_ = 0;
  pending_.clear();
  rows_events_ = 0;
}

absl::StatusOr<const TableSchema*> BinlogAssembler::SchemaFor(const TableMap& map) {
  PHONY_ASSIGN_OR_RETURN(TableSchema fresh, SchemaFromTableMap(map));
  auto it = schemas_.find(fresh.id);
  if (it != schemas_.end() && SameShape(it->second, fresh)) {
    if (described_.insert(fresh.id).second) pending_.push_back(SchemaEvent{.position = {}, .schema = it->second});
    return &it->second;
  }
  fresh.version = it == schemas_.end() ? 1 : it->second.version + 1;
  if (options_.complete) PHONY_RETURN_IF_ERROR(options_.complete(&fresh));
  described_.insert(fresh.id);
  TableSchema& stored = schemas_[fresh.id];
  stored = std::move(fresh);
  pending_.push_back(SchemaEvent{.position = {}, .schema = stored});
  return &stored;
}

absl::Status BinlogAssembler::AddRows(const RowsEvent& rows) {
  const TableMap& map = *rows.table;
  const TableId id{.database = map.database, .schema = map.database, .table = map.table};
  if (!options_.filter.Matches(id)) return absl::OkStatus();
  PHONY_ASSIGN_OR_RETURN(const TableSchema* schema, SchemaFor(map));
  const std::vector<uint16_t> keys = schema->KeyColumns();
  ++rows_events_;
  for (const RowChange& c : rows.rows) {
    ChangeEvent e;
    e.op = rows.kind == RowsEvent::Kind::kInsert   ? ChangeOp::kInsert
           : rows.kind == RowsEvent::Kind::kUpdate ? ChangeOp::kUpdate
                                                   : ChangeOp::kDelete;
    e.table = id;
    e.schema_version = schema->version;
    e.key_columns = keys;
    e.before = c.before;
    e.after = c.after;
    bool partial = !c.json_diffs.empty();
    for (const std::optional<Row>* img : {&e.before, &e.after}) {
      if (!*img) continue;
      for (const Value& v : **img) partial |= v.is_unchanged();
    }
    if (!c.json_diffs.empty()) {
      return absl::UnimplementedError("a partial JSON update of " + id.QualifiedName() +
                                      " (binlog_row_value_options=PARTIAL_JSON): its new value is a diff phony "
                                      "cannot apply; SET GLOBAL binlog_row_value_options = ''");
    }
    if (partial) e.flags |= kFlagPartialImage;
    pending_.push_back(std::move(e));
  }
  return absl::OkStatus();
}

absl::Status BinlogAssembler::Truncate(const Query& q) {
  size_t end = 0;
  FirstWord(q.text, &end);
  std::string_view rest = std::string_view(q.text).substr(end);
  const std::string_view before_word = rest;
  std::string word = TakeIdent(&rest);  // TRUNCATE [TABLE] name
  for (char& ch : word) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  if (word != "TABLE") rest = before_word;
  std::string first = TakeIdent(&rest);
  std::string db = q.database, table = first;
  if (!rest.empty() && rest[0] == '.') {
    rest.remove_prefix(1);
    db = first;
    table = TakeIdent(&rest);
  }
  if (table.empty() || db.empty()) return absl::OkStatus();
  const TableId id{.database = db, .schema = db, .table = table};
  if (!options_.filter.Matches(id)) return absl::OkStatus();
  ChangeEvent e;
  e.op = ChangeOp::kTruncate;
  e.table = id;
  e.truncated = {id};
  auto it = schemas_.find(id);
  e.schema_version = it == schemas_.end() ? 0 : it->second.version;
  pending_.push_back(std::move(e));
  return absl::OkStatus();
}

absl::Status BinlogAssembler::Commit(uint64_t end, int64_t commit_ts_us, uint64_t xid, std::vector<Event>* out) {
  if (gtid_) {
    if (gtids_.empty()) gtids_ = GtidSet(gtid_->flavor);
    PHONY_RETURN_IF_ERROR(gtids_.Add(*gtid_));
  }
  if (gtid_commit_ts_us_ != 0) commit_ts_us = gtid_commit_ts_us_;
  size_t changes = 0;
  for (const Event& e : pending_) changes += std::holds_alternative<ChangeEvent>(e);
  if (changes > 0) {
    auto at = [&](uint32_t index) { return EventPosition::MySql(file_index_, end, index, 0, gtid_); };
    out->push_back(TxBegin{.position = at(0), .xid = xid, .commit_ts_us = commit_ts_us});
    uint32_t index = 0;
    for (Event& e : pending_) {
      ++index;
      if (auto* c = std::get_if<ChangeEvent>(&e)) {
        c->position = at(index);
        c->commit_ts_us = commit_ts_us;
      } else if (auto* s = std::get_if<SchemaEvent>(&e)) {
        s->position = at(index);
      }
      out->push_back(std::move(e));
    }
    out->push_back(TxCommit{.position = at(std::numeric_limits<uint32_t>::max()), .xid = xid,
                            .commit_ts_us = commit_ts_us, .event_count = changes});
    ++transactions_;
  }
  next_file_ = file_;
  next_position_ = end;
  AbandonTransaction();
  return absl::OkStatus();
}

absl::Status BinlogAssembler::Add(const BinlogEvent& e, uint64_t end, std::vector<Event>* out) {
  const std::string where = " at " + file_ + ":" + std::to_string(e.offset);
  const int64_t header_ts_us = static_cast<int64_t>(e.header.timestamp) * 1000000;
  if (const auto* rot = std::get_if<Rotate>(&e.body)) {
    if (in_tx_) return absl::DataLossError("a ROTATE inside a transaction" + where);
    auto p = BinlogPosition::Make(rot->next_file, rot->position);
    if (!p.ok()) return absl::DataLossError("a ROTATE to a file name without an index" + where);
    file_ = rot->next_file;
    file_index_ = p->file_index();
    files_[file_index_] = file_;
    next_file_ = file_;
    next_position_ = rot->position;
    return absl::OkStatus();
  }
  if (std::holds_alternative<FormatDescription>(e.body)) {
    // A format description inside a transaction: the source restarted
    // without committing it; nothing of it was committed.
    if (in_tx_ && e.header.log_pos != 0) AbandonTransaction();
    return absl::OkStatus();
  }
  if (const auto* g = std::get_if<GtidEvent>(&e.body)) {
    if (in_tx_) return absl::DataLossError("a GTID event inside a transaction" + where);
    AbandonTransaction();
    if (!g->gtid.empty()) {
      auto parsed = Gtid::Parse(g->gtid);
      if (!parsed.ok()) return absl::DataLossError("an unreadable GTID" + where + ": " + g->gtid);
      gtid_ = *parsed;
    }
    gtid_commit_ts_us_ = static_cast<int64_t>(g->commit_ts_us);
    // A MariaDB GTID opens its event group (there is no BEGIN), unless the
    // group is one standalone statement.
    if (gtid_ && gtid_->flavor == GtidFlavor::kMariaDb && !g->standalone) in_tx_ = true;
    return absl::OkStatus();
  }
  if (const auto* set = std::get_if<GtidSetEvent>(&e.body)) {
    if (gtids_.empty() && !set->set.empty()) {
      const GtidFlavor flavor = set->set.find(':') != std::string::npos ? GtidFlavor::kMySql : GtidFlavor::kMariaDb;
      auto parsed = GtidSet::Parse(flavor, set->set);
      if (parsed.ok()) gtids_ = *parsed;
    }
    return absl::OkStatus();
  }
  if (const auto* q = std::get_if<Query>(&e.body)) {
    const std::string word = FirstWord(q->text);
    if (word == "BEGIN") {
      in_tx_ = true;
      return absl::OkStatus();
    }
    if (word == "COMMIT") return Commit(end, header_ts_us, 0, out);
    if (word == "ROLLBACK") {
      // Only non-transactional changes reach the binlog with a ROLLBACK;
      // what the transaction did to transactional tables is not in it.
      AbandonTransaction();
      next_file_ = file_;
      next_position_ = end;
      return absl::OkStatus();
    }
    if (word == "XA") {
      return absl::UnimplementedError("an XA transaction" + where +
                                      ": phony does not follow two-phase XA transactions in the binlog yet");
    }
    if (word == "SAVEPOINT") return absl::OkStatus();
    if (in_tx_) return absl::OkStatus();  // statements inside a row-based transaction change no rows here
    // A standalone statement: DDL. Table shapes come from the next table
    // maps; a TRUNCATE is a change of its own.
    if (word == "TRUNCATE") PHONY_RETURN_IF_ERROR(Truncate(*q));
    return Commit(end, header_ts_us, 0, out);
  }
  if (const auto* x = std::get_if<Xid>(&e.body)) {
    if (!in_tx_) return absl::DataLossError("an XID outside a transaction" + where);
    return Commit(end, header_ts_us, x->xid, out);
  }
  if (const auto* rows = std::get_if<RowsEvent>(&e.body)) {
    if (!in_tx_) return absl::DataLossError("rows outside a transaction" + where);
    return AddRows(*rows);
  }
  if (const auto* inc = std::get_if<Incident>(&e.body)) {
    return absl::DataLossError("the source wrote an INCIDENT event" + where + " (type " + std::to_string(inc->type) +
                               "): it lost changes a replica cannot see, so the mirror needs a new snapshot");
  }
  if (e.header.type == kXaPrepareEvent) {
    return absl::UnimplementedError("an XA PREPARE" + where + ": phony does not follow two-phase XA transactions yet");
  }
  return absl::OkStatus();  // table maps, heartbeats, checkpoints, skipped events
}

}  // namespace phony::mysql
