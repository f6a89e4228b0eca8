#pragma once
// Where an archive lives, as `--archive` says it: a path, file://PATH, or
// s3://BUCKET[/PREFIX], and the storage backend that serves it.
#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "archive/storage/object_store.hpp"

namespace pitr::storage {

struct ArchiveUrl {
  enum class Kind { kLocal, kS3 };
  Kind kind = Kind::kLocal;
  std::filesystem::path path;  // kLocal
  std::string bucket, prefix;  // kS3; prefix "" or ending in '/'
};

// Throws std::invalid_argument naming the forms it accepts.
ArchiveUrl parse_archive_url(const std::string& text);

// The S3 options of the command line; unset ones come from the environment
// (AWS_ENDPOINT_URL, AWS_REGION, default us-east-1).
struct S3Options {
  std::optional<std::string> endpoint, region;
  bool virtual_host = false;  // only without an endpoint is it the default
  // Give up after this long without progress, retries included (default 120 s).
  std::optional<std::chrono::seconds> deadline;
};

// The options with what is unset taken from AWS_ENDPOINT_URL and AWS_REGION (the region
// always set: us-east-1 by default).
S3Options with_environment(S3Options s3);

std::unique_ptr<ObjectStore> open_archive_store(const ArchiveUrl& url, const S3Options& s3);

}  // namespace pitr::storage
