#include "formats/iso_time.hpp"
#include "tools/usage_error.hpp"

namespace pitr::tools {

std::optional<std::int64_t> parse_time_option(std::string_view option,
                                              const std::optional<std::string>& text) {
  if (!text) return std::nullopt;
  return parse_option(option, *text, kIsoTimeForm, parse_iso_time);
}

}  // namespace pitr::tools
