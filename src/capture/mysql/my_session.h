// MySession: one plain (non-replication) connection to a MySQL or MariaDB
// server over Connector/C, for catalog reads and the snapshot's reads and
// loads. Errors are classified as the stages need them: unreachable or
// dropped connections kUnavailable (retried), refused credentials and
// grants kPermissionDenied, deadlocks kAborted, data and integrity errors
// kInvalidArgument, anything else kFailedPrecondition. Messages name what
// was being done and the server's error. The session runs in UTC and in
// strict mode. The connector stays behind this header. Not thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

struct st_mysql;
struct st_mysql_res;

namespace phony::mysql {

struct MySessionOptions {
  std::string host = "127.0.0.1";
  int port = 3306;
  std::string user;
  std::string password;
  std::string label = "source";  // names the server in messages ("source", "staging")
  int connect_timeout_seconds = 10;
  int read_timeout_seconds = 3600;
  bool local_infile = false;      // LOAD DATA LOCAL from memory (SetInfileSource)
};

// A row of text values; a NULL is std::nullopt.
using TextRow = std::vector<std::optional<std::string>>;

class MySession {
 public:
  static absl::StatusOr<std::unique_ptr<MySession>> Connect(const MySessionOptions& options);
  ~MySession();
  MySession(const MySession&) = delete;
  MySession& operator=(const MySession&) = delete;

  // Runs a statement (or several, separated by ';'), discarding results.
  absl::Status Run(std::string_view sql, std::string_view what);
  // Rows affected by the last statement, and its warnings.
  int64_t affected_rows() const;
  unsigned warning_count() const;
  // Runs a query and returns every row.
  absl::StatusOr<std::vector<TextRow>> Query(std::string_view sql, std::string_view what);

  // A streamed query (mysql_use_result: memory stays bounded), read
  // pull-style: Next() returns false at the end, and then status() says
  // whether the end was an error. The session may run nothing else until
  // the cursor is destroyed. A null field is nullptr.
  class Cursor {
   public:
    ~Cursor();
    bool Next();
    const char* const* fields() const { return fields_; }
    const unsigned long* lengths() const { return lengths_; }
    unsigned count() const { return count_; }
    const absl::Status& status() const { return status_; }

   private:
    friend class MySession;
    MySession* session_ = nullptr;
    st_mysql_res* result_ = nullptr;
    std::string what_;
    char** fields_ = nullptr;
    const unsigned long* lengths_ = nullptr;
    unsigned count_ = 0;
    absl::Status status_;
  };
  absl::StatusOr<std::unique_ptr<Cursor>> Open(std::string_view sql, std::string_view what);

  // The data for the next LOAD DATA LOCAL INFILE: `fill` appends about
  // `want` bytes to its buffer and returns false at the end (or on an error
  // it keeps for itself). Needs local_infile.
  void SetInfileSource(std::function<bool(std::string* buffer, size_t want)> fill);

  // 'text' quoted for this connection's charset; `name` quoted.
  std::string Literal(std::string_view text) const;
  static std::string Ident(std::string_view name);

  // The server's error number of the last failure (0 when none).
  unsigned last_errno() const { return last_errno_; }
  bool is_mariadb() const { return mariadb_; }
  const std::string& version() const { return version_; }

  struct Infile;

 private:
  MySession() = default;
  absl::Status Error(std::string_view what);

  st_mysql* conn_ = nullptr;
  MySessionOptions options_;
  unsigned last_errno_ = 0;
  bool mariadb_ = false;
  std::string version_;
  std::unique_ptr<Infile> infile_;
};

}  // namespace phony::mysql
