#pragma once
// A libpq connection (RAII), plain or in physical replication mode, with errors turned
// into exceptions that carry the server's message and SQLSTATE.
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>

#include <libpq-fe.h>

namespace pitr::capture {

struct PostgresEndpoint {
  std::string host, user, password, dbname = "postgres";
  std::uint16_t port = 5432;
  std::string ssl_mode = "prefer";  // libpq's sslmode
  std::string ssl_ca;
  std::string application_name = "pitr";
};

class PgError : public std::runtime_error {
 public:
  // `sqlstate`: the server's error code, when it sent one.
  PgError(const std::string& message, std::string sqlstate = {})
      : std::runtime_error(message), sqlstate_(std::move(sqlstate)) {}
  const std::string& sqlstate() const { return sqlstate_; }

 private:
  std::string sqlstate_;
};

struct PgResultDeleter {
  void operator()(PGresult* r) const { PQclear(r); }
};
using PgResult = std::unique_ptr<PGresult, PgResultDeleter>;

class PgConnection {
 public:
  // Throws PgError naming the server and what to check (password, pg_hba.conf, ...).
  PgConnection(const PostgresEndpoint& endpoint, bool replication);
  ~PgConnection();
  PgConnection(const PgConnection&) = delete;
  PgConnection& operator=(const PgConnection&) = delete;

  PGconn* get() const { return conn_; }
  int socket() const { return PQsocket(conn_); }
  std::string describe() const { return where_; }

  // Runs one command and expects `status`; otherwise throws PgError.
  PgResult exec(const std::string& sql, ExecStatusType status = PGRES_TUPLES_OK);
  // The next result of a command sent with PQsendQuery (nullptr at the end).
  PgResult next_result();
  // Throws PgError for a result whose status is not `status`.
  void expect(const PgResult& result, ExecStatusType status, const std::string& what) const;
  [[noreturn]] void fail(const std::string& what) const;
  std::string quote_identifier(const std::string& name) const;
  std::string quote_literal(const std::string& value) const;

 private:
  PGconn* connect(const char* const* keys, const char* const* values, bool replication);

  PGconn* conn_ = nullptr;
  std::string where_;
};

// "16MB" / "1GB" / "8192" as SHOW prints sizes.
std::uint64_t parse_postgres_size(const std::string& text);

}  // namespace pitr::capture
