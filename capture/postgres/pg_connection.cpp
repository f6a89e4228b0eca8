#include "capture/postgres/pg_connection.hpp"

#include <fmt/format.h>

#include <vector>

namespace pitr::capture {
namespace {

std::string trimmed(const char* message) {
  std::string s = message ? message : "";
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

// Server notices go to stderr, except the one every BASE_BACKUP without archive_command
// gets: pitr archives the WAL itself, through its own capture.
void print_notice(void*, const char* message) {
  std::string m = trimmed(message);
  if (m.find("WAL archiving is not enabled") != std::string::npos) return;
  fmt::print(stderr, "pitr: server says: {}\n", m);
}

}  // namespace

PgConnection::PgConnection(const PostgresEndpoint& e, bool replication)
    : where_(fmt::format("{}@{}:{}", e.user, e.host, e.port)) {
  auto port = std::to_string(e.port);
  std::vector<const char*> keys{
      "host", "port", "user", "dbname", "sslmode", "application_name", "connect_timeout"};
  std::vector<const char*> values{e.host.c_str(),
                                  port.c_str(),
                                  e.user.c_str(),
                                  e.dbname.c_str(),
                                  e.ssl_mode.c_str(),
                                  e.application_name.c_str(),
                                  "30"};
  if (!e.password.empty()) {
    keys.push_back("password");
    values.push_back(e.password.c_str());
  }
  if (!e.ssl_ca.empty()) {
    keys.push_back("sslrootcert");
    values.push_back(e.ssl_ca.c_str());
  }
  if (replication) {
    keys.push_back("replication");
    values.push_back("true");
  }
  keys.push_back(nullptr);
  values.push_back(nullptr);
  conn_ = PQconnectdbParams(keys.data(), values.data(), 0);
  if (!conn_) throw PgError("out of memory connecting to " + where_);
  if (PQstatus(conn_) != CONNECTION_OK) {
    auto message = trimmed(PQerrorMessage(conn_));
    PQfinish(conn_);
    conn_ = nullptr;
    std::string hint;
    if (message.find("password") != std::string::npos)
      hint = " (check PITR_PASSWORD or --password-file, and the role's password)";
    else if (message.find("pg_hba.conf") != std::string::npos)
      hint = replication ? " (add a 'host replication USER ADDRESS scram-sha-256' line to "
                           "pg_hba.conf and reload)"
                         : " (add a matching line to pg_hba.conf and reload)";
    else if (message.find("replication") != std::string::npos)
      hint = " (the role needs the REPLICATION attribute, and max_wal_senders must be > 0)";
    throw PgError(fmt::format("cannot connect to PostgreSQL {}: {}{}", where_, message, hint));
  }
  PQsetNoticeProcessor(conn_, print_notice, nullptr);
}

PgConnection::~PgConnection() {
  if (conn_) PQfinish(conn_);
}

void PgConnection::fail(const std::string& what) const {
  throw PgError(fmt::format("{} on {}: {}", what, where_, trimmed(PQerrorMessage(conn_))));
}

void PgConnection::expect(const PgResult& r, ExecStatusType status, const std::string& what) const {
  if (r && PQresultStatus(r.get()) == status) return;
  if (!r) fail(what);
  const char* state = PQresultErrorField(r.get(), PG_DIAG_SQLSTATE);
  throw PgError(fmt::format("{} on {}: {}", what, where_, trimmed(PQresultErrorMessage(r.get()))),
                state ? state : "");
}

PgResult PgConnection::exec(const std::string& sql, ExecStatusType status) {
  PgResult r(PQexec(conn_, sql.c_str()));
  expect(r, status, sql.substr(0, sql.find(' ') == std::string::npos ? sql.size() : 40));
  return r;
}

PgResult PgConnection::next_result() {
  return PgResult(PQgetResult(conn_));
}

std::string PgConnection::quote_identifier(const std::string& name) const {
  char* q = PQescapeIdentifier(conn_, name.c_str(), name.size());
  if (!q) fail("quoting " + name);
  std::string out = q;
  PQfreemem(q);
  return out;
}

std::string PgConnection::quote_literal(const std::string& value) const {
  char* q = PQescapeLiteral(conn_, value.c_str(), value.size());
  if (!q) fail("quoting a literal");
  std::string out = q;
  PQfreemem(q);
  return out;
}

std::uint64_t parse_postgres_size(const std::string& text) {
  std::size_t used = 0;
  auto n = std::stoull(text, &used);
  auto unit = text.substr(used);
  if (unit.empty() || unit == "B") return n;
  if (unit == "kB") return n << 10;
  if (unit == "MB") return n << 20;
  if (unit == "GB") return n << 30;
  throw std::invalid_argument("unknown size unit in '" + text + "'");
}

}  // namespace pitr::capture
