// libFuzzer target: arbitrary bytes as an S3 server's answers (listings, error bodies,
// multipart answers) and as a shared credentials file: a DecodeError or a result, never a
// crash.
#include <cstdint>
#include <string_view>

#include "formats/s3/credentials_file.hpp"
#include "formats/s3/s3_messages.hpp"

using namespace pitr;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto attempt = [](auto&& f) {
    try {
      f();
    } catch (const DecodeError&) {
    }
  };
  attempt([&] { s3::parse_list_objects(text); });
  attempt([&] { s3::parse_upload_id(text); });
  s3::parse_error_body(text);
  s3::credentials_profile(text, "default");
  s3::uri_encode(text, size % 2 == 0);
  return 0;
}
