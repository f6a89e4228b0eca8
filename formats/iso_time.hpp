#pragma once
// ISO 8601 times as DBAs type them: "2026-11-21T10:41:59Z", "2026-11-21 10:41:59+01:00",
// "2026-11-21T10:41" or "2026-11-21". Without an offset, the time is UTC.
#include <cstdint>
#include <string>

namespace pitr {

// Unix seconds (fractions are dropped: binlog times have one-second resolution). Throws
// std::invalid_argument that shows the accepted forms.
std::int64_t parse_iso_time(const std::string& text);
// Unix microseconds, keeping fractions of a second (PostgreSQL commit times are in µs).
std::int64_t parse_iso_time_micros(const std::string& text);
std::string format_iso_time(std::int64_t unix_seconds);
// "2026-11-21 10:41:59.123456+00", as PostgreSQL reads timestamps.
std::string format_postgres_time(std::int64_t unix_micros);

}  // namespace pitr
