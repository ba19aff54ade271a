#include "src/capture/mysql/my_session.h"

#include <mysql.h>
#include <mysqld_error.h>
#include <errmsg.h>

#include <algorithm>
#include <cstdio>
#include <cstring>

namespace phony::mysql {

struct MySession::Infile {
  std::function<bool(std::string*, size_t)> fill;
  std::string buffer;
  size_t at = 0;
  bool done = false;
};

namespace {

int InfileInit(void** ptr, const char*, void* userdata) {
  *ptr = userdata;
  return 0;
}
int InfileRead(void* ptr, char* buf, unsigned int len) {
  auto* in = static_cast<MySession::Infile*>(ptr);
  if (in == nullptr || !in->fill) return -1;
  while (in->at == in->buffer.size() && !in->done) {
    in->buffer.clear();
    in->at = 0;
    if (!in->fill(&in->buffer, std::max<size_t>(len, 1 << 16))) in->done = true;
  }
  const size_t n = std::min<size_t>(len, in->buffer.size() - in->at);
  std::memcpy(buf, in->buffer.data() + in->at, n);
  in->at += n;
  return static_cast<int>(n);
}
void InfileEnd(void* ptr) {
  auto* in = static_cast<MySession::Infile*>(ptr);
  if (in == nullptr) return;
  in->fill = nullptr;
  in->buffer.clear();
  in->at = 0;
  in->done = false;
}
int InfileError(void*, char* buf, unsigned int len) {
  std::snprintf(buf, len, "phony: no rows for LOAD DATA LOCAL");
  return 2000;
}

}  // namespace

absl::StatusOr<std::unique_ptr<MySession>> MySession::Connect(const MySessionOptions& options) {
  std::unique_ptr<MySession> s(new MySession());
  s->options_ = options;
  s->conn_ = mysql_init(nullptr);
  if (s->conn_ == nullptr) return absl::ResourceExhaustedError("mysql_init failed");
  unsigned int timeout = static_cast<unsigned>(options.connect_timeout_seconds);
  mysql_optionsv(s->conn_, MYSQL_OPT_CONNECT_TIMEOUT, &timeout);
  unsigned int rw = static_cast<unsigned>(options.read_timeout_seconds);
  mysql_optionsv(s->conn_, MYSQL_OPT_READ_TIMEOUT, &rw);
  mysql_optionsv(s->conn_, MYSQL_OPT_WRITE_TIMEOUT, &rw);
  mysql_optionsv(s->conn_, MYSQL_SET_CHARSET_NAME, "utf8mb4");
  unsigned int local = options.local_infile ? 1 : 0;
  mysql_optionsv(s->conn_, MYSQL_OPT_LOCAL_INFILE, &local);
  if (!mysql_real_connect(s->conn_, options.host.c_str(), options.user.c_str(), options.password.c_str(), nullptr,
                          static_cast<unsigned>(options.port), nullptr, 0)) {
    const unsigned err = mysql_errno(s->conn_);
    const std::string m = options.label + " connection to " + options.host + ":" + std::to_string(options.port) +
                          " as " + options.user + ": " + mysql_error(s->conn_);
    if (err == ER_ACCESS_DENIED_ERROR || err == ER_DBACCESS_DENIED_ERROR) return absl::PermissionDeniedError(m);
    return absl::UnavailableError(m);
  }
  if (options.local_infile) {
    s->infile_ = std::make_unique<Infile>();
    mysql_set_local_infile_handler(s->conn_, InfileInit, InfileRead, InfileEnd, InfileError, s->infile_.get());
  }
  s->version_ = mysql_get_server_info(s->conn_);
  s->mariadb_ = s->version_.find("MariaDB") != std::string::npos;
  // Values travel as UTC and in strict mode, whatever the server's defaults.
  if (absl::Status st = s->Run("SET time_zone = '+00:00', SESSION sql_mode = "
                               "'STRICT_ALL_TABLES,NO_AUTO_VALUE_ON_ZERO,NO_ENGINE_SUBSTITUTION'",
                               "setting up the session");
      !st.ok()) {
    return st;
  }
  return s;
}

MySession::~MySession() {
  if (conn_ != nullptr) mysql_close(conn_);
}

absl::Status MySession::Error(std::string_view what) {
  last_errno_ = mysql_errno(conn_);
  const std::string state = mysql_sqlstate(conn_);
  const std::string m = options_.label + ": " + std::string(what) + ": " + mysql_error(conn_) + " (error " +
                        std::to_string(last_errno_) + ")";
  switch (last_errno_) {
    case CR_SERVER_GONE_ERROR: case CR_SERVER_LOST: case CR_CONN_HOST_ERROR: case CR_CONNECTION_ERROR:
    case CR_SERVER_LOST_EXTENDED: case ER_SERVER_SHUTDOWN: case ER_CON_COUNT_ERROR: case 1927:
    case ER_QUERY_INTERRUPTED:
      return absl::UnavailableError(m);
    case ER_LOCK_DEADLOCK: case ER_LOCK_WAIT_TIMEOUT:
      return absl::AbortedError(m);
    case ER_ACCESS_DENIED_ERROR: case ER_DBACCESS_DENIED_ERROR: case ER_TABLEACCESS_DENIED_ERROR:
    case ER_SPECIFIC_ACCESS_DENIED_ERROR: case ER_COLUMNACCESS_DENIED_ERROR:
      return absl::PermissionDeniedError(m);
    default: break;
  }
  if (state.rfind("22", 0) == 0 || state.rfind("23", 0) == 0) return absl::InvalidArgumentError(m);
  return absl::FailedPreconditionError(m);
}

absl::Status MySession::Run(std::string_view sql, std::string_view what) {
  last_errno_ = 0;
  if (mysql_real_query(conn_, sql.data(), sql.size()) != 0) return Error(what);
  // Every result of a multi-statement, drained.
  if (MYSQL_RES* r = mysql_store_result(conn_)) mysql_free_result(r);
  while (mysql_more_results(conn_)) {
    if (mysql_next_result(conn_) > 0) return Error(what);
    if (MYSQL_RES* r = mysql_store_result(conn_)) mysql_free_result(r);
  }
  return absl::OkStatus();
}

int64_t MySession::affected_rows() const { return static_cast<int64_t>(mysql_affected_rows(conn_)); }
unsigned MySession::warning_count() const { return mysql_warning_count(conn_); }

absl::StatusOr<std::vector<TextRow>> MySession::Query(std::string_view sql, std::string_view what) {
  last_errno_ = 0;
  if (mysql_real_query(conn_, sql.data(), sql.size()) != 0) return Error(what);
  MYSQL_RES* r = mysql_store_result(conn_);
  if (r == nullptr) {
    if (mysql_field_count(conn_) == 0) return std::vector<TextRow>();
    return Error(what);
  }
  std::vector<TextRow> rows;
  const unsigned n = mysql_num_fields(r);
  while (MYSQL_ROW row = mysql_fetch_row(r)) {
    const unsigned long* lengths = mysql_fetch_lengths(r);
    TextRow out;
    out.reserve(n);
    for (unsigned i = 0; i < n; ++i) {
      if (row[i] == nullptr) {
        out.emplace_back(std::nullopt);
      } else {
        out.emplace_back(std::string(row[i], lengths[i]));
      }
    }
    rows.push_back(std::move(out));
  }
  mysql_free_result(r);
  return rows;
}

absl::StatusOr<std::unique_ptr<MySession::Cursor>> MySession::Open(std::string_view sql, std::string_view what) {
  last_errno_ = 0;
  if (mysql_real_query(conn_, sql.data(), sql.size()) != 0) return Error(what);
  MYSQL_RES* r = mysql_use_result(conn_);
  if (r == nullptr) return Error(what);
  auto c = std::make_unique<Cursor>();
  c->session_ = this;
  c->result_ = r;
  c->what_ = std::string(what);
  c->count_ = mysql_num_fields(r);
  return c;
}

bool MySession::Cursor::Next() {
  if (result_ == nullptr) return false;
  MYSQL_ROW row = mysql_fetch_row(result_);
  if (row == nullptr) {
    if (mysql_errno(session_->conn_) != 0) status_ = session_->Error(what_);
    mysql_free_result(result_);
    result_ = nullptr;
    return false;
  }
  fields_ = row;
  lengths_ = mysql_fetch_lengths(result_);
  return true;
}

MySession::Cursor::~Cursor() {
  if (result_ != nullptr) mysql_free_result(result_);  // drains what the server still sends
}

void MySession::SetInfileSource(std::function<bool(std::string*, size_t)> fill) {
  if (!infile_) return;
  infile_->fill = std::move(fill);
  infile_->buffer.clear();
  infile_->at = 0;
  infile_->done = false;
}

std::string MySession::Literal(std::string_view text) const {
  std::string buf(text.size() * 2 + 1, '\0');
  const unsigned long n =
      mysql_real_escape_string(conn_, buf.data(), text.data(), static_cast<unsigned long>(text.size()));
  buf.resize(n);
  return "'" + buf + "'";
}

std::string MySession::Ident(std::string_view name) {
  std::string out = "`";
  for (char c : name) {
    if (c == '`') out.push_back('`');
    out.push_back(c);
  }
  out.push_back('`');
  return out;
}

}  // namespace phony::mysql
