#pragma once
// Stores blocks in the block store, each once: a block whose id the store (or this run)
// already has costs a hash and a lookup; a new one is compressed, on worker threads, into
// the open pack. A pack is stored once it reaches its target size, then its index; both are
// created only if absent, never overwritten. A block's id may be recorded in a manifest only
// after finish() has returned: before that its pack may not be stored yet.
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_set>
#include <vector>

#include "archive/block_store/block_index.hpp"
#include "archive/storage/object_writer.hpp"

namespace pitr::archive {

struct BlockWriterOptions {
  int level = 1;                       // zstd
  std::size_t pack_bytes = 16u << 20;  // a pack is stored once its frames reach this
  unsigned workers = 2;                // threads compressing new blocks
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

  // Thread-safe. Throws the failure of an earlier block's compression or storage.
  BlockId put(Bytes content);
  // Waits until every block put so far is in a pack (not yet stored): stats() are then exact.
  void drain();
  // Every block put so far is stored, with its pack's index. After a failure (an exception
  // from put, drain or finish) the writer and the index are unusable.
  void finish();
  BlockWriterStats stats() const;

 private:
  // Blocks are handed to the workers, and their frames to the pack, in batches: one lock
  // and one wake-up per batch rather than per 8 KiB page.
  struct Batch {
    std::vector<BlockId> ids;
    std::vector<std::uint8_t> content;  // the blocks, back to back
    std::vector<std::size_t> ends;      // where each block ends in content
  };
  struct Compressed {
    std::vector<std::uint8_t> frames;  // back to back
    std::vector<std::size_t> frame_ends;
  };
  void work();
  void hand_over_batch();
  void append(const Batch& batch, const Compressed& compressed);
  void write_to_pack(Bytes bytes);
  void flush_pack_buffer();
  void open_pack();
  void seal_pack();
  void wait_for_sealing();
  void wait_idle(std::unique_lock<std::mutex>& lock);
  void rethrow_failure() const;

  storage::ObjectStore& store_;
  BlockIndex& index_;
  BlockWriterOptions options_;
  std::unique_ptr<storage::ObjectWriter> pack_;
  std::string pack_name_;
  std::uint32_t pack_number_ = 0;
  std::uint64_t pack_offset_ = 0;
  std::vector<PackEntry> entries_;
  std::future<void> sealing_;  // the previous pack, committing while the next one fills
  BlockWriterStats stats_;

  // Guards everything above and below: workers append to the pack one at a time.
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  Batch filling_;  // being filled by put()
  std::deque<Batch> queue_;
  std::vector<std::uint8_t> pack_buffer_;  // frames not yet handed to the pack's writer
  std::unordered_set<BlockId> queued_;     // put, not yet in a pack
  std::size_t busy_ = 0;
  bool stopping_ = false;
  std::exception_ptr failure_;
  std::vector<std::thread> workers_;
};

// A fresh pack name: 128 random bits in hex.
std::string new_pack_name();

}  // namespace pitr::archive
