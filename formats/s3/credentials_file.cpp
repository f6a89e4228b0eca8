#include "formats/s3/credentials_file.hpp"

namespace pitr::s3 {

namespace {

std::string trim(std::string_view s) {
  auto first = s.find_first_not_of(" \t\r");
  if (first == std::string_view::npos) return "";
  auto last = s.find_last_not_of(" \t\r");
  return std::string(s.substr(first, last - first + 1));
}

}  // namespace

std::optional<std::map<std::string, std::string>> credentials_profile(std::string_view text,
                                                                      const std::string& profile) {
  std::optional<std::map<std::string, std::string>> found;
  bool in_profile = false;
  while (!text.empty()) {
    auto end = text.find('\n');
    auto line = trim(text.substr(0, end));
    text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
    if (line.empty() || line.front() == '#' || line.front() == ';') continue;
    if (line.front() == '[' && line.back() == ']') {
      in_profile = trim(std::string_view(line).substr(1, line.size() - 2)) == profile;
      if (in_profile && !found) found.emplace();
      continue;
    }
    auto eq = line.find('=');
    if (!in_profile || eq == std::string::npos) continue;
    (*found)[trim(std::string_view(line).substr(0, eq))] =
        trim(std::string_view(line).substr(eq + 1));
  }
  return found;
}

}  // namespace pitr::s3
