#include "src/capture/mysql/binlog_decoder.h"

#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>

#include "core/byte_reader.h"
#include "core/crc32.h"
#include "core/status_macros.h"

namespace phony::mysql {
namespace {

// Events bigger than this are refused before anything is allocated for
// them (MySQL's max_allowed_packet tops out at 1 GiB).
constexpr uint64_t kMaxEventBytes = uint64_t{1} << 30;
// A transaction payload's inner events, uncompressed.
constexpr uint64_t kMaxPayloadBytes = uint64_t{4} << 30;

std::string At(uint64_t offset) { return " at offset " + std::to_string(offset); }

absl::Status Malformed(uint8_t type, uint64_t offset, std::string_view why) {
  return absl::DataLossError(std::string(EventTypeName(type)) + " event" + At(offset) + ": " + std::string(why));
}

// Prefixes a body-level error with the event it is in.
absl::Status InEvent(uint8_t type, uint64_t offset, const absl::Status& s) {
  if (s.ok()) return s;
  return absl::Status(s.code(), std::string(EventTypeName(type)) + " event" + At(offset) + ": " + std::string(s.message()));
}

std::string FormatSid(std::string_view sid) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < sid.size(); ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out.push_back('-');
    const auto b = static_cast<uint8_t>(sid[i]);
    out.push_back(kHex[b >> 4]);
    out.push_back(kHex[b & 15]);
  }
  return out;
}

bool VersionAtLeast(const std::string& version, int major, int minor, int patch) {
  int v[3] = {0, 0, 0};
  if (std::sscanf(version.c_str(), "%d.%d.%d", &v[0], &v[1], &v[2]) < 1) return false;
  if (v[0] != major) return v[0] > major;
  if (v[1] != minor) return v[1] > minor;
  return v[2] >= patch;
}

absl::StatusOr<uint64_t> ReadTableId(ByteReader& r, size_t bytes) {
  if (bytes == 4) return r.ReadU32LE();
  return r.ReadU48LE();
}

// MariaDB's compressed event bodies (log_bin_compress): one header byte
// 0x8N, N bytes of big-endian uncompressed length, then zlib data. The
// output grows as inflate produces it, so a damaged length cannot make the
// decoder allocate what the data does not hold.
absl::StatusOr<std::string> MariaUncompress(ByteReader& r) {
  PHONY_ASSIGN_OR_RETURN(uint8_t h, r.ReadU8());
  const int lenlen = h & 0x07;
  if ((h & 0x80) == 0 || lenlen < 1 || lenlen > 4) return r.Error("bad compressed-body header byte");
  uint64_t len = 0;
  for (int i = 0; i < lenlen; ++i) {
    PHONY_ASSIGN_OR_RETURN(uint8_t b, r.ReadU8());
    len = (len << 8) | b;
  }
  PHONY_RETURN_IF_ERROR(r.CheckCount(len, kMaxEventBytes, "uncompressed body length"));
  const std::string_view in = r.Peek();
  PHONY_RETURN_IF_ERROR(r.Skip(in.size()));
  std::string out;
  z_stream z{};
  if (inflateInit(&z) != Z_OK) return absl::InternalError("zlib: inflateInit failed");
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  int rc = Z_OK;
  while (rc == Z_OK) {
    const size_t have = out.size();
    const size_t chunk = std::min<uint64_t>(std::max<size_t>(have, 4096), len + 1 - have);
    if (chunk == 0) break;
    out.resize(have + chunk);
    z.next_out = reinterpret_cast<Bytef*>(out.data() + have);
    z.avail_out = static_cast<uInt>(chunk);
    rc = inflate(&z, Z_NO_FLUSH);
    out.resize(have + chunk - z.avail_out);
    if (out.size() > len) break;
  }
  inflateEnd(&z);
  if (rc != Z_STREAM_END || out.size() != len) return r.Error("zlib could not uncompress the body to its stated length");
  return out;
}

// zstd data that must decompress to exactly `size` bytes, grown as it is
// produced (a damaged size allocates nothing it does not fill).
absl::StatusOr<std::string> ZstdDecompress(ByteReader& r, std::string_view in, uint64_t size) {
  ZSTD_DStream* z = ZSTD_createDStream();
  if (z == nullptr) return absl::InternalError("zstd: cannot create a decompression stream");
  std::string out;
  ZSTD_inBuffer input{in.data(), in.size(), 0};
  size_t rc = ZSTD_initDStream(z);
  while (!ZSTD_isError(rc)) {
    const size_t have = out.size();
    const size_t chunk = std::min<uint64_t>(std::max<size_t>(have, 1 << 16), size + 1 - have);
    if (chunk == 0) break;
    out.resize(have + chunk);
    ZSTD_outBuffer output{out.data() + have, chunk, 0};
    rc = ZSTD_decompressStream(z, &output, &input);
    out.resize(have + output.pos);
    if (rc == 0 || out.size() > size) break;              // frame done, or more than stated
    if (output.pos == 0 && input.pos == input.size) break;  // no progress: truncated
  }
  ZSTD_freeDStream(z);
  if (ZSTD_isError(rc)) return r.Error(std::string("zstd: ") + ZSTD_getErrorName(rc));
  if (rc != 0 || out.size() != size) return r.Error("zstd could not decompress the payload to its stated size");
  return out;
}

// A length-prefixed (1-byte) NUL-terminated name, as table maps write them.
absl::StatusOr<std::string> ReadName(ByteReader& r) {
  PHONY_ASSIGN_OR_RETURN(uint8_t n, r.ReadU8());
  PHONY_ASSIGN_OR_RETURN(std::string_view name, r.ReadBytes(n));
  PHONY_ASSIGN_OR_RETURN(uint8_t nul, r.ReadU8());
  if (nul != 0) return r.Error("a name is not NUL-terminated");
  return std::string(name);
}

// A bitmap of `bits` bits, least significant bit first in each byte (the
// rows events' column and null bitmaps); padding bits are ignored.
absl::StatusOr<std::vector<bool>> ReadBitmap(ByteReader& r, size_t bits) {
  PHONY_ASSIGN_OR_RETURN(std::string_view b, r.ReadBytes((bits + 7) / 8));
  std::vector<bool> out(bits);
  for (size_t i = 0; i < bits; ++i) out[i] = (static_cast<uint8_t>(b[i / 8]) >> (i % 8)) & 1;
  return out;
}

// MySQL's serialization library integers (tagged GTIDs): the count of
// trailing one bits in the first byte, plus one, is the length; the value
// is the little-endian bytes shifted right by that length (9 bytes: the
// last 8 as they are).
absl::StatusOr<uint64_t> ReadSerializedVarlen(ByteReader& r) {
  PHONY_ASSIGN_OR_RETURN(uint8_t first, r.ReadU8());
  int n = 1;
  while (n < 9 && ((first >> (n - 1)) & 1)) ++n;
  if (n == 9) return r.ReadU64LE();
  uint64_t v = first;
  for (int i = 1; i < n; ++i) {
    PHONY_ASSIGN_OR_RETURN(uint8_t b, r.ReadU8());
    v |= static_cast<uint64_t>(b) << (8 * i);
  }
  return v >> n;
}

absl::StatusOr<int64_t> ReadSerializedSigned(ByteReader& r) {
  PHONY_ASSIGN_OR_RETURN(uint64_t u, ReadSerializedVarlen(r));
  return (u & 1) ? -static_cast<int64_t>(u >> 1) - 1 : static_cast<int64_t>(u >> 1);
}

absl::StatusOr<GtidEvent> DecodeTaggedGtid(ByteReader& r) {
  PHONY_ASSIGN_OR_RETURN(uint8_t version, r.ReadU8());
  if (version != 2) return r.Error("tagged GTID serialization version " + std::to_string(version) + " is unknown");
  const uint64_t start = r.offset() - 1;
  PHONY_ASSIGN_OR_RETURN(uint64_t size, ReadSerializedVarlen(r));
  PHONY_ASSIGN_OR_RETURN(uint64_t last_required, ReadSerializedVarlen(r));
  const uint64_t used = r.offset() - start;
  if (size < used || size - used > r.remaining()) return r.Error("tagged GTID payload size out of range");
  PHONY_ASSIGN_OR_RETURN(ByteReader f, r.Sub(size - used, "tagged GTID fields"));
  std::string sid, tag;
  int64_t gno = 0;
  uint64_t commit_ts = 0;
  while (!f.empty()) {
    PHONY_ASSIGN_OR_RETURN(uint64_t id, ReadSerializedVarlen(f));
    switch (id) {
      case 1:  // sid: 16 varlen bytes
        for (int i = 0; i < 16; ++i) {
          PHONY_ASSIGN_OR_RETURN(uint64_t b, ReadSerializedVarlen(f));
          if (b > 255) return f.Error("a GTID uuid byte above 255");
          sid.push_back(static_cast<char>(b));
        }
        break;
      case 2: { PHONY_ASSIGN_OR_RETURN(gno, ReadSerializedSigned(f)); break; }
      case 3: {
        PHONY_ASSIGN_OR_RETURN(uint64_t n, ReadSerializedVarlen(f));
        PHONY_ASSIGN_OR_RETURN(std::string_view t, f.ReadBytes(n));
        tag = std::string(t);
        break;
      }
      case 4: case 5: { PHONY_ASSIGN_OR_RETURN(int64_t ignored, ReadSerializedSigned(f)); (void)ignored; break; }
      case 6: { PHONY_ASSIGN_OR_RETURN(commit_ts, ReadSerializedVarlen(f)); break; }
      case 0: case 7: case 8: case 9: case 10: case 11: {
        PHONY_ASSIGN_OR_RETURN(uint64_t ignored, ReadSerializedVarlen(f));
        (void)ignored;
        break;
      }
      default:
        if (id <= last_required) return f.Error("tagged GTID has unknown required field " + std::to_string(id));
        // Unknown optional fields come last; their size is not self-describing.
        PHONY_RETURN_IF_ERROR(f.Skip(f.remaining()));
        break;
    }
  }
  if (sid.size() != 16) return r.Error("tagged GTID without a uuid");
  GtidEvent g;
  g.gtid = FormatSid(sid) + (tag.empty() ? "" : ":" + tag) + ":" + std::to_string(gno);
  g.commit_ts_us = commit_ts;
  return g;
}

}  // namespace

const char* EventTypeName(uint8_t type) {
  switch (type) {
    case kQueryEvent: return "QUERY";
    case kStopEvent: return "STOP";
    case kRotateEvent: return "ROTATE";
    case kIntvarEvent: return "INTVAR";
    case kRandEvent: return "RAND";
    case kUserVarEvent: return "USER_VAR";
    case kFormatDescriptionEvent: return "FORMAT_DESCRIPTION";
    case kXidEvent: return "XID";
    case kBeginLoadQueryEvent: return "BEGIN_LOAD_QUERY";
    case kExecuteLoadQueryEvent: return "EXECUTE_LOAD_QUERY";
    case kTableMapEvent: return "TABLE_MAP";
    case kWriteRowsEventV1: return "WRITE_ROWS_V1";
    case kUpdateRowsEventV1: return "UPDATE_ROWS_V1";
    case kDeleteRowsEventV1: return "DELETE_ROWS_V1";
    case kIncidentEvent: return "INCIDENT";
    case kHeartbeatEvent: return "HEARTBEAT";
    case kIgnorableEvent: return "IGNORABLE";
    case kRowsQueryEvent: return "ROWS_QUERY";
    case kWriteRowsEvent: return "WRITE_ROWS";
    case kUpdateRowsEvent: return "UPDATE_ROWS";
    case kDeleteRowsEvent: return "DELETE_ROWS";
    case kGtidEvent: return "GTID";
    case kAnonymousGtidEvent: return "ANONYMOUS_GTID";
    case kPreviousGtidsEvent: return "PREVIOUS_GTIDS";
    case kTransactionContextEvent: return "TRANSACTION_CONTEXT";
    case kViewChangeEvent: return "VIEW_CHANGE";
    case kXaPrepareEvent: return "XA_PREPARE";
    case kPartialUpdateRowsEvent: return "PARTIAL_UPDATE_ROWS";
    case kTransactionPayloadEvent: return "TRANSACTION_PAYLOAD";
    case kHeartbeatEventV2: return "HEARTBEAT_V2";
    case kGtidTaggedEvent: return "GTID_TAGGED";
    case kAnnotateRowsEvent: return "ANNOTATE_ROWS";
    case kBinlogCheckpointEvent: return "BINLOG_CHECKPOINT";
    case kMariaGtidEvent: return "MARIADB_GTID";
    case kMariaGtidListEvent: return "MARIADB_GTID_LIST";
    case kStartEncryptionEvent: return "START_ENCRYPTION";
    case kQueryCompressedEvent: return "QUERY_COMPRESSED";
    case kWriteRowsCompressedEventV1: return "WRITE_ROWS_COMPRESSED_V1";
    case kUpdateRowsCompressedEventV1: return "UPDATE_ROWS_COMPRESSED_V1";
    case kDeleteRowsCompressedEventV1: return "DELETE_ROWS_COMPRESSED_V1";
    case kWriteRowsCompressedEvent: return "WRITE_ROWS_COMPRESSED";
    case kUpdateRowsCompressedEvent: return "UPDATE_ROWS_COMPRESSED";
    case kDeleteRowsCompressedEvent: return "DELETE_ROWS_COMPRESSED";
    default: return "unknown";
  }
}

BinlogDecoder::BinlogDecoder() {
  // Until a format description arrives: binlog v4 post-header sizes for the
  // events that appear before it in a stream (a fake ROTATE).
  post_header_.assign(kTransactionPayloadEvent, 0);
  post_header_[kRotateEvent - 1] = 8;
}

absl::StatusOr<EventHeader> BinlogDecoder::ParseHeader(std::string_view event, uint64_t offset) {
  ByteReader r(event, "binlog event header", offset);
  EventHeader h;
  PHONY_ASSIGN_OR_RETURN(h.timestamp, r.ReadU32LE());
  PHONY_ASSIGN_OR_RETURN(h.type, r.ReadU8());
  PHONY_ASSIGN_OR_RETURN(h.server_id, r.ReadU32LE());
  PHONY_ASSIGN_OR_RETURN(h.event_size, r.ReadU32LE());
  PHONY_ASSIGN_OR_RETURN(h.log_pos, r.ReadU32LE());
  PHONY_ASSIGN_OR_RETURN(h.flags, r.ReadU16LE());
  if (h.event_size < kEventHeaderSize) {
    return absl::DataLossError("binlog event" + At(offset) + " says it is " + std::to_string(h.event_size) +
                               " bytes long, less than its header");
  }
  if (h.event_size > kMaxEventBytes) {
    return absl::DataLossError("binlog event" + At(offset) + " says it is " + std::to_string(h.event_size) +
                               " bytes long, more than any server writes");
  }
  return h;
}

std::shared_ptr<const TableMap> BinlogDecoder::FindTable(uint64_t table_id) const {
  auto it = tables_.find(table_id);
  return it == tables_.end() ? nullptr : it->second;
}

size_t BinlogDecoder::TableIdBytes(uint8_t type) const {
  // A post-header of 6 bytes (MySQL 5.0 and older) has a 4-byte table id.
  return type >= 1 && type <= post_header_.size() && post_header_[type - 1] == 6 ? 4 : 6;
}

absl::Status BinlogDecoder::Decode(std::string_view event, uint64_t offset, std::vector<BinlogEvent>* out) {
  PHONY_ASSIGN_OR_RETURN(EventHeader h, ParseHeader(event, offset));
  if (h.event_size != event.size()) {
    return absl::DataLossError(std::string(EventTypeName(h.type)) + " event" + At(offset) + " says it is " +
                               std::to_string(h.event_size) + " bytes long but " + std::to_string(event.size()) +
                               " were given");
  }
  if (h.type == kFormatDescriptionEvent) return DecodeFormatDescription(event, offset, out);
  std::string_view body = event.substr(kEventHeaderSize);
  if (format_.checksum_alg == 1) {
    if (body.size() < 4) return Malformed(h.type, offset, "too short for its CRC32");
    const size_t n = event.size() - 4;
    uint32_t stored = 0;
    std::memcpy(&stored, event.data() + n, 4);  // little-endian hosts only (x86-64, arm64)
    const uint32_t computed = Crc32(0, event.data(), n);
    if (stored != computed) {
      return absl::DataLossError(std::string(EventTypeName(h.type)) + " event" + At(offset) +
                                 ": CRC32 mismatch (stored " + std::to_string(stored) + ", computed " +
                                 std::to_string(computed) + ")");
    }
    body = body.substr(0, body.size() - 4);
  }
  return DecodeBody(h, body, offset, /*in_payload=*/false, out);
}

absl::Status BinlogDecoder::DecodeFormatDescription(std::string_view event, uint64_t offset,
                                                    std::vector<BinlogEvent>* out) {
  PHONY_ASSIGN_OR_RETURN(EventHeader h, ParseHeader(event, offset));
  ByteReader r(event.substr(kEventHeaderSize), "FORMAT_DESCRIPTION event", offset + kEventHeaderSize);
  FormatDescription f;
  PHONY_ASSIGN_OR_RETURN(f.binlog_version, r.ReadU16LE());
  if (f.binlog_version != 4) {
    return Malformed(h.type, offset, "binlog version " + std::to_string(f.binlog_version) + " (only 4 is supported)");
  }
  PHONY_ASSIGN_OR_RETURN(std::string_view version, r.ReadBytes(50));
  f.server_version = std::string(version.substr(0, version.find('\0')));
  f.flavor = f.server_version.find("MariaDB") != std::string::npos ? Flavor::kMariaDB : Flavor::kMySQL;
  PHONY_RETURN_IF_ERROR(r.Skip(4));  // create timestamp
  PHONY_ASSIGN_OR_RETURN(uint8_t header_length, r.ReadU8());
  if (header_length != kEventHeaderSize) return Malformed(h.type, offset, "event header length is not 19");
  // Servers that know checksums (MySQL 5.6.1+, MariaDB 5.3+) end the event
  // with the algorithm byte and a CRC32, which is computed with the
  // "binlog in use" flag cleared, whatever the algorithm.
  const bool has_checksum = f.flavor == Flavor::kMariaDB ? VersionAtLeast(f.server_version, 5, 3, 0)
                                                         : VersionAtLeast(f.server_version, 5, 6, 1);
  std::string_view post = r.Peek();
  if (has_checksum) {
    if (post.size() < 5) return Malformed(h.type, offset, "too short for its checksum algorithm and CRC32");
    f.checksum_alg = static_cast<uint8_t>(post[post.size() - 5]);
    if (f.checksum_alg != 0 && f.checksum_alg != 1) {
      return Malformed(h.type, offset, "unknown checksum algorithm " + std::to_string(f.checksum_alg));
    }
    std::string copy(event.substr(0, event.size() - 4));
    copy[17] = static_cast<char>(static_cast<uint8_t>(copy[17]) & ~kBinlogInUseFlag);
    uint32_t stored = 0;
    std::memcpy(&stored, event.data() + event.size() - 4, 4);
    const uint32_t computed = Crc32(0, copy.data(), copy.size());
    if (f.checksum_alg == 1 && stored != computed) {
      return Malformed(h.type, offset, "CRC32 mismatch");
    }
    post = post.substr(0, post.size() - 5);
  }
  post_header_.assign(post.begin(), post.end());
  if (post_header_.size() < kTransactionPayloadEvent) post_header_.resize(kTransactionPayloadEvent, 0);
  format_ = f;
  tables_.clear();  // a new file (or a server restart): table ids start over
  out->push_back(BinlogEvent{.header = h, .offset = offset, .body = std::move(f)});
  return absl::OkStatus();
}

absl::Status BinlogDecoder::DecodeBody(const EventHeader& h, std::string_view body, uint64_t offset, bool in_payload,
                                       std::vector<BinlogEvent>* out) {
  ByteReader r(body, EventTypeName(h.type), offset + kEventHeaderSize);
  BinlogEvent ev{.header = h, .offset = offset, .body = Skipped{}};
  switch (h.type) {
    case kRotateEvent: {
      Rotate rot;
      PHONY_ASSIGN_OR_RETURN(rot.position, r.ReadU64LE());
      rot.next_file = std::string(r.Peek());
      ev.body = std::move(rot);
      break;
    }
    case kQueryEvent: case kQueryCompressedEvent: {
      Query q;
      PHONY_RETURN_IF_ERROR(r.Skip(8));  // thread id, execution time
      PHONY_ASSIGN_OR_RETURN(uint8_t db_len, r.ReadU8());
      PHONY_ASSIGN_OR_RETURN(q.error_code, r.ReadU16LE());
      PHONY_ASSIGN_OR_RETURN(uint16_t status_len, r.ReadU16LE());
      const size_t post = post_header_.size() >= h.type ? post_header_[h.type - 1] : 13;
      if (post > 13) PHONY_RETURN_IF_ERROR(r.Skip(post - 13));
      PHONY_RETURN_IF_ERROR(r.Skip(status_len));
      PHONY_ASSIGN_OR_RETURN(std::string_view db, r.ReadBytes(db_len));
      q.database = std::string(db);
      PHONY_RETURN_IF_ERROR(r.Skip(1));  // NUL
      if (h.type == kQueryCompressedEvent) {
        PHONY_ASSIGN_OR_RETURN(q.text, MariaUncompress(r));
      } else {
        q.text = std::string(r.Peek());
      }
      ev.body = std::move(q);
      break;
    }
    case kXidEvent: {
      Xid x;
      PHONY_ASSIGN_OR_RETURN(x.xid, r.ReadU64LE());
      ev.body = x;
      break;
    }
    case kTableMapEvent:
      PHONY_RETURN_IF_ERROR(InEvent(h.type, offset, DecodeTableMap(h, body, offset, &ev)));
      break;
    case kWriteRowsEventV1: case kUpdateRowsEventV1: case kDeleteRowsEventV1: case kWriteRowsEvent:
    case kUpdateRowsEvent: case kDeleteRowsEvent: case kPartialUpdateRowsEvent: case kWriteRowsCompressedEventV1:
    case kUpdateRowsCompressedEventV1: case kDeleteRowsCompressedEventV1: case kWriteRowsCompressedEvent:
    case kUpdateRowsCompressedEvent: case kDeleteRowsCompressedEvent:
      PHONY_RETURN_IF_ERROR(InEvent(h.type, offset, DecodeRows(h, body, offset, &ev)));
      break;
    case kGtidEvent: case kAnonymousGtidEvent: {
      GtidEvent g;
      PHONY_RETURN_IF_ERROR(r.Skip(1));  // flags
      PHONY_ASSIGN_OR_RETURN(std::string_view sid, r.ReadBytes(16));
      PHONY_ASSIGN_OR_RETURN(uint64_t gno, r.ReadU64LE());
      g.anonymous = h.type == kAnonymousGtidEvent;
      if (!g.anonymous) g.gtid = FormatSid(sid) + ":" + std::to_string(gno);
      if (!r.empty()) {
        PHONY_ASSIGN_OR_RETURN(uint8_t lc, r.ReadU8());
        if (lc == 2 && r.remaining() >= 16 + 7) {
          PHONY_RETURN_IF_ERROR(r.Skip(16));
          PHONY_ASSIGN_OR_RETURN(uint64_t ts, r.ReadU48LE());
          PHONY_ASSIGN_OR_RETURN(uint8_t top, r.ReadU8());
          g.commit_ts_us = (ts | (static_cast<uint64_t>(top) << 48)) & ~(uint64_t{1} << 55);
        }
      }
      ev.body = std::move(g);
      break;
    }
    case kGtidTaggedEvent: {
      auto g = DecodeTaggedGtid(r);
      if (!g.ok()) return InEvent(h.type, offset, g.status());
      ev.body = std::move(*g);
      break;
    }
    case kMariaGtidEvent: {
      GtidEvent g;
      PHONY_ASSIGN_OR_RETURN(uint64_t seq, r.ReadU64LE());
      PHONY_ASSIGN_OR_RETURN(uint32_t domain, r.ReadU32LE());
      PHONY_ASSIGN_OR_RETURN(uint8_t flags, r.ReadU8());
      g.gtid = std::to_string(domain) + "-" + std::to_string(h.server_id) + "-" + std::to_string(seq);
      g.standalone = (flags & 1) != 0;
      ev.body = std::move(g);
      break;
    }
    case kMariaGtidListEvent: {
      PHONY_ASSIGN_OR_RETURN(uint32_t v, r.ReadU32LE());
      const uint32_t count = v & 0x0fffffff;
      PHONY_RETURN_IF_ERROR(r.CheckCount(count, r.remaining() / 16, "GTID list entries"));
      GtidSetEvent set;
      for (uint32_t i = 0; i < count; ++i) {
        PHONY_ASSIGN_OR_RETURN(uint32_t domain, r.ReadU32LE());
        PHONY_ASSIGN_OR_RETURN(uint32_t server, r.ReadU32LE());
        PHONY_ASSIGN_OR_RETURN(uint64_t seq, r.ReadU64LE());
        if (i > 0) set.set += ",";
        set.set += std::to_string(domain) + "-" + std::to_string(server) + "-" + std::to_string(seq);
      }
      ev.body = std::move(set);
      break;
    }
    case kPreviousGtidsEvent: {
      PHONY_ASSIGN_OR_RETURN(uint64_t head, r.ReadU64LE());
      const bool tagged = (head >> 56) == 1;
      const uint64_t n_sids = tagged ? (head >> 8) & 0xffffffffffffULL : head;
      PHONY_RETURN_IF_ERROR(r.CheckCount(n_sids, r.remaining() / 24, "GTID set uuids"));
      GtidSetEvent set;
      for (uint64_t i = 0; i < n_sids; ++i) {
        PHONY_ASSIGN_OR_RETURN(std::string_view sid, r.ReadBytes(16));
        if (i > 0) set.set += ",";
        set.set += FormatSid(sid);
        if (tagged) {
          PHONY_ASSIGN_OR_RETURN(uint64_t n, ReadSerializedVarlen(r));
          PHONY_ASSIGN_OR_RETURN(std::string_view tag, r.ReadBytes(n));
          if (!tag.empty()) set.set += ":" + std::string(tag);
        }
        PHONY_ASSIGN_OR_RETURN(uint64_t n_intervals, r.ReadU64LE());
        PHONY_RETURN_IF_ERROR(r.CheckCount(n_intervals, r.remaining() / 16, "GTID intervals"));
        for (uint64_t k = 0; k < n_intervals; ++k) {
          PHONY_ASSIGN_OR_RETURN(uint64_t start, r.ReadU64LE());
          PHONY_ASSIGN_OR_RETURN(uint64_t end, r.ReadU64LE());  // exclusive
          if (end <= start) return Malformed(h.type, offset, "an empty GTID interval");
          set.set += ":" + std::to_string(start) + (end - 1 == start ? "" : "-" + std::to_string(end - 1));
        }
      }
      ev.body = std::move(set);
      break;
    }
    case kHeartbeatEvent: {
      ev.body = Heartbeat{.log_file = std::string(r.Peek()), .position = h.log_pos};
      break;
    }
    case kHeartbeatEventV2: {
      Heartbeat hb;
      while (!r.empty()) {
        PHONY_ASSIGN_OR_RETURN(uint64_t field, ReadPackedInt(r));
        if (field == 0) break;
        PHONY_ASSIGN_OR_RETURN(uint64_t len, ReadPackedInt(r));
        PHONY_ASSIGN_OR_RETURN(ByteReader v, r.Sub(len, "HEARTBEAT_V2 field"));
        if (field == 1) hb.log_file = std::string(v.Peek());
        if (field == 2) {
          PHONY_ASSIGN_OR_RETURN(hb.position, ReadPackedInt(v));
        }
      }
      ev.body = std::move(hb);
      break;
    }
    case kIncidentEvent: {
      Incident inc;
      PHONY_ASSIGN_OR_RETURN(inc.type, r.ReadU16LE());
      if (!r.empty()) {
        PHONY_ASSIGN_OR_RETURN(uint8_t n, r.ReadU8());
        PHONY_ASSIGN_OR_RETURN(std::string_view msg, r.ReadBytes(n));
        inc.message = std::string(msg);
      }
      ev.body = std::move(inc);
      break;
    }
    case kTransactionPayloadEvent:
      if (in_payload) return Malformed(h.type, offset, "a transaction payload inside another");
      return InEvent(h.type, offset, DecodePayload(body, offset, out));
    case kStartEncryptionEvent:
      return absl::UnimplementedError("START_ENCRYPTION event" + At(offset) +
                                      ": the rest of this binlog file is encrypted (encrypt_binlog=ON); read it "
                                      "from the server, which decrypts it, not from the file");
    case kExecuteLoadQueryEvent: case kBeginLoadQueryEvent:
      return absl::UnimplementedError(std::string(EventTypeName(h.type)) + " event" + At(offset) +
                                      ": a statement-based LOAD DATA; phony needs binlog_format=ROW");
    case kStopEvent: case kIntvarEvent: case kRandEvent: case kUserVarEvent: case kRowsQueryEvent:
    case kIgnorableEvent: case kTransactionContextEvent: case kViewChangeEvent: case kXaPrepareEvent:
    case kAnnotateRowsEvent: case kBinlogCheckpointEvent:
      break;  // nothing for a row-based change stream; statement text is never read
    default:
      if (h.flags & kIgnorableFlag) break;
      return absl::DataLossError("unknown binlog event type " + std::to_string(h.type) + At(offset) +
                                 " without the ignorable flag: the stream cannot be read past it");
  }
  out->push_back(std::move(ev));
  return absl::OkStatus();
}

absl::Status BinlogDecoder::DecodeTableMap(const EventHeader& h, std::string_view body, uint64_t offset,
                                           BinlogEvent* ev) {
  ByteReader r(body, "TABLE_MAP", offset + kEventHeaderSize);
  auto map = std::make_shared<TableMap>();
  PHONY_ASSIGN_OR_RETURN(map->table_id, ReadTableId(r, TableIdBytes(h.type)));
  PHONY_RETURN_IF_ERROR(r.Skip(2));  // flags
  PHONY_ASSIGN_OR_RETURN(map->database, ReadName(r));
  PHONY_ASSIGN_OR_RETURN(map->table, ReadName(r));
  PHONY_ASSIGN_OR_RETURN(uint64_t n, ReadPackedInt(r));
  PHONY_RETURN_IF_ERROR(r.CheckCount(n, 4096, "columns"));
  PHONY_ASSIGN_OR_RETURN(std::string_view types, r.ReadBytes(n));
  map->columns.resize(n);
  PHONY_ASSIGN_OR_RETURN(uint64_t meta_len, ReadPackedInt(r));
  PHONY_ASSIGN_OR_RETURN(ByteReader meta, r.Sub(meta_len, "TABLE_MAP column metadata"));
  for (size_t i = 0; i < n; ++i) {
    ColumnInfo& c = map->columns[i];
    c.wire_type = c.type = static_cast<uint8_t>(types[i]);
    switch (c.type) {
      case kTypeFloat: case kTypeDouble: case kTypeBlob: case kTypeGeometry: case kTypeJson: case kTypeVector:
      case kTypeTimestamp2: case kTypeDatetime2: case kTypeTime2: case kTypeTinyBlob: case kTypeMediumBlob:
      case kTypeLongBlob: {
        PHONY_ASSIGN_OR_RETURN(uint8_t m, meta.ReadU8());
        c.meta = m;
        if (c.type == kTypeTinyBlob || c.type == kTypeMediumBlob || c.type == kTypeLongBlob) c.type = kTypeBlob;
        break;
      }
      case kTypeVarchar: case kTypeVarString: {
        PHONY_ASSIGN_OR_RETURN(c.meta, meta.ReadU16LE());
        break;
      }
      case kTypeBit: {
        PHONY_ASSIGN_OR_RETURN(uint8_t bits, meta.ReadU8());
        PHONY_ASSIGN_OR_RETURN(uint8_t bytes, meta.ReadU8());
        c.meta = static_cast<uint16_t>(bytes << 8 | bits);
        break;
      }
      case kTypeNewDecimal: {
        PHONY_ASSIGN_OR_RETURN(uint8_t precision, meta.ReadU8());
        PHONY_ASSIGN_OR_RETURN(uint8_t scale, meta.ReadU8());
        c.meta = static_cast<uint16_t>(precision << 8 | scale);
        break;
      }
      case kTypeString: case kTypeEnum: case kTypeSet: {
        PHONY_ASSIGN_OR_RETURN(uint8_t b0, meta.ReadU8());
        PHONY_ASSIGN_OR_RETURN(uint8_t b1, meta.ReadU8());
        if ((b0 & 0x30) != 0x30) {
          // CHAR longer than 255 bytes: two length bits hide in the type byte.
          c.type = static_cast<uint8_t>(b0 | 0x30);
          c.meta = static_cast<uint16_t>(b1 | (((b0 & 0x30) ^ 0x30) << 4));
        } else {
          c.type = b0;
          c.meta = b1;
        }
        if (c.type != kTypeString && c.type != kTypeEnum && c.type != kTypeSet) {
          return r.Error("a STRING column whose real type is " + std::to_string(c.type));
        }
        break;
      }
      default:
        break;
    }
  }
  PHONY_RETURN_IF_ERROR(meta.ExpectEnd());
  PHONY_ASSIGN_OR_RETURN(std::vector<bool> nullable, ReadBitmap(r, n));
  for (size_t i = 0; i < n; ++i) map->columns[i].nullable = nullable[i];

  // Optional metadata (binlog_row_metadata): type, length, value.
  std::vector<size_t> numeric, character, enum_set, enums, sets, geometry;
  for (size_t i = 0; i < n; ++i) {
    const ColumnInfo& c = map->columns[i];
    // MariaDB gives YEAR (a TINYINT underneath) a signedness bit, and counts
    // GEOMETRY (a BLOB underneath) among the columns its charset metadata
    // lists; MySQL does neither.
    const bool maria = format_.flavor == Flavor::kMariaDB;
    if (c.is_numeric() || (c.type == kTypeYear && maria)) numeric.push_back(i);
    if (c.is_character() || (c.type == kTypeGeometry && maria)) {
      character.push_back(i);
    }
    if (c.type == kTypeEnum || c.type == kTypeSet) enum_set.push_back(i);
    if (c.type == kTypeEnum) enums.push_back(i);
    if (c.type == kTypeSet) sets.push_back(i);
    if (c.type == kTypeGeometry) geometry.push_back(i);
  }
  auto charsets = [&](ByteReader& v, const std::vector<size_t>& cols, bool with_default) -> absl::Status {
    if (with_default) {
      PHONY_ASSIGN_OR_RETURN(uint64_t def, ReadPackedInt(v));
      for (size_t i : cols) map->columns[i].collation = static_cast<uint32_t>(def);
      while (!v.empty()) {
        PHONY_ASSIGN_OR_RETURN(uint64_t k, ReadPackedInt(v));
        PHONY_ASSIGN_OR_RETURN(uint64_t coll, ReadPackedInt(v));
        if (k >= cols.size()) return v.Error("a charset for a column that is not there");
        map->columns[cols[k]].collation = static_cast<uint32_t>(coll);
      }
    } else {
      for (size_t i : cols) {
        PHONY_ASSIGN_OR_RETURN(uint64_t coll, ReadPackedInt(v));
        map->columns[i].collation = static_cast<uint32_t>(coll);
      }
    }
    map->has_charsets = true;
    return absl::OkStatus();
  };
  auto strings = [&](ByteReader& v, const std::vector<size_t>& cols) -> absl::Status {
    for (size_t i : cols) {
      PHONY_ASSIGN_OR_RETURN(uint64_t count, ReadPackedInt(v));
      PHONY_RETURN_IF_ERROR(v.CheckCount(count, v.remaining(), "ENUM/SET values"));
      auto& values = map->columns[i].enum_values;
      values.clear();
      for (uint64_t k = 0; k < count; ++k) {
        PHONY_ASSIGN_OR_RETURN(uint64_t len, ReadPackedInt(v));
        PHONY_ASSIGN_OR_RETURN(std::string_view s, v.ReadBytes(len));
        values.emplace_back(s);
      }
    }
    return absl::OkStatus();
  };
  while (!r.empty()) {
    PHONY_ASSIGN_OR_RETURN(uint8_t type, r.ReadU8());
    PHONY_ASSIGN_OR_RETURN(uint64_t len, ReadPackedInt(r));
    PHONY_ASSIGN_OR_RETURN(ByteReader v, r.Sub(len, "TABLE_MAP optional metadata"));
    switch (type) {
      case 1: {  // SIGNEDNESS: one bit per numeric column, most significant first
        PHONY_ASSIGN_OR_RETURN(std::string_view bits, v.ReadBytes(std::min<uint64_t>(v.remaining(), (numeric.size() + 7) / 8)));
        for (size_t k = 0; k < numeric.size() && k / 8 < bits.size(); ++k) {
          map->columns[numeric[k]].is_unsigned = (static_cast<uint8_t>(bits[k / 8]) >> (7 - k % 8)) & 1;
        }
        map->has_signedness = true;
        break;
      }
      case 2: PHONY_RETURN_IF_ERROR(charsets(v, character, true)); break;
      case 3: PHONY_RETURN_IF_ERROR(charsets(v, character, false)); break;
      case 4:  // COLUMN_NAME
        for (size_t i = 0; i < n; ++i) {
          PHONY_ASSIGN_OR_RETURN(uint64_t len2, ReadPackedInt(v));
          PHONY_ASSIGN_OR_RETURN(std::string_view name, v.ReadBytes(len2));
          map->columns[i].name = std::string(name);
        }
        map->has_names = true;
        break;
      case 5: PHONY_RETURN_IF_ERROR(strings(v, sets)); break;
      case 6: PHONY_RETURN_IF_ERROR(strings(v, enums)); break;
      case 7:
        for (size_t i : geometry) {
          PHONY_ASSIGN_OR_RETURN(uint64_t g, ReadPackedInt(v));
          map->columns[i].geometry_type = static_cast<uint32_t>(g);
        }
        break;
      case 8: {  // SIMPLE_PRIMARY_KEY
        uint16_t ordinal = 0;
        while (!v.empty()) {
          PHONY_ASSIGN_OR_RETURN(uint64_t k, ReadPackedInt(v));
          if (k >= n) return v.Error("a primary key column that is not there");
          map->columns[k].key_ordinal = ++ordinal;
        }
        map->has_primary_key = true;
        break;
      }
      case 9: {  // PRIMARY_KEY_WITH_PREFIX
        uint16_t ordinal = 0;
        while (!v.empty()) {
          PHONY_ASSIGN_OR_RETURN(uint64_t k, ReadPackedInt(v));
          PHONY_ASSIGN_OR_RETURN(uint64_t prefix, ReadPackedInt(v));
          (void)prefix;
          if (k >= n) return v.Error("a primary key column that is not there");
          map->columns[k].key_ordinal = ++ordinal;
        }
        map->has_primary_key = true;
        break;
      }
      case 10: PHONY_RETURN_IF_ERROR(charsets(v, enum_set, true)); break;
      case 11: PHONY_RETURN_IF_ERROR(charsets(v, enum_set, false)); break;
      case 12: {  // COLUMN_VISIBILITY: one bit per column, most significant first
        PHONY_ASSIGN_OR_RETURN(std::string_view bits, v.ReadBytes(std::min<uint64_t>(v.remaining(), (n + 7) / 8)));
        for (size_t i = 0; i < n && i / 8 < bits.size(); ++i) {
          map->columns[i].visible = (static_cast<uint8_t>(bits[i / 8]) >> (7 - i % 8)) & 1;
        }
        break;
      }
      default:
        break;  // newer metadata (VECTOR dimensions, ...): not needed to decode values
    }
  }
  // ENUM and SET strings come in the column's charset: latin1 ones become
  // UTF-8, as latin1 column values do.
  for (size_t i : enum_set) {
    ColumnInfo& c = map->columns[i];
    if (!c.collation || CharsetOfCollation(*c.collation) != "latin1") continue;
    for (std::string& value : c.enum_values) {
      std::string utf8;
      AppendLatin1AsUtf8(value, &utf8);
      value = std::move(utf8);
    }
  }
  if (hook_) PHONY_RETURN_IF_ERROR(hook_(map.get()));
  std::shared_ptr<const TableMap> frozen = std::move(map);
  tables_[frozen->table_id] = frozen;
  ev->body = std::move(frozen);
  return absl::OkStatus();
}

absl::Status BinlogDecoder::DecodeRows(const EventHeader& h, std::string_view body, uint64_t offset,
                                       BinlogEvent* ev) {
  ByteReader r(body, EventTypeName(h.type), offset + kEventHeaderSize);
  RowsEvent rows;
  const uint8_t t = h.type;
  const bool v2 = t == kWriteRowsEvent || t == kUpdateRowsEvent || t == kDeleteRowsEvent ||
                  t == kPartialUpdateRowsEvent || t == kWriteRowsCompressedEvent || t == kUpdateRowsCompressedEvent ||
                  t == kDeleteRowsCompressedEvent;
  const bool compressed = t >= kWriteRowsCompressedEventV1 && t <= kDeleteRowsCompressedEvent;
  if (t == kWriteRowsEventV1 || t == kWriteRowsEvent || t == kWriteRowsCompressedEventV1 || t == kWriteRowsCompressedEvent) {
    rows.kind = RowsEvent::Kind::kInsert;
  } else if (t == kDeleteRowsEventV1 || t == kDeleteRowsEvent || t == kDeleteRowsCompressedEventV1 ||
             t == kDeleteRowsCompressedEvent) {
    rows.kind = RowsEvent::Kind::kDelete;
  } else {
    rows.kind = RowsEvent::Kind::kUpdate;
  }
  rows.partial_json = t == kPartialUpdateRowsEvent;
  PHONY_ASSIGN_OR_RETURN(rows.table_id, ReadTableId(r, TableIdBytes(h.type)));
  PHONY_ASSIGN_OR_RETURN(rows.flags, r.ReadU16LE());
  if (v2) {
    PHONY_ASSIGN_OR_RETURN(uint16_t extra, r.ReadU16LE());
    if (extra < 2) return r.Error("extra data length below 2");
    PHONY_RETURN_IF_ERROR(r.Skip(extra - 2));
  }
  std::string uncompressed;
  ByteReader in = r;
  if (compressed) {
    PHONY_ASSIGN_OR_RETURN(uncompressed, MariaUncompress(r));
    in = ByteReader(uncompressed, "uncompressed rows", 0);
  }
  rows.table = FindTable(rows.table_id);
  if (!rows.table) {
    return absl::DataLossError("rows of table id " + std::to_string(rows.table_id) +
                               " without a TABLE_MAP before them (a stream must start at a transaction boundary)");
  }
  const TableMap& map = *rows.table;
  const size_t width = map.columns.size();
  PHONY_ASSIGN_OR_RETURN(uint64_t n, ReadPackedInt(in));
  if (n != width) {
    return in.Error("the rows have " + std::to_string(n) + " columns, the table map of " + map.database + "." +
                    map.table + " has " + std::to_string(width));
  }
  PHONY_ASSIGN_OR_RETURN(std::vector<bool> present1, ReadBitmap(in, width));
  std::vector<bool> present2;
  if (rows.kind == RowsEvent::Kind::kUpdate) {
    PHONY_ASSIGN_OR_RETURN(present2, ReadBitmap(in, width));
  }
  size_t json_columns = 0;
  for (const ColumnInfo& c : map.columns) json_columns += c.type == kTypeJson;

  const size_t count1 = static_cast<size_t>(std::count(present1.begin(), present1.end(), true));
  const size_t count2 = static_cast<size_t>(std::count(present2.begin(), present2.end(), true));
  // One row image: its null bitmap (tested in place: no allocation per
  // row), then the values of the present, non-null columns.
  auto image = [&](const std::vector<bool>& present, size_t count, const std::vector<bool>* partial,
                   RowChange* change, Row* out) -> absl::Status {
    PHONY_ASSIGN_OR_RETURN(std::string_view nulls, in.ReadBytes((count + 7) / 8));
    // Every slot starts null and is filled in place.
    out->clear();
    out->resize(width);
    size_t k = 0, json_index = 0;
    for (size_t i = 0; i < width; ++i) {
      const ColumnInfo& c = map.columns[i];
      Value& slot = (*out)[i];
      const bool is_json = c.type == kTypeJson;
      const bool is_partial = is_json && partial != nullptr && (*partial)[json_index];
      json_index += is_json;
      if (!present[i]) {
        slot = Value::Unchanged();
        continue;
      }
      const bool is_null = (static_cast<uint8_t>(nulls[k / 8]) >> (k % 8)) & 1;
      ++k;
      if (is_null) continue;
      if (is_partial) {
        PHONY_ASSIGN_OR_RETURN(std::string_view diff, ReadLengthPrefixed(in, c.meta, "partial JSON"));
        auto diffs = DecodeJsonDiffs(diff);
        if (!diffs.ok()) return in.Error("partial JSON update: " + std::string(diffs.status().message()));
        change->json_diffs.emplace_back(i, std::move(*diffs));
        slot = Value::Unchanged();  // the diffs say what changed
        continue;
      }
      if (absl::Status s = DecodeColumnInto(c, in, &slot); !s.ok()) {
        return absl::Status(s.code(), "column " + std::to_string(i + 1) + " (" + TypeName(c) + ") of " +
                                          map.database + "." + map.table + ": " + std::string(s.message()));
      }
    }
    return absl::OkStatus();
  };

  // An image carries at least one column, so every row consumes bytes.
  if (count1 == 0 || (rows.kind == RowsEvent::Kind::kUpdate && count2 == 0)) {
    return in.Error("a row image without columns");
  }
  const size_t image_bytes = in.remaining();
  while (!in.empty()) {
    // Room for as many rows as the first one's size says the event holds.
    if (rows.rows.size() == 1) rows.rows.reserve(image_bytes / std::max<size_t>(1, image_bytes - in.remaining()) + 1);
    // Decoded in place: the images are the change's own rows.
    RowChange& change = rows.rows.emplace_back();
    Row& first = rows.kind == RowsEvent::Kind::kInsert ? change.after.emplace() : change.before.emplace();
    PHONY_RETURN_IF_ERROR(image(present1, count1, nullptr, &change, &first));
    if (rows.kind == RowsEvent::Kind::kUpdate) {
      std::vector<bool> partial;
      if (rows.partial_json) {
        PHONY_ASSIGN_OR_RETURN(uint64_t options, ReadPackedInt(in));
        if (options & 1) {
          PHONY_ASSIGN_OR_RETURN(partial, ReadBitmap(in, json_columns));
        }
      }
      PHONY_RETURN_IF_ERROR(image(present2, count2, partial.empty() ? nullptr : &partial, &change, &change.after.emplace()));
    }
  }
  ev->body = std::move(rows);
  return absl::OkStatus();
}

absl::Status BinlogDecoder::DecodePayload(std::string_view body, uint64_t offset, std::vector<BinlogEvent>* out) {
  ByteReader r(body, "TRANSACTION_PAYLOAD", offset + kEventHeaderSize);
  uint64_t payload_size = 0, uncompressed_size = 0, compression = 255;
  bool have_size = false;
  while (true) {
    PHONY_ASSIGN_OR_RETURN(uint64_t field, ReadPackedInt(r));
    if (field == 0) break;  // end of the header
    PHONY_ASSIGN_OR_RETURN(uint64_t len, ReadPackedInt(r));
    PHONY_ASSIGN_OR_RETURN(ByteReader v, r.Sub(len, "TRANSACTION_PAYLOAD header field"));
    switch (field) {
      case 1: {
        PHONY_ASSIGN_OR_RETURN(payload_size, ReadPackedInt(v));
        have_size = true;
        break;
      }
      case 2: { PHONY_ASSIGN_OR_RETURN(compression, ReadPackedInt(v)); break; }
      case 3: { PHONY_ASSIGN_OR_RETURN(uncompressed_size, ReadPackedInt(v)); break; }
      default: break;
    }
  }
  if (!have_size || payload_size != r.remaining()) return r.Error("payload size does not match the event");
  std::string data;
  if (compression == 0) {  // zstd
    PHONY_RETURN_IF_ERROR(r.CheckCount(uncompressed_size, kMaxPayloadBytes, "uncompressed payload size"));
    PHONY_ASSIGN_OR_RETURN(data, ZstdDecompress(r, r.Peek(), uncompressed_size));
  } else if (compression == 255) {
    data = std::string(r.Peek());
  } else {
    return r.Error("compression type " + std::to_string(compression) + " is unknown");
  }
  // The inner events: headers and bodies, without checksums.
  size_t pos = 0;
  while (pos < data.size()) {
    if (data.size() - pos < kEventHeaderSize) return r.Error("a truncated event inside the payload");
    auto h = ParseHeader(std::string_view(data).substr(pos), offset);
    if (!h.ok()) return h.status();
    if (h->event_size > data.size() - pos) return r.Error("an inner event longer than the payload");
    const std::string_view inner = std::string_view(data).substr(pos + kEventHeaderSize, h->event_size - kEventHeaderSize);
    PHONY_RETURN_IF_ERROR(DecodeBody(*h, inner, offset, /*in_payload=*/true, out));
    pos += h->event_size;
  }
  return absl::OkStatus();
}

}  // namespace phony::mysql
