#include "archive/block_store/block_table.hpp"

#include <bit>
#include <cstring>

namespace pitr::archive {

std::size_t BlockTable::slot_of(const BlockId& id) const {
  std::uint64_t h;  // ids are SHA-256 digests: any of their bytes are uniform
  std::memcpy(&h, id.bytes.data(), sizeof h);
  auto mask = slots_.size() - 1;
  for (auto i = static_cast<std::size_t>(h) & mask;; i = (i + 1) & mask)
    if (!slots_[i].used || slots_[i].id == id) return i;
}

void BlockTable::reserve(std::size_t blocks) {
  if (2 * blocks > slots_.size()) grow(std::bit_ceil(std::max<std::size_t>(2 * blocks, 64)));
}

void BlockTable::grow(std::size_t capacity) {
  std::vector<Slot> old(capacity);
  old.swap(slots_);
  for (const auto& s : old)
    if (s.used) slots_[slot_of(s.id)] = s;
}

void BlockTable::add(const BlockId& id, const BlockLocation& at) {
  reserve(size_ + 1);
  auto& slot = slots_[slot_of(id)];
  if (slot.used) return;
  slot = {id, at, true};
  ++size_;
}

const BlockLocation* BlockTable::find(const BlockId& id) const {
  if (slots_.empty()) return nullptr;
  const auto& slot = slots_[slot_of(id)];
  return slot.used ? &slot.at : nullptr;
}

}  // namespace pitr::archive
