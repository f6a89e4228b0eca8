#pragma once
// A bad command line found after parsing: exits 2, as CLI11's own errors do, with a message
// naming the option and the form it wants ("--to-position wants FILE:POS, got 'x'"), never
// the text of whatever parser failed underneath.
#include <fmt/format.h>

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace pitr::tools {

class UsageError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

inline constexpr std::string_view kIsoTimeForm =
    "an ISO 8601 time like 2026-11-21T10:41:59Z (UTC unless an offset is given)";

// parse(text), or a UsageError saying what `option` wants.
template <class Parse>
auto parse_option(std::string_view option, const std::string& text, std::string_view wants,
                  Parse&& parse) -> decltype(parse(text)) {
  try {
    return parse(text);
  } catch (const std::exception&) {
    throw UsageError(fmt::format("{} wants {}, got '{}'", option, wants, text));
  }
}

// An optional ISO 8601 time option (--since, --until) as Unix seconds.
std::optional<std::int64_t> parse_time_option(std::string_view option,
                                              const std::optional<std::string>& text);

}  // namespace pitr::tools
