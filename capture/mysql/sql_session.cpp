#include "capture/mysql/sql_session.hpp"

#include <fmt/format.h>
#include <mysql.h>

#include <memory>

namespace pitr::capture {

namespace {

bool is_numeric(enum_field_types t) {
  switch (t) {
    case MYSQL_TYPE_DECIMAL:
    case MYSQL_TYPE_NEWDECIMAL:
    case MYSQL_TYPE_TINY:
    case MYSQL_TYPE_SHORT:
    case MYSQL_TYPE_LONG:
    case MYSQL_TYPE_FLOAT:
    case MYSQL_TYPE_DOUBLE:
    case MYSQL_TYPE_LONGLONG:
    case MYSQL_TYPE_INT24:
    case MYSQL_TYPE_YEAR:
      return true;
    default:
      return false;
  }
}

struct ResultDeleter {
  void operator()(MYSQL_RES* r) const { mysql_free_result(r); }
};

}  // namespace

SqlSession::SqlSession(const MysqlEndpoint& e, std::string purpose, bool multi_statements)
    : mysql_(mysql_init(nullptr)), purpose_(std::move(purpose)) {
  if (!mysql_) throw SqlError("out of memory creating a MySQL session", 0);
  unsigned timeout = static_cast<unsigned>(e.connect_timeout.count() / 1000);
  mysql_options(mysql_, MYSQL_OPT_CONNECT_TIMEOUT, &timeout);
  mysql_options(mysql_, MYSQL_SET_CHARSET_NAME, "utf8mb4");
  if (e.ssl_mode != SslMode::kDisabled) {
    my_bool enforce = e.ssl_mode != SslMode::kPreferred;
    mysql_ssl_set(mysql_, nullptr, nullptr, e.ssl_ca.empty() ? nullptr : e.ssl_ca.c_str(), nullptr,
                  nullptr);
    mysql_options(mysql_, MYSQL_OPT_SSL_ENFORCE, &enforce);
    my_bool verify = e.ssl_mode == SslMode::kVerifyIdentity;
    mysql_options(mysql_, MYSQL_OPT_SSL_VERIFY_SERVER_CERT, &verify);
  }
  if (!mysql_real_connect(mysql_, e.host.c_str(), e.user.c_str(), e.password.c_str(), nullptr,
                          e.port, nullptr, multi_statements ? CLIENT_MULTI_STATEMENTS : 0)) {
    SqlError error(fmt::format("{}: cannot connect to {}:{} as '{}': {}", purpose_, e.host, e.port,
                               e.user, mysql_error(mysql_)),
                   mysql_errno(mysql_));
    mysql_close(mysql_);
    throw error;
  }
}

SqlSession::~SqlSession() {
  mysql_close(mysql_);
}

void SqlSession::fail(const std::string& sql) {
  auto shown = sql.size() > 200 ? sql.substr(0, 200) + "..." : sql;
  throw SqlError(fmt::format("{}: {} (error {}) in: {}", purpose_, mysql_error(mysql_),
                             mysql_errno(mysql_), shown),
                 mysql_errno(mysql_));
}

void SqlSession::execute(const std::string& sql) {
  if (mysql_real_query(mysql_, sql.data(), sql.size()) != 0) fail(sql);
  // Drain any result (a statement may return rows or several results).
  do {
    std::unique_ptr<MYSQL_RES, ResultDeleter> result(mysql_store_result(mysql_));
    if (!result && mysql_field_count(mysql_) != 0) fail(sql);
  } while (mysql_next_result(mysql_) == 0);
  if (mysql_errno(mysql_)) fail(sql);
}

std::vector<std::vector<std::optional<std::string>>> SqlSession::rows(const std::string& sql) {
  std::vector<std::vector<std::optional<std::string>>> out;
  stream(
      sql, [](const std::vector<SqlColumn>&) {},
      [&](const SqlRow& r) {
        auto& row = out.emplace_back();
        for (std::size_t i = 0; i < r.size; ++i)
          row.push_back(r.null(i) ? std::nullopt : std::optional(std::string(r.text(i))));
      });
  return out;
}

std::optional<std::string> SqlSession::scalar(const std::string& sql) {
  auto r = rows(sql);
  if (r.empty() || r[0].empty()) return std::nullopt;
  return r[0][0];
}

void SqlSession::stream(const std::string& sql,
                        const std::function<void(const std::vector<SqlColumn>&)>& columns,
                        const std::function<void(const SqlRow&)>& row) {
  if (mysql_real_query(mysql_, sql.data(), sql.size()) != 0) fail(sql);
  std::unique_ptr<MYSQL_RES, ResultDeleter> result(mysql_use_result(mysql_));
  if (!result) {
    if (mysql_field_count(mysql_) != 0) fail(sql);
    return;
  }
  auto n = mysql_num_fields(result.get());
  auto* fields = mysql_fetch_fields(result.get());
  std::vector<SqlColumn> cols;
  for (unsigned i = 0; i < n; ++i)
    cols.push_back({fields[i].name, fields[i].type,
                    fields[i].charsetnr == 63 && !is_numeric(fields[i].type),
                    is_numeric(fields[i].type)});
  columns(cols);
  while (MYSQL_ROW r = mysql_fetch_row(result.get())) {
    row(SqlRow{r, mysql_fetch_lengths(result.get()), n});
  }
  if (mysql_errno(mysql_)) fail(sql);
}

}  // namespace pitr::capture
