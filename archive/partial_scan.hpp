#pragma once
// Re-reads the open tail of a binlog (a .partial file) to find its last complete
// transaction: what `pitr get` serves and where a restarted capture resumes.
#include <optional>
#include <string>

#include "archive/segment_stats.hpp"
#include "formats/binlog/format_description.hpp"

namespace pitr::archive {

struct PartialScan {
  std::uint64_t boundary = 0;  // file offset just past the last complete transaction
  std::uint64_t end = 0;       // file offset of the partial's last byte + 1
  SegmentStats stats;
  std::optional<binlog::FormatDescription> format;
  std::optional<std::string> format_description_hex;
  std::optional<std::string> tail_problem;  // why the walk stopped before `end`, if it did
};

// `bytes` hold file offsets [start, start + bytes.size()). `fde_hex` is the file's FDE
// (from an earlier segment's record) when start > 0.
PartialScan scan_partial(Bytes bytes, const std::string& file, std::uint64_t start,
                         const std::optional<std::string>& fde_hex);

}  // namespace pitr::archive
