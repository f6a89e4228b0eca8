#pragma once
// Streams the decompressed content of a zstd file (skippable frames are skipped).
#include <cstdint>
#include <functional>
#include <string>

#include "archive/file_io.hpp"

namespace pitr::archive {

struct ReadResult {
  std::uint64_t bytes = 0;
  std::string sha256;
};

// Calls `sink` with each decompressed piece; throws IoError for a damaged or truncated file.
ReadResult read_zstd_file(const fs::path& path, const std::function<void(Bytes)>& sink);

}  // namespace pitr::archive
