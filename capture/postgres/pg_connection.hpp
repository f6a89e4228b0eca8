#pragma once
// A libpq connection (RAII), plain or in physical replication mode, with errors turned
// into exceptions that carry the server's message and SQLSTATE.
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

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

  // From now on, an answer that takes longer than `timeout` is a PgError ("no answer from
  // the server"): a frozen server keeps its socket open and would otherwise hang libpq's
  // blocking calls for ever. Without it, answers are awaited as long as they take.
  void set_answer_timeout(std::chrono::milliseconds timeout) { answer_timeout_ = timeout; }

  // Runs one command and expects `status`; otherwise throws PgError.
  PgResult exec(const std::string& sql, ExecStatusType status = PGRES_TUPLES_OK);
  // Runs one command as PQexec does (the last result, the first error, or the COPY state
  // it entered), within the answer timeout; the caller checks the result.
  PgResult run(const std::string& sql);
  // Runs one statement with text parameters ($1, ...), its results in binary when asked;
  // expects tuples, otherwise throws PgError naming `what`.
  PgResult query(const std::string& sql, const std::vector<std::string>& params, bool binary,
                 const std::string& what);
  // The next result of a command sent (nullptr at the end), within the answer timeout.
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
  std::optional<std::chrono::milliseconds> answer_timeout_;
};

// "16MB" / "1GB" / "8192" as SHOW prints sizes.
std::uint64_t parse_postgres_size(const std::string& text);

}  // namespace pitr::capture
