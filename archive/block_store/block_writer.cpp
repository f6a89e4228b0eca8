#include "archive/block_store/block_writer.hpp"

#include <openssl/rand.h>
#include <zstd.h>

#include <stdexcept>

#include "archive/archive_layout.hpp"
#include "formats/hex.hpp"

namespace pitr::archive {
namespace {

void put_index(storage::ObjectStore& store, const std::string& pack, Bytes index) {
  try {
    store.put_bytes(layout::block_pack_index(pack), index, storage::PutMode::kIfAbsent);
  } catch (const storage::StorageError& e) {
    // Another writer recovered the same pack's index first: the bytes are the same.
    if (e.kind() != storage::StorageErrorKind::kAlreadyExists) throw;
  }
}

}  // namespace

std::string new_pack_name() {
  std::uint8_t raw[16];
  if (RAND_bytes(raw, sizeof raw) != 1) throw std::runtime_error("OpenSSL RAND_bytes failed");
  return to_hex(Bytes(raw, sizeof raw));
}

BlockWriter::BlockWriter(storage::ObjectStore& store, BlockIndex& index, BlockWriterOptions options)
    : store_(store), index_(index), options_(options), cctx_(ZSTD_createCCtx()) {
  if (!cctx_) throw std::bad_alloc();
  ZSTD_CCtx_setParameter(cctx_, ZSTD_c_compressionLevel, options_.level);
  for (const auto& u : index_.unindexed()) put_index(store_, u.pack, encode_pack_index(u.entries));
}

BlockWriter::~BlockWriter() {
  if (sealing_.valid()) sealing_.wait();
  ZSTD_freeCCtx(cctx_);
}

BlockId BlockWriter::put(Bytes content) {
  auto id = BlockId::of(content);
  ++stats_.blocks;
  stats_.bytes += content.size();
  if (index_.find(id)) return id;
  if (content.size() > kMaxBlockSize)
    throw std::invalid_argument("a block of " + std::to_string(content.size()) +
                                " bytes is larger than the block store takes");
  frame_.resize(ZSTD_compressBound(content.size()));
  auto n = ZSTD_compress2(cctx_, frame_.data(), frame_.size(), content.data(), content.size());
  if (ZSTD_isError(n)) throw std::runtime_error(std::string("zstd: ") + ZSTD_getErrorName(n));
  if (!pack_) open_pack();
  pack_->write(Bytes(frame_.data(), n));
  PackEntry entry{id, pack_offset_, static_cast<std::uint32_t>(n),
                  static_cast<std::uint32_t>(content.size())};
  entries_.push_back(entry);
  index_.add(id, {pack_number_, entry.stored, entry.offset, entry.size});
  pack_offset_ += n;
  ++stats_.new_blocks;
  stats_.new_bytes += content.size();
  stats_.stored_bytes += n;
  if (pack_offset_ >= options_.pack_bytes) seal_pack();
  return id;
}

void BlockWriter::open_pack() {
  pack_name_ = new_pack_name();
  pack_number_ = index_.add_pack(pack_name_);
  pack_ = std::make_unique<storage::ObjectWriter>(store_, layout::block_pack(pack_name_),
                                                  storage::PutMode::kIfAbsent);
  auto header = pack_header();
  pack_->write(header);
  pack_offset_ = header.size();
  entries_.clear();
}

void BlockWriter::seal_pack() {
  auto index = encode_pack_index(entries_);
  pack_->write(index);
  pack_->write(encode_pack_footer(pack_offset_));
  wait_for_sealing();
  // The pack commits (and its index follows) while the caller fills the next pack.
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

void BlockWriter::finish() {
  if (pack_) seal_pack();
  wait_for_sealing();
}

}  // namespace pitr::archive
