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

struct Md5 {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  explicit Md5(Bytes body) {
    EVP_Digest(body.data(), body.size(), digest, &size, EVP_md5(), nullptr);
  }
  std::string header() const {
    unsigned char encoded[4 * ((EVP_MAX_MD_SIZE + 2) / 3) + 1];
    auto n = EVP_EncodeBlock(encoded, digest, static_cast<int>(size));
    return "Content-MD5: " +
           std::string(reinterpret_cast<char*>(encoded), static_cast<std::size_t>(n));
  }
  std::string hex() const {
    std::string out;
    for (unsigned i = 0; i < size; ++i) out += fmt::format("{:02x}", digest[i]);
    return out;
  }
};

std::string content_md5(Bytes body) {
  return Md5(body).header();
}

std::string unquoted(const std::string& etag) {
  std::string out;
  for (char c : etag)
    if (c != '"') out += c;
  return out;
}

// The ETag S3 gives a multipart object: the MD5 of the parts' MD5s, "-", their count.
std::string multipart_etag(const std::vector<std::pair<int, std::string>>& parts) {
  std::vector<std::uint8_t> digests;
  for (const auto& part : parts) {
    auto hex = unquoted(part.second);
    for (std::size_t i = 0; i + 1 < hex.size(); i += 2)
      digests.push_back(static_cast<std::uint8_t>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  }
  return fmt::format("{}-{}", Md5(digests).hex(), parts.size());
}

// Parses what the server sent; a malformed answer is a storage failure like any other.
template <typename F>
auto decoded(const std::string& what, F&& parse) {
  try {
    return parse();
  } catch (const DecodeError& e) {
    throw StorageError(StorageErrorKind::kPermanent, fmt::format("{}: {}", what, e.what()));
  }
}

std::uint64_t parse_length(const std::string& text) {
  if (auto v = s3::parse_unsigned(text)) return *v;
  throw StorageError(StorageErrorKind::kPermanent,
                     "the S3 server sent Content-Length '" + text + "'");
}

HttpRequest http_request(const std::string& method, std::string url,
                         std::vector<std::string> headers, Bytes body = {}) {
  HttpRequest r;
  r.method = method;
  r.url = std::move(url);
  r.headers = std::move(headers);
  r.body = body;
  return r;
}

bool worth_retrying(const HttpResponse& r) {
  if (r.status == 429 || r.status == 500 || r.status == 502 || r.status == 503 || r.status == 504)
    return true;
  // SlowDown, and an InternalError in the body of a 200 (CompleteMultipartUpload does that).
  return r.body.find("<Code>SlowDown</Code>") != std::string::npos ||
         (r.status == 200 && r.body.find("<Code>InternalError</Code>") != std::string::npos);
}

// Reads up to `limit` bytes from `source`; the buffer grows as bytes come, so a small
// object costs little.
std::vector<std::uint8_t> read_up_to(const ByteSource& source, std::size_t limit) {
  std::vector<std::uint8_t> out;
  std::size_t have = 0;
  while (have < limit) {
    if (out.size() == have) out.resize(std::min(limit, std::max<std::size_t>(64 << 10, have * 2)));
    auto n = source(std::span(out).subspan(have));
    if (n == 0) break;
    have += n;
  }
  out.resize(have);
  return out;
}

std::size_t part_size_for(std::size_t base, int number) {
  return base << std::min((number - 1) / 1000, 9);
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
          tuning_.parallel_requests + 1, tuning_.stall_timeout)) {
  if (location_.endpoint.empty())
    location_.endpoint = fmt::format("https://s3.{}.amazonaws.com", location_.region);
  while (location_.endpoint.ends_with('/')) location_.endpoint.pop_back();
  auto scheme = location_.endpoint.find("://");
  auto scheme_name = location_.endpoint.substr(0, scheme);
  if (scheme == std::string::npos || (scheme_name != "http" && scheme_name != "https") ||
      location_.endpoint.find('@') != std::string::npos)
    throw StorageError(StorageErrorKind::kPermanent,
                       fmt::format("S3 endpoint '{}' is not http(s)://HOST[:PORT] (no user or "
                                   "password in it: credentials come from AWS_* variables)",
                                   location_.endpoint.find('@') == std::string::npos
                                       ? location_.endpoint
                                       : std::string("(hidden: it holds a password)")));
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
  // (No empty "Expect:" here: libcurl would sign it and then not send it.)
  extra.push_back("x-amz-content-sha256: UNSIGNED-PAYLOAD");
  if (!credentials_.session_token.empty())
    extra.push_back("x-amz-security-token: " + credentials_.session_token);
  return extra;
}

HttpResponse S3Store::execute(const std::function<HttpRequest()>& make, const std::string& what,
                              const std::uint64_t* progress) const {
  static thread_local std::mt19937 random{std::random_device{}()};
  auto deadline = Clock::now() + tuning_.deadline;
  auto delay = std::chrono::milliseconds(100);
  for (int attempt = 1;; ++attempt) {
    std::string failure;
    auto before = progress ? *progress : 0;
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
    if (progress && *progress > before) {  // a long transfer cut late is not stuck
      deadline = Clock::now() + tuning_.deadline;
      delay = std::chrono::milliseconds(100);
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

HttpResponse S3Store::request(const std::string& method, const std::string& key,
                              const std::string& query, std::vector<std::string> extra,
                              Bytes body) const {
  auto all = headers(std::move(extra));
  return execute([&] { return http_request(method, url(key, query), all, body); },
                 fmt::format("{} {}", method, key.empty() ? query : key));
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
                    "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, the key's permissions and "
                    "this host's clock",
                    what, key, location_.bucket, credentials_.access_key_id, detail));
  if (r.status == 412 || (r.status == 409 && body.code == "ConditionalRequestConflict"))
    throw already_exists_error(key);
  throw StorageError(StorageErrorKind::kPermanent,
                     fmt::format("{} {} on {} failed: {}", what, key, describe(), detail));
}

bool S3Store::holds(const std::string& key, const std::string& etag) const {
  auto r = request("HEAD", key, "");
  auto found = r.headers.find("etag");
  return r.status / 100 == 2 && found != r.headers.end() && unquoted(found->second) == etag;
}

void S3Store::put(const std::string& key, const ByteSource& source, PutMode mode) {
  check_key(key);
  auto first = read_up_to(source, tuning_.part_size);
  if (first.size() < tuning_.part_size) return put_whole(key, first, mode);
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
  Md5 md5(body);
  std::vector<std::string> extra{md5.header(), "Content-Type: application/octet-stream"};
  if (mode == PutMode::kIfAbsent) extra.push_back("If-None-Match: *");
  auto r = request("PUT", key, "", extra, body);
  if (r.status / 100 == 2) return;
  // Refused as existing: after a lost answer, the object may be this very write.
  if (r.status == 412 && holds(key, md5.hex())) return;
  fail(r, "PUT", key);
}

std::string S3Store::upload_part(const std::string& key, const std::string& upload_id, int number,
                                 Bytes body) const {
  auto query = fmt::format("partNumber={}&uploadId={}", number, s3::uri_encode(upload_id, false));
  auto r = request("PUT", key, query, {content_md5(body)}, body);
  if (r.status / 100 != 2) fail(r, fmt::format("PUT part {} of", number), key);
  auto etag = r.headers.find("etag");
  if (etag == r.headers.end())
    throw StorageError(StorageErrorKind::kPermanent,
                       fmt::format("the S3 server gave no ETag for part {} of {}", number, key));
  return etag->second;
}

std::vector<std::pair<int, std::string>> S3Store::upload_parts(const std::string& key,
                                                               const std::string& upload_id,
                                                               std::vector<std::uint8_t> first,
                                                               const ByteSource& source) const {
  // At most parallel_requests parts in flight, each owning its buffer: bounded memory.
  std::vector<std::pair<int, std::string>> parts;
  std::deque<std::pair<int, std::future<std::string>>> in_flight;
  auto next = std::move(first);
  for (int number = 1; !next.empty(); ++number) {
    if (number > 10000)
      throw StorageError(StorageErrorKind::kPermanent,
                         fmt::format("{} is too large for one S3 object", key));
    if (in_flight.size() >= tuning_.parallel_requests) {
      parts.emplace_back(in_flight.front().first, in_flight.front().second.get());
      in_flight.pop_front();
    }
    auto buffer = std::make_shared<std::vector<std::uint8_t>>(std::move(next));
    in_flight.emplace_back(number, std::async(std::launch::async, [=, this] {
                             return upload_part(key, upload_id, number, *buffer);
                           }));
    next = read_up_to(source, part_size_for(tuning_.part_size, number + 1));
  }
  for (auto& [number, etag] : in_flight) parts.emplace_back(number, etag.get());
  return parts;
}

void S3Store::complete_multipart(const std::string& key, const std::string& upload_id,
                                 const std::vector<std::pair<int, std::string>>& parts,
                                 PutMode mode) {
  // Ceph 16 ignores If-None-Match on completion: look again just before it.
  if (mode == PutMode::kIfAbsent && stat(key)) throw already_exists_error(key);
  auto body = s3::complete_multipart_body(parts);
  std::vector<std::string> extra{content_md5(as_bytes(body))};
  if (mode == PutMode::kIfAbsent) extra.push_back("If-None-Match: *");
  auto r =
      request("POST", key, "uploadId=" + s3::uri_encode(upload_id, false), extra, as_bytes(body));
  if (r.status / 100 == 2 && !s3::parse_error_body(r.body)) return;
  // After a lost answer the retry finds the upload gone, or (if absent) the key taken, by
  // this very upload.
  auto code = s3::parse_error_body(r.body).value_or(s3::ErrorBody{}).code;
  if ((code == "NoSuchUpload" || r.status == 412) && holds(key, multipart_etag(parts))) return;
  fail(r, "complete multipart upload of", key);
}

void S3Store::put_multipart(const std::string& key, std::vector<std::uint8_t> first,
                            const ByteSource& source, PutMode mode) {
  if (mode == PutMode::kIfAbsent && stat(key)) throw already_exists_error(key);
  auto started = request("POST", key, "uploads=");
  if (started.status / 100 != 2) fail(started, "start multipart upload of", key);
  auto upload_id = decoded("start multipart upload of " + key,
                           [&] { return s3::parse_upload_id(started.body); });
  try {
    auto parts = upload_parts(key, upload_id, std::move(first), source);
    complete_multipart(key, upload_id, parts, mode);
  } catch (...) {
    try {  // once: the bucket's lifecycle rules are the fallback for abandoned uploads
      http_->perform(http_request(
          "DELETE", url(key, "uploadId=" + s3::uri_encode(upload_id, false)), headers({})));
    } catch (...) {
    }
    throw;
  }
}

void S3Store::get(const std::string& key, const ByteSink& sink, const ByteRange& range) const {
  check_key(key);
  if (range.length && *range.length == 0) return;
  std::optional<std::uint64_t> last;  // inclusive, as HTTP ranges are
  if (range.length)
    last =
        *range.length > UINT64_MAX - range.offset ? UINT64_MAX : range.offset + *range.length - 1;
  std::uint64_t delivered = 0;
  auto counted = [&](Bytes b) {
    delivered += b.size();
    sink(b);
  };
  bool resumed = false;
  auto r = execute(
      [&] {
        HttpRequest req{
            .method = "GET", .url = url(key, ""), .headers = {}, .body = {}, .sink = counted};
        auto from = range.offset + delivered;  // a retry resumes where the last one stopped
        resumed = delivered > 0;
        std::vector<std::string> extra;
        if (from > 0 || last)
          extra.push_back(last ? fmt::format("Range: bytes={}-{}", from, *last)
                               : fmt::format("Range: bytes={}-", from));
        // A ranged answer must be partial: a whole object would repeat what was delivered.
        if (from > 0 || last) req.stream_status = 206;
        req.headers = headers(extra);
        return req;
      },
      "GET " + key, &delivered);
  if (r.status == 416) {
    auto info = stat(key);
    auto from = range.offset + delivered;
    if (info && info->size == from) return;  // a range that starts at the very end
    throw StorageError(StorageErrorKind::kPermanent,
                       fmt::format("{} has {} bytes; cannot read from offset {}", key,
                                   info ? info->size : 0, from));
  }
  if (r.status == 200 && (range.offset > 0 || last))
    throw StorageError(StorageErrorKind::kPermanent,
                       fmt::format("GET {}: the S3 server ignored the byte range{}", key,
                                   resumed ? " when resuming a cut transfer" : ""));
  if (r.status / 100 != 2) fail(r, "GET", key);
}

ListPage S3Store::list_page(const std::string& prefix, const std::optional<std::string>& resume,
                            std::size_t max_objects) const {
  check_prefix(prefix);
  std::string query;
  if (resume) query += "continuation-token=" + s3::uri_encode(*resume, false) + "&";
  query += fmt::format("list-type=2&max-keys={}&prefix={}",
                       std::clamp<std::size_t>(max_objects, 1, 1000),
                       s3::uri_encode(location_.prefix + prefix, false));
  auto r = request("GET", "", query);
  if (r.status / 100 != 2) fail(r, "list", prefix);
  auto result = decoded("list " + prefix, [&] { return s3::parse_list_objects(r.body); });
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
  auto r = request("HEAD", key, "");
  if (r.status == 404) return std::nullopt;
  if (r.status / 100 != 2) fail(r, "HEAD", key);
  auto length = r.headers.find("content-length");
  auto modified = r.headers.find("last-modified");
  return ObjectInfo{key, length == r.headers.end() ? 0 : parse_length(length->second),
                    modified == r.headers.end() ? 0 : parse_http_date(modified->second)};
}

void S3Store::remove(const std::string& key) {
  check_key(key);
  auto r = request("DELETE", key, "");
  if (r.status / 100 != 2 && r.status != 404) fail(r, "DELETE", key);
}

}  // namespace pitr::storage
