#pragma once
// Sealed archive files carry their own index record: the zstd-compressed bytes, then a zstd
// skippable frame holding the record as JSON, then the JSON's length and "PITR". Plain
// `zstd -d` skips the frame; pitr reads the record from the file's last bytes.
#include <functional>
#include <string>

#include <nlohmann/json.hpp>

#include "archive/file_io.hpp"

namespace pitr::archive {

// Compresses source[offset, offset + length) into `dest` durably (temporary name, fsync,
// rename, fsync dir) followed by the record `make_record` builds from the bytes' SHA-256.
// A file already at `dest` with the same "sha256" is kept (returns false); one with other
// content is an error: archived history is never overwritten.
bool write_indexed_file(
    const File& source, std::uint64_t offset, std::uint64_t length, const fs::path& dest,
    int compression_level,
    const std::function<nlohmann::json(const std::string& sha256)>& make_record);

nlohmann::json read_index_record(const fs::path& file);

// Decompresses `file`, checks its size and SHA-256, and streams the bytes to `sink`.
void read_indexed_file(const fs::path& file, std::uint64_t size, const std::string& sha256,
                       const std::function<void(Bytes)>& sink);

}  // namespace pitr::archive
