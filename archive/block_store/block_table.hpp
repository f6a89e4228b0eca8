#pragma once
// A hash table from block id to where the block is: the entries in one array in the order
// added, and an open-addressing table (linear probing, at most half full) of 4-byte entry
// numbers. A store of millions of blocks loads with a few allocations instead of one per
// block, in about 70 bytes a block.
#include <cstdint>
#include <vector>

#include "archive/block_store/block_id.hpp"

namespace pitr::archive {

struct BlockLocation {
  std::uint32_t pack = 0;  // BlockIndex::pack_name(pack)
  std::uint32_t stored = 0;
  std::uint64_t offset = 0;
  std::uint32_t size = 0;
};

class BlockTable {
 public:
  // Room for `blocks` blocks without growing.
  void reserve(std::size_t blocks);
  // Adds a block; one already there keeps its location.
  void add(const BlockId& id, const BlockLocation& at);
  const BlockLocation* find(const BlockId& id) const;
  std::size_t size() const { return entries_.size(); }

 private:
  struct Entry {
    BlockId id;
    BlockLocation at;
  };
  // The slot holding `id`, or the empty slot where it would go.
  std::size_t slot_of(const BlockId& id) const;
  void rehash(std::size_t slots);

  std::vector<Entry> entries_;
  std::vector<std::uint32_t> slots_;  // entry number + 1; 0 is empty; a power of two long
};

}  // namespace pitr::archive
