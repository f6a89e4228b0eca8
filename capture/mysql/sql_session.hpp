#pragma once
// An SQL session through MariaDB Connector/C (libmysqlclient), for the work that is plain
// SQL: base backups and, later, replay. The replication stream itself does not use it.
// Not thread-safe: one session per thread.
#include <cstdint>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "capture/mysql/mysql_connection.hpp"

struct st_mysql;

namespace pitr::capture {

class SqlError : public std::runtime_error {
 public:
  SqlError(const std::string& message, unsigned code) : std::runtime_error(message), code_(code) {}
  unsigned code() const { return code_; }

 private:
  unsigned code_;
};

struct SqlColumn {
  std::string name;
  int type = 0;         // enum_field_types
  bool binary = false;  // binary character set (BINARY, VARBINARY, BLOB, BIT, GEOMETRY)
  bool numeric = false;
};

struct SqlRow {
  const char* const* values;
  const unsigned long* lengths;
  std::size_t size;
  bool null(std::size_t i) const { return values[i] == nullptr; }
  std::string_view text(std::size_t i) const { return {values[i], lengths[i]}; }
};

class SqlSession {
 public:
  // Connects with utf8mb4; TLS per the endpoint's mode. `purpose` names the session in errors.
  // With `multi_statements`, execute() accepts several statements separated by ';'.
  SqlSession(const MysqlEndpoint& endpoint, std::string purpose, bool multi_statements = false);
  ~SqlSession();
  SqlSession(const SqlSession&) = delete;
  SqlSession& operator=(const SqlSession&) = delete;

  void execute(const std::string& sql);
  std::vector<std::vector<std::optional<std::string>>> rows(const std::string& sql);
  std::optional<std::string> scalar(const std::string& sql);
  // Streams a large result row by row without holding it in memory.
  void stream(const std::string& sql,
              const std::function<void(const std::vector<SqlColumn>&)>& columns,
              const std::function<void(const SqlRow&)>& row);

 private:
  [[noreturn]] void fail(const std::string& sql);
  st_mysql* mysql_;
  std::string purpose_;
};

}  // namespace pitr::capture
