#pragma once
// A recorded hole in the archive: capture could not get bytes the server no longer has.
#include <cstdint>
#include <string>
#include <vector>

#include "archive/archive.hpp"

namespace pitr::archive {

struct GapRecord {
  std::string source_id;
  std::string after_file;  // last archived file (empty when nothing was archived yet)
  std::uint64_t after_position = 0;
  std::string wanted_file;
  std::uint64_t detected_at = 0;  // unix seconds
  std::string server_error;
};

void record_gap(const Archive& archive, const GapRecord& gap);
std::vector<GapRecord> list_gaps(const Archive& archive);
// Records the gap unless the same one (source, after_file, after_position) is recorded.
void record_gap_once(const Archive& archive, const GapRecord& gap);

}  // namespace pitr::archive
