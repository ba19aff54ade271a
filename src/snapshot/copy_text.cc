#include "src/snapshot/copy_text.h"

namespace phony::snapshot {

namespace {

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

absl::Status CopyRowParser::Parse(std::string_view line) {
  if (!line.empty() && line.back() == '\n') line.remove_suffix(1);
  fields_.clear();
  raw_.clear();
  buffer_.clear();
  // Offsets first: buffer_ may reallocate while it fills.
  struct Span {
    size_t begin, end;
    bool null;
  };
  std::vector<Span> spans;
  buffer_.reserve(line.size());
  size_t i = 0;
  while (true) {
    const size_t begin = buffer_.size();
    const size_t field_start = i;
    bool escaped = false;
    while (i < line.size() && line[i] != '\t') {
      const char c = line[i];
      if (c != '\\') {
        // Copy the run up to the next tab or backslash at once.
        size_t j = i + 1;
        while (j < line.size() && line[j] != '\t' && line[j] != '\\') ++j;
        buffer_.append(line.data() + i, j - i);
        i = j;
        continue;
      }
      escaped = true;
      if (i + 1 >= line.size()) return absl::DataLossError("COPY row ends inside an escape");
      const char e = line[i + 1];
      i += 2;
      switch (e) {
        case 'b': buffer_.push_back('\b'); break;
        case 'f': buffer_.push_back('\f'); break;
        case 'n': buffer_.push_back('\n'); break;
        case 'r': buffer_.push_back('\r'); break;
        case 't': buffer_.push_back('\t'); break;
        case 'v': buffer_.push_back('\v'); break;
        case 'x': {
          int v = 0, n = 0;
          while (n < 2 && i < line.size() && HexDigit(line[i]) >= 0) v = v * 16 + HexDigit(line[i++]), ++n;
          if (n == 0) {
            buffer_.push_back('x');  // "\x" without digits is a plain x
          } else {
            buffer_.push_back(static_cast<char>(v));
          }
          break;
        }
        default:
          if (e >= '0' && e <= '7') {
            int v = e - '0', n = 1;
            while (n < 3 && i < line.size() && line[i] >= '0' && line[i] <= '7') v = v * 8 + (line[i++] - '0'), ++n;
            if (v > 255) return absl::DataLossError("COPY row holds an octal escape beyond a byte");
            buffer_.push_back(static_cast<char>(v));
          } else {
            buffer_.push_back(e);  // \\ and any other escaped character stand for themselves
          }
      }
    }
    // Null is the field "\N" exactly (a data backslash-N is written "\\N").
    const bool is_null = escaped && i - field_start == 2 && line[field_start + 1] == 'N';
    spans.push_back({begin, buffer_.size(), is_null});
    raw_.push_back(line.substr(field_start, i - field_start));
    if (i >= line.size()) break;
    ++i;  // the tab
  }
  fields_.reserve(spans.size());
  for (const Span& s : spans) {
    if (s.null) {
      fields_.push_back(std::nullopt);
    } else {
      fields_.push_back(std::string_view(buffer_.data() + s.begin, s.end - s.begin));
    }
  }
  return absl::OkStatus();
}

}  // namespace phony::snapshot
