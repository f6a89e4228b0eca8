#pragma once
// Who the source server is: the identity its archived binlogs are keyed by, and the
// settings capture depends on.
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace pitr::capture {

class MysqlConnection;

struct ServerIdentity {
  bool mariadb = false;
  std::string version;
  std::uint32_t server_id = 0;
  std::string server_uuid;           // MySQL
  std::uint32_t gtid_domain_id = 0;  // MariaDB
  std::string binlog_checksum;       // NONE or CRC32
  bool log_bin = false;

  // Directory name of this server's binlogs in the archive: "mysql-<server_uuid>" or
  // "mariadb-<server_id>-<gtid_domain_id>", so a new primary never collides with an old one.
  std::string source_id() const;
  std::string describe() const;
};

using ScalarQuery = std::function<std::optional<std::string>(const std::string& sql)>;
// Asks the server through any session that can answer a one-value query.
ServerIdentity identify_server(const ScalarQuery& scalar);
ServerIdentity identify_server(MysqlConnection& connection);
// File names from SHOW BINARY LOGS, oldest first.
std::vector<std::string> list_binlogs(MysqlConnection& connection);

}  // namespace pitr::capture
