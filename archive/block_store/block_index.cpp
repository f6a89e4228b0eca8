#include "archive/block_store/block_index.hpp"

#include <map>

#include "archive/archive_layout.hpp"
#include "archive/parallel_reads.hpp"

namespace pitr::archive {

std::vector<PackEntry> read_pack_trailer(const storage::ObjectStore& store, const std::string& pack,
                                         std::uint64_t pack_size) {
  auto key = layout::block_pack(pack);
  if (pack_size < kPackHeaderSize + kPackFooterSize)
    throw DecodeError(key + ": too short to be a pack");
  auto footer = decode_pack_footer(
      store.get_bytes(key, {pack_size - kPackFooterSize, kPackFooterSize}), pack_size, key);
  auto index = store.get_bytes(key, {footer.index_offset, footer.index_length});
  return decode_pack_index(index, key, footer.index_offset);
}

BlockIndex BlockIndex::load(const storage::ObjectStore& store, BlockIndexOptions options) {
  BlockIndex index;
  // Condemned first: a pack condemned after its listing below must not slip in.
  for (const auto& o : store.list(layout::block_condemned_prefix()))
    if (auto name = layout::pack_name_of(o.key)) index.condemned_[*name] = 0;
  std::map<std::string, std::uint64_t> pack_sizes;
  for (const auto& o : store.list(layout::block_packs_prefix())) {
    auto name = layout::pack_name_of(o.key);
    if (!name) continue;
    if (auto c = index.condemned_.find(*name); c != index.condemned_.end()) {
      c->second = o.size;
      if (!options.condemned) continue;
    }
    if (options.leave_out.contains(*name)) continue;
    pack_sizes[*name] = o.size;
  }
  // An index is listed after its pack was: a pack stored since the listing above is left
  // for the next load rather than read without knowing its size.
  std::vector<std::string> indexed;
  for (const auto& o : store.list(layout::block_indexes_prefix()))
    if (auto name = layout::pack_name_of(o.key); name && pack_sizes.contains(*name))
      indexed.push_back(*name);

  std::vector<std::vector<PackEntry>> entries(indexed.size());
  read_in_parallel(store, indexed.size(), [&](std::size_t i) {
    auto key = layout::block_pack_index(indexed[i]);
    auto bytes = store.get_bytes(key);
    // The pack ends with a copy of these bytes and its footer: its blocks lie before them.
    auto size = pack_sizes.at(indexed[i]);
    auto data_end =
        size > bytes.size() + kPackFooterSize ? size - bytes.size() - kPackFooterSize : 0;
    entries[i] = decode_pack_index(bytes, key, data_end);
  });
  std::size_t blocks = 0;
  for (const auto& e : entries) blocks += e.size();
  index.blocks_.reserve(blocks);
  for (std::size_t i = 0; i < indexed.size(); ++i) {
    index.add_loaded(indexed[i], pack_sizes.at(indexed[i]), entries[i], options.pack_contents);
    pack_sizes.erase(indexed[i]);
  }
  for (const auto& [pack, size] : pack_sizes) {
    auto found = read_pack_trailer(store, pack, size);
    index.add_loaded(pack, size, found, options.pack_contents);
    index.unindexed_.push_back({pack, std::move(found)});
  }
  return index;
}

void BlockIndex::add_loaded(const std::string& pack, std::uint64_t size,
                            const std::vector<PackEntry>& entries, bool keep_contents) {
  auto number = add_pack(pack, size);
  add_entries(number, entries);
  if (!keep_contents) return;
  contents_.resize(packs_.size());
  contents_[number] = entries;
}

std::optional<BlockLocation> BlockIndex::find(const BlockId& id) const {
  const auto* at = blocks_.find(id);
  if (!at) return std::nullopt;
  return *at;
}

std::uint32_t BlockIndex::add_pack(const std::string& pack, std::uint64_t size) {
  packs_.push_back(pack);
  sizes_.push_back(size);
  return static_cast<std::uint32_t>(packs_.size() - 1);
}

void BlockIndex::add_entries(std::uint32_t pack, const std::vector<PackEntry>& entries) {
  for (const auto& e : entries) add(e.id, {pack, e.stored, e.offset, e.size});
}

}  // namespace pitr::archive
