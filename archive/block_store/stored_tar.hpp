#pragma once
// A tar stream (a PostgreSQL BASE_BACKUP archive) kept in the block store: each regular
// file is cut into blocks of a fixed size from its first byte (8 KiB: PostgreSQL's pages),
// so an unchanged page of a changed file is still the block an earlier backup stored. What
// stays per backup is the member list: each entry's header and the ids of its "list blocks",
// blocks that hold the ids of the file's data blocks in order (kIdsPerList each), so the
// lists of unchanged files are shared between backups too. Reading writes the tar stream
// back: the same entries and content (the headers are rebuilt, not the server's bytes).
#include <cstddef>
#include <functional>
#include <memory>
#include <unordered_set>
#include <vector>

#include <nlohmann/json.hpp>

#include "archive/block_store/block_reader.hpp"
#include "archive/block_store/block_writer.hpp"
#include "formats/tar_reader.hpp"

namespace pitr::archive {

inline constexpr std::size_t kIdsPerList = 1024;

struct StoredTarMember {
  TarEntry entry;
  std::vector<BlockId> lists;  // list blocks, for regular files
};

class StoredFilesWriter;

// Throws DecodeError for an entry that could not be restored (neither a file, a directory
// nor a symlink).
void check_restorable(const TarEntry& entry);

class StoredTarWriter {
 public:
  StoredTarWriter(BlockWriter& blocks, std::size_t block_size);
  ~StoredTarWriter();
  void feed(Bytes tar) { reader_.feed(tar); }
  // Throws DecodeError when the stream stopped inside an entry.
  std::vector<StoredTarMember> finish();

 private:
  std::unique_ptr<StoredFilesWriter> files_;
  std::string current_;  // the entry being read
  TarReader reader_;
};

// The list blocks of a file whose data blocks are `data` (for members built without a tar
// stream: backups that compose a file from fetched blocks and an earlier backup's).
std::vector<BlockId> store_id_lists(BlockWriter& blocks, const std::vector<BlockId>& data);

// Each member's data block ids, in order, read from its list blocks in one batch.
std::vector<std::vector<BlockId>> data_block_ids(
    const BlockReader& reader, const std::vector<const StoredTarMember*>& members);

// Calls sink with the tar stream, ending with the end-of-archive blocks. A missing or damaged
// block is a std::runtime_error naming the member it belongs to.
void read_stored_tar(const BlockReader& reader, const std::vector<StoredTarMember>& members,
                     const std::function<void(Bytes)>& sink);

// Adds the id of every block the members use to `into`: their list blocks, and the data
// blocks those list (read through `reader`).
void add_blocks_used(const BlockReader& reader, const std::vector<StoredTarMember>& members,
                     std::unordered_set<BlockId>& into);

// The length of the stream read_stored_tar writes.
std::uint64_t stored_tar_length(const std::vector<StoredTarMember>& members);

nlohmann::json stored_tar_json(const std::vector<StoredTarMember>& members);
// Throws DecodeError naming `what` when the JSON is not a member list.
std::vector<StoredTarMember> stored_tar_from_json(const nlohmann::json& json,
                                                  const std::string& what);

}  // namespace pitr::archive
