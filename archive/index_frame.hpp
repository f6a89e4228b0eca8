#pragma once
// Sealed archive objects carry their own index record: the zstd-compressed bytes, then a
// zstd skippable frame holding the record as JSON, then the JSON's length and "PITR". Plain
// `zstd -d` skips the frame; pitr reads the record from the object's last bytes.
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "archive/file_io.hpp"
#include "archive/storage/object_store.hpp"

namespace pitr::archive {

// A sealed object as a listing shows it, with the record inside it.
struct IndexedObject {
  std::string key;
  std::uint64_t size = 0;
  nlohmann::json record;
};

// Compresses source[offset, offset + length) into the object `key` (created only if
// absent), followed by the record `make_record` builds from the bytes' SHA-256. An object
// already under `key` with the same "sha256" is kept (and returned); one with other
// content is an error: archived history is never overwritten. `before_commit`, when given,
// runs once everything is written and before the object becomes visible (a writer that
// seals several objects at once makes them visible in order with it).
IndexedObject write_indexed_object(
    storage::ObjectStore& store, const std::string& key, const File& source, std::uint64_t offset,
    std::uint64_t length, int compression_level,
    const std::function<nlohmann::json(const std::string& sha256)>& make_record,
    const std::function<void()>& before_commit = {});

// The record of the object `key`, whose size a listing gave (or none: asked for).
nlohmann::json read_index_record(const storage::ObjectStore& store, const std::string& key,
                                 std::optional<std::uint64_t> size = std::nullopt);

// The records of many objects (listed with their sizes), in their order. An object store
// that is not local files is asked several at a time: a catalog of thousands of segments
// would otherwise wait on one round trip after the other.
std::vector<nlohmann::json> read_index_records(const storage::ObjectStore& store,
                                               const std::vector<storage::ObjectInfo>& objects);

// Decompresses `key`, checks its size and SHA-256, and streams the bytes to `sink`.
void read_indexed_object(const storage::ObjectStore& store, const std::string& key,
                         std::uint64_t size, const std::string& sha256,
                         const std::function<void(Bytes)>& sink);

}  // namespace pitr::archive
