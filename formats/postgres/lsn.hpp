#pragma once
// PostgreSQL WAL positions (LSNs), segment numbers and the names of WAL and timeline
// history files, as the server spells them (src/include/access/xlog_internal.h).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace pitr::postgres {

using Lsn = std::uint64_t;
using TimelineId = std::uint32_t;

// "16/B374D848" ⇄ 0x16B374D848. parse_lsn throws DecodeError on anything else.
Lsn parse_lsn(std::string_view text);
std::string format_lsn(Lsn lsn);

// wal_segment_size must be a power of two between 1 MiB and 1 GiB.
bool valid_segment_size(std::uint64_t size);

inline std::uint64_t segment_of(Lsn lsn, std::uint64_t segment_size) {
  return lsn / segment_size;
}
inline Lsn segment_start(Lsn lsn, std::uint64_t segment_size) {
  return lsn - lsn % segment_size;
}

struct WalFileName {
  TimelineId timeline = 0;
  std::uint64_t segment = 0;  // segment number: LSN / wal_segment_size
};

// "00000001000000000000002A"
std::string wal_file_name(TimelineId timeline, std::uint64_t segment, std::uint64_t segment_size);
std::optional<WalFileName> parse_wal_file_name(std::string_view name, std::uint64_t segment_size);
// "00000002.history"
std::string history_file_name(TimelineId timeline);
std::optional<TimelineId> parse_history_file_name(std::string_view name);

// PostgreSQL timestamps count microseconds from 2000-01-01 00:00:00 UTC.
inline constexpr std::int64_t kPostgresEpochUnixSeconds = 946684800;
inline std::int64_t postgres_to_unix_micros(std::int64_t pg) {
  return pg + kPostgresEpochUnixSeconds * 1000000;
}
inline std::int64_t unix_micros_to_postgres(std::int64_t unix_us) {
  return unix_us - kPostgresEpochUnixSeconds * 1000000;
}

}  // namespace pitr::postgres
