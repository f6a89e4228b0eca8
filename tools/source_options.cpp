#include "tools/source_options.hpp"

#include "capture/source_uri.hpp"
#include "tools/usage_error.hpp"

namespace pitr::tools {

void add_source_options(CLI::App* cmd, SourceArgs& a, const std::string& option, bool required) {
  cmd->add_option(option, a.source,
                  "mysql://USER@HOST:PORT, postgres://USER@HOST:PORT[/DB] or "
                  "clickhouse://USER@HOST:HTTP_PORT")
      ->required(required);
  cmd->add_option("--password-file", a.password_file,
                  "File whose first line is the password (default: $PITR_PASSWORD)")
      ->check(CLI::ExistingFile);
  cmd->add_option("--ssl-mode", a.ssl_mode,
                  "disabled, preferred (default), required, verify-ca, verify-identity");
  cmd->add_option("--ssl-ca", a.ssl_ca, "CA certificate file for verify-ca/verify-identity")
      ->check(CLI::ExistingFile);
}

capture::MysqlEndpoint make_endpoint(const SourceArgs& a) {
  if (a.source.empty()) throw UsageError("name the server with mysql://USER@HOST:PORT");
  auto uri = capture::parse_source_uri(a.source);
  capture::MysqlEndpoint e;
  e.host = uri.host;
  e.port = uri.port;
  e.user = uri.user;
  e.password = capture::read_password(a.password_file);
  e.ssl_mode = parse_option("--ssl-mode", a.ssl_mode,
                            "disabled, preferred, required, verify-ca or verify-identity",
                            capture::parse_ssl_mode);
  e.ssl_ca = a.ssl_ca;
  return e;
}

bool is_postgres_source(const SourceArgs& a) {
  return !a.source.empty() && capture::parse_source_uri(a.source).scheme == "postgres";
}

capture::PostgresEndpoint make_postgres_endpoint(const SourceArgs& a) {
  auto uri = capture::parse_source_uri(a.source);
  capture::PostgresEndpoint e;
  e.host = uri.host;
  e.port = uri.port;
  e.user = uri.user;
  if (!uri.database.empty()) e.dbname = uri.database;
  e.password = capture::read_password(a.password_file);
  static const std::pair<const char*, const char*> kModes[] = {{"disabled", "disable"},
                                                               {"preferred", "prefer"},
                                                               {"required", "require"},
                                                               {"verify-ca", "verify-ca"},
                                                               {"verify-identity", "verify-full"}};
  e.ssl_mode.clear();
  for (auto [ours, libpq] : kModes)
    if (a.ssl_mode == ours) e.ssl_mode = libpq;
  if (e.ssl_mode.empty())
    throw UsageError(
        "--ssl-mode wants disabled, preferred, required, verify-ca or "
        "verify-identity, got '" +
        a.ssl_mode + "'");
  e.ssl_ca = a.ssl_ca;
  return e;
}

bool is_clickhouse_source(const SourceArgs& a) {
  return !a.source.empty() && capture::parse_source_uri(a.source).scheme == "clickhouse";
}

clients::ClickHouseEndpoint make_clickhouse_endpoint(const SourceArgs& a) {
  auto uri = capture::parse_source_uri(a.source);
  if (a.ssl_mode != "preferred" && a.ssl_mode != "disabled")
    throw UsageError("ClickHouse is reached over plain HTTP: --ssl-mode does not apply");
  return {uri.host, uri.port, uri.user, capture::read_password(a.password_file)};
}

}  // namespace pitr::tools
