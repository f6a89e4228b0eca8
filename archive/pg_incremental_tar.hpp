#pragma once
// A tar archive of a PostgreSQL 17+ incremental BASE_BACKUP, kept as the complete archive it
// stands for: each "INCREMENTAL.<file>" member becomes <file>, its blocks those the server
// sent plus the parent backup's (by id, nothing read but the parent's id lists) and zeros as
// pg_combinebackup would write them (formats/postgres/incremental_file.hpp); backup_label
// loses its INCREMENTAL FROM lines. Every other member is stored as StoredTarWriter stores
// it. The result restores alone, like any backup in the block store.
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "archive/block_store/stored_files.hpp"
#include "formats/postgres/incremental_file.hpp"

namespace pitr::archive {

struct PgIncrementalTarStats {
  std::uint64_t incremental_files = 0;
  std::uint64_t blocks_sent = 0;  // pages the server sent for them
  std::uint64_t blocks_from_parent = 0;
  std::uint64_t zero_blocks = 0;  // past the parent's end, below the truncation length

  PgIncrementalTarStats& operator+=(const PgIncrementalTarStats& o) {
    incremental_files += o.incremental_files;
    blocks_sent += o.blocks_sent;
    blocks_from_parent += o.blocks_from_parent;
    zero_blocks += o.zero_blocks;
    return *this;
  }
};

class PgIncrementalTarWriter {
 public:
  using ParentIds =
      std::function<std::vector<std::vector<BlockId>>(const std::vector<const StoredTarMember*>&)>;
  // `parent`: the parent backup's members of the archive of the same name.
  PgIncrementalTarWriter(BlockWriter& blocks, std::uint32_t page_size, std::uint32_t segment_blocks,
                         std::vector<StoredTarMember> parent, ParentIds parent_ids);
  ~PgIncrementalTarWriter();
  // Throws DecodeError for a damaged tar or incremental file.
  void feed(Bytes tar);
  // The members in the server's order. Throws std::runtime_error when the parent lacks a
  // file the server sent incrementally, DecodeError when the stream stopped inside an entry.
  std::vector<StoredTarMember> finish();
  const PgIncrementalTarStats& stats() const { return stats_; }

 private:
  struct Incremental {
    std::size_t position = 0;  // members stored whole before it
    TarEntry entry;            // named as the rebuilt file
    std::unique_ptr<postgres::IncrementalFileReader> reader;
    std::vector<BlockId> sent;
  };
  void begin(const TarEntry& e);
  void data(Bytes b);
  void end();
  void rebuild(std::vector<Incremental*> batch, std::vector<StoredTarMember>& out);

  BlockWriter& blocks_;
  std::uint32_t page_size_, segment_blocks_;
  std::vector<StoredTarMember> parent_;
  std::unordered_map<std::string, const StoredTarMember*> parent_by_name_;
  ParentIds parent_ids_;
  StoredFilesWriter files_;
  TarReader reader_;
  std::size_t stored_whole_ = 0;
  enum class Current { kNone, kFile, kIncremental, kLabel } current_ = Current::kNone;
  TarEntry entry_;
  std::string label_;
  std::vector<Incremental> incremental_;
  PgIncrementalTarStats stats_;
};

}  // namespace pitr::archive
