#include "archive/index_frame.hpp"

#include <fmt/format.h>

#include <vector>

#include "archive/compressed_object_reader.hpp"
#include "archive/compressed_object_writer.hpp"
#include "archive/parallel_reads.hpp"
#include "archive/sha256.hpp"

namespace pitr::archive {
namespace {

constexpr std::uint32_t kSkippableMagic = 0x184D2A5F;
constexpr std::uint8_t kTrailerMagic[4] = {'P', 'I', 'T', 'R'};
constexpr std::size_t kChunk = 1 << 20;
// Read at once from an object's end: records are a few hundred bytes, so one request
// usually brings the whole frame.
constexpr std::uint64_t kTailGuess = 4096;

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

// Calls `sink` with source[offset, offset + length), a chunk at a time.
void read_range(const File& source, std::uint64_t offset, std::uint64_t length,
                const std::function<void(Bytes)>& sink) {
  std::vector<std::uint8_t> chunk(kChunk);
  for (std::uint64_t done = 0; done < length;) {
    auto n = static_cast<std::size_t>(std::min<std::uint64_t>(kChunk, length - done));
    source.pread_exact({chunk.data(), n}, offset + done);
    sink(Bytes(chunk.data(), n));
    done += n;
  }
}

bool is_already_exists(const storage::StorageError& e) {
  return e.kind() == storage::StorageErrorKind::kAlreadyExists;
}

}  // namespace

IndexedObject write_indexed_object(
    storage::ObjectStore& store, const std::string& key, const File& source, std::uint64_t offset,
    std::uint64_t length, int compression_level,
    const std::function<nlohmann::json(const std::string&)>& make_record,
    const std::function<void()>& before_commit) {
  std::string sha;
  try {
    CompressedObjectWriter out(store, key, {.level = compression_level});
    read_range(source, offset, length, [&](Bytes b) { out.write(b); });
    sha = out.end_frame().sha256;
    auto record = make_record(sha);
    auto frame = record_frame(record);
    out.append_raw(frame);
    if (before_commit) before_commit();
    out.commit();
    return {key, out.stored_bytes(), std::move(record)};
  } catch (const storage::StorageError& e) {
    if (!is_already_exists(e)) throw;
  }
  if (sha.empty()) {  // refused before the last byte was written
    Sha256 hash;
    read_range(source, offset, length, [&](Bytes b) { hash.update(b); });
    sha = hash.hex();
  }
  auto info = store.stat(key);
  if (!info) throw IoError(fmt::format("{} vanished while it was being written", key));
  auto existing = read_index_record(store, key, info->size);
  if (existing.value("sha256", "") == sha) return {key, info->size, std::move(existing)};
  throw IoError(fmt::format(
      "{} already exists with different content (sha256 {} vs {}); refusing to overwrite "
      "archived history",
      key, existing.value("sha256", ""), sha));
}

nlohmann::json read_index_record(const storage::ObjectStore& store, const std::string& key,
                                 std::optional<std::uint64_t> size) {
  auto damaged = [&](const std::string& why) {
    return IoError(fmt::format("{} is damaged: {}", key, why));
  };
  if (!size) {
    auto info = store.stat(key);
    if (!info) throw IoError(fmt::format("{} is missing from the archive", key));
    size = info->size;
  }
  if (*size < 16) throw damaged("too short to hold an index record");
  auto guess = std::min(*size, kTailGuess);
  auto tail = store.get_bytes(key, {*size - guess, guess});
  if (tail.size() != guess) throw damaged("it changed while being read");
  auto end = tail.data() + tail.size();
  if (!std::equal(end - 4, end, kTrailerMagic)) throw damaged("index record trailer missing");
  auto json_len = load_le(end - 8, 4);
  if (json_len + 16 > *size) throw damaged("index record length out of range");
  if (json_len + 16 > guess) {
    tail = store.get_bytes(key, {*size - 16 - json_len, json_len + 16});
    end = tail.data() + tail.size();
  }
  auto frame = end - 16 - json_len;
  if (load_le(frame, 4) != kSkippableMagic) throw damaged("index frame header missing");
  try {
    return nlohmann::json::parse(frame + 8, frame + 8 + json_len);
  } catch (const nlohmann::json::exception& e) {
    throw damaged(std::string("index record unreadable: ") + e.what());
  }
}

std::vector<nlohmann::json> read_index_records(const storage::ObjectStore& store,
                                               const std::vector<storage::ObjectInfo>& objects) {
  std::vector<nlohmann::json> records(objects.size());
  read_in_parallel(store, objects.size(), [&](std::size_t i) {
    records[i] = read_index_record(store, objects[i].key, objects[i].size);
  });
  return records;
}

void read_indexed_object(const storage::ObjectStore& store, const std::string& key,
                         std::uint64_t size, const std::string& sha256,
                         const std::function<void(Bytes)>& sink) {
  std::uint64_t produced = 0;
  auto result = read_zstd_object(store, key, [&](Bytes chunk) {
    produced += chunk.size();
    if (produced > size)
      throw IoError(fmt::format("{} holds more bytes than its record says ({})", key, size));
    sink(chunk);
  });
  if (result.bytes != size)
    throw IoError(fmt::format("{} holds {} bytes, its record says {}", key, result.bytes, size));
  if (result.sha256 != sha256)
    throw IoError(fmt::format("{} fails its checksum: the archived bytes are damaged", key));
}

}  // namespace pitr::archive
