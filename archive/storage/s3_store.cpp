#include "archive/storage/s3_store.hpp"

#include <curl/curl.h>
#include <fmt/format.h>
#include <openssl/evp.h>

#include <cstdlib>
#include <deque>
#include <fstream>
#include <future>
#include <random>
#include <sstream>
#include <thread>

#include "archive/storage/http_client.hpp"
#include "formats/s3/credentials_file.hpp"
#include "formats/s3/s3_messages.hpp"

namespace pitr::storage {

namespace {

using Clock = std::chrono::steady_clock;

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

std::string content_md5(Bytes body) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  EVP_Digest(body.data(), body.size(), digest, &size, EVP_md5(), nullptr);
  unsigned char encoded[4 * ((EVP_MAX_MD_SIZE + 2) / 3) + 1];
  auto n = EVP_EncodeBlock(encoded, digest, static_cast<int>(size));
  return "Content-MD5: " +
         std::string(reinterpret_cast<char*>(encoded), static_cast<std::size_t>(n));
}

bool worth_retrying(const HttpResponse& r) {
  if (r.status == 429 || r.status >= 500) return true;
  return r.body.find("<Code>SlowDown</Code>") != std::string::npos;
}

// Reads from `source` until `buffer` is full or the source ends; returns the bytes read.
std::size_t fill(const ByteSource& source, std::vector<std::uint8_t>& buffer) {
  std::size_t have = 0;
  while (have < buffer.size()) {
    auto n = source(std::span(buffer).subspan(have));
    if (n == 0) break;
    have += n;
  }
  return have;
}

std::int64_t parse_http_date(const std::string& text) {
  auto t = curl_getdate(text.c_str(), nullptr);
  return t < 0 ? 0 : static_cast<std::int64_t>(t);
}

}  // namespace

S3Credentials load_s3_credentials() {
  S3Credentials c{env("AWS_ACCESS_KEY_ID"), env("AWS_SECRET_ACCESS_KEY"), env("AWS_SESSION_TOKEN")};
  if (!c.access_key_id.empty() && !c.secret_access_key.empty()) return c;
  auto file = env("AWS_SHARED_CREDENTIALS_FILE");
  if (file.empty() && !env("HOME").empty()) file = env("HOME") + "/.aws/credentials";
  auto profile = env("AWS_PROFILE").empty() ? std::string("default") : env("AWS_PROFILE");
  std::ifstream in(file);
  std::stringstream text;
  text << in.rdbuf();
  auto settings = in ? s3::credentials_profile(text.str(), profile) : std::nullopt;
  if (settings && settings->count("aws_access_key_id") && settings->count("aws_secret_access_key"))
    return {settings->at("aws_access_key_id"), settings->at("aws_secret_access_key"),
            settings->count("aws_session_token") ? settings->at("aws_session_token") : ""};
  throw StorageError(StorageErrorKind::kPermanent,
                     fmt::format("no S3 credentials: set AWS_ACCESS_KEY_ID and "
                                 "AWS_SECRET_ACCESS_KEY, or give profile '{}' in {} "
                                 "(AWS_SHARED_CREDENTIALS_FILE, AWS_PROFILE)",
                                 profile, file.empty() ? "~/.aws/credentials" : file));
}

S3Store::S3Store(S3Location location, S3Credentials credentials, S3Tuning tuning)
    : location_(std::move(location)),
      credentials_(std::move(credentials)),
      tuning_(tuning),
      http_(std::make_unique<HttpClient>(
          HttpSigning{location_.region, credentials_.access_key_id, credentials_.secret_access_key},
          tuning_.parallel_requests + 1, tuning_.request_timeout)) {
  if (location_.endpoint.empty())
    location_.endpoint = fmt::format("https://s3.{}.amazonaws.com", location_.region);
  while (location_.endpoint.ends_with('/')) location_.endpoint.pop_back();
  if (!location_.prefix.empty() && !location_.prefix.ends_with('/')) location_.prefix += '/';
}

S3Store::~S3Store() = default;

StorageCapabilities S3Store::capabilities() const {
  return {.atomic_if_absent = true, .durable_on_return = true, .local_files = false};
}

std::string S3Store::describe() const {
  return fmt::format("s3://{}/{}", location_.bucket, location_.prefix);
}

std::string S3Store::url(const std::string& object_key, const std::string& query) const {
  auto path = s3::uri_encode(object_key.empty() ? "" : location_.prefix + object_key, true);
  std::string base;
  if (location_.virtual_host) {
    auto scheme_end = location_.endpoint.find("://");
    base = location_.endpoint.substr(0, scheme_end + 3) + location_.bucket + "." +
           location_.endpoint.substr(scheme_end + 3) + "/" + path;
  } else {
    base = location_.endpoint + "/" + location_.bucket + "/" + path;
  }
  return query.empty() ? base : base + "?" + query;
}

std::vector<std::string> S3Store::headers(std::vector<std::string> extra) const {
  // libcurl signs but does not send the payload hash; the body is covered by Content-MD5.
  extra.push_back("x-amz-content-sha256: UNSIGNED-PAYLOAD");
  if (!credentials_.session_token.empty())
    extra.push_back("x-amz-security-token: " + credentials_.session_token);
  return extra;
}

HttpResponse S3Store::execute(const std::function<HttpRequest()>& make,
                              const std::string& what) const {
  static thread_local std::mt19937 random{std::random_device{}()};
  auto deadline = Clock::now() + tuning_.deadline;
  auto delay = std::chrono::milliseconds(100);
  for (int attempt = 1;; ++attempt) {
    std::string failure;
    try {
      auto response = http_->perform(make());
      if (!worth_retrying(response)) return response;
      auto body = s3::parse_error_body(response.body);
      failure = fmt::format("HTTP {}{}", response.status, body ? " " + body->code : "");
    } catch (const HttpTransportError& e) {
      if (!e.retryable())
        throw StorageError(StorageErrorKind::kPermanent, fmt::format("{}: {}", what, e.what()));
      failure = e.what();
    }
    auto pause = std::chrono::milliseconds(
        std::uniform_int_distribution<long>(delay.count() / 2, delay.count())(random));
    if (Clock::now() + pause > deadline)
      throw StorageError(StorageErrorKind::kRetryable,
                         fmt::format("{} on {}: gave up after {} attempts in {} s; last: {}", what,
                                     describe(), attempt, tuning_.deadline.count(), failure));
    std::this_thread::sleep_for(pause);
    delay = std::min(delay * 2, std::chrono::milliseconds(10'000));
  }
}

void S3Store::fail(const HttpResponse& r, const std::string& what, const std::string& key) const {
  auto body = s3::parse_error_body(r.body).value_or(s3::ErrorBody{});
  auto detail = fmt::format("HTTP {}{}{}", r.status, body.code.empty() ? "" : " " + body.code,
                            body.message.empty() ? "" : ": " + body.message);
  if (body.code == "NoSuchBucket")
    throw StorageError(StorageErrorKind::kPermanent,
                       fmt::format("bucket '{}' does not exist at {} ({}); create it, or check "
                                   "--archive",
                                   location_.bucket, location_.endpoint, detail));
  if (r.status == 404)
    throw StorageError(StorageErrorKind::kNotFound, fmt::format("{} does not exist", key));
  if (body.code == "RequestTimeTooSkewed")
    throw StorageError(StorageErrorKind::kPermanent,
                       fmt::format("{} {}: this host's clock differs too much from the storage "
                                   "server's ({}); set the time right (NTP) and try again",
                                   what, key, detail));
  if (r.status == 403)
    throw StorageError(
        StorageErrorKind::kPermanent,
        fmt::format("{} {}: access denied to bucket '{}' for access key id {} ({}); check "
                    "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY and the key's permissions",
                    what, key, location_.bucket, credentials_.access_key_id, detail));
  if (r.status == 412 || (r.status == 409 && body.code == "ConditionalRequestConflict"))
    throw StorageError(StorageErrorKind::kAlreadyExists,
                       fmt::format("{} already exists; it is never overwritten", key));
  throw StorageError(StorageErrorKind::kPermanent,
                     fmt::format("{} {} on {} failed: {}", what, key, describe(), detail));
}

void S3Store::put(const std::string& key, const ByteSource& source, PutMode mode) {
  check_key(key);
  std::vector<std::uint8_t> first(tuning_.part_size);
  auto n = fill(source, first);
  if (n < first.size()) return put_whole(key, Bytes(first).first(n), mode);
  // One byte more decides between one PUT and a multipart upload.
  std::uint8_t probe = 0;
  if (source(std::span(&probe, 1)) == 0) return put_whole(key, first, mode);
  bool probe_pending = true;
  auto rest = [&](std::span<std::uint8_t> out) -> std::size_t {
    if (!probe_pending || out.empty()) return source(out);
    probe_pending = false;
    out[0] = probe;
    return 1 + source(out.subspan(1));
  };
  put_multipart(key, std::move(first), rest, mode);
}

void S3Store::put_whole(const std::string& key, Bytes body, PutMode mode) {
  std::vector<std::string> extra{content_md5(body), "Content-Type: application/octet-stream"};
  if (mode == PutMode::kIfAbsent) extra.push_back("If-None-Match: *");
  auto r = execute(
      [&] {
        return HttpRequest{"PUT", url(key, ""), headers(extra), body, {}};
      },
      "PUT " + key);
  if (r.status / 100 != 2) fail(r, "PUT", key);
}

std::string S3Store::upload_part(const std::string& key, const std::string& upload_id, int number,
                                 Bytes body) const {
  auto query = fmt::format("partNumber={}&uploadId={}", number, s3::uri_encode(upload_id, false));
  auto r = execute(
      [&] {
        return HttpRequest{"PUT", url(key, query), headers({content_md5(body)}), body, {}};
      },
      fmt::format("PUT {} part {}", key, number));
  if (r.status / 100 != 2) fail(r, fmt::format("PUT part {} of", number), key);
  auto etag = r.headers.find("etag");
  if (etag == r.headers.end())
    throw StorageError(StorageErrorKind::kPermanent,
                       fmt::format("the S3 server gave no ETag for part {} of {}", number, key));
  return etag->second;
}

void S3Store::put_multipart(const std::string& key, std::vector<std::uint8_t> first,
                            const ByteSource& source, PutMode mode) {
  // Not race-free for a multipart object: a concurrent writer could win in between.
  if (mode == PutMode::kIfAbsent && stat(key))
    throw StorageError(StorageErrorKind::kAlreadyExists,
                       fmt::format("{} already exists; it is never overwritten", key));
  auto started = execute(
      [&] {
        return HttpRequest{"POST", url(key, "uploads="), headers({}), {}, {}};
      },
      "start multipart upload of " + key);
  if (started.status / 100 != 2) fail(started, "start multipart upload of", key);
  auto upload_id = s3::parse_upload_id(started.body);
  auto id_query = "uploadId=" + s3::uri_encode(upload_id, false);
  std::vector<std::pair<int, std::string>> parts;
  try {
    // At most parallel_requests parts in flight, each owning its buffer: bounded memory.
    std::deque<std::pair<int, std::future<std::string>>> in_flight;
    auto next = std::move(first);
    for (int number = 1; !next.empty(); ++number) {
      if (in_flight.size() >= tuning_.parallel_requests) {
        parts.emplace_back(in_flight.front().first, in_flight.front().second.get());
        in_flight.pop_front();
      }
      auto buffer = std::make_shared<std::vector<std::uint8_t>>(std::move(next));
      in_flight.emplace_back(number, std::async(std::launch::async, [=, this] {
                               return upload_part(key, upload_id, number, *buffer);
                             }));
      next.assign(tuning_.part_size, 0);
      next.resize(fill(source, next));
    }
    for (auto& [number, etag] : in_flight) parts.emplace_back(number, etag.get());
    auto body = s3::complete_multipart_body(parts);
    std::vector<std::string> extra{content_md5(as_bytes(body))};
    if (mode == PutMode::kIfAbsent) extra.push_back("If-None-Match: *");
    auto done = execute(
        [&] {
          return HttpRequest{"POST", url(key, id_query), headers(extra), as_bytes(body), {}};
        },
        "complete multipart upload of " + key);
    // An error can also come as the body of a 200 answer.
    if (done.status / 100 != 2 || s3::parse_error_body(done.body)) fail(done, "complete", key);
  } catch (...) {
    try {
      http_->perform(HttpRequest{"DELETE", url(key, id_query), headers({}), {}, {}});
    } catch (...) {  // the upload is left for the bucket's lifecycle rules
    }
    throw;
  }
}

void S3Store::get(const std::string& key, const ByteSink& sink, const ByteRange& range) const {
  check_key(key);
  if (range.length && *range.length == 0) return;
  std::uint64_t delivered = 0;
  auto counted = [&](Bytes b) {
    delivered += b.size();
    sink(b);
  };
  auto r = execute(
      [&] {
        std::vector<std::string> extra;
        auto from = range.offset + delivered;  // a retry resumes where the last one stopped
        if (from > 0 || range.length)
          extra.push_back(range.length ? fmt::format("Range: bytes={}-{}", from,
                                                     range.offset + *range.length - 1)
                                       : fmt::format("Range: bytes={}-", from));
        return HttpRequest{"GET", url(key, ""), headers(extra), {}, counted};
      },
      "GET " + key);
  if (r.status == 416) {
    auto info = stat(key);
    if (info && info->size == range.offset) return;  // a range that starts at the very end
    throw StorageError(StorageErrorKind::kPermanent,
                       fmt::format("{} has {} bytes; cannot read from offset {}", key,
                                   info ? info->size : 0, range.offset));
  }
  if (r.status / 100 != 2) fail(r, "GET", key);
}

ListPage S3Store::list_page(const std::string& prefix, const std::optional<std::string>& resume,
                            std::size_t max_objects) const {
  std::string query;
  if (resume) query += "continuation-token=" + s3::uri_encode(*resume, false) + "&";
  query +=
      fmt::format("list-type=2&max-keys={}&prefix={}", std::min<std::size_t>(max_objects, 1000),
                  s3::uri_encode(location_.prefix + prefix, false));
  auto r = execute(
      [&] {
        return HttpRequest{"GET", url("", query), headers({}), {}, {}};
      },
      "list " + prefix);
  if (r.status / 100 != 2) fail(r, "list", prefix);
  auto result = s3::parse_list_objects(r.body);
  ListPage page;
  for (auto& o : result.objects) {
    if (!o.key.starts_with(location_.prefix)) continue;
    page.objects.push_back(
        {o.key.substr(location_.prefix.size()), o.size, parse_http_date(o.last_modified)});
  }
  page.resume = result.next_token;
  return page;
}

std::optional<ObjectInfo> S3Store::stat(const std::string& key) const {
  check_key(key);
  auto r = execute(
      [&] {
        return HttpRequest{"HEAD", url(key, ""), headers({}), {}, {}};
      },
      "HEAD " + key);
  if (r.status == 404) return std::nullopt;
  if (r.status / 100 != 2) fail(r, "HEAD", key);
  auto length = r.headers.find("content-length");
  auto modified = r.headers.find("last-modified");
  return ObjectInfo{key, length == r.headers.end() ? 0 : std::stoull(length->second),
                    modified == r.headers.end() ? 0 : parse_http_date(modified->second)};
}

void S3Store::remove(const std::string& key) {
  check_key(key);
  auto r = execute(
      [&] {
        return HttpRequest{"DELETE", url(key, ""), headers({}), {}, {}};
      },
      "DELETE " + key);
  if (r.status / 100 != 2 && r.status != 404) fail(r, "DELETE", key);
}

}  // namespace pitr::storage
