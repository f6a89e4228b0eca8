#pragma once
// Statements to a ClickHouse server over its HTTP interface (Debian has no C++ ClickHouse
// client library), through libcurl with basic authentication: the password never reaches
// argv, a URL or a log line. One statement per request; answers in TabSeparated.
#include <cstdint>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "formats/byte_cursor.hpp"

namespace pitr::storage {
class HttpClient;
}

namespace pitr::clients {

struct ClickHouseEndpoint {
  std::string host = "127.0.0.1";
  std::uint16_t port = 8123;  // the HTTP interface
  std::string user = "default";
  std::string password;
};

// An error the server reported: its code (e.g. 60, UNKNOWN_TABLE) and message.
class ClickHouseError : public std::runtime_error {
 public:
  ClickHouseError(const std::string& message, int code)
      : std::runtime_error(message), code_(code) {}
  int code() const { return code_; }

 private:
  int code_;
};

class ClickHouseClient {
 public:
  explicit ClickHouseClient(ClickHouseEndpoint endpoint);
  ~ClickHouseClient();
  ClickHouseClient(const ClickHouseClient&) = delete;
  ClickHouseClient& operator=(const ClickHouseClient&) = delete;

  // Runs one statement and returns its answer. Throws ClickHouseError for an error the
  // server reported (a wrong password says which user and what to check), std::runtime_error
  // when the server cannot be reached.
  std::string execute(const std::string& sql);
  // The rows of a query, its answer read as TabSeparated.
  std::vector<std::vector<std::string>> rows(const std::string& sql);
  // Streams the answer of `sql` (e.g. SELECT ... FORMAT Native) to `sink`.
  void stream(const std::string& sql, const std::function<void(Bytes)>& sink);
  // Runs `sql` (INSERT ... FORMAT X) with `data` as the rows.
  void insert(const std::string& sql, Bytes data);

  std::string describe() const;  // "ClickHouse at HOST:PORT"
  const ClickHouseEndpoint& endpoint() const { return endpoint_; }

 private:
  std::string url(const std::string& query = "") const;
  std::string post(const std::string& url, Bytes body, const std::function<void(Bytes)>* sink);

  ClickHouseEndpoint endpoint_;
  std::unique_ptr<storage::HttpClient> http_;
};

}  // namespace pitr::clients
