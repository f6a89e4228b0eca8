#pragma once
// Reads blocks back from the block store, each checked against its id (the SHA-256 of its
// content): a damaged or missing block is a BlockError naming it, never wrong bytes.
#include <functional>
#include <stdexcept>
#include <vector>

#include "archive/block_store/block_index.hpp"

namespace pitr::archive {

class BlockError : public std::runtime_error {
 public:
  BlockError(const BlockId& id, const std::string& message)
      : std::runtime_error(message), id_(id) {}
  const BlockId& id() const { return id_; }

 private:
  BlockId id_;
};

class BlockReader {
 public:
  BlockReader(const storage::ObjectStore& store, const BlockIndex& index)
      : store_(store), index_(index) {}

  std::vector<std::uint8_t> read(const BlockId& id) const;
  // Calls deliver(i, content) once for every wanted[i] (in no particular order, from several
  // threads on object storage), reading neighbouring blocks of a pack in one request.
  void read_all(const std::vector<BlockId>& wanted,
                const std::function<void(std::size_t, Bytes)>& deliver) const;

 private:
  BlockLocation locate(const BlockId& id) const;

  const storage::ObjectStore& store_;
  const BlockIndex& index_;
};

}  // namespace pitr::archive
