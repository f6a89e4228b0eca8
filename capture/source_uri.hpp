#pragma once
// Source and target addresses given on the command line: mysql://USER@HOST:PORT.
// Passwords never travel in a URI (they would show in `ps`); see read_password().
#include <cstdint>
#include <optional>
#include <string>

namespace pitr::capture {

struct SourceUri {
  // "mysql" (also: "mariadb"), "postgres" (also: "postgresql") or "clickhouse" (its HTTP
  // interface, port 8123 by default)
  std::string scheme;
  std::string user;
  std::string host;
  std::uint16_t port = 0;
  std::string database;
};

// Throws std::invalid_argument with a message that says what is wrong.
SourceUri parse_source_uri(const std::string& text);

// The password from --password-file (first line) or else the PITR_PASSWORD environment
// variable; empty when neither is set.
std::string read_password(const std::optional<std::string>& password_file);

}  // namespace pitr::capture
