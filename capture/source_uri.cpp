#include "capture/source_uri.hpp"

#include <cstdlib>
#include <fstream>
#include <stdexcept>

namespace pitr::capture {

SourceUri parse_source_uri(const std::string& text) {
  SourceUri uri;
  auto scheme_end = text.find("://");
  if (scheme_end == std::string::npos)
    throw std::invalid_argument("source '" + text + "' is not a URI like mysql://USER@HOST:PORT");
  uri.scheme = text.substr(0, scheme_end);
  if (uri.scheme == "mariadb") uri.scheme = "mysql";
  if (uri.scheme == "postgresql") uri.scheme = "postgres";
  if (uri.scheme != "mysql" && uri.scheme != "postgres" && uri.scheme != "clickhouse")
    throw std::invalid_argument("unsupported source scheme '" + uri.scheme +
                                "' (use mysql://, postgres:// or clickhouse://)");
  auto rest = text.substr(scheme_end + 3);
  auto slash = rest.find('/');
  if (slash != std::string::npos) {
    uri.database = rest.substr(slash + 1);
    rest = rest.substr(0, slash);
  }
  auto at = rest.rfind('@');
  if (at == std::string::npos)
    throw std::invalid_argument("source '" + text + "' names no user (mysql://USER@HOST:PORT)");
  uri.user = rest.substr(0, at);
  if (uri.user.find(':') != std::string::npos)
    throw std::invalid_argument(
        "the source URI contains a password; pass it in PITR_PASSWORD or --password-file "
        "instead, so it never shows in the process list");
  auto hostport = rest.substr(at + 1);
  uri.port = uri.scheme == "postgres" ? 5432 : uri.scheme == "clickhouse" ? 8123 : 3306;
  if (!hostport.empty() && hostport.front() == '[') {  // [ipv6]:port
    auto close = hostport.find(']');
    if (close == std::string::npos) throw std::invalid_argument("unterminated [ in " + text);
    uri.host = hostport.substr(1, close - 1);
    hostport = hostport.substr(close + 1);
    if (!hostport.empty() && hostport.front() == ':')
      hostport = hostport.substr(1);
    else
      hostport.clear();
  } else {
    auto colon = hostport.rfind(':');
    uri.host = hostport.substr(0, colon);
    hostport = colon == std::string::npos ? "" : hostport.substr(colon + 1);
  }
  if (!hostport.empty()) {
    if (hostport.find_first_not_of("0123456789") != std::string::npos || hostport.size() > 5 ||
        std::stoul(hostport) == 0 || std::stoul(hostport) > 65535)
      throw std::invalid_argument("invalid port '" + hostport + "' in " + text);
    uri.port = static_cast<std::uint16_t>(std::stoul(hostport));
  }
  if (uri.user.empty() || uri.host.empty())
    throw std::invalid_argument("source '" + text + "' needs both a user and a host");
  return uri;
}

std::string read_password(const std::optional<std::string>& password_file) {
  if (password_file) {
    std::ifstream in(*password_file);
    if (!in) throw std::runtime_error("cannot read password file " + *password_file);
    std::string line;
    std::getline(in, line);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    return line;
  }
  const char* env = std::getenv("PITR_PASSWORD");
  return env ? env : "";
}

}  // namespace pitr::capture
