#pragma once
// A sealed segment file: the zstd-compressed bytes of one range of a binlog, followed by
// a zstd skippable frame that carries the segment's index record as JSON. Plain `zstd -d`
// gives back the binlog bytes; pitr reads the record from the file's tail.
#include <functional>

#include "archive/file_io.hpp"
#include "archive/segment_record.hpp"

namespace pitr::archive {

using ByteSink = std::function<void(Bytes)>;

// Compresses source[record.start - source_base, record.end - source_base) into `dest`
// durably (temporary name, fsync, rename, fsync dir), filling record.sha256. An existing
// segment at `dest` with the same checksum is kept (no-op); a different one is an error.
void write_segment(const File& source, std::uint64_t source_base, SegmentRecord& record,
                   const fs::path& dest, int compression_level);

SegmentRecord read_segment_record(const fs::path& segment);

// Streams the decompressed bytes to `sink` and checks size and checksum against the
// record; throws IoError describing the damage otherwise.
void read_segment(const fs::path& segment, const SegmentRecord& record, const ByteSink& sink);

}  // namespace pitr::archive
