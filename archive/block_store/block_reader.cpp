#include "archive/block_store/block_reader.hpp"

#include <fmt/format.h>
#include <zstd.h>

#include <algorithm>
#include <memory>

#include "archive/archive_layout.hpp"
#include "archive/parallel_reads.hpp"

namespace pitr::archive {
namespace {

// Neighbouring blocks closer than this are read in one request, up to kMaxRead bytes.
constexpr std::uint64_t kMaxGap = 256u << 10;
constexpr std::uint64_t kMaxRead = 16u << 20;

struct Wanted {
  std::size_t index;
  BlockLocation at;
};

// One ranged read of a pack and the blocks it covers.
struct PackRead {
  std::uint32_t pack = 0;
  std::uint64_t offset = 0, end = 0;
  std::vector<Wanted> blocks;
};

std::string where(const BlockIndex& index, const BlockLocation& at) {
  return layout::block_pack(index.pack_name(at.pack)) + " at offset " + std::to_string(at.offset);
}

// One decompression context per thread: ZSTD_decompress would allocate and set up a new one
// for every block, which cost more than the decompression itself.
ZSTD_DCtx& thread_decompressor() {
  thread_local std::unique_ptr<ZSTD_DCtx, decltype(&ZSTD_freeDCtx)> dctx(ZSTD_createDCtx(),
                                                                         &ZSTD_freeDCtx);
  if (!dctx) throw std::bad_alloc();
  return *dctx;
}

// The block's content from its frame, checked against its id.
std::vector<std::uint8_t> decode_block(const BlockIndex& index, const BlockId& id,
                                       const BlockLocation& at, Bytes frame) {
  std::vector<std::uint8_t> out(at.size);
  auto n = ZSTD_decompressDCtx(&thread_decompressor(), out.data(), out.size(), frame.data(),
                               frame.size());
  if (ZSTD_isError(n) || n != at.size || BlockId::of(out) != id)
    throw BlockError(id, "block " + id.hex() + " in " + where(index, at) +
                             " is damaged: its content does not match its hash");
  return out;
}

std::vector<PackRead> plan_reads(const std::vector<Wanted>& wanted) {
  auto sorted = wanted;
  std::sort(sorted.begin(), sorted.end(), [](const Wanted& a, const Wanted& b) {
    return std::tie(a.at.pack, a.at.offset) < std::tie(b.at.pack, b.at.offset);
  });
  std::vector<PackRead> reads;
  for (const auto& w : sorted) {
    auto end = w.at.offset + w.at.stored;
    if (reads.empty() || reads.back().pack != w.at.pack ||
        w.at.offset > reads.back().end + kMaxGap || end - reads.back().offset > kMaxRead)
      reads.push_back({w.at.pack, w.at.offset, end, {}});
    reads.back().end = std::max(reads.back().end, end);
    reads.back().blocks.push_back(w);
  }
  return reads;
}

}  // namespace

BlockLocation BlockReader::locate(const BlockId& id) const {
  auto at = index_.find(id);
  if (!at)
    throw BlockError(
        id, "block " + id.hex() + " is not in the block store: its pack is missing or was removed");
  return *at;
}

std::vector<std::uint8_t> BlockReader::read(const BlockId& id) const {
  auto at = locate(id);
  auto frame =
      store_.get_bytes(layout::block_pack(index_.pack_name(at.pack)), {at.offset, at.stored});
  if (frame.size() != at.stored)
    throw BlockError(id, "block " + id.hex() + " in " + where(index_, at) +
                             " is damaged: its pack is shorter than its index says");
  return decode_block(index_, id, at, frame);
}

void BlockReader::read_all(const std::vector<BlockId>& wanted,
                           const std::function<void(std::size_t, Bytes)>& deliver) const {
  std::vector<Wanted> located;
  located.reserve(wanted.size());
  for (std::size_t i = 0; i < wanted.size(); ++i) located.push_back({i, locate(wanted[i])});
  auto reads = plan_reads(located);
  // Decompressing and hashing keep every core busy, even on local files.
  read_in_parallel(store_, reads.size(), ReadLoad::kCpu, [&](std::size_t r) {
    const auto& read = reads[r];
    auto key = layout::block_pack(index_.pack_name(read.pack));
    std::vector<std::uint8_t> bytes;
    try {
      bytes = store_.get_bytes(key, {read.offset, read.end - read.offset});
    } catch (const std::exception& e) {
      // Named by the first block it should have held, so that callers can say whose it is.
      const auto& first = wanted[read.blocks.front().index];
      throw BlockError(first, fmt::format("cannot read block {} (and {} more) from {}: {}",
                                          first.hex(), read.blocks.size() - 1, key, e.what()));
    }
    for (const auto& w : read.blocks) {
      const auto& id = wanted[w.index];
      auto from = w.at.offset - read.offset;
      if (from + w.at.stored > bytes.size())
        throw BlockError(id, "block " + id.hex() + " in " + where(index_, w.at) +
                                 " is damaged: its pack is shorter than its index says");
      deliver(w.index, decode_block(index_, id, w.at, Bytes(bytes).subspan(from, w.at.stored)));
    }
  });
}

}  // namespace pitr::archive
