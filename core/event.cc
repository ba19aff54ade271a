#include "core/event.h"

#include <string>

namespace phony {

const char* ChangeOpName(ChangeOp op) {
  switch (op) {
    case ChangeOp::kInsert: return "insert";
    case ChangeOp::kUpdate: return "update";
    case ChangeOp::kDelete: return "delete";
    case ChangeOp::kTruncate: return "truncate";
    case ChangeOp::kRead: return "read";
  }
  return "invalid";
}

const EventPosition& PositionOf(const Event& event) {
  return std::visit([](const auto& e) -> const EventPosition& { return e.position; }, event);
}

static size_t RowSize(const std::optional<Row>& row) {
  if (!row) return 0;
  size_t n = sizeof(Row);
  for (const Value& v : *row) n += v.ApproximateSize();
  return n;
}

size_t ApproximateSize(const Event& event) {
  if (const auto* c = std::get_if<ChangeEvent>(&event)) {
    return sizeof(Event) + RowSize(c->before) + RowSize(c->after) +
           c->table.database.size() + c->table.schema.size() + c->table.table.size();
  }
  if (const auto* s = std::get_if<SchemaEvent>(&event)) {
    size_t n = sizeof(Event);
    for (const auto& col : s->schema.columns) n += sizeof(col) + col.name.size() + col.type_name.size();
    return n;
  }
  return sizeof(Event);
}

std::string DescribeEvent(const Event& event) {
  struct Visitor {
    std::string operator()(const TxBegin& b) const {
      return "begin xid " + std::to_string(b.xid) + " at " + b.position.ToString();
    }
    std::string operator()(const TxCommit& c) const {
      return "commit xid " + std::to_string(c.xid) + " (" + std::to_string(c.event_count) +
             " changes) at " + c.position.ToString();
    }
    std::string operator()(const ChangeEvent& c) const {
      return std::string(ChangeOpName(c.op)) + " " + c.table.QualifiedName() + " v" +
             std::to_string(c.schema_version) + " at " + c.position.ToString();
    }
    std::string operator()(const SchemaEvent& s) const {
      return "schema " + s.schema.id.QualifiedName() + " v" + std::to_string(s.schema.version) +
             " at " + s.position.ToString();
    }
  };
  return std::visit(Visitor{}, event);
}

}  // namespace phony
