#pragma once
// The data block ids of a parent backup's files, for a backup being written that shares
// them: read through the writer's own index while its workers are idle (no second index to
// load); should a block be only in a pack retention condemned, through the index of every
// pack (the parent is complete, so its blocks are still readable, block_sweep.hpp).
#include <optional>
#include <vector>

#include "archive/block_store/stored_tar.hpp"
#include "archive/member_list_object.hpp"

namespace pitr::archive {

class ParentBlockIds {
 public:
  ParentBlockIds(const storage::ObjectStore& store, BlockWriter& writer, const BlockIndex& index,
                 CompleteBackupBlocks& complete)
      : store_(store), writer_(writer), index_(index), complete_(complete) {}

  std::vector<std::vector<BlockId>> operator()(const std::vector<const StoredTarMember*>& members);

 private:
  const storage::ObjectStore& store_;
  BlockWriter& writer_;
  const BlockIndex& index_;
  CompleteBackupBlocks& complete_;
  std::optional<BlockReader> complete_reader_;
};

}  // namespace pitr::archive
