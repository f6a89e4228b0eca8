#include "tools/source_options.hpp"

#include "capture/source_uri.hpp"

namespace pitr::tools {

void add_source_options(CLI::App* cmd, SourceArgs& a, const std::string& option, bool required) {
  cmd->add_option(option, a.source, "mysql://USER@HOST:PORT")->required(required);
  cmd->add_option("--password-file", a.password_file,
                  "File whose first line is the password (default: $PITR_PASSWORD)")
      ->check(CLI::ExistingFile);
  cmd->add_option("--ssl-mode", a.ssl_mode,
                  "disabled, preferred (default), required, verify-ca, verify-identity");
  cmd->add_option("--ssl-ca", a.ssl_ca, "CA certificate file for verify-ca/verify-identity")
      ->check(CLI::ExistingFile);
}

capture::MysqlEndpoint make_endpoint(const SourceArgs& a) {
  if (a.source.empty()) throw std::invalid_argument("name the server with mysql://USER@HOST:PORT");
  auto uri = capture::parse_source_uri(a.source);
  capture::MysqlEndpoint e;
  e.host = uri.host;
  e.port = uri.port;
  e.user = uri.user;
  e.password = capture::read_password(a.password_file);
  e.ssl_mode = capture::parse_ssl_mode(a.ssl_mode);
  e.ssl_ca = a.ssl_ca;
  return e;
}

}  // namespace pitr::tools
