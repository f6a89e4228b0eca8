#pragma once
// A sealed segment object: the zstd-compressed bytes of one range of a binlog, followed by
// a zstd skippable frame that carries the segment's index record as JSON. Plain `zstd -d`
// gives back the binlog bytes; pitr reads the record from the object's tail.
#include <functional>
#include <optional>

#include <nlohmann/json.hpp>

#include "archive/file_io.hpp"
#include "archive/index_frame.hpp"
#include "archive/segment_record.hpp"
#include "archive/storage/object_store.hpp"

namespace pitr::archive {

using ByteSink = std::function<void(Bytes)>;

// Compresses source[record.start - source_base, record.end - source_base) into the object
// `key`, filling record.sha256. An existing segment with the same checksum is kept (no-op);
// a different one is an error. Returns the stored object. `before_commit`: as for
// write_indexed_object.
IndexedObject write_segment(storage::ObjectStore& store, const std::string& key, const File& source,
                            std::uint64_t source_base, SegmentRecord& record, int compression_level,
                            const std::function<void()>& before_commit = {});

// The record read from segment `key` (read_index_records reads many at once).
SegmentRecord segment_record_of(const nlohmann::json& record, const std::string& key);
SegmentRecord read_segment_record(const storage::ObjectStore& store, const std::string& key,
                                  std::optional<std::uint64_t> size = std::nullopt);

// Streams the decompressed bytes to `sink` and checks size and checksum against the
// record; throws IoError describing the damage otherwise.
void read_segment(const storage::ObjectStore& store, const std::string& key,
                  const SegmentRecord& record, const ByteSink& sink);

}  // namespace pitr::archive
