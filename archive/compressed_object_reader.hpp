#pragma once
// Streams the decompressed content of a zstd object (skippable frames are skipped).
#include <cstdint>
#include <functional>
#include <string>

#include "archive/storage/object_store.hpp"

namespace pitr::archive {

struct ReadResult {
  std::uint64_t bytes = 0;
  std::string sha256;
};

// Calls `sink` with each decompressed piece; throws IoError for a damaged or truncated
// object.
ReadResult read_zstd_object(const storage::ObjectStore& store, const std::string& key,
                            const std::function<void(Bytes)>& sink);

}  // namespace pitr::archive
