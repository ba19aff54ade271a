#include "src/snapshot/pg_catalog.h"

#include <algorithm>
#include <cstdlib>
#include <functional>
#include <map>
#include <set>

#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "core/status_macros.h"
#include "src/capture/postgres/pg_values.h"

namespace phony::snapshot {

namespace {

uint32_t ToOid(const std::string& s) { return static_cast<uint32_t>(std::strtoul(s.c_str(), nullptr, 10)); }

std::string Quote(const std::string& ident) { return QuoteIdent(ident); }

std::string Literal(const std::string& text) {
  std::string out = "'";
  for (char c : text) {
    if (c == '\'') out.push_back('\'');
    out.push_back(c);
  }
  return out + "'";
}


std::string OidArray(const std::vector<uint32_t>& oids) {
  std::string out = "{";
  for (size_t i = 0; i < oids.size(); ++i) out += (i ? "," : "") + std::to_string(oids[i]);
  return out + "}";
}

// Collects the user-defined types (and the extensions that own types) the
// tables' columns use, dependencies first.
class TypeCollector {
 public:
  explicit TypeCollector(PgSession* s) : s_(s) {}

  absl::Status Add(uint32_t oid) {
    if (oid < 16384 || seen_.count(oid)) return absl::OkStatus();
    seen_.insert(oid);
    PHONY_ASSIGN_OR_RETURN(
        PgResult r,
        s_->Query("SELECT n.nspname, t.typname, t.typtype, t.typbasetype, format_type(t.typbasetype, t.typtypmod), "
                  "t.typnotnull, pg_get_expr(t.typdefaultbin, 0), t.typelem, t.typrelid, t.typcategory, "
                  "(SELECT e.extname FROM pg_depend d JOIN pg_extension e ON e.oid = d.refobjid WHERE "
                  "d.classid = 'pg_type'::regclass AND d.objid = t.oid AND d.refclassid = "
                  "'pg_extension'::regclass AND d.deptype = 'e'), format_type(t.oid, NULL) "
                  "FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace WHERE t.oid = $1::oid",
                  "reading type " + std::to_string(oid), {std::to_string(oid)}));
    if (PQntuples(r.get()) == 0) return absl::OkStatus();
    PGresult* t = r.get();
    const std::string qualified = Text(t, 0, 11);
    const std::string extension = PQgetisnull(t, 0, 10) ? "" : Text(t, 0, 10);
    const char typtype = Text(t, 0, 2)[0];
    const uint32_t elem = ToOid(Text(t, 0, 7));
    if (!extension.empty()) {
      if (extensions_.insert(extension).second) {
        out_.push_back({"extension " + extension, "CREATE EXTENSION IF NOT EXISTS " + Quote(extension)});
      }
      return absl::OkStatus();
    }
    if (Text(t, 0, 9) == "A" && elem != 0) return Add(elem);  // an array: its element type
    const std::string create = "DO $phony$ BEGIN IF to_regtype(" + Literal(qualified) +
                               ") IS NULL THEN CREATE SCHEMA IF NOT EXISTS " + Quote(Text(t, 0, 0)) + "; ";
    const std::string end = " END IF; END $phony$";
    if (typtype == 'e') {
      PHONY_ASSIGN_OR_RETURN(PgResult labels, s_->Query("SELECT enumlabel FROM pg_enum WHERE enumtypid = $1::oid "
                                                        "ORDER BY enumsortorder",
                                                        "reading enum " + qualified, {std::to_string(oid)}));
      std::vector<std::string> l;
      for (int i = 0; i < PQntuples(labels.get()); ++i) l.push_back(Literal(Text(labels.get(), i, 0)));
      // A type that exists already gets the labels it lacks.
      std::string ddl = create + "CREATE TYPE " + qualified + " AS ENUM (" + absl::StrJoin(l, ", ") + ");" + end;
      for (const auto& label : l) ddl += "; ALTER TYPE " + qualified + " ADD VALUE IF NOT EXISTS " + label;
      out_.push_back({qualified, ddl});
      return absl::OkStatus();
    }
    if (typtype == 'd') {
      PHONY_RETURN_IF_ERROR(Add(ToOid(Text(t, 0, 3))));
      std::string ddl = create + "CREATE DOMAIN " + qualified + " AS " + Text(t, 0, 4);
      if (!PQgetisnull(t, 0, 6)) ddl += " DEFAULT " + Text(t, 0, 6);
      if (Text(t, 0, 5) == "t") ddl += " NOT NULL";
      PHONY_ASSIGN_OR_RETURN(PgResult checks, s_->Query("SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
                                                        "WHERE contypid = $1::oid AND contype = 'c' ORDER BY conname",
                                                        "reading domain " + qualified, {std::to_string(oid)}));
      for (int i = 0; i < PQntuples(checks.get()); ++i) {
        ddl += " CONSTRAINT " + Quote(Text(checks.get(), i, 0)) + " " + Text(checks.get(), i, 1);
      }
      out_.push_back({qualified, ddl + ";" + end});
      return absl::OkStatus();
    }
    if (typtype == 'c') {
      PHONY_ASSIGN_OR_RETURN(PgResult attrs,
                             s_->Query("SELECT attname, atttypid, format_type(atttypid, atttypmod) FROM pg_attribute "
                                       "WHERE attrelid = $1::oid AND attnum > 0 AND NOT attisdropped ORDER BY attnum",
                                       "reading type " + qualified, {Text(t, 0, 8)}));
      std::vector<std::string> defs;
      for (int i = 0; i < PQntuples(attrs.get()); ++i) {
        PHONY_RETURN_IF_ERROR(Add(ToOid(Text(attrs.get(), i, 1))));
        defs.push_back(Quote(Text(attrs.get(), i, 0)) + " " + Text(attrs.get(), i, 2));
      }
      out_.push_back({qualified, create + "CREATE TYPE " + qualified + " AS (" + absl::StrJoin(defs, ", ") + ");" + end});
      return absl::OkStatus();
    }
    if (typtype == 'r') {
      PHONY_ASSIGN_OR_RETURN(PgResult range, s_->Query("SELECT rngsubtype, format_type(rngsubtype, NULL) FROM pg_range "
                                                       "WHERE rngtypid = $1::oid",
                                                       "reading range type " + qualified, {std::to_string(oid)}));
      if (PQntuples(range.get()) == 1) {
        PHONY_RETURN_IF_ERROR(Add(ToOid(Text(range.get(), 0, 0))));
        out_.push_back({qualified, create + "CREATE TYPE " + qualified + " AS RANGE (subtype = " +
                                       Text(range.get(), 0, 1) + ");" + end});
        return absl::OkStatus();
      }
    }
    if (typtype == 'm') return absl::OkStatus();  // a multirange comes with its range type
    return absl::FailedPreconditionError("column type " + qualified +
                                         " is neither an enum, a domain, a composite or range type, nor an "
                                         "extension's: staging cannot recreate it");
  }

  std::vector<SourceObject> Take() { return std::move(out_); }

 private:
  PgSession* s_;
  std::set<uint32_t> seen_;
  std::set<std::string> extensions_;
  std::vector<SourceObject> out_;
};

}  // namespace

std::vector<size_t> ForeignKeyOrder(const std::vector<TableSchema>& tables) {
  std::map<TableId, size_t> index;
  for (size_t i = 0; i < tables.size(); ++i) index[tables[i].id] = i;
  std::vector<int> state(tables.size(), 0);  // 0 new, 1 visiting, 2 done
  std::vector<size_t> out;
  std::function<void(size_t)> visit = [&](size_t i) {
    if (state[i] != 0) return;  // done, or a cycle: leave it where it is
    state[i] = 1;
    for (const ForeignKey& fk : tables[i].foreign_keys) {
      auto it = index.find(fk.referenced);
      if (it != index.end() && it->second != i) visit(it->second);
    }
    state[i] = 2;
    out.push_back(i);
  };
  for (size_t i = 0; i < tables.size(); ++i) visit(i);
  return out;
}

absl::StatusOr<SourceCatalog> ReadSourceCatalog(PgSession* s, const TableFilter& filter,
                                                const std::string& database) {
  PHONY_ASSIGN_OR_RETURN(
      PgResult rels,
      s->Query("SELECT c.oid, n.nspname, c.relname, c.relkind, pg_relation_size(c.oid) / 8192, greatest(c.reltuples, 0), "
               "pg_table_size(c.oid), c.relreplident FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
               "WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition AND c.relpersistence <> 't' "
               "AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'phony', 'phony_snapshot') "
               "AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp%' ORDER BY n.nspname, c.relname",
               "listing the source's tables"));
  std::vector<SourceTable> tables;
  std::map<uint32_t, size_t> by_oid;
  std::vector<uint32_t> oids;
  for (int i = 0; i < PQntuples(rels.get()); ++i) {
    SourceTable t;
    t.oid = ToOid(Text(rels.get(), i, 0));
    t.schema.id = TableId{database, Text(rels.get(), i, 1), Text(rels.get(), i, 2)};
    if (!filter.Matches(t.schema.id)) continue;
    t.partitioned = Text(rels.get(), i, 3) == "p";
    t.pages = std::atoll(Text(rels.get(), i, 4).c_str());
    t.estimated_rows = std::strtod(Text(rels.get(), i, 5).c_str(), nullptr);
    t.bytes = std::atoll(Text(rels.get(), i, 6).c_str());
    const std::string ident = Text(rels.get(), i, 7);
    t.schema.replica_identity = ident == "f"   ? ReplicaIdentity::kFull
                                : ident == "n" ? ReplicaIdentity::kNothing
                                : ident == "i" ? ReplicaIdentity::kIndex
                                               : ReplicaIdentity::kDefault;
    t.schema.version = 1;
    by_oid[t.oid] = tables.size();
    oids.push_back(t.oid);
    tables.push_back(std::move(t));
  }
  SourceCatalog out;
  if (tables.empty()) return out;
  const std::string oid_array = OidArray(oids);

  pg::PgTypeCache types([s](uint32_t oid) -> absl::StatusOr<pg::PgTypeInfo> {
    PHONY_ASSIGN_OR_RETURN(PgResult r, s->Query("SELECT typtype, typbasetype, typelem, typname, typcategory FROM "
                                                "pg_type WHERE oid = $1::oid",
                                                "reading a type", {std::to_string(oid)}));
    pg::PgTypeInfo info;
    if (PQntuples(r.get()) == 0) return info;
    info.name = Text(r.get(), 0, 3);
    const std::string t = Text(r.get(), 0, 0);
    if (t == "e") info.kind = pg::PgTypeInfo::Kind::kEnum;
    if (t == "d") info.kind = pg::PgTypeInfo::Kind::kDomain, info.target = ToOid(Text(r.get(), 0, 1));
    if (t == "c") info.kind = pg::PgTypeInfo::Kind::kComposite;
    if (t == "r") info.kind = pg::PgTypeInfo::Kind::kRange;
    if (t == "m") info.kind = pg::PgTypeInfo::Kind::kMultirange;
    if (Text(r.get(), 0, 4) == "A") info.kind = pg::PgTypeInfo::Kind::kArray, info.target = ToOid(Text(r.get(), 0, 2));
    return info;
  });
  TypeCollector collector(s);

  PHONY_ASSIGN_OR_RETURN(
      PgResult cols,
      s->Query("SELECT a.attrelid, a.attname, a.atttypid, a.atttypmod, format_type(a.atttypid, a.atttypmod), "
               "a.attnotnull, pg_get_expr(d.adbin, d.adrelid), a.attidentity, a.attgenerated, "
               "CASE WHEN a.attidentity <> '' THEN pg_get_serial_sequence(a.attrelid::regclass::text, a.attname) END, "
               "CASE WHEN a.attidentity <> '' THEN (SELECT relname FROM pg_class WHERE oid = "
               "pg_get_serial_sequence(a.attrelid::regclass::text, a.attname)::regclass) END "
               "FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum "
               "WHERE a.attrelid = ANY($1::oid[]) AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attrelid, a.attnum",
               "reading the source's columns", {oid_array}));
  for (int i = 0; i < PQntuples(cols.get()); ++i) {
    SourceTable& t = tables[by_oid.at(ToOid(Text(cols.get(), i, 0)))];
    ColumnDef col;
    col.name = Text(cols.get(), i, 1);
    col.type_id = ToOid(Text(cols.get(), i, 2));
    col.type_modifier = std::atoi(Text(cols.get(), i, 3).c_str());
    col.type_name = Text(cols.get(), i, 4);
    PHONY_ASSIGN_OR_RETURN(const uint32_t effective, types.Effective(col.type_id));
    col.kind = pg::KindForType(effective);
    col.nullable = Text(cols.get(), i, 5) != "t";
    SourceColumn sc;
    sc.name = col.name;
    sc.type_sql = col.type_name;
    sc.not_null = !col.nullable;
    const std::string generated = Text(cols.get(), i, 8);
    const std::string identity = Text(cols.get(), i, 7);
    if (!PQgetisnull(cols.get(), i, 6)) {
      (generated == "s" ? sc.generated : sc.default_expr) = Text(cols.get(), i, 6);
      col.default_expr = Text(cols.get(), i, 6);
    }
    if (!identity.empty()) {
      sc.identity = identity[0];
      if (!PQgetisnull(cols.get(), i, 9)) sc.identity_sequence = Text(cols.get(), i, 9);
      if (!PQgetisnull(cols.get(), i, 10)) sc.identity_sequence_name = Text(cols.get(), i, 10);
    }
    PHONY_RETURN_IF_ERROR(collector.Add(col.type_id));
    if (generated.empty()) {
      t.schema.columns.push_back(std::move(col));
      t.copy_oids.push_back(effective);
    }
    t.columns.push_back(std::move(sc));
  }

  // Primary keys (or, without one, a replica identity index: capture keys
  // rows by it, and so do staging and the applier).
  PHONY_ASSIGN_OR_RETURN(
      PgResult keys,
      s->Query("SELECT i.indrelid, i.indisprimary, (SELECT string_agg(a.attname, chr(1) ORDER BY k.ord) FROM "
               "unnest(i.indkey::int2[]) WITH ORDINALITY k(attnum, ord) JOIN pg_attribute a ON a.attrelid = "
               "i.indrelid AND a.attnum = k.attnum), coalesce(con.conname, '') FROM pg_index i LEFT JOIN "
               "pg_constraint con ON con.conindid = i.indexrelid AND con.contype = 'p' "
               "WHERE i.indrelid = ANY($1::oid[]) AND (i.indisprimary OR i.indisreplident) ORDER BY i.indisprimary",
               "reading the source's keys", {oid_array}));
  for (int i = 0; i < PQntuples(keys.get()); ++i) {
    SourceTable& t = tables[by_oid.at(ToOid(Text(keys.get(), i, 0)))];
    // Under REPLICA IDENTITY USING INDEX capture keys rows by that index.
    const bool primary = Text(keys.get(), i, 1) == "t";
    if (primary == (t.schema.replica_identity == ReplicaIdentity::kIndex)) continue;
    t.primary_key = absl::StrSplit(Text(keys.get(), i, 2), '\x01');
    t.primary_key_name = Text(keys.get(), i, 3);
    for (ColumnDef& c : t.schema.columns) c.key_ordinal = 0;
    for (size_t k = 0; k < t.primary_key.size(); ++k) {
      const int c = t.schema.ColumnIndex(t.primary_key[k]);
      if (c >= 0) t.schema.columns[static_cast<size_t>(c)].key_ordinal = static_cast<uint16_t>(k + 1);
    }
  }

  // Secondary indexes: a unique one that backs a constraint is recreated as
  // that constraint; an index behind the primary key is the key itself.
  PHONY_ASSIGN_OR_RETURN(
      PgResult idx,
      s->Query("SELECT i.indrelid, ci.relname, pg_get_indexdef(i.indexrelid), i.indisunique, "
               "coalesce(con.conname, ''), coalesce(pg_get_constraintdef(con.oid), ''), i.indisprimary, "
               "i.indisreplident FROM pg_index i JOIN pg_class ci ON ci.oid = i.indexrelid "
               "LEFT JOIN pg_constraint con ON con.conindid = i.indexrelid AND con.contype IN ('p', 'u', 'x') "
               "AND con.conrelid = i.indrelid WHERE i.indrelid = ANY($1::oid[]) ORDER BY ci.relname",
               "reading the source's indexes", {oid_array}));
  for (int i = 0; i < PQntuples(idx.get()); ++i) {
    SourceTable& t = tables[by_oid.at(ToOid(Text(idx.get(), i, 0)))];
    // The key staging is given (the source's primary key, or its replica
    // identity index, which then replaces the primary key in staging).
    if (Text(idx.get(), i, 6) == "t") continue;
    if (Text(idx.get(), i, 7) == "t" && t.schema.replica_identity == ReplicaIdentity::kIndex) continue;
    const std::string name = Text(idx.get(), i, 1);
    SourceIndex index;
    index.name = name;
    index.unique = Text(idx.get(), i, 3) == "t" || !Text(idx.get(), i, 4).empty();
    const std::string table = Quote(t.schema.id.schema) + "." + Quote(t.schema.id.table);
    std::string def = Text(idx.get(), i, 2);  // CREATE [UNIQUE] INDEX name ON …
    if (const size_t at = def.find("INDEX "); at != std::string::npos) def.insert(at + 6, "IF NOT EXISTS ");
    if (!Text(idx.get(), i, 4).empty()) {
      index.clause = "ADD CONSTRAINT " + Quote(Text(idx.get(), i, 4)) + " " + Text(idx.get(), i, 5);
    }
    index.definition = index.clause.empty() ? def : "ALTER TABLE " + table + " " + index.clause;
    t.indexes.push_back(std::move(index));
  }

  // Check and foreign-key constraints.
  PHONY_ASSIGN_OR_RETURN(
      PgResult cons,
      s->Query("SELECT c.conrelid, c.conname, c.contype, pg_get_constraintdef(c.oid), fn.nspname, fc.relname, "
               "(SELECT string_agg(a.attname, chr(1) ORDER BY k.ord) FROM unnest(c.conkey) WITH ORDINALITY "
               "k(n, ord) JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.n), "
               "(SELECT string_agg(a.attname, chr(1) ORDER BY k.ord) FROM unnest(c.confkey) WITH ORDINALITY "
               "k(n, ord) JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.n), "
               "c.confdeltype, c.confupdtype FROM pg_constraint c LEFT JOIN pg_class fc ON fc.oid = c.confrelid "
               "LEFT JOIN pg_namespace fn ON fn.oid = fc.relnamespace "
               "WHERE c.conrelid = ANY($1::oid[]) AND c.contype IN ('c', 'f') AND c.conislocal ORDER BY c.conname",
               "reading the source's constraints", {oid_array}));
  for (int i = 0; i < PQntuples(cons.get()); ++i) {
    SourceTable& t = tables[by_oid.at(ToOid(Text(cons.get(), i, 0)))];
    SourceIndex c;
    c.name = Text(cons.get(), i, 1);
    c.clause = "ADD CONSTRAINT " + Quote(c.name) + " " + Text(cons.get(), i, 3);
    c.definition = "ALTER TABLE " + Quote(t.schema.id.schema) + "." + Quote(t.schema.id.table) + " " + c.clause;
    if (Text(cons.get(), i, 2) == "c") {
      if (!PQgetisnull(cons.get(), i, 6)) c.columns = absl::StrSplit(Text(cons.get(), i, 6), '\x01');
      t.checks.push_back(std::move(c));
      continue;
    }
    ForeignKey fk;
    fk.name = c.name;
    fk.columns = absl::StrSplit(Text(cons.get(), i, 6), '\x01');
    fk.referenced = TableId{database, Text(cons.get(), i, 4), Text(cons.get(), i, 5)};
    fk.referenced_columns = absl::StrSplit(Text(cons.get(), i, 7), '\x01');
    fk.on_delete = FkActionFromPgCode(Text(cons.get(), i, 8));
    fk.on_update = FkActionFromPgCode(Text(cons.get(), i, 9));
    t.schema.foreign_keys.push_back(std::move(fk));
    t.foreign_keys.push_back(std::move(c));
  }

  // Sequences the tables' defaults draw from, or that their columns own.
  PHONY_ASSIGN_OR_RETURN(
      PgResult seqs,
      s->Query("SELECT DISTINCT c.oid::regclass::text, format_type(q.seqtypid, NULL), q.seqstart, q.seqincrement, "
               "q.seqmin, q.seqmax, q.seqcache, q.seqcycle, n.nspname FROM pg_sequence q JOIN pg_class c ON c.oid = "
               "q.seqrelid JOIN pg_namespace n ON n.oid = c.relnamespace WHERE q.seqrelid IN ("
               "SELECT d.refobjid FROM pg_depend d JOIN pg_attrdef ad ON ad.oid = d.objid WHERE d.classid = "
               "'pg_attrdef'::regclass AND d.refclassid = 'pg_class'::regclass AND ad.adrelid = ANY($1::oid[]) "
               "UNION SELECT d.objid FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.refclassid = "
               "'pg_class'::regclass AND d.refobjid = ANY($1::oid[]) AND d.deptype = 'a') ORDER BY 1",
               "reading the source's sequences", {oid_array}));
  for (int i = 0; i < PQntuples(seqs.get()); ++i) {
    PGresult* q = seqs.get();
    SourceSequence seq;
    seq.name = Text(q, i, 0);
    seq.ddl = "CREATE SCHEMA IF NOT EXISTS " + Quote(Text(q, i, 8)) + "; CREATE SEQUENCE IF NOT EXISTS " + seq.name +
              " AS " + Text(q, i, 1) + " INCREMENT BY " + Text(q, i, 3) + " MINVALUE " + Text(q, i, 4) +
              " MAXVALUE " + Text(q, i, 5) + " START WITH " + Text(q, i, 2) + " CACHE " + Text(q, i, 6) +
              (Text(q, i, 7) == "t" ? " CYCLE" : " NO CYCLE");
    out.sequences.push_back(std::move(seq));
  }

  std::vector<TableSchema> schemas;
  for (const auto& t : tables) schemas.push_back(t.schema);
  for (size_t i : ForeignKeyOrder(schemas)) out.tables.push_back(std::move(tables[i]));
  out.types = collector.Take();
  return out;
}

}  // namespace phony::snapshot
