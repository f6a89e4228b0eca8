#include "capture/mysql/server_identity.hpp"

#include <fmt/format.h>

#include "capture/mysql/mysql_connection.hpp"

namespace pitr::capture {

std::string ServerIdentity::source_id() const {
  if (mariadb) return fmt::format("mariadb-{}-{}", server_id, gtid_domain_id);
  return "mysql-" + server_uuid;
}

std::string ServerIdentity::describe() const {
  return fmt::format("{} {} (server_id {}{})", mariadb ? "MariaDB" : "MySQL", version, server_id,
                     mariadb ? fmt::format(", gtid_domain_id {}", gtid_domain_id)
                             : ", server_uuid " + server_uuid);
}

ServerIdentity identify_server(const ScalarQuery& scalar) {
  ServerIdentity id;
  id.version = scalar("SELECT @@version").value_or("");
  id.mariadb = id.version.find("MariaDB") != std::string::npos;
  id.server_id = static_cast<std::uint32_t>(std::stoul(scalar("SELECT @@server_id").value_or("0")));
  id.binlog_checksum = scalar("SELECT @@global.binlog_checksum").value_or("NONE");
  id.log_bin = scalar("SELECT @@log_bin").value_or("0") == "1";
  if (id.mariadb)
    id.gtid_domain_id =
        static_cast<std::uint32_t>(std::stoul(scalar("SELECT @@gtid_domain_id").value_or("0")));
  else
    id.server_uuid = scalar("SELECT @@server_uuid").value_or("");
  if (!id.log_bin)
    throw std::runtime_error(
        fmt::format("the server {} has binary logging off (log_bin=0): pitr needs the binlog; "
                    "start it with --log-bin",
                    id.describe()));
  return id;
}

ServerIdentity identify_server(MysqlConnection& c) {
  return identify_server([&](const std::string& sql) -> std::optional<std::string> {
    auto rs = c.query(sql);
    if (rs.rows.empty() || rs.rows[0].empty()) return std::nullopt;
    return rs.rows[0][0];
  });
}

std::vector<std::string> list_binlogs(MysqlConnection& c) {
  std::vector<std::string> names;
  for (auto& row : c.query("SHOW BINARY LOGS").rows)
    if (!row.empty() && row[0]) names.push_back(*row[0]);
  return names;
}

}  // namespace pitr::capture
