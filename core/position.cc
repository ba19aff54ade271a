#include "core/position.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdio>
#include <string>

#include "core/status_macros.h"
#include "core/value.h"

namespace phony {
namespace {

bool ParseU64(std::string_view s, uint64_t* out, int base = 10) {
  if (s.empty()) return false;
  const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), *out, base);
  return ec == std::errc() && ptr == s.data() + s.size();
}

bool ParseU32(std::string_view s, uint32_t* out) {
  uint64_t v;
  if (!ParseU64(s, &v) || v > UINT32_MAX) return false;
  *out = static_cast<uint32_t>(v);
  return true;
}

std::vector<std::string_view> Split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (true) {
    const size_t end = s.find(sep, start);
    out.push_back(s.substr(start, end == std::string_view::npos ? s.npos : end - start));
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  return out;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\n' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\n' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool IsTag(std::string_view s) {
  // MySQL 8.3 tags: [a-z_][a-z0-9_]{0,31}, case-insensitive, stored lowercase.
  if (s.empty() || s.size() > 32) return false;
  if (!(std::isalpha(static_cast<unsigned char>(s[0])) || s[0] == '_')) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
  });
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool ParseUuid16(std::string_view text, Uuid16* out) {
  std::string bytes;
  if (!ParseUuid(text, &bytes)) return false;
  std::copy(bytes.begin(), bytes.end(), out->begin());
  return true;
}

std::string UuidText(const Uuid16& u) {
  return FormatUuid(std::string_view(reinterpret_cast<const char*>(u.data()), u.size()));
}

}  // namespace

absl::StatusOr<Lsn> Lsn::Parse(std::string_view text) {
  const size_t slash = text.find('/');
  uint64_t hi, lo;
  if (slash == std::string_view::npos || !ParseU64(text.substr(0, slash), &hi, 16) ||
      !ParseU64(text.substr(slash + 1), &lo, 16) || hi > UINT32_MAX || lo > UINT32_MAX) {
    return absl::InvalidArgumentError("invalid LSN '" + std::string(text) +
                                      "': expected the form 16/B374D848");
  }
  return Lsn((hi << 32) | lo);
}

std::string Lsn::ToString() const {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%X/%X", static_cast<uint32_t>(value_ >> 32),
                static_cast<uint32_t>(value_));
  return buf;
}

absl::StatusOr<BinlogPosition> BinlogPosition::Make(std::string file, uint64_t offset) {
  const size_t dot = file.rfind('.');
  uint32_t index;
  if (dot == std::string::npos || !ParseU32(std::string_view(file).substr(dot + 1), &index)) {
    return absl::InvalidArgumentError("binlog file name '" + file +
                                      "' has no numeric extension (expected name.000042)");
  }
  BinlogPosition p;
  p.file_ = std::move(file);
  p.file_index_ = index;
  p.offset_ = offset;
  return p;
}

Gtid Gtid::MariaDb(uint32_t domain, uint32_t server_id, uint64_t sequence) {
  Gtid g;
  g.flavor = GtidFlavor::kMariaDb;
  g.domain = domain;
  g.server_id = server_id;
  g.sequence = sequence;
  return g;
}

Gtid Gtid::MySql(const Uuid16& uuid, uint64_t gno, std::string tag) {
  Gtid g;
  g.flavor = GtidFlavor::kMySql;
  g.uuid = uuid;
  g.gno = gno;
  g.tag = std::move(tag);
  return g;
}

absl::StatusOr<Gtid> Gtid::Parse(std::string_view text) {
  text = Trim(text);
  if (text.find(':') == std::string_view::npos) {
    const auto parts = Split(text, '-');
    uint32_t domain, server;
    uint64_t seq;
    if (parts.size() == 3 && ParseU32(parts[0], &domain) && ParseU32(parts[1], &server) &&
        ParseU64(parts[2], &seq)) {
      return MariaDb(domain, server, seq);
    }
    return absl::InvalidArgumentError("invalid MariaDB GTID '" + std::string(text) +
                                      "': expected domain-server-sequence");
  }
  const auto parts = Split(text, ':');
  Uuid16 uuid;
  uint64_t gno;
  if ((parts.size() == 2 || parts.size() == 3) && ParseUuid16(parts[0], &uuid) &&
      ParseU64(parts.back(), &gno) && gno > 0 && (parts.size() == 2 || IsTag(parts[1]))) {
    return MySql(uuid, gno, parts.size() == 3 ? Lower(parts[1]) : "");
  }
  return absl::InvalidArgumentError("invalid MySQL GTID '" + std::string(text) +
                                    "': expected uuid[:tag]:number");
}

std::string Gtid::ToString() const {
  if (flavor == GtidFlavor::kMariaDb) {
    return std::to_string(domain) + "-" + std::to_string(server_id) + "-" +
           std::to_string(sequence);
  }
  return UuidText(uuid) + (tag.empty() ? "" : ":" + tag) + ":" + std::to_string(gno);
}

absl::Status GtidSet::AddInterval(const Uuid16& uuid, const std::string& tag, uint64_t first,
                                  uint64_t last) {
  if (flavor_ != GtidFlavor::kMySql) {
    return absl::InvalidArgumentError("MySQL GTID interval added to a MariaDB GTID set");
  }
  if (first == 0 || last < first) {
    return absl::InvalidArgumentError("invalid GTID interval " + std::to_string(first) + "-" +
                                      std::to_string(last));
  }
  Intervals& iv = mysql_[{uuid, tag}];
  iv.emplace_back(first, last);
  std::sort(iv.begin(), iv.end());
  Intervals merged;
  for (const auto& [a, b] : iv) {
    if (!merged.empty() && a <= merged.back().second + 1) {
      merged.back().second = std::max(merged.back().second, b);
    } else {
      merged.emplace_back(a, b);
    }
  }
  iv = std::move(merged);
  return absl::OkStatus();
}

absl::Status GtidSet::Add(const Gtid& gtid) {
  if (gtid.flavor != flavor_) {
    return absl::InvalidArgumentError("GTID " + gtid.ToString() +
                                      " does not match the flavor of the set");
  }
  if (flavor_ == GtidFlavor::kMariaDb) {
    MariaDbEntry& e = mariadb_[gtid.domain];
    if (gtid.sequence >= e.sequence) e = MariaDbEntry{gtid.server_id, gtid.sequence};
    return absl::OkStatus();
  }
  return AddInterval(gtid.uuid, gtid.tag, gtid.gno, gtid.gno);
}

bool GtidSet::Contains(const Gtid& gtid) const {
  if (gtid.flavor != flavor_) return false;
  if (flavor_ == GtidFlavor::kMariaDb) {
    auto it = mariadb_.find(gtid.domain);
    return it != mariadb_.end() && gtid.sequence <= it->second.sequence;
  }
  auto it = mysql_.find({gtid.uuid, gtid.tag});
  if (it == mysql_.end()) return false;
  for (const auto& [a, b] : it->second) {
    if (gtid.gno >= a && gtid.gno <= b) return true;
  }
  return false;
}

absl::StatusOr<GtidSet> GtidSet::Parse(GtidFlavor flavor, std::string_view text) {
  GtidSet set(flavor);
  text = Trim(text);
  if (text.empty()) return set;
  for (std::string_view item : Split(text, ',')) {
    item = Trim(item);
    if (flavor == GtidFlavor::kMariaDb) {
      auto g = Gtid::Parse(item);
      if (!g.ok() || g->flavor != GtidFlavor::kMariaDb) {
        return absl::InvalidArgumentError("invalid MariaDB GTID set element '" +
                                          std::string(item) + "'");
      }
      if (set.mariadb_.count(g->domain)) {
        return absl::InvalidArgumentError("MariaDB GTID set names domain " +
                                          std::to_string(g->domain) + " twice");
      }
      PHONY_RETURN_IF_ERROR(set.Add(*g));
      continue;
    }
    const auto parts = Split(item, ':');
    Uuid16 uuid;
    if (parts.size() < 2 || !ParseUuid16(Trim(parts[0]), &uuid)) {
      return absl::InvalidArgumentError("invalid MySQL GTID set element '" + std::string(item) +
                                        "': expected uuid[:tag]:interval[:interval...]");
    }
    std::string tag;
    for (size_t i = 1; i < parts.size(); ++i) {
      std::string_view p = Trim(parts[i]);
      if (IsTag(p)) {
        tag = Lower(p);
        continue;
      }
      const size_t dash = p.find('-');
      uint64_t first = 0, last = 0;
      bool ok = ParseU64(p.substr(0, dash), &first);
      if (ok && dash == std::string_view::npos) last = first;
      if (ok && dash != std::string_view::npos) ok = ParseU64(p.substr(dash + 1), &last);
      if (!ok) {
        return absl::InvalidArgumentError("invalid GTID interval '" + std::string(p) + "' in '" +
                                          std::string(item) + "'");
      }
      PHONY_RETURN_IF_ERROR(set.AddInterval(uuid, tag, first, last));
    }
  }
  return set;
}

std::string GtidSet::ToString() const {
  std::string out;
  if (flavor_ == GtidFlavor::kMariaDb) {
    for (const auto& [domain, e] : mariadb_) {
      if (!out.empty()) out += ",";
      out += Gtid::MariaDb(domain, e.server_id, e.sequence).ToString();
    }
    return out;
  }
  // Sources sorted by uuid then tag; untagged intervals first, as MySQL prints.
  Uuid16 last_uuid{};
  bool first_source = true;
  for (const auto& [key, intervals] : mysql_) {
    const bool same_uuid = !first_source && key.first == last_uuid;
    if (!same_uuid) {
      if (!first_source) out += ",";
      out += UuidText(key.first);
    }
    if (!key.second.empty()) out += ":" + key.second;
    for (const auto& [a, b] : intervals) {
      out += ":" + std::to_string(a);
      if (b != a) out += "-" + std::to_string(b);
    }
    last_uuid = key.first;
    first_source = false;
  }
  return out;
}

EventPosition EventPosition::Postgres(Lsn commit_end, uint64_t seq) {
  EventPosition p;
  p.kind_ = Kind::kPostgres;
  p.a_ = commit_end.value();
  p.b_ = seq;
  return p;
}

EventPosition EventPosition::MySql(uint32_t file_index, uint64_t commit_offset,
                                   uint32_t event_index, uint32_t row_index,
                                   std::optional<Gtid> gtid) {
  EventPosition p;
  p.kind_ = Kind::kMySql;
  p.a_ = file_index;
  p.b_ = commit_offset;
  p.c_ = event_index;
  p.d_ = row_index;
  p.gtid_ = std::move(gtid);
  return p;
}

EventPosition EventPosition::Snapshot(std::string table, uint64_t chunk, uint64_t row) {
  EventPosition p;
  p.kind_ = Kind::kSnapshot;
  p.table_ = std::move(table);
  p.a_ = chunk;
  p.b_ = row;
  return p;
}

std::string EventPosition::ToString() const {
  switch (kind_) {
    case Kind::kNone:
      return "none";
    case Kind::kPostgres:
      return "pg:" + commit_lsn().ToString() + "#" + std::to_string(b_);
    case Kind::kMySql:
      return "mysql:" + std::to_string(a_) + ":" + std::to_string(b_) + "#" +
             std::to_string(c_) + "." + std::to_string(d_) +
             (gtid_ ? " gtid " + gtid_->ToString() : "");
    case Kind::kSnapshot:
      return "snapshot:" + table_ + ":" + std::to_string(a_) + "#" + std::to_string(b_);
  }
  return "invalid";
}

}  // namespace phony
