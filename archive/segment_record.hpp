#pragma once
// The index record of one archived segment: which bytes of which binlog it holds and what
// is in them. Stored inside the segment file itself (docs/archive-format.md).
#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace pitr::archive {

struct SegmentRecord {
  std::string source_id;
  std::string file;
  std::uint64_t start = 0;  // offset in the binlog file of the first byte held
  std::uint64_t end = 0;    // offset one past the last byte held
  std::uint32_t first_time = 0;
  std::uint32_t last_time = 0;
  std::optional<std::string> first_gtid;
  std::optional<std::string> last_gtid;
  std::uint64_t events = 0;
  std::uint64_t transactions = 0;
  std::string sha256;                    // of the uncompressed bytes
  std::string format_description;        // hex of the file's FORMAT_DESCRIPTION_EVENT
  std::optional<std::string> next_file;  // set when the segment ends with the file's ROTATE
  bool ends_file = false;                // ROTATE or STOP seen: the binlog file is complete
  std::uint64_t sealed_at = 0;

  std::uint64_t size() const { return end - start; }
};

nlohmann::json to_json(const SegmentRecord& r);
SegmentRecord segment_record_from_json(const nlohmann::json& j);

}  // namespace pitr::archive
