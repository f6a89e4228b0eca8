#include "archive/block_store/block_writer.hpp"

#include <openssl/rand.h>
#include <zstd.h>

#include <stdexcept>

#include "archive/archive_layout.hpp"
#include "formats/hex.hpp"

namespace pitr::archive {
namespace {

// Blocks per batch, and batches waiting for a worker: enough to keep the workers busy,
// little memory.
constexpr std::size_t kBatchBlocks = 64;
constexpr std::size_t kQueuedBatches = 4;
// Frames are handed to the pack's writer in pieces of about this size.
constexpr std::size_t kPackWrite = 1u << 20;

void put_index(storage::ObjectStore& store, const std::string& pack, Bytes index) {
  try {
    store.put_bytes(layout::block_pack_index(pack), index, storage::PutMode::kIfAbsent);
  } catch (const storage::StorageError& e) {
    // Another writer recovered the same pack's index first: the bytes are the same.
    if (e.kind() != storage::StorageErrorKind::kAlreadyExists) throw;
  }
}

using Compressor = std::unique_ptr<ZSTD_CCtx, decltype(&ZSTD_freeCCtx)>;

Compressor compressor(int level) {
  Compressor c(ZSTD_createCCtx(), &ZSTD_freeCCtx);
  if (!c) throw std::bad_alloc();
  ZSTD_CCtx_setParameter(c.get(), ZSTD_c_compressionLevel, level);
  return c;
}

}  // namespace

std::string new_pack_name() {
  std::uint8_t raw[16];
  if (RAND_bytes(raw, sizeof raw) != 1) throw std::runtime_error("OpenSSL RAND_bytes failed");
  return to_hex(Bytes(raw, sizeof raw));
}

BlockWriter::BlockWriter(storage::ObjectStore& store, BlockIndex& index, BlockWriterOptions options)
    : store_(store), index_(index), options_(options) {
  for (const auto& u : index_.unindexed()) put_index(store_, u.pack, encode_pack_index(u.entries));
  for (unsigned i = 0; i < std::max(1u, options_.workers); ++i)
    workers_.emplace_back([this] { work(); });
}

BlockWriter::~BlockWriter() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    queue_.clear();
    pack_buffer_.clear();
  }
  changed_.notify_all();
  for (auto& w : workers_) w.join();
  if (sealing_.valid()) sealing_.wait();
}

void BlockWriter::rethrow_failure() const {
  if (failure_) std::rethrow_exception(failure_);
}

BlockId BlockWriter::put(Bytes content) {
  if (content.size() > kMaxBlockSize)
    throw std::invalid_argument("a block of " + std::to_string(content.size()) +
                                " bytes is larger than the block store takes");
  auto id = BlockId::of(content);
  std::unique_lock lock(mutex_);
  rethrow_failure();
  ++stats_.blocks;
  stats_.bytes += content.size();
  if (queued_.contains(id) || index_.find(id)) return id;
  queued_.insert(id);
  filling_.ids.push_back(id);
  filling_.content.insert(filling_.content.end(), content.begin(), content.end());
  filling_.ends.push_back(filling_.content.size());
  if (filling_.ids.size() == kBatchBlocks) {
    changed_.wait(lock, [&] { return queue_.size() < kQueuedBatches || failure_; });
    rethrow_failure();
    hand_over_batch();
  }
  return id;
}

// With the lock held.
void BlockWriter::hand_over_batch() {
  if (filling_.ids.empty()) return;
  queue_.push_back(std::move(filling_));
  filling_ = {};
  changed_.notify_all();
}

void BlockWriter::work() {
  auto cctx = compressor(options_.level);
  std::unique_lock lock(mutex_);
  while (true) {
    changed_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
    if (queue_.empty()) return;
    auto batch = std::move(queue_.front());
    queue_.pop_front();
    ++busy_;
    changed_.notify_all();
    lock.unlock();
    try {
      Compressed out;
      std::size_t begin = 0;
      for (auto end : batch.ends) {
        auto at = out.frames.size();
        out.frames.resize(at + ZSTD_compressBound(end - begin));
        auto n = ZSTD_compress2(cctx.get(), out.frames.data() + at, out.frames.size() - at,
                                batch.content.data() + begin, end - begin);
        if (ZSTD_isError(n)) throw std::runtime_error(std::string("zstd: ") + ZSTD_getErrorName(n));
        out.frames.resize(at + n);
        out.frame_ends.push_back(out.frames.size());
        begin = end;
      }
      lock.lock();
      // Once the writer is being destroyed its buffered frames are gone: appending more
      // would seal a pack whose index disagrees with its bytes.
      if (!failure_ && !stopping_) append(batch, out);
    } catch (...) {
      if (!lock.owns_lock()) lock.lock();
      if (!failure_) failure_ = std::current_exception();
    }
    --busy_;
    changed_.notify_all();
  }
}

// With the lock held.
void BlockWriter::append(const Batch& batch, const Compressed& compressed) {
  std::size_t begin = 0, frame_begin = 0;
  for (std::size_t i = 0; i < batch.ids.size(); ++i) {
    if (!pack_) open_pack();
    auto size = batch.ends[i] - begin;
    auto frame =
        Bytes(compressed.frames).subspan(frame_begin, compressed.frame_ends[i] - frame_begin);
    write_to_pack(frame);
    PackEntry entry{batch.ids[i], pack_offset_, static_cast<std::uint32_t>(frame.size()),
                    static_cast<std::uint32_t>(size)};
    entries_.push_back(entry);
    index_.add(entry.id, {pack_number_, entry.stored, entry.offset, entry.size});
    queued_.erase(entry.id);
    pack_offset_ += frame.size();
    ++stats_.new_blocks;
    stats_.new_bytes += size;
    stats_.stored_bytes += frame.size();
    if (pack_offset_ >= options_.pack_bytes) seal_pack();
    begin = batch.ends[i];
    frame_begin = compressed.frame_ends[i];
  }
}

void BlockWriter::write_to_pack(Bytes bytes) {
  pack_buffer_.insert(pack_buffer_.end(), bytes.begin(), bytes.end());
  if (pack_buffer_.size() >= kPackWrite) flush_pack_buffer();
}

void BlockWriter::flush_pack_buffer() {
  if (pack_buffer_.empty()) return;
  pack_->write(pack_buffer_);
  pack_buffer_.clear();
}

void BlockWriter::open_pack() {
  pack_name_ = new_pack_name();
  pack_number_ = index_.add_pack(pack_name_);
  pack_ = std::make_unique<storage::ObjectWriter>(store_, layout::block_pack(pack_name_),
                                                  storage::PutMode::kIfAbsent);
  auto header = pack_header();
  write_to_pack(header);
  pack_offset_ = header.size();
  entries_.clear();
}

void BlockWriter::seal_pack() {
  auto index = encode_pack_index(entries_);
  write_to_pack(index);
  write_to_pack(encode_pack_footer(pack_offset_));
  flush_pack_buffer();
  wait_for_sealing();
  // The pack commits (and its index follows) while the next pack fills.
  sealing_ = std::async(std::launch::async, [this, pack = std::shared_ptr(std::move(pack_)),
                                             name = pack_name_, index = std::move(index)] {
    pack->commit();
    put_index(store_, name, index);
  });
  ++stats_.packs;
}

void BlockWriter::wait_for_sealing() {
  if (sealing_.valid()) sealing_.get();
}

void BlockWriter::wait_idle(std::unique_lock<std::mutex>& lock) {
  changed_.wait(lock, [&] { return (queue_.empty() && busy_ == 0) || failure_; });
  rethrow_failure();
}

void BlockWriter::drain() {
  std::unique_lock lock(mutex_);
  hand_over_batch();
  wait_idle(lock);
}

void BlockWriter::finish() {
  std::unique_lock lock(mutex_);
  hand_over_batch();
  wait_idle(lock);
  if (pack_) seal_pack();
  wait_for_sealing();
}

BlockWriterStats BlockWriter::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

}  // namespace pitr::archive
