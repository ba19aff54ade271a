#include "tests/golden/mariadb_binlog_text.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <utility>

#include "absl/status/status.h"

extern char** environ;

namespace phony::testing {
namespace {

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Parses the leading decimal digits of `s` into `*out`; the number of
// characters used, 0 if none.
size_t ParseLeadingUint(std::string_view s, uint64_t* out) {
  const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  if (ec != std::errc()) return 0;
  return static_cast<size_t>(ptr - s.data());
}

// `#YYMMDD HH:MM:SS server id N  end_log_pos P [CRC32 0x...] \t<what>`, the
// line Log_event::print_header starts every event with. The strict date check
// keeps `#Q> ` annotate lines (which may quote anything) from matching.
bool ParseEventHeader(std::string_view line, uint64_t* end_log_pos, std::string_view* what) {
  if (line.size() < 16 || line[0] != '#' || line[7] != ' ' || line[10] != ':' || line[13] != ':') {
    return false;
  }
  for (int i = 1; i <= 6; ++i) {
    if (!IsDigit(line[i])) return false;
  }
  if (!StartsWith(line.substr(16), " server id ")) return false;
  constexpr std::string_view kPos = " end_log_pos ";
  const size_t p = line.find(kPos, 16);
  if (p == std::string_view::npos) return false;
  std::string_view rest = line.substr(p + kPos.size());
  const size_t n = ParseLeadingUint(rest, end_log_pos);
  if (n == 0) return false;
  rest.remove_prefix(n);
  const size_t tab = rest.find('\t');
  *what = Trim(tab == std::string_view::npos ? rest : rest.substr(tab + 1));
  return true;
}

// Write_rows, Update_rows, Delete_rows, their _v1 and _compressed_ forms.
bool IsRowsEvent(std::string_view what) {
  const std::string_view name = what.substr(0, what.find(':'));
  return (StartsWith(name, "Write_") || StartsWith(name, "Update_") ||
          StartsWith(name, "Delete_")) &&
         name.find("rows") != std::string_view::npos;
}

// Reads one backquoted identifier at `*s` (a doubled backquote stands for
// one) and advances past it.
bool ReadQuotedIdentifier(std::string_view* s, std::string* out) {
  if (s->empty() || s->front() != '`') return false;
  out->clear();
  size_t i = 1;
  while (i < s->size()) {
    if ((*s)[i] == '`') {
      if (i + 1 < s->size() && (*s)[i + 1] == '`') {
        out->push_back('`');
        i += 2;
        continue;
      }
      s->remove_prefix(i + 1);
      return true;
    }
    out->push_back((*s)[i]);
    ++i;
  }
  return false;
}

class TextParser {
 public:
  BinlogText Parse(std::string_view text) {
    size_t start = 0;
    while (start < text.size()) {
      size_t end = text.find('\n', start);
      if (end == std::string_view::npos) end = text.size();
      Line(text.substr(start, end - start));
      start = end + 1;
    }
    return std::move(out_);
  }

 private:
  enum class Image { kNone, kBefore, kAfter };

  void Line(std::string_view line) {
    if (in_rows_ && StartsWith(line, "###")) {
      RowsLine(line);
      return;
    }
    uint64_t end_log_pos = 0;
    std::string_view what;
    if (ParseEventHeader(line, &end_log_pos, &what)) {
      EndEvent();
      if (IsRowsEvent(what)) {
        in_rows_ = true;
        event_end_ = end_log_pos;
        event_start_ = last_at_;
        event_first_row_ = out_.rows.size();
      } else if (StartsWith(what, "GTID ")) {
        const std::string_view rest = what.substr(5);
        gtid_ = std::string(rest.substr(0, rest.find(' ')));
      }
      return;
    }
    if (StartsWith(line, "# at ")) {
      EndEvent();
      uint64_t at = 0;
      if (ParseLeadingUint(line.substr(5), &at) > 0) last_at_ = at;
      return;
    }
    if (StartsWith(line, "# Number of rows: ")) {
      uint64_t n = 0;
      const size_t parsed = out_.rows.size() - event_first_row_;
      if (!in_rows_ || ParseLeadingUint(line.substr(18), &n) == 0 || n != parsed) {
        Error(std::string(line) + " (rows parsed for the event ending at " +
              std::to_string(event_end_) + ": " + std::to_string(parsed) + ")");
      }
      return;
    }
    if (line == "# End of log file") {
      out_.complete = true;
      return;
    }
    if (StartsWith(line, "ERROR:") || StartsWith(line, "WARNING:") || StartsWith(line, "!!")) {
      Error(std::string(line));
    }
  }

  void EndEvent() {
    in_rows_ = false;
    row_ = kNoRow;
    image_ = Image::kNone;
  }

  void RowsLine(std::string_view line) {
    const std::string_view rest = line.substr(3);
    if (StartsWith(rest, "   @")) {
      Column(line, rest.substr(4));
      return;
    }
    if (rest == " WHERE" || rest == " SET") {
      if (row_ == kNoRow) {
        Error("image outside a row: " + std::string(line));
        return;
      }
      image_ = rest == " WHERE" ? Image::kBefore : Image::kAfter;
      return;
    }
    for (const auto& [prefix, op] : {std::pair<std::string_view, char>{" INSERT INTO ", 'c'},
                                     std::pair<std::string_view, char>{" UPDATE ", 'u'},
                                     std::pair<std::string_view, char>{" DELETE FROM ", 'd'}}) {
      if (StartsWith(rest, prefix)) {
        NewRow(line, rest.substr(prefix.size()), op);
        return;
      }
    }
    if (StartsWith(rest, " Extra row data format")) return;  // MySQL NDB extra row info
    Error(std::string(line));  // "### Row event for unknown table #N" and the unforeseen
  }

  void NewRow(std::string_view line, std::string_view name, char op) {
    BinlogTextRow row;
    row.end_log_pos = event_end_;
    row.start_pos = event_start_;
    row.gtid = gtid_;
    row.op = op;
    image_ = Image::kNone;
    row_ = kNoRow;
    const bool db_ok = ReadQuotedIdentifier(&name, &row.db) && StartsWith(name, ".");
    if (db_ok) name.remove_prefix(1);
    if (!db_ok || !ReadQuotedIdentifier(&name, &row.table)) {
      Error("unreadable table name: " + std::string(line));
      return;
    }
    // An insert whose row image is empty prints `VALUES ()` and no SET.
    if (op == 'c' && name == " VALUES ()") {
      out_.rows.push_back(std::move(row));
      return;
    }
    if (!name.empty()) {
      Error("unreadable table name: " + std::string(line));
      return;
    }
    out_.rows.push_back(std::move(row));
    row_ = out_.rows.size() - 1;
  }

  // `rest` is what follows "###   @": `N=VALUE /* TYPE meta=M nullable=N is_null=N */`.
  void Column(std::string_view line, std::string_view rest) {
    if (row_ == kNoRow || image_ == Image::kNone) {
      Error("column outside a row image: " + std::string(line));
      return;
    }
    uint64_t n = 0;
    const size_t digits = ParseLeadingUint(rest, &n);
    if (digits == 0 || n == 0 || n > 100000 || digits >= rest.size() || rest[digits] != '=') {
      Error("unreadable column: " + std::string(line));
      return;
    }
    rest.remove_prefix(digits + 1);
    std::string_view comment;
    // The comment is last on the line and holds no "/*" itself; values never
    // span lines (bytes below 0x20 print as \xNN), so the last " /* " on a
    // line that ends in "*/" is the comment's.
    const size_t open = rest.rfind(" /* ");
    if (EndsWith(rest, "*/") && open != std::string_view::npos) {
      comment = Trim(rest.substr(open + 4, rest.size() - 2 - (open + 4)));
      rest = rest.substr(0, open);
    }
    // FLOAT prints "%-20g": drop the padding. A quoted value ends in its quote.
    while (!rest.empty() && rest.back() == ' ') rest.remove_suffix(1);
    if (StartsWith(rest, "!!") || StartsWith(rest, "***")) {
      Error(std::string(line));
      return;
    }
    BinlogTextRow& row = out_.rows[row_];
    const int column = static_cast<int>(n);
    auto& image = image_ == Image::kBefore ? row.before : row.after;
    std::optional<std::string> value;
    if (rest != "NULL") value = std::string(rest);
    if (!image.emplace(column, std::move(value)).second) {
      Error("column printed twice: " + std::string(line));
      return;
    }
    if (!comment.empty()) row.type_comment[column] = std::string(comment);
  }

  void Error(std::string message) { out_.errors.push_back(std::move(message)); }

  static constexpr size_t kNoRow = static_cast<size_t>(-1);

  BinlogText out_;
  uint64_t last_at_ = 0;
  bool in_rows_ = false;
  uint64_t event_end_ = 0;
  uint64_t event_start_ = 0;
  size_t event_first_row_ = 0;
  std::string gtid_;
  size_t row_ = kNoRow;
  Image image_ = Image::kNone;
};

// A file in the temp directory, removed when this goes out of scope.
class TempFile {
 public:
  TempFile() {
    std::string pattern = (std::filesystem::temp_directory_path() / "phony-mariadb-binlog-XXXXXX").string();
    fd_ = mkstemp(pattern.data());
    if (fd_ >= 0) path_ = pattern;
  }
  ~TempFile() {
    if (fd_ >= 0) {
      close(fd_);
      unlink(path_.c_str());
    }
  }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;

  int fd() const { return fd_; }
  const std::string& path() const { return path_; }

  std::string Contents() const {
    std::ifstream in(path_, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }

 private:
  int fd_ = -1;
  std::string path_;
};

}  // namespace

BinlogText ParseMariadbBinlogText(std::string_view text) { return TextParser().Parse(text); }

absl::StatusOr<BinlogText> RunMariadbBinlog(const std::string& file) {
  const char* env_tool = std::getenv("PHONY_MARIADB_BINLOG");
  const std::string tool = env_tool != nullptr && *env_tool != '\0' ? env_tool : "mariadb-binlog";
  TempFile out;
  TempFile err;
  if (out.fd() < 0 || err.fd() < 0) {
    return absl::InternalError(std::string("cannot create a temp file for mariadb-binlog's output: ") +
                               std::strerror(errno));
  }
  std::vector<std::string> args = {tool, "--base64-output=decode-rows", "-vv", file};
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, out.fd(), 1);
  posix_spawn_file_actions_adddup2(&actions, err.fd(), 2);
  pid_t pid = 0;
  const int spawn_error = posix_spawnp(&pid, tool.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (spawn_error != 0) {
    return absl::FailedPreconditionError("cannot run " + tool + ": " + std::strerror(spawn_error));
  }
  int wait_status = 0;
  while (waitpid(pid, &wait_status, 0) < 0) {
    if (errno != EINTR) {
      return absl::InternalError("waitpid for " + tool + ": " + std::strerror(errno));
    }
  }

  BinlogText text = ParseMariadbBinlogText(out.Contents());
  const std::string err_text = err.Contents();
  size_t start = 0;
  while (start < err_text.size()) {
    size_t end = err_text.find('\n', start);
    if (end == std::string::npos) end = err_text.size();
    const std::string_view line = Trim(std::string_view(err_text).substr(start, end - start));
    if (!line.empty()) text.errors.emplace_back(line);
    start = end + 1;
  }
  if (WIFEXITED(wait_status)) {
    text.exit_status = WEXITSTATUS(wait_status);
    if (text.exit_status != 0) {
      text.errors.push_back(tool + " exited with status " + std::to_string(text.exit_status));
    }
  } else {
    text.exit_status = -1;
    text.errors.push_back(tool + " was killed by signal " +
                          std::to_string(WIFSIGNALED(wait_status) ? WTERMSIG(wait_status) : 0));
  }
  return text;
}

}  // namespace phony::testing
