#pragma once
// HTTP requests through libcurl, signed with AWS SigV4 by libcurl itself (S3) or with basic
// authentication (ClickHouse's HTTP interface). Easy handles are
// pooled so that connections are reused; a bound on concurrent requests comes from the
// pool size. One request per call, no retries (S3Store decides about those).
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "formats/byte_cursor.hpp"

namespace pitr::storage {

struct HttpRequest {
  std::string method = "GET";
  std::string url;                   // already percent-encoded, query in canonical order
  std::vector<std::string> headers;  // "Name: value"
  Bytes body;                        // for PUT and POST
  // Receives the body of a 2xx answer (of `stream_status`, if set) as it arrives; any other
  // body is kept in HttpResponse::body. An exception from the sink ends the request.
  std::function<void(Bytes)> sink;
  long stream_status = 0;
};

struct HttpResponse {
  long status = 0;
  std::map<std::string, std::string> headers;  // names in lower case
  std::string body;                            // unless streamed to the request's sink
};

struct HttpSigning {
  std::string region, access_key_id, secret_access_key;
};

struct HttpBasicAuth {
  std::string user, password;
};

using HttpAuth = std::variant<HttpSigning, HttpBasicAuth>;

// A transport failure (no HTTP answer, or an answer cut short): the message says which.
class HttpTransportError : public std::runtime_error {
 public:
  HttpTransportError(const std::string& message, bool retryable)
      : std::runtime_error(message), retryable_(retryable) {}
  bool retryable() const { return retryable_; }

 private:
  bool retryable_;
};

class HttpClient {
 public:
  // `stall_timeout`: a request that moves no byte for this long fails (retryably).
  HttpClient(HttpAuth auth, std::size_t max_connections, std::chrono::seconds stall_timeout);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  HttpResponse perform(const HttpRequest& request);

 private:
  void* acquire();
  void release(void* handle);

  HttpAuth auth_;
  std::chrono::seconds timeout_;
  std::size_t max_connections_;
  std::mutex mutex_;
  std::condition_variable available_;
  std::vector<void*> idle_;
  std::size_t created_ = 0;
};

}  // namespace pitr::storage
