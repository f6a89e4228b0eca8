#pragma once
// The archive in S3-compatible object storage (AWS S3, Ceph RGW, MinIO, R2): requests
// signed with SigV4 by libcurl, path-style addressing when an endpoint is given. Objects
// up to one part are one PUT with Content-MD5; larger ones are multipart uploads with
// parts sent in parallel and bounded memory. Requests that fail in a way worth retrying
// (5xx, 429, SlowDown, timeouts, resets) are retried with jittered exponential backoff
// until an overall deadline.
#include <chrono>
#include <memory>
#include <string>

#include "archive/storage/object_store.hpp"

namespace pitr::storage {

class HttpClient;
struct HttpRequest;
struct HttpResponse;

struct S3Location {
  std::string endpoint;  // "http://127.0.0.1:7480"; empty: AWS (https://s3.REGION.amazonaws.com)
  std::string region = "us-east-1";
  std::string bucket;
  std::string prefix;         // keys are stored under it ("" or ending in '/')
  bool virtual_host = false;  // bucket in the host name instead of the path
};

struct S3Credentials {
  std::string access_key_id, secret_access_key, session_token;
};

// From AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN, else from the shared
// credentials file (AWS_SHARED_CREDENTIALS_FILE or ~/.aws/credentials, profile AWS_PROFILE
// or "default"). Throws a StorageError saying where it looked.
S3Credentials load_s3_credentials();

struct S3Tuning {
  // An operation gives up after this long without progress, retries included.
  std::chrono::seconds deadline{120};
  std::chrono::seconds stall_timeout{60};  // one request moving no byte for this long fails
  std::size_t part_size = 8 << 20;         // doubles every 1000 parts (S3 allows 10000)
  // Parts of one upload in flight (each holds a part in memory). One S3 connection moves
  // about 90 MB/s; 8 keep a backup ahead of that (bench/backup_upload_bench.py).
  std::size_t parallel_requests = 8;
};

class S3Store : public ObjectStore {
 public:
  S3Store(S3Location location, S3Credentials credentials, S3Tuning tuning = {});
  ~S3Store() override;

  StorageCapabilities capabilities() const override;
  std::string describe() const override;
  void put(const std::string& key, const ByteSource& source, PutMode mode) override;
  void get(const std::string& key, const ByteSink& sink,
           const ByteRange& range = {}) const override;
  ListPage list_page(const std::string& prefix, const std::optional<std::string>& resume,
                     std::size_t max_objects) const override;
  std::optional<ObjectInfo> stat(const std::string& key) const override;
  void remove(const std::string& key) override;

 private:
  std::string url(const std::string& object_key, const std::string& query) const;
  std::vector<std::string> headers(std::vector<std::string> extra) const;
  // Performs the request `make` builds, again while failures are worth retrying. The
  // deadline runs from the last progress: `progress` (bytes delivered so far) moving on.
  HttpResponse execute(const std::function<HttpRequest()>& make, const std::string& what,
                       const std::uint64_t* progress = nullptr) const;
  HttpResponse request(const std::string& method, const std::string& key, const std::string& query,
                       std::vector<std::string> extra = {}, Bytes body = {}) const;
  [[noreturn]] void fail(const HttpResponse& response, const std::string& what,
                         const std::string& key) const;
  // After an if-absent write was refused: whether the object there has the ETag this
  // write would have given it (a retry after a lost answer, or the same bytes again).
  bool holds(const std::string& key, const std::string& etag) const;
  void put_whole(const std::string& key, Bytes body, PutMode mode);
  void put_multipart(const std::string& key, std::vector<std::uint8_t> first,
                     const ByteSource& source, PutMode mode);
  std::vector<std::pair<int, std::string>> upload_parts(const std::string& key,
                                                        const std::string& upload_id,
                                                        std::vector<std::uint8_t> first,
                                                        const ByteSource& source) const;
  void complete_multipart(const std::string& key, const std::string& upload_id,
                          const std::vector<std::pair<int, std::string>>& parts, PutMode mode);
  std::string upload_part(const std::string& key, const std::string& upload_id, int number,
                          Bytes body) const;

  S3Location location_;
  S3Credentials credentials_;
  S3Tuning tuning_;
  std::unique_ptr<HttpClient> http_;
};

}  // namespace pitr::storage
