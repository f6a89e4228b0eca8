#include "capture/mysql/server_identity.hpp"

#include <fmt/format.h>

#include "capture/mysql/mysql_connection.hpp"

namespace pitr::capture {
namespace {

std::string cell(const mysql_protocol::ResultSet& rs, std::size_t column) {
  if (rs.rows.empty() || column >= rs.rows[0].size() || !rs.rows[0][column]) return {};
  return *rs.rows[0][column];
}

}  // namespace

std::string ServerIdentity::source_id() const {
  if (mariadb) return fmt::format("mariadb-{}-{}", server_id, gtid_domain_id);
  return "mysql-" + server_uuid;
}

std::string ServerIdentity::describe() const {
  return fmt::format("{} {} (server_id {}{})", mariadb ? "MariaDB" : "MySQL", version, server_id,
                     mariadb ? fmt::format(", gtid_domain_id {}", gtid_domain_id)
                             : ", server_uuid " + server_uuid);
}

ServerIdentity identify_server(MysqlConnection& c) {
  ServerIdentity id;
  id.mariadb = c.server().is_mariadb();
  auto rs = c.query("SELECT @@version, @@server_id, @@global.binlog_checksum, @@log_bin");
  id.version = cell(rs, 0);
  id.server_id = static_cast<std::uint32_t>(std::stoul(cell(rs, 1)));
  id.binlog_checksum = cell(rs, 2);
  id.log_bin = cell(rs, 3) == "1";
  if (id.mariadb) {
    id.gtid_domain_id =
        static_cast<std::uint32_t>(std::stoul(cell(c.query("SELECT @@gtid_domain_id"), 0)));
  } else {
    id.server_uuid = cell(c.query("SELECT @@server_uuid"), 0);
  }
  if (!id.log_bin)
    throw std::runtime_error(fmt::format(
        "the server {} has binary logging off (log_bin=0): there is nothing to capture; "
        "start it with --log-bin",
        id.describe()));
  return id;
}

std::vector<std::string> list_binlogs(MysqlConnection& c) {
  std::vector<std::string> names;
  for (auto& row : c.query("SHOW BINARY LOGS").rows)
    if (!row.empty() && row[0]) names.push_back(*row[0]);
  return names;
}

}  // namespace pitr::capture
