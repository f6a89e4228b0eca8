#pragma once
#include <chrono>
#include <string>

namespace pitr::tools {

// "14d", "36h", "90m", "45s", "2w" → seconds; throws std::invalid_argument.
std::chrono::seconds parse_duration(const std::string& text);

}  // namespace pitr::tools
