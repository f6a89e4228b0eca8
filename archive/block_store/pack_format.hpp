#pragma once
// The bytes of a pack object (blocks/packs/<pack>.pack) and of its index
// (blocks/index/<pack>.idx); see docs/archive-format.md. A pack is a header, one zstd frame
// per block, a copy of its index and a footer locating that copy, so a pack whose index
// object was never written (a backup killed between the two) still says what it holds.
// No I/O here.
#include <cstdint>
#include <string>
#include <vector>

#include "archive/block_store/block_id.hpp"

namespace pitr::archive {

inline constexpr int kPackFormatVersion = 1;
inline constexpr std::size_t kPackHeaderSize = 16;
inline constexpr std::size_t kPackFooterSize = 16;
// Larger blocks are refused on read: a damaged index must not make a reader allocate wildly.
inline constexpr std::uint32_t kMaxBlockSize = 64u << 20;

struct PackEntry {
  BlockId id;
  std::uint64_t offset = 0;  // of the block's zstd frame in the pack
  std::uint32_t stored = 0;  // the frame's length
  std::uint32_t size = 0;    // the block's length
};

std::vector<std::uint8_t> pack_header();
// Throws DecodeError unless `bytes` starts with a pack header this version reads.
void check_pack_header(Bytes bytes, const std::string& what);

// The index: magic, version, count, the entries in pack order, then a SHA-256 of all that.
std::vector<std::uint8_t> encode_pack_index(const std::vector<PackEntry>& entries);
// Throws DecodeError (naming `what`) for a damaged or truncated index, or one whose entries
// overlap or lie outside [kPackHeaderSize, data_end) when data_end is given.
std::vector<PackEntry> decode_pack_index(Bytes bytes, const std::string& what,
                                         std::uint64_t data_end = UINT64_MAX);

struct PackFooter {
  std::uint64_t index_offset = 0, index_length = 0;
};
std::vector<std::uint8_t> encode_pack_footer(std::uint64_t index_offset);
// The last kPackFooterSize bytes of a pack of `pack_size` bytes.
PackFooter decode_pack_footer(Bytes bytes, std::uint64_t pack_size, const std::string& what);

}  // namespace pitr::archive
