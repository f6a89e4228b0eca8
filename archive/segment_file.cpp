#include "archive/segment_file.hpp"

#include <fmt/format.h>

#include <ctime>

#include "archive/index_frame.hpp"

namespace pitr::archive {

IndexedObject write_segment(storage::ObjectStore& store, const std::string& key, const File& source,
                            std::uint64_t source_base, SegmentRecord& record, int compression_level,
                            const std::function<void()>& before_commit) {
  return write_indexed_object(
      store, key, source, record.start - source_base, record.size(), compression_level,
      [&](const std::string& sha) {
        record.sha256 = sha;
        record.sealed_at = static_cast<std::uint64_t>(std::time(nullptr));
        return to_json(record);
      },
      before_commit);
}

SegmentRecord segment_record_of(const nlohmann::json& record, const std::string& key) {
  try {
    return segment_record_from_json(record);
  } catch (const nlohmann::json::exception& e) {
    throw IoError(fmt::format("segment {} is damaged: index record unreadable: {}", key, e.what()));
  }
}

SegmentRecord read_segment_record(const storage::ObjectStore& store, const std::string& key,
                                  std::optional<std::uint64_t> size) {
  return segment_record_of(read_index_record(store, key, size), key);
}

void read_segment(const storage::ObjectStore& store, const std::string& key,
                  const SegmentRecord& record, const ByteSink& sink) {
  read_indexed_object(store, key, record.size(), record.sha256, sink);
}

}  // namespace pitr::archive
