#include "archive/segment_file.hpp"

#include <fmt/format.h>

#include <ctime>

#include "archive/index_frame.hpp"

namespace pitr::archive {

void write_segment(const File& source, std::uint64_t source_base, SegmentRecord& record,
                   const fs::path& dest, int compression_level) {
  write_indexed_file(source, record.start - source_base, record.size(), dest, compression_level,
                     [&](const std::string& sha) {
                       record.sha256 = sha;
                       record.sealed_at = static_cast<std::uint64_t>(std::time(nullptr));
                       return to_json(record);
                     });
}

SegmentRecord read_segment_record(const fs::path& segment) {
  auto j = read_index_record(segment);
  try {
    return segment_record_from_json(j);
  } catch (const nlohmann::json::exception& e) {
    throw IoError(fmt::format("segment {} is damaged: index record unreadable: {}",
                              segment.string(), e.what()));
  }
}

void read_segment(const fs::path& segment, const SegmentRecord& record, const ByteSink& sink) {
  read_indexed_file(segment, record.size(), record.sha256, sink);
}

}  // namespace pitr::archive
