#include "archive/block_store/block_table.hpp"

#include <bit>
#include <cstring>
#include <stdexcept>

namespace pitr::archive {
namespace {

std::uint64_t hash_of(const BlockId& id) {
  std::uint64_t h;  // ids are SHA-256 digests: any of their bytes are uniform
  std::memcpy(&h, id.bytes.data(), sizeof h);
  return h;
}

}  // namespace

std::size_t BlockTable::slot_of(const BlockId& id) const {
  auto mask = slots_.size() - 1;
  for (auto i = static_cast<std::size_t>(hash_of(id)) & mask;; i = (i + 1) & mask)
    if (slots_[i] == 0 || entries_[slots_[i] - 1].id == id) return i;
}

void BlockTable::reserve(std::size_t blocks) {
  entries_.reserve(blocks);
  if (2 * blocks > slots_.size()) rehash(std::bit_ceil(std::max<std::size_t>(2 * blocks, 64)));
}

void BlockTable::rehash(std::size_t slots) {
  slots_.assign(slots, 0);
  for (std::size_t e = 0; e < entries_.size(); ++e)
    slots_[slot_of(entries_[e].id)] = static_cast<std::uint32_t>(e + 1);
}

void BlockTable::add(const BlockId& id, const BlockLocation& at) {
  if (!slots_.empty() && slots_[slot_of(id)] != 0) return;
  if (2 * (entries_.size() + 1) > slots_.size())
    rehash(std::max<std::size_t>(64, 2 * slots_.size()));
  auto slot = slot_of(id);
  if (entries_.size() >= UINT32_MAX - 1) throw std::length_error("more than 4 billion blocks");
  entries_.push_back({id, at});
  slots_[slot] = static_cast<std::uint32_t>(entries_.size());
}

const BlockLocation* BlockTable::find(const BlockId& id) const {
  if (slots_.empty()) return nullptr;
  auto slot = slots_[slot_of(id)];
  return slot == 0 ? nullptr : &entries_[slot - 1].at;
}

}  // namespace pitr::archive
