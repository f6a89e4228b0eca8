#include "archive/storage/archive_url.hpp"

#include <fmt/format.h>

#include <cstdlib>
#include <stdexcept>

#include "archive/storage/local_directory_store.hpp"
#include "archive/storage/s3_store.hpp"

namespace pitr::storage {

namespace {

constexpr const char* kForms = "a directory, file://PATH or s3://BUCKET/PREFIX";

// S3's rules for bucket names (3-63 characters of a-z, 0-9, '.', '-', starting and ending
// with a letter or digit).
bool valid_bucket(const std::string& b) {
  if (b.size() < 3 || b.size() > 63) return false;
  auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  if (!alnum(b.front()) || !alnum(b.back())) return false;
  return b.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789.-") == std::string::npos;
}

ArchiveUrl parse_s3(const std::string& text) {
  auto rest = text.substr(5);
  auto slash = rest.find('/');
  ArchiveUrl url{ArchiveUrl::Kind::kS3, {}, rest.substr(0, slash), ""};
  if (!valid_bucket(url.bucket))
    throw std::invalid_argument(fmt::format(
        "--archive {}: '{}' is not a valid bucket name (3-63 characters: a-z, 0-9, '.', '-')", text,
        url.bucket));
  if (slash != std::string::npos) url.prefix = rest.substr(slash + 1);
  while (url.prefix.ends_with('/')) url.prefix.pop_back();
  if (!url.prefix.empty()) {
    try {
      check_key(url.prefix);
    } catch (const StorageError& e) {
      throw std::invalid_argument(
          fmt::format("--archive {}: the prefix is not usable: {}", text, e.what()));
    }
    url.prefix += '/';
  }
  return url;
}

std::string env_or(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  return v && *v ? v : fallback;
}

}  // namespace

ArchiveUrl parse_archive_url(const std::string& text) {
  if (text.empty()) throw std::invalid_argument(fmt::format("--archive wants {}", kForms));
  if (text.starts_with("s3://")) return parse_s3(text);
  if (text.starts_with("file://")) {
    auto path = text.substr(7);
    if (path.empty() || path.front() != '/')
      throw std::invalid_argument(fmt::format(
          "--archive {}: a file:// URL wants an absolute path (file:///backup/db1)", text));
    return {ArchiveUrl::Kind::kLocal, path, "", ""};
  }
  auto scheme = text.find("://");
  if (scheme != std::string::npos)
    throw std::invalid_argument(fmt::format("--archive {}: unknown scheme '{}'; pitr takes {}",
                                            text, text.substr(0, scheme), kForms));
  return {ArchiveUrl::Kind::kLocal, text, "", ""};
}

S3Options with_environment(S3Options s3) {
  if (!s3.endpoint && !env_or("AWS_ENDPOINT_URL", "").empty())
    s3.endpoint = env_or("AWS_ENDPOINT_URL", "");
  if (!s3.region) s3.region = env_or("AWS_REGION", "us-east-1");
  return s3;
}

std::unique_ptr<ObjectStore> open_archive_store(const ArchiveUrl& url, const S3Options& options) {
  if (url.kind == ArchiveUrl::Kind::kLocal) return std::make_unique<LocalDirectoryStore>(url.path);
  auto s3 = with_environment(options);
  S3Location at;
  at.endpoint = s3.endpoint.value_or("");
  at.region = *s3.region;
  at.bucket = url.bucket;
  at.prefix = url.prefix;
  // With an endpoint (a gateway on premises, MinIO, Ceph) the bucket goes in the path; on
  // AWS itself in the host name.
  at.virtual_host = at.endpoint.empty() || s3.virtual_host;
  S3Tuning tuning;
  if (s3.deadline) tuning.deadline = *s3.deadline;
  return std::make_unique<S3Store>(at, load_s3_credentials(), tuning);
}

}  // namespace pitr::storage
