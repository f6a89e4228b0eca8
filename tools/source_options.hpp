#pragma once
// The options every command that talks to a database server shares: --source,
// --password-file, --ssl-mode, --ssl-ca.
#include <CLI/CLI.hpp>
#include <optional>
#include <string>

#include "capture/mysql/mysql_connection.hpp"
#include "capture/postgres/pg_connection.hpp"
#include "clients/clickhouse/clickhouse_client.hpp"

namespace pitr::tools {

struct SourceArgs {
  std::string source;
  std::optional<std::string> password_file;
  std::string ssl_mode = "preferred";
  std::string ssl_ca;
};

void add_source_options(CLI::App* cmd, SourceArgs& args, const std::string& option = "--source",
                        bool required = true);
// Parses the URI and reads the password (never from argv).
capture::MysqlEndpoint make_endpoint(const SourceArgs& args);
bool is_postgres_source(const SourceArgs& args);
capture::PostgresEndpoint make_postgres_endpoint(const SourceArgs& args);
bool is_clickhouse_source(const SourceArgs& args);
clients::ClickHouseEndpoint make_clickhouse_endpoint(const SourceArgs& args);

}  // namespace pitr::tools
