#include "capture/postgres/pg_connection.hpp"

#include <fmt/format.h>

#include <poll.h>

#include <cerrno>
#include <chrono>
#include <regex>
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

// The SQLSTATE in a message libpq wrote with PQERRORS_VERBOSE ("FATAL:  28P01: password
// authentication failed ..."), and the message without it and without its LOCATION line.
std::pair<std::string, std::string> split_sqlstate(const std::string& verbose) {
  static const std::regex code(":  ([0-9A-Z]{5}): ");
  std::smatch m;
  if (!std::regex_search(verbose, m, code)) return {"", verbose};
  auto message = verbose.substr(0, m.position(0)) + ":  " + m.suffix().str();
  static const std::regex location("\nLOCATION:  [^\n]*");
  return {m[1].str(), std::regex_replace(message, location, "")};
}

// What to check for the server's refusal `sqlstate`.
std::string hint_for(const std::string& sqlstate, bool replication) {
  if (sqlstate == "28P01")
    return " (check PITR_PASSWORD or --password-file, and the role's password)";
  if (sqlstate == "28000")
    return replication ? " (add a 'host replication USER ADDRESS scram-sha-256' line to "
                         "pg_hba.conf and reload)"
                       : " (add a matching line to pg_hba.conf and reload)";
  if (sqlstate == "42501")
    return " (the role needs the REPLICATION attribute, and max_wal_senders must be > 0)";
  return "";
}

constexpr auto kConnectTimeout = std::chrono::seconds(30);

// Waits for the socket as PQconnectPoll asks; false at the deadline.
bool wait_socket(PGconn* conn, PostgresPollingStatusType status,
                 std::chrono::steady_clock::time_point deadline) {
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd p{PQsocket(conn), static_cast<short>(status == PGRES_POLLING_READING ? POLLIN : POLLOUT),
             0};
    int n = ::poll(&p, 1, static_cast<int>(left.count()));
    if (n > 0) return true;
    if (n == 0) return false;
    if (errno != EINTR) return false;
  }
}

}  // namespace

// Connects with libpq's non-blocking calls so that the error verbosity is set before the
// server answers: a refusal then carries its SQLSTATE, which says what it is in any
// lc_messages language the server speaks.
PGconn* PgConnection::connect(const char* const* keys, const char* const* values,
                              bool replication) {
  PGconn* conn = PQconnectStartParams(keys, values, 0);
  if (!conn) throw PgError("out of memory connecting to " + where_);
  PQsetErrorVerbosity(conn, PQERRORS_VERBOSE);
  auto deadline = std::chrono::steady_clock::now() + kConnectTimeout;
  auto status = PGRES_POLLING_WRITING;
  bool timed_out = false;
  while (PQstatus(conn) != CONNECTION_BAD && status != PGRES_POLLING_OK &&
         status != PGRES_POLLING_FAILED) {
    if (!wait_socket(conn, status, deadline)) {
      timed_out = true;
      break;
    }
    status = PQconnectPoll(conn);
  }
  if (!timed_out && PQstatus(conn) == CONNECTION_OK) {
    PQsetErrorVerbosity(conn, PQERRORS_DEFAULT);
    return conn;
  }
  if (timed_out) {
    // An address that does not answer: libpq's blocking connect moves on to the host's next
    // address after connect_timeout, which the polling loop cannot ask it to do. A network
    // failure, so its message decides nothing.
    PQfinish(conn);
    conn = PQconnectdbParams(keys, values, 0);
    if (!conn) throw PgError("out of memory connecting to " + where_);
    if (PQstatus(conn) == CONNECTION_OK) return conn;
  }
  auto [sqlstate, message] = split_sqlstate(trimmed(PQerrorMessage(conn)));
  // libpq's own refusal when the server wants a password and none was given.
  if (sqlstate.empty() && PQconnectionNeedsPassword(conn)) sqlstate = "28P01";
  if (timed_out) sqlstate.clear();
  PQfinish(conn);
  throw PgError(fmt::format("cannot connect to PostgreSQL {}: {}{}", where_, message,
                            hint_for(sqlstate, replication)),
                sqlstate);
}

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
  conn_ = connect(keys.data(), values.data(), replication);
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
  auto r = run(sql);
  expect(r, status, sql.substr(0, sql.find(' ') == std::string::npos ? sql.size() : 40));
  return r;
}

PgResult PgConnection::run(const std::string& sql) {
  if (!PQsendQuery(conn_, sql.c_str())) return nullptr;  // expect() reports the error
  PgResult kept;
  while (auto r = next_result()) {
    auto status = PQresultStatus(r.get());
    bool copying = status == PGRES_COPY_BOTH || status == PGRES_COPY_IN || status == PGRES_COPY_OUT;
    if (!kept || PQresultStatus(kept.get()) != PGRES_FATAL_ERROR) kept = std::move(r);
    if (copying) break;
  }
  return kept;
}

PgResult PgConnection::query(const std::string& sql, const std::vector<std::string>& params,
                             bool binary, const std::string& what) {
  std::vector<const char*> values;
  for (const auto& p : params) values.push_back(p.c_str());
  PgResult kept;
  if (PQsendQueryParams(conn_, sql.c_str(), static_cast<int>(values.size()), nullptr, values.data(),
                        nullptr, nullptr, binary ? 1 : 0))
    while (auto r = next_result())
      if (!kept || PQresultStatus(kept.get()) != PGRES_FATAL_ERROR) kept = std::move(r);
  expect(kept, PGRES_TUPLES_OK, what);
  return kept;
}

PgResult PgConnection::next_result() {
  if (answer_timeout_) {
    auto deadline = std::chrono::steady_clock::now() + *answer_timeout_;
    while (PQisBusy(conn_)) {
      if (!wait_socket(conn_, PGRES_POLLING_READING, deadline))
        throw PgError(fmt::format(
            "no answer from the server on {} for {} s (a network cut, or a frozen server)", where_,
            std::chrono::duration_cast<std::chrono::seconds>(*answer_timeout_).count()));
      if (!PQconsumeInput(conn_)) fail("reading the server's answer");
    }
  }
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
