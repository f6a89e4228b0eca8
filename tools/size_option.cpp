#include "tools/size_option.hpp"

#include <cctype>
#include <stdexcept>

namespace pitr::tools {

std::uint64_t parse_size(const std::string& text) {
  std::size_t used = 0;
  std::uint64_t value = 0;
  try {
    value = std::stoull(text, &used);
  } catch (const std::exception&) {
    throw std::invalid_argument("invalid size '" + text + "' (examples: 16M, 512K, 1G)");
  }
  auto suffix = text.substr(used);
  if (!suffix.empty() && (suffix.back() == 'B' || suffix.back() == 'b') && suffix.size() > 1)
    suffix.pop_back();
  if (suffix.size() == 2 && (suffix[1] == 'i' || suffix[1] == 'I')) suffix.pop_back();
  int shift = 0;
  if (suffix.empty())
    shift = 0;
  else if (suffix.size() == 1 && std::toupper(suffix[0]) == 'K')
    shift = 10;
  else if (suffix.size() == 1 && std::toupper(suffix[0]) == 'M')
    shift = 20;
  else if (suffix.size() == 1 && std::toupper(suffix[0]) == 'G')
    shift = 30;
  else
    throw std::invalid_argument("invalid size '" + text + "' (examples: 16M, 512K, 1G)");
  if (value == 0 || value > (std::uint64_t{1} << (62 - shift)))
    throw std::invalid_argument("size '" + text + "' is out of range");
  return value << shift;
}

}  // namespace pitr::tools
