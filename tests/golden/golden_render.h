// Renders assembled events as the readable text of golden `.expected` files:
// one line per event, stable across runs (no LSNs, xids or commit times —
// only their order), with every value's kind and content.
#pragma once

#include <string>
#include <vector>

#include "core/event.h"

namespace phony::testing {

inline std::string RenderGolden(const std::vector<Event>& events) {
  std::string out;
  for (const Event& e : events) {
    if (std::holds_alternative<TxBegin>(e)) {
      out += "BEGIN\n";
    } else if (const auto* c = std::get_if<TxCommit>(&e)) {
      out += "COMMIT " + std::to_string(c->event_count) + " changes\n";
    } else if (const auto* s = std::get_if<SchemaEvent>(&e)) {
      out += "SCHEMA " + s->schema.id.QualifiedName() + " v" + std::to_string(s->schema.version) +
             " identity=" + std::to_string(static_cast<int>(s->schema.replica_identity)) + ":";
      for (const auto& col : s->schema.columns) {
        out += " " + col.name + "[" + col.type_name + (col.is_key() ? ",key" : "") + "]";
      }
      out += "\n";
    } else {
      const auto& ch = std::get<ChangeEvent>(e);
      out += std::string(ChangeOpName(ch.op)) + " " + ch.table.QualifiedName() + " v" +
             std::to_string(ch.schema_version);
      for (const auto& t : ch.truncated) out += " " + t.QualifiedName();
      if (ch.flags) out += " flags=" + std::to_string(ch.flags);
      for (const auto* row : {&ch.before, &ch.after}) {
        if (!*row) continue;
        out += row == &ch.before ? " before:" : " after:";
        for (const Value& v : **row) out += " " + v.DebugString();
      }
      out += "\n";
    }
  }
  return out;
}

}  // namespace phony::testing
