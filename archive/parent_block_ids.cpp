#include "archive/parent_block_ids.hpp"

namespace pitr::archive {

std::vector<std::vector<BlockId>> ParentBlockIds::operator()(
    const std::vector<const StoredTarMember*>& members) {
  if (!complete_reader_) {
    writer_.drain();
    try {
      return data_block_ids(BlockReader(store_, index_), members);
    } catch (const BlockError&) {
      complete_reader_.emplace(complete_.reader());
    }
  }
  return data_block_ids(*complete_reader_, members);
}

}  // namespace pitr::archive
