#pragma once
// A hash table from block id to where the block is, in one array (open addressing, linear
// probing): a store of millions of blocks loads with one allocation instead of one per
// block, and takes about half the memory of a node-based map.
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
  std::size_t size() const { return size_; }

 private:
  struct Slot {
    BlockId id;
    BlockLocation at;
    bool used = false;
  };
  std::size_t slot_of(const BlockId& id) const;
  void grow(std::size_t capacity);

  std::vector<Slot> slots_;  // a power of two long, at most half full
  std::size_t size_ = 0;
};

}  // namespace pitr::archive
