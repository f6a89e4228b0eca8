#pragma once
// Reading a PostgreSQL source's WAL back: per-timeline ranges for `pitr status`, and the
// full check `pitr verify` runs (every checksum, every WAL record's CRC, continuity).
#include <optional>
#include <string>
#include <vector>

#include "archive/wal_archive.hpp"

namespace pitr::archive {

struct WalTimelineSummary {
  TimelineId timeline = 0;
  Lsn start = 0, end = 0;  // the WAL held, from the first segment's start
  std::uint64_t segments = 0, commits = 0;
  std::optional<std::int64_t> first_commit_time, last_commit_time;  // Unix µs (sealed segments)
  std::vector<std::string> holes;  // missing segments inside the range
};

std::vector<WalTimelineSummary> summarize_wal(const WalSourceListing& listing);

// Problems found; empty when every byte is intact and each timeline is contiguous.
std::vector<std::string> verify_wal(const WalSourceListing& listing);

}  // namespace pitr::archive
