#include "src/snapshot/pg_session.h"

#include <chrono>
#include <thread>
#include <utility>

#include "spdlog/spdlog.h"

namespace phony::snapshot {

absl::StatusOr<std::unique_ptr<PgSession>> PgSession::Connect(const PgEndpoint& e, const std::string& role) {
  const std::string port = std::to_string(e.port);
  std::vector<const char*> keys = {"host", "port", "dbname", "user", "application_name", "connect_timeout"};
  std::vector<const char*> values = {e.host.c_str(), port.c_str(), e.database.c_str(), e.user.c_str(),
                                     e.application_name.c_str(), "10"};
  if (!e.password.empty()) {
    keys.push_back("password");
    values.push_back(e.password.c_str());
  }
  if (!e.options.empty()) {
    keys.push_back("options");
    values.push_back(e.options.c_str());
  }
  keys.push_back(nullptr);
  values.push_back(nullptr);
  PGconn* conn = PQconnectdbParams(keys.data(), values.data(), 0);
  if (PQstatus(conn) != CONNECTION_OK) {
    std::string msg = conn ? PQerrorMessage(conn) : "out of memory";
    PQfinish(conn);
    while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
    const bool denied = msg.find("password authentication failed") != std::string::npos ||
                        msg.find("permission denied") != std::string::npos ||
                        msg.find("does not exist") != std::string::npos;
    const std::string text = "connecting to the " + role + " " + e.host + ":" + port + "/" + e.database + ": " + msg;
    return denied ? absl::PermissionDeniedError(text) : absl::UnavailableError(text);
  }
  // Notices (NOTICE: … already exists, skipping) are not ours to print.
  PQsetNoticeProcessor(conn, [](void*, const char*) {}, nullptr);
  return std::unique_ptr<PgSession>(new PgSession(conn, role));
}

PgSession::~PgSession() { PQfinish(conn_); }

absl::Status PgSession::ErrorFor(PGresult* r, const std::string& what) const {
  if (PQstatus(conn_) != CONNECTION_OK) {
    std::string msg = PQerrorMessage(conn_);
    while (!msg.empty() && msg.back() == '\n') msg.pop_back();
    return absl::UnavailableError(what + ": the " + role_ + " connection was lost: " + msg);
  }
  const char* state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : nullptr;
  const char* primary = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : nullptr;
  std::string msg = primary ? primary : PQerrorMessage(conn_);
  while (!msg.empty() && msg.back() == '\n') msg.pop_back();
  const std::string text = what + " (" + role_ + "): " + msg + (state ? std::string(" [SQLSTATE ") + state + "]" : "");
  // Class 08 (connection), 57P (shutdown), 53 (resources): worth a retry.
  if (state && (std::string(state).rfind("08", 0) == 0 || std::string(state).rfind("57P", 0) == 0 ||
                std::string(state).rfind("53", 0) == 0)) {
    return absl::UnavailableError(text);
  }
  if (state && std::string(state) == "42501") return absl::PermissionDeniedError(text);
  return absl::FailedPreconditionError(text);
}

absl::StatusOr<PgResult> PgSession::Query(const std::string& sql, const std::string& what,
                                          const std::vector<std::optional<std::string>>& params) {
  std::vector<const char*> values;
  values.reserve(params.size());
  for (const auto& p : params) values.push_back(p ? p->c_str() : nullptr);
  PgResult r(params.empty() ? PQexec(conn_, sql.c_str())
                            : PQexecParams(conn_, sql.c_str(), static_cast<int>(values.size()), nullptr,
                                           values.data(), nullptr, nullptr, 0));
  const ExecStatusType st = r ? PQresultStatus(r.get()) : PGRES_FATAL_ERROR;
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK && st != PGRES_COPY_OUT && st != PGRES_COPY_IN) {
    return ErrorFor(r.get(), what);
  }
  return r;
}

absl::StatusOr<std::unique_ptr<PgSession>> ConnectWithRetry(const PgEndpoint& endpoint, const std::string& role,
                                                            int attempts, const std::atomic<bool>* stop) {
  auto backoff = std::chrono::milliseconds(1000);
  for (int attempt = 1;; ++attempt) {
    auto session = PgSession::Connect(endpoint, role);
    if (session.ok() || !absl::IsUnavailable(session.status()) || attempt >= attempts) return session;
    spdlog::warn("snapshot: {} (attempt {} of {}); retrying in {} s", std::string(session.status().message()),
                 attempt, attempts, backoff.count() / 1000);
    for (auto waited = std::chrono::milliseconds(0); waited < backoff; waited += std::chrono::milliseconds(100)) {
      if (stop && stop->load()) return session;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    backoff = std::min(backoff * 2, std::chrono::milliseconds(30000));
  }
}

}  // namespace phony::snapshot
