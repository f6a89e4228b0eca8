#include "archive/wal_summary_object.hpp"

#include <fmt/format.h>

#include "archive/compressed_object_reader.hpp"
#include "archive/compressed_object_writer.hpp"
#include "archive/file_io.hpp"

namespace pitr::archive {

void store_wal_summary(storage::ObjectStore& store, const std::string& key,
                       const postgres::WalSegmentSummary& summary) {
  CompressedObjectWriter out(store, key, {.level = 3, .sha256 = false},
                             storage::PutMode::kOverwrite);
  out.write(postgres::encode_wal_summary(summary));
  out.finish();
}

postgres::WalSegmentSummary read_wal_summary(const storage::ObjectStore& store,
                                             const std::string& key,
                                             const WalSegmentRecord& segment) {
  std::vector<std::uint8_t> bytes;
  read_zstd_object(store, key, [&](Bytes b) { bytes.insert(bytes.end(), b.begin(), b.end()); });
  postgres::WalSegmentSummary summary;
  try {
    summary = postgres::decode_wal_summary(bytes);
  } catch (const DecodeError& e) {
    throw IoError(fmt::format("{} is damaged: {}", key, e.what()));
  }
  if (summary.start != segment.start || summary.segment_size != segment.segment_size)
    throw IoError(fmt::format("{} describes the segment at {} of {} bytes, not {}", key,
                              postgres::format_lsn(summary.start), summary.segment_size,
                              segment.file));
  if (summary.segment_sha256 != segment.sha256)
    throw IoError(
        fmt::format("{} describes other WAL than its segment holds (SHA-256 {}, the "
                    "segment's {})",
                    key, summary.segment_sha256, segment.sha256));
  return summary;
}

}  // namespace pitr::archive
