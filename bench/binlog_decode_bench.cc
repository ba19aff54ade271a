// Binlog decoding on one core, on a real binlog written by MariaDB: the file
// (or files) named by PHONY_BENCH_BINLOG (colon-separated) is read into
// memory first, so the disk is not measured, then decoded whole per
// iteration. bench/binlog_decode.sh writes a ≥ 1M-row binlog, runs this
// pinned to one core and times `mariadb-binlog -vv` on the same file.
// Issue #9's bar: ≥ 2 M row events/s through the decoder.
//
//   BM_DecodeFile    frames events out of the in-memory file (header's
//                    event_size), decodes each with BinlogDecoder::Decode into
//                    core Rows and counts the rows, as capture would.
//   BM_DecodeOnly    BinlogDecoder::Decode alone, on events split beforehand.
//   BM_DecodeAndRead BM_DecodeFile plus a pass over every decoded Value (its
//                    kind and payload size), a stand-in for the consumer.
//
// Linked with jemalloc and phony's malloc_conf (src/cli/malloc_conf.cc), as
// the phony binary is: the decoder measured as capture runs it. Under
// glibc's malloc it decodes about a third fewer rows per second (the row
// vectors and strings it allocates dominate then).
//
// items_per_second is row changes decoded (one per row of a rows event);
// bytes_per_second is binlog bytes. The counters give the file's rows, row
// events, events and bytes (decimal SI prefixes).
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "benchmark/benchmark.h"
#include "src/capture/mysql/binlog_decoder.h"
#include "src/capture/mysql/binlog_file.h"

namespace phony::mysql {
namespace {

struct EventSpan {
  uint64_t offset = 0;
  std::string_view bytes;
};

struct BinlogFile {
  std::string path;
  std::string bytes;             // the whole file, magic included
  std::vector<EventSpan> events;  // split once, for BM_DecodeOnly
};

struct Corpus {
  std::vector<BinlogFile> files;
  int64_t bytes = 0;
  int64_t events = 0;
  int64_t rows_events = 0;
  int64_t rows = 0;
  std::string error;  // why there is nothing to run, if so
};

// The events of `f`, framed by each header's event_size; empty with `error`
// set when the file is not a whole binlog.
bool Split(BinlogFile* f, std::string* error) {
  const std::string_view all = f->bytes;
  if (all.substr(0, kBinlogMagic.size()) != kBinlogMagic) {
    *error = f->path + " is not a binlog file";
    return false;
  }
  uint64_t pos = kBinlogMagic.size();
  while (pos < all.size()) {
    if (all.size() - pos < kEventHeaderSize) {
      *error = f->path + " ends inside an event header at offset " + std::to_string(pos);
      return false;
    }
    auto h = BinlogDecoder::ParseHeader(all.substr(pos), pos);
    if (!h.ok() || h->event_size < kEventHeaderSize || h->event_size > all.size() - pos) {
      *error = f->path + " ends inside the event at offset " + std::to_string(pos);
      return false;
    }
    f->events.push_back({pos, all.substr(pos, h->event_size)});
    pos += h->event_size;
  }
  return true;
}

Corpus Load() {
  Corpus c;
  const char* env = std::getenv("PHONY_BENCH_BINLOG");
  if (env == nullptr || *env == '\0') {
    c.error = "set PHONY_BENCH_BINLOG to a binlog file (or FILE:FILE...); bench/binlog_decode.sh writes one";
    return c;
  }
  std::stringstream list(env);
  std::string path;
  while (std::getline(list, path, ':')) {
    if (path.empty()) continue;
    BinlogFile f{.path = path, .bytes = {}, .events = {}};
    std::ifstream in(path, std::ios::binary | std::ios::ate);
    const std::streamoff size = in ? static_cast<std::streamoff>(in.tellg()) : -1;
    if (size < 0) {
      c.error = "cannot open " + path;
      return c;
    }
    f.bytes.resize(static_cast<size_t>(size));
    if (!in.seekg(0).read(f.bytes.data(), size)) {
      c.error = "cannot read " + path;
      return c;
    }
    if (!Split(&f, &c.error)) return c;
    c.bytes += static_cast<int64_t>(f.bytes.size());
    c.files.push_back(std::move(f));
  }
  // One untimed pass: proves the files decode and counts what they hold.
  for (const BinlogFile& f : c.files) {
    BinlogDecoder decoder;
    std::vector<BinlogEvent> out;
    for (const EventSpan& e : f.events) {
      out.clear();
      if (absl::Status s = decoder.Decode(e.bytes, e.offset, &out); !s.ok()) {
        c.error = f.path + ": " + std::string(s.message());
        return c;
      }
      for (const BinlogEvent& ev : out) {
        ++c.events;
        if (const auto* r = std::get_if<RowsEvent>(&ev.body)) {
          ++c.rows_events;
          c.rows += static_cast<int64_t>(r->rows.size());
        }
      }
    }
  }
  return c;
}

const Corpus& TheCorpus() {
  static const auto* c = new Corpus(Load());
  return *c;
}

bool Ready(benchmark::State& state, const Corpus& c) {
  if (!c.error.empty()) {
    state.SkipWithError(c.error.c_str());
    return false;
  }
  return true;
}

void Report(benchmark::State& state, const Corpus& c, int64_t rows) {
  state.SetItemsProcessed(rows);
  state.SetBytesProcessed(c.bytes * static_cast<int64_t>(state.iterations()));
  state.counters["rows"] = static_cast<double>(c.rows);
  state.counters["rows_events"] = static_cast<double>(c.rows_events);
  state.counters["events"] = static_cast<double>(c.events);
  state.counters["file_bytes"] = static_cast<double>(c.bytes);
}

// Frames and decodes the whole of `f` with a fresh decoder; `visit` sees
// every decoded event. Returns the rows decoded.
template <typename Visit>
int64_t DecodeWhole(benchmark::State& state, const BinlogFile& f, std::vector<BinlogEvent>* out, Visit visit) {
  BinlogDecoder decoder;
  const std::string_view all = f.bytes;
  int64_t rows = 0;
  uint64_t pos = kBinlogMagic.size();
  while (pos < all.size()) {
    // event_size: little-endian at header offset 9 (Split checked every one).
    const auto* b = reinterpret_cast<const unsigned char*>(all.data() + pos + 9);
    const uint32_t size = b[0] | (b[1] << 8) | (b[2] << 16) | (static_cast<uint32_t>(b[3]) << 24);
    out->clear();
    if (absl::Status s = decoder.Decode(all.substr(pos, size), pos, out); !s.ok()) {
      state.SkipWithError(std::string(s.message()).c_str());
      return rows;
    }
    for (const BinlogEvent& ev : *out) {
      if (const auto* r = std::get_if<RowsEvent>(&ev.body)) rows += static_cast<int64_t>(r->rows.size());
      visit(ev);
    }
    pos += size;
  }
  return rows;
}

void BM_DecodeFile(benchmark::State& state) {
  const Corpus& c = TheCorpus();
  if (!Ready(state, c)) return;
  std::vector<BinlogEvent> out;
  int64_t rows = 0;
  for (auto _ : state) {
    for (const BinlogFile& f : c.files) rows += DecodeWhole(state, f, &out, [](const BinlogEvent&) {});
  }
  Report(state, c, rows);
}
BENCHMARK(BM_DecodeFile)->Unit(benchmark::kMillisecond)->MinTime(3.0);

void BM_DecodeOnly(benchmark::State& state) {
  const Corpus& c = TheCorpus();
  if (!Ready(state, c)) return;
  std::vector<BinlogEvent> out;
  for (auto _ : state) {
    for (const BinlogFile& f : c.files) {
      BinlogDecoder decoder;
      for (const EventSpan& e : f.events) {
        out.clear();
        absl::Status s = decoder.Decode(e.bytes, e.offset, &out);
        benchmark::DoNotOptimize(s);
      }
    }
  }
  Report(state, c, c.rows * static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_DecodeOnly)->Unit(benchmark::kMillisecond)->MinTime(3.0);

void BM_DecodeAndRead(benchmark::State& state) {
  const Corpus& c = TheCorpus();
  if (!Ready(state, c)) return;
  std::vector<BinlogEvent> out;
  int64_t rows = 0;
  uint64_t sum = 0;
  auto read = [&sum](const BinlogEvent& ev) {
    const auto* r = std::get_if<RowsEvent>(&ev.body);
    if (r == nullptr) return;
    for (const RowChange& change : r->rows) {
      for (const std::optional<Row>* image : {&change.before, &change.after}) {
        if (!image->has_value()) continue;
        for (const Value& v : **image) sum += static_cast<uint64_t>(v.kind()) + v.str().size() + v.uint64_value();
      }
    }
  };
  for (auto _ : state) {
    for (const BinlogFile& f : c.files) rows += DecodeWhole(state, f, &out, read);
  }
  benchmark::DoNotOptimize(sum);
  Report(state, c, rows);
}
BENCHMARK(BM_DecodeAndRead)->Unit(benchmark::kMillisecond)->MinTime(3.0);

}  // namespace
}  // namespace phony::mysql

BENCHMARK_MAIN();
