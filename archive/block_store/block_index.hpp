#pragma once
// Where each block of the block store is: its pack and the place of its frame in it. Loaded
// from the store's pack indexes; a pack a killed backup stored without its index object is
// read from the pack itself, so its blocks are never uploaded twice.
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "archive/block_store/block_id.hpp"
#include "archive/block_store/block_table.hpp"
#include "archive/block_store/pack_format.hpp"
#include "archive/storage/object_store.hpp"

namespace pitr::archive {

struct BlockIndexOptions {
  // Also the packs retention condemned (left out otherwise: new backups must not use them).
  bool condemned = false;
  // Keep each pack's entries (retention asks which packs are still used).
  bool pack_contents = false;
  // Packs to leave out as if condemned (retention rewrites their blocks elsewhere).
  std::set<std::string> leave_out;
};

// Not thread-safe: one writer, or readers only.
class BlockIndex {
 public:
  // Every complete pack in `store`. Throws DecodeError naming the object when an index or
  // a pack without one is damaged.
  static BlockIndex load(const storage::ObjectStore& store, BlockIndexOptions options = {});

  std::optional<BlockLocation> find(const BlockId& id) const;
  const std::string& pack_name(std::uint32_t pack) const { return packs_.at(pack); }
  std::size_t pack_count() const { return packs_.size(); }
  std::size_t block_count() const { return blocks_.size(); }
  // Packs found without their index object, and the entries read from their ends.
  struct Unindexed {
    std::string pack;
    std::vector<PackEntry> entries;
  };
  const std::vector<Unindexed>& unindexed() const { return unindexed_; }
  // With BlockIndexOptions::pack_contents: the entries of pack `pack`.
  const std::vector<PackEntry>& entries_of(std::uint32_t pack) const { return contents_.at(pack); }
  // The packs found condemned (whether or not they were loaded) and their sizes.
  const std::map<std::string, std::uint64_t>& condemned() const { return condemned_; }
  std::uint64_t pack_size(std::uint32_t pack) const { return sizes_.at(pack); }

  // Registers a pack and its blocks; a block already known keeps its first location.
  std::uint32_t add_pack(const std::string& pack, std::uint64_t size = 0);
  void add(const BlockId& id, const BlockLocation& at) { blocks_.add(id, at); }
  void add_entries(std::uint32_t pack, const std::vector<PackEntry>& entries);

 private:
  void add_loaded(const std::string& pack, std::uint64_t size,
                  const std::vector<PackEntry>& entries, bool keep_contents);

  std::vector<std::string> packs_;
  std::vector<std::uint64_t> sizes_;
  BlockTable blocks_;
  std::vector<Unindexed> unindexed_;
  std::vector<std::vector<PackEntry>> contents_;
  std::map<std::string, std::uint64_t> condemned_;
};

// The entries of a pack read from its end (its footer and its copy of the index).
std::vector<PackEntry> read_pack_trailer(const storage::ObjectStore& store, const std::string& pack,
                                         std::uint64_t pack_size);

}  // namespace pitr::archive
