#pragma once
// ISO 8601 times as DBAs type them: "2026-11-21T10:41:59Z", "2026-11-21 10:41:59+01:00",
// "2026-11-21T10:41" or "2026-11-21". Without an offset, the time is UTC.
#include <cstdint>
#include <string>

namespace pitr {

// Unix seconds (fractions are dropped: binlog times have one-second resolution). Throws
// std::invalid_argument that shows the accepted forms.
std::int64_t parse_iso_time(const std::string& text);
std::string format_iso_time(std::int64_t unix_seconds);

}  // namespace pitr
