#pragma once
// The "INCREMENTAL.<file>" members of a PostgreSQL 17+ incremental BASE_BACKUP: a relation
// segment sent as only the blocks the server's WAL summaries name, and how to rebuild the
// whole segment from them and the prior backup's copy (what pg_combinebackup does).
//
// Layout, in the server's byte order: magic 0xd3ae1f0d, the number of blocks n, the
// truncation block length, n relative block numbers; when n > 0 the header is padded to a
// multiple of the page size; then the n pages in the order of their numbers.
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "formats/byte_cursor.hpp"

namespace pitr::postgres {

inline constexpr std::uint32_t kIncrementalMagic = 0xd3ae1f0d;

// "base/5/INCREMENTAL.16384.1" → "base/5/16384.1"; nullopt for any other name, and for such a
// name outside the directories that hold relation files (a user's file of that name).
std::optional<std::string> incremental_file_target(const std::string& path);

struct IncrementalHeader {
  std::uint32_t truncation_block_length = 0;
  std::vector<std::uint32_t> blocks;  // relative to the segment's first block
};

// Reads one incremental file as its bytes arrive, in pieces of any size.
class IncrementalFileReader {
 public:
  // `page_size`: the server's block size; `segment_blocks`: blocks per relation segment
  // (neither count in the header may exceed it). `page` gets each block as it completes,
  // with its index in the header's list.
  IncrementalFileReader(std::string name, std::uint32_t page_size, std::uint32_t segment_blocks,
                        std::function<void(std::size_t, Bytes)> page);
  // Throws DecodeError naming the file for a damaged header or more bytes than it promises.
  void feed(Bytes data);
  // Throws DecodeError when the file ended early.
  const IncrementalHeader& finish() const;

 private:
  void parse_fixed();
  void parse_numbers();
  std::uint32_t word(std::size_t at) const;
  [[noreturn]] void fail(const std::string& what) const;

  std::string name_;
  std::uint32_t page_size_, segment_blocks_;
  std::function<void(std::size_t, Bytes)> page_;
  std::vector<std::uint8_t> held_;  // the header, then the page being filled
  bool big_endian_ = false;
  std::optional<std::uint32_t> count_;
  std::size_t header_bytes_ = 0;  // once known: with its padding
  bool header_done_ = false;
  std::size_t pages_done_ = 0;
  IncrementalHeader header_;
};

// Where each block of the rebuilt segment comes from.
struct BlockSource {
  enum class Kind { kIncremental, kPrior, kZero };
  Kind kind = Kind::kZero;
  std::uint32_t index = 0;  // kIncremental: in the header's list; kPrior: the block number
};

// The rebuilt segment block by block, given how many blocks the prior backup's copy has: at
// least the truncation length long, longer when the file sends blocks past it. Blocks the
// file does not send come from the prior copy below the truncation length, and are zeros
// where the prior copy is too short (blocks the server extended into without WAL).
std::vector<BlockSource> reconstruction_plan(const IncrementalHeader& header,
                                             std::uint32_t prior_blocks);

// backup_label of an incremental backup without its "INCREMENTAL FROM LSN/TLI" lines: the
// label of the complete data directory rebuilt from it (PostgreSQL refuses to start from a
// label that still has them).
std::string complete_backup_label(const std::string& label);

}  // namespace pitr::postgres
