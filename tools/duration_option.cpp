#include "tools/duration_option.hpp"

#include <stdexcept>

namespace pitr::tools {

std::chrono::seconds parse_duration(const std::string& text) {
  auto bad = [&] {
    return std::invalid_argument("invalid duration '" + text +
                                 "' (a number and a unit: 14d, 36h, 90m, 45s, 2w)");
  };
  std::size_t used = 0;
  long long value = 0;
  try {
    value = std::stoll(text, &used);
  } catch (const std::exception&) {
    throw bad();
  }
  if (value <= 0 || used + 1 != text.size()) throw bad();
  long long unit = 0;
  switch (text.back()) {
    case 's':
      unit = 1;
      break;
    case 'm':
      unit = 60;
      break;
    case 'h':
      unit = 3600;
      break;
    case 'd':
      unit = 86400;
      break;
    case 'w':
      unit = 7 * 86400;
      break;
    default:
      throw bad();
  }
  if (value > (1LL << 40) / unit) throw bad();
  return std::chrono::seconds(value * unit);
}

}  // namespace pitr::tools
