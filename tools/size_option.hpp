#pragma once
#include <cstdint>
#include <string>

namespace pitr::tools {

// "16M", "512K", "1G", "1048576" → bytes; throws std::invalid_argument.
std::uint64_t parse_size(const std::string& text);

}  // namespace pitr::tools
