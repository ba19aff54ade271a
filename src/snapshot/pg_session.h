// A libpq connection for the snapshot path, with its errors as absl::Status:
// kUnavailable when the connection is gone (retry with backoff), otherwise
// kFailedPrecondition with the server's SQLSTATE and primary message only
// (its DETAIL can quote row values, which never reach a log). Internal to
// src/snapshot/; not thread-safe (one per worker).
#pragma once

#include <libpq-fe.h>

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/schema.h"

namespace phony::snapshot {

struct PgResultDeleter {
  void operator()(PGresult* r) const { PQclear(r); }
};
using PgResult = std::unique_ptr<PGresult, PgResultDeleter>;

struct PgEndpoint {
  std::string host;
  int port = 5432;
  std::string database;
  std::string user;
  std::string password;  // resolved secret; never logged
  std::string application_name = "phony-snapshot";
  std::string options;   // the `options` connection parameter (-c GUCs)
};

class PgSession {
 public:
  static absl::StatusOr<std::unique_ptr<PgSession>> Connect(const PgEndpoint& endpoint, const std::string& role);
  ~PgSession();
  PgSession(const PgSession&) = delete;
  PgSession& operator=(const PgSession&) = delete;

  // Runs one statement; `what` names it in errors ("reading the catalog").
  absl::StatusOr<PgResult> Query(const std::string& sql, const std::string& what,
                                 const std::vector<std::optional<std::string>>& params = {});
  absl::Status Run(const std::string& sql, const std::string& what) { return Query(sql, what).status(); }
  // The error status for a failed result (or a connection problem).
  absl::Status ErrorFor(PGresult* r, const std::string& what) const;
  bool alive() const { return PQstatus(conn_) == CONNECTION_OK; }
  PGconn* get() { return conn_; }
  const std::string& role() const { return role_; }

 private:
  PgSession(PGconn* conn, std::string role) : conn_(conn), role_(std::move(role)) {}
  PGconn* conn_;
  std::string role_;  // "source" or "staging", for messages
};

// PgSession::Connect, retried with backoff (1 s doubling to 30 s, each
// retry logged) while the server is unreachable, up to `attempts` tries or
// until `*stop` is set.
absl::StatusOr<std::unique_ptr<PgSession>> ConnectWithRetry(const PgEndpoint& endpoint, const std::string& role,
                                                            int attempts, const std::atomic<bool>* stop = nullptr);

// "name" with embedded quotes doubled, and "schema"."table".
inline std::string QuoteIdent(const std::string& ident) {
  std::string out = "\"";
  for (char c : ident) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  return out + "\"";
}
inline std::string QualifiedIdent(const TableId& t) { return QuoteIdent(t.schema) + "." + QuoteIdent(t.table); }

// Text of column `col` of row `row`.
inline std::string Text(PGresult* r, int row, int col) {
  return std::string(PQgetvalue(r, row, col), static_cast<size_t>(PQgetlength(r, row, col)));
}

}  // namespace phony::snapshot
