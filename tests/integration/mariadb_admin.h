// The MariaDB admin connection integration tests use: root over the socket
// of the server scripts/services.sh starts (the phony user has only what
// the stages need), utf8mb4. Test-only.
#pragma once

#include <mysql.h>

#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/integration/services_env.h"

namespace phony::testing {

class MariaDbAdmin {
 public:
  MariaDbAdmin() {
    m_ = mysql_init(nullptr);
    mysql_optionsv(m_, MYSQL_SET_CHARSET_NAME, "utf8mb4");
    if (mysql_real_connect(m_, nullptr, "root", nullptr, nullptr, 0, ServiceEnv("PHONY_MARIADB_SOCKET").c_str(), 0) ==
        nullptr) {
      ADD_FAILURE() << "MariaDB is not reachable (scripts/services.sh start mariadb): " << mysql_error(m_);
    }
  }
  ~MariaDbAdmin() { mysql_close(m_); }
  MariaDbAdmin(const MariaDbAdmin&) = delete;
  MariaDbAdmin& operator=(const MariaDbAdmin&) = delete;

  MYSQL* get() { return m_; }
  void Exec(const std::string& sql) {
    ASSERT_EQ(mysql_query(m_, sql.c_str()), 0) << sql << ": " << mysql_error(m_);
    if (MYSQL_RES* r = mysql_store_result(m_)) mysql_free_result(r);
  }
  // The first row of a query ("" for NULL).
  std::vector<std::string> Row(const std::string& sql) {
    std::vector<std::string> out;
    EXPECT_EQ(mysql_query(m_, sql.c_str()), 0) << sql << ": " << mysql_error(m_);
    MYSQL_RES* r = mysql_store_result(m_);
    if (r == nullptr) return out;
    if (MYSQL_ROW row = mysql_fetch_row(r)) {
      for (unsigned i = 0; i < mysql_num_fields(r); ++i) out.emplace_back(row[i] == nullptr ? "" : row[i]);
    }
    mysql_free_result(r);
    return out;
  }

 private:
  MYSQL* m_ = nullptr;
};

struct MysqlDeleter {
  void operator()(MYSQL* m) const { mysql_close(m); }
};
using MysqlConn = std::unique_ptr<MYSQL, MysqlDeleter>;

// The phony user over TCP, as the stages connect (nullptr, with a test
// failure, when the server is not reachable).
inline MysqlConn ConnectAsPhony() {
  MysqlConn conn(mysql_init(nullptr));
  unsigned int timeout = 10;
  mysql_optionsv(conn.get(), MYSQL_OPT_CONNECT_TIMEOUT, &timeout);
  const std::string host = ServiceEnv("PHONY_MARIADB_HOST");
  const std::string user = ServiceEnv("PHONY_MARIADB_USER");
  const std::string password = ServiceEnv("PHONY_MARIADB_PASSWORD");
  const std::string port_text = ServiceEnv("PHONY_MARIADB_PORT");
  if (port_text.empty()) return nullptr;
  const unsigned port = static_cast<unsigned>(std::stoul(port_text));
  if (!mysql_real_connect(conn.get(), host.c_str(), user.c_str(), password.c_str(), nullptr, port, nullptr, 0)) {
    ADD_FAILURE() << "connect: " << mysql_error(conn.get());
    return nullptr;
  }
  return conn;
}

}  // namespace phony::testing
