// `--archive` values: a path, file://PATH or s3://BUCKET/PREFIX, and the store each opens.
#include <gtest/gtest.h>

#include <cstdlib>
#include <optional>
#include <string>

#include "archive/storage/archive_url.hpp"
#include "archive/storage/local_directory_store.hpp"

using namespace pitr::storage;

namespace {

// Sets (or, with nullptr, unsets) an environment variable for one scope.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    value ? setenv(name, value, 1) : unsetenv(name);
  }
  ~ScopedEnv() { old_ ? setenv(name_, old_->c_str(), 1) : unsetenv(name_); }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

}  // namespace

TEST(ArchiveUrl, PathsAndFileUrlsAreLocal) {
  auto plain = parse_archive_url("/backup/db1");
  EXPECT_EQ(plain.kind, ArchiveUrl::Kind::kLocal);
  EXPECT_EQ(plain.path, "/backup/db1");
  EXPECT_EQ(parse_archive_url("relative/dir").path, "relative/dir");
  auto file = parse_archive_url("file:///backup/db 1");
  EXPECT_EQ(file.kind, ArchiveUrl::Kind::kLocal);
  EXPECT_EQ(file.path, "/backup/db 1");
}

TEST(ArchiveUrl, S3BucketAndPrefix) {
  auto url = parse_archive_url("s3://pitr-archive/fleet/db1/");
  EXPECT_EQ(url.kind, ArchiveUrl::Kind::kS3);
  EXPECT_EQ(url.bucket, "pitr-archive");
  EXPECT_EQ(url.prefix, "fleet/db1/");
  EXPECT_EQ(parse_archive_url("s3://pitr-archive").prefix, "");
  EXPECT_EQ(parse_archive_url("s3://pitr-archive/").prefix, "");
  EXPECT_EQ(parse_archive_url("s3://a.b-c/x").prefix, "x/");
}

TEST(ArchiveUrl, MistakesNameTheExpectedForm) {
  auto message = [](const std::string& text) -> std::string {
    try {
      parse_archive_url(text);
    } catch (const std::invalid_argument& e) {
      return e.what();
    }
    return "accepted";
  };
  EXPECT_NE(message("").find("s3://BUCKET/PREFIX"), std::string::npos);
  EXPECT_NE(message("gs://bucket/x").find("unknown scheme 'gs'"), std::string::npos);
  EXPECT_NE(message("file://relative").find("absolute path"), std::string::npos);
  for (const char* bad : {"s3://", "s3://ab", "s3://Upper", "s3://-dash", "s3://under_score/x"})
    EXPECT_NE(message(bad).find("not a valid bucket name"), std::string::npos) << bad;
  EXPECT_NE(message("s3://bucket/a/../b").find("prefix is not usable"), std::string::npos);
  EXPECT_NE(message("s3://bucket/a//b").find("prefix is not usable"), std::string::npos);
}

TEST(ArchiveUrl, OpensTheBackendItNames) {
  auto local = open_archive_store(parse_archive_url("/tmp/x"), {});
  EXPECT_TRUE(local->capabilities().local_files);
  EXPECT_EQ(local->describe(), "/tmp/x");
  {
    ScopedEnv key("AWS_ACCESS_KEY_ID", "AKIAEXAMPLE"), secret("AWS_SECRET_ACCESS_KEY", "secret");
    auto s3 = open_archive_store(
        parse_archive_url("s3://bucket/db1"),
        {.endpoint = "http://127.0.0.1:1", .region = std::nullopt, .deadline = {}});
    EXPECT_FALSE(s3->capabilities().local_files);
    EXPECT_EQ(s3->describe(), "s3://bucket/db1/");
  }
  ScopedEnv key("AWS_ACCESS_KEY_ID", nullptr), secret("AWS_SECRET_ACCESS_KEY", nullptr),
      file("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/credentials");
  try {
    open_archive_store(parse_archive_url("s3://bucket/db1"), {});
    ADD_FAILURE() << "opened without credentials";
  } catch (const StorageError& e) {
    EXPECT_NE(std::string(e.what()).find("no S3 credentials"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("/nonexistent/credentials"), std::string::npos);
  }
}
