#include "archive/segment_file.hpp"

#include <fmt/format.h>

#include <ctime>
#include <memory>
#include <vector>

#include "archive/compressed_file_reader.hpp"
#include "archive/compressed_file_writer.hpp"

namespace pitr::archive {
namespace {

constexpr std::uint32_t kSkippableMagic = 0x184D2A5F;
constexpr std::uint8_t kTrailerMagic[4] = {'P', 'I', 'T', 'R'};
constexpr std::size_t kChunk = 1 << 20;

std::vector<std::uint8_t> record_frame(const SegmentRecord& record) {
  auto json = to_json(record).dump();
  std::vector<std::uint8_t> frame(8 + json.size() + 8);
  store_le(frame.data(), kSkippableMagic, 4);
  store_le(frame.data() + 4, json.size() + 8, 4);
  std::copy(json.begin(), json.end(), frame.begin() + 8);
  store_le(frame.data() + 8 + json.size(), json.size(), 4);
  std::copy(std::begin(kTrailerMagic), std::end(kTrailerMagic), frame.end() - 4);
  return frame;
}

}  // namespace

void write_segment(const File& source, std::uint64_t source_base, SegmentRecord& record,
                   const fs::path& dest, int compression_level) {
  CompressedFileWriter out(dest, compression_level);
  std::vector<std::uint8_t> chunk(kChunk);
  for (std::uint64_t done = 0; done < record.size();) {
    auto n = static_cast<std::size_t>(std::min<std::uint64_t>(kChunk, record.size() - done));
    source.pread_exact({chunk.data(), n}, record.start - source_base + done);
    out.write(Bytes(chunk.data(), n));
    done += n;
  }
  record.sha256 = out.end_frame().sha256;
  record.sealed_at = static_cast<std::uint64_t>(std::time(nullptr));
  if (fs::exists(dest)) {  // the temporary file is dropped with `out`
    auto existing = read_segment_record(dest);
    if (existing.sha256 == record.sha256 && existing.end == record.end) return;
    throw IoError(
        fmt::format("segment {} already exists with different content (sha256 {} vs "
                    "{}); refusing to overwrite archived history",
                    dest.string(), existing.sha256, record.sha256));
  }
  out.append_raw(record_frame(record));
  out.commit();
  fsync_directory(dest.parent_path());
}

SegmentRecord read_segment_record(const fs::path& segment) {
  File f(segment, File::Mode::kRead);
  auto size = f.size();
  std::uint8_t tail[8];
  auto damaged = [&](const std::string& why) {
    return IoError(fmt::format("segment {} is damaged: {}", segment.string(), why));
  };
  if (size < 16) throw damaged("too short to hold an index record");
  f.pread_exact(tail, size - 8);
  if (!std::equal(tail + 4, tail + 8, kTrailerMagic)) throw damaged("index record trailer missing");
  auto json_len = load_le(tail, 4);
  if (json_len + 16 > size) throw damaged("index record length out of range");
  std::vector<std::uint8_t> frame(json_len + 8);
  f.pread_exact(frame, size - 16 - json_len);
  if (load_le(frame.data(), 4) != kSkippableMagic) throw damaged("index frame header missing");
  try {
    return segment_record_from_json(
        nlohmann::json::parse(frame.begin() + 8, frame.begin() + 8 + static_cast<long>(json_len)));
  } catch (const nlohmann::json::exception& e) {
    throw damaged(std::string("index record unreadable: ") + e.what());
  }
}

void read_segment(const fs::path& segment, const SegmentRecord& record, const ByteSink& sink) {
  std::uint64_t produced = 0;
  auto result = read_zstd_file(segment, [&](Bytes chunk) {
    produced += chunk.size();
    if (produced > record.size())
      throw IoError(fmt::format("segment {} holds more bytes than its record says ({})",
                                segment.string(), record.size()));
    sink(chunk);
  });
  if (result.bytes != record.size())
    throw IoError(fmt::format("segment {} holds {} bytes, its record says {}", segment.string(),
                              result.bytes, record.size()));
  if (result.sha256 != record.sha256)
    throw IoError(fmt::format("segment {} fails its checksum: the archived bytes are damaged",
                              segment.string()));
}

}  // namespace pitr::archive
