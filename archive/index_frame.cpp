#include "archive/index_frame.hpp"

#include <fmt/format.h>

#include <vector>

#include "archive/compressed_file_reader.hpp"
#include "archive/compressed_file_writer.hpp"

namespace pitr::archive {
namespace {

constexpr std::uint32_t kSkippableMagic = 0x184D2A5F;
constexpr std::uint8_t kTrailerMagic[4] = {'P', 'I', 'T', 'R'};
constexpr std::size_t kChunk = 1 << 20;

std::vector<std::uint8_t> record_frame(const nlohmann::json& record) {
  auto json = record.dump();
  std::vector<std::uint8_t> frame(8 + json.size() + 8);
  store_le(frame.data(), kSkippableMagic, 4);
  store_le(frame.data() + 4, json.size() + 8, 4);
  std::copy(json.begin(), json.end(), frame.begin() + 8);
  store_le(frame.data() + 8 + json.size(), json.size(), 4);
  std::copy(std::begin(kTrailerMagic), std::end(kTrailerMagic), frame.end() - 4);
  return frame;
}

}  // namespace

bool write_indexed_file(const File& source, std::uint64_t offset, std::uint64_t length,
                        const fs::path& dest, int compression_level,
                        const std::function<nlohmann::json(const std::string&)>& make_record) {
  CompressedFileWriter out(dest, compression_level);
  std::vector<std::uint8_t> chunk(kChunk);
  for (std::uint64_t done = 0; done < length;) {
    auto n = static_cast<std::size_t>(std::min<std::uint64_t>(kChunk, length - done));
    source.pread_exact({chunk.data(), n}, offset + done);
    out.write(Bytes(chunk.data(), n));
    done += n;
  }
  auto sha = out.end_frame().sha256;
  auto record = make_record(sha);
  if (fs::exists(dest)) {  // the temporary file is dropped with `out`
    auto existing = read_index_record(dest).value("sha256", "");
    if (existing == sha) return false;
    throw IoError(
        fmt::format("{} already exists with different content (sha256 {} vs {}); "
                    "refusing to overwrite archived history",
                    dest.string(), existing, sha));
  }
  out.append_raw(record_frame(record));
  out.commit();
  fsync_directory(dest.parent_path());
  return true;
}

nlohmann::json read_index_record(const fs::path& file) {
  File f(file, File::Mode::kRead);
  auto size = f.size();
  std::uint8_t tail[8];
  auto damaged = [&](const std::string& why) {
    return IoError(fmt::format("{} is damaged: {}", file.string(), why));
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
    return nlohmann::json::parse(frame.begin() + 8,
                                 frame.begin() + 8 + static_cast<long>(json_len));
  } catch (const nlohmann::json::exception& e) {
    throw damaged(std::string("index record unreadable: ") + e.what());
  }
}

void read_indexed_file(const fs::path& file, std::uint64_t size, const std::string& sha256,
                       const std::function<void(Bytes)>& sink) {
  std::uint64_t produced = 0;
  auto result = read_zstd_file(file, [&](Bytes chunk) {
    produced += chunk.size();
    if (produced > size)
      throw IoError(
          fmt::format("{} holds more bytes than its record says ({})", file.string(), size));
    sink(chunk);
  });
  if (result.bytes != size)
    throw IoError(
        fmt::format("{} holds {} bytes, its record says {}", file.string(), result.bytes, size));
  if (result.sha256 != sha256)
    throw IoError(
        fmt::format("{} fails its checksum: the archived bytes are damaged", file.string()));
}

}  // namespace pitr::archive
