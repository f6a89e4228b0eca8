#include "formats/postgres/timeline_history.hpp"

#include <fmt/format.h>

#include <charconv>

#include "formats/byte_cursor.hpp"

namespace pitr::postgres {

std::vector<TimelineSwitch> parse_timeline_history(std::string_view text) {
  std::vector<TimelineSwitch> out;
  std::size_t line_no = 0;
  while (!text.empty()) {
    auto nl = text.find('\n');
    auto line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    ++line_no;
    auto start = line.find_first_not_of(" \t\r");
    if (start == std::string_view::npos || line[start] == '#') continue;
    line = line.substr(start);
    auto tab = line.find_first_of(" \t");
    if (tab == std::string_view::npos)
      throw DecodeError(fmt::format("timeline history line {}: no switch point", line_no));
    auto rest = line.substr(tab + 1);
    rest = rest.substr(std::min(rest.size(), rest.find_first_not_of(" \t")));
    auto lsn_text = rest.substr(0, rest.find_first_of(" \t\r"));
    TimelineSwitch s;
    auto [end, ec] = std::from_chars(line.data(), line.data() + tab, s.parent);
    if (ec != std::errc() || end != line.data() + tab || s.parent == 0)
      throw DecodeError(fmt::format("timeline history line {}: no parent timeline", line_no));
    s.switch_point = parse_lsn(lsn_text);
    if (!out.empty() && (s.parent <= out.back().parent || s.switch_point < out.back().switch_point))
      throw DecodeError(fmt::format("timeline history line {}: out of order", line_no));
    out.push_back(s);
  }
  return out;
}

}  // namespace pitr::postgres
