#pragma once
// The AWS shared credentials file (~/.aws/credentials): INI sections named by profile with
// aws_access_key_id, aws_secret_access_key and aws_session_token. No I/O.
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace pitr::s3 {

// The settings of `profile` ("default", or "[profile NAME]" style names are not used in
// this file), or nothing when the file has no such section.
std::optional<std::map<std::string, std::string>> credentials_profile(std::string_view text,
                                                                      const std::string& profile);

}  // namespace pitr::s3
