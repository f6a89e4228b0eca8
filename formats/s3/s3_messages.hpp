#pragma once
// The S3 REST API's XML documents that pitr reads and writes (ListObjectsV2 results, error
// bodies, multipart uploads) and the URI encoding its requests use. No I/O.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "formats/byte_cursor.hpp"

namespace pitr::s3 {

struct ListedObject {
  std::string key;
  std::uint64_t size = 0;
  std::string last_modified;  // ISO 8601, as the server wrote it
};

struct ListObjectsResult {
  std::vector<ListedObject> objects;
  std::optional<std::string> next_token;  // set when the listing is truncated
};

// A ListObjectsV2 response (ListBucketResult). Throws DecodeError on anything else.
ListObjectsResult parse_list_objects(std::string_view xml);

struct ErrorBody {
  std::string code, message;
};
// An <Error> document, or nothing when `xml` is not one (an empty HEAD response, say).
std::optional<ErrorBody> parse_error_body(std::string_view xml);

// The UploadId of an InitiateMultipartUploadResult. Throws DecodeError.
std::string parse_upload_id(std::string_view xml);
// The CompleteMultipartUpload request body for parts (number, ETag) in order.
std::string complete_multipart_body(const std::vector<std::pair<int, std::string>>& parts);

// A decimal number as S3 writes sizes and lengths: digits only, fitting 64 bits.
std::optional<std::uint64_t> parse_unsigned(std::string_view text);

// RFC 3986 percent-encoding as SigV4 wants it: unreserved characters stay, everything
// else becomes %XX with upper-case hex; '/' stays when `keep_slash`.
std::string uri_encode(std::string_view text, bool keep_slash);

}  // namespace pitr::s3
