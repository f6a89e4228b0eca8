#pragma once
// Stores blocks in the block store, each once: a block whose id the store (or this run)
// already has costs a hash and a lookup; a new one is compressed into the open pack.
// A pack is stored once it reaches its target size, then its index; both are created only
// if absent, never overwritten. A block's id may be recorded in a manifest only after
// finish() has returned: before that its pack may not be stored yet.
#include <cstdint>
#include <future>
#include <memory>
#include <string>
#include <vector>

#include "archive/block_store/block_index.hpp"
#include "archive/storage/object_writer.hpp"

struct ZSTD_CCtx_s;

namespace pitr::archive {

struct BlockWriterOptions {
  int level = 1;                       // zstd
  std::size_t pack_bytes = 16u << 20;  // a pack is stored once its frames reach this
};

struct BlockWriterStats {
  std::uint64_t blocks = 0, bytes = 0;          // every block put
  std::uint64_t new_blocks = 0, new_bytes = 0;  // those the store did not have
  std::uint64_t stored_bytes = 0;               // their compressed frames
  std::uint64_t packs = 0;
};

class BlockWriter {
 public:
  // Stores the index objects that `index` found missing (packs of a killed backup) first.
  BlockWriter(storage::ObjectStore& store, BlockIndex& index, BlockWriterOptions options = {});
  ~BlockWriter();  // drops an unfinished pack: none of its blocks was promised
  BlockWriter(const BlockWriter&) = delete;
  BlockWriter& operator=(const BlockWriter&) = delete;

  BlockId put(Bytes content);
  // Every block put so far is stored, with its pack's index. After a failure (an exception
  // from put or finish) the writer and the index are unusable.
  void finish();
  const BlockWriterStats& stats() const { return stats_; }

 private:
  void open_pack();
  void seal_pack();
  void wait_for_sealing();

  storage::ObjectStore& store_;
  BlockIndex& index_;
  BlockWriterOptions options_;
  ZSTD_CCtx_s* cctx_;
  std::vector<std::uint8_t> frame_;
  std::unique_ptr<storage::ObjectWriter> pack_;
  std::string pack_name_;
  std::uint32_t pack_number_ = 0;
  std::uint64_t pack_offset_ = 0;
  std::vector<PackEntry> entries_;
  std::future<void> sealing_;  // the previous pack, committing while the next one fills
  BlockWriterStats stats_;
};

// A fresh pack name: 128 random bits in hex.
std::string new_pack_name();

}  // namespace pitr::archive
