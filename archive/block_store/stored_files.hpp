#pragma once
// Files kept in the block store as their bytes arrive, several open at once (a stream that
// interleaves files, like mariabackup's): each file is cut into blocks of a fixed size from
// its first byte, so an unchanged page of a changed file is still the block an earlier backup
// stored, and its block ids are gathered into list blocks (stored_tar.hpp). A file's first
// block (and first list block) is stored only when the file is closed, so bytes in it can
// still be written over (mariabackup seeks back into an Aria log's header).
#include <cstddef>
#include <functional>
#include <string>
#include <unordered_map>
#include <vector>

#include "archive/block_store/stored_tar.hpp"

namespace pitr::archive {

class StoredFilesWriter {
 public:
  StoredFilesWriter(BlockWriter& blocks, std::size_t block_size)
      : blocks_(blocks), block_size_(block_size) {}
  // A new member. A file is open for append() until close(); its size is what was appended.
  // Throws DecodeError when a file of that name is open or was stored.
  void begin(const TarEntry& entry);
  void append(const std::string& name, Bytes bytes);
  // Writes over bytes already appended; only within the file's first block.
  void overwrite(const std::string& name, std::uint64_t offset, Bytes bytes);
  void close(const std::string& name);
  bool is_open(const std::string& name) const { return open_.contains(name); }
  std::uint64_t size_of_open(const std::string& name) const;

  // Changes to members already closed (mbstream's remove, rename and rewrite chunks).
  bool has_closed(const std::string& name) const;
  std::size_t remove_closed(const std::function<bool(const std::string&)>& which);
  bool rename_closed(const std::string& from, const std::string& to);

  // Throws DecodeError naming a file still open.
  std::vector<StoredTarMember> finish();

 private:
  struct OpenFile {
    std::size_t member;
    std::vector<std::uint8_t> first, block;  // the first block, held; the one filling
    std::vector<std::uint8_t> first_list, list;
  };
  OpenFile& open_file(const std::string& name);
  void add_block(OpenFile& f, Bytes content);
  void store_list(OpenFile& f);

  BlockWriter& blocks_;
  std::size_t block_size_;
  std::vector<StoredTarMember> members_;
  std::vector<bool> removed_;
  std::unordered_map<std::string, std::size_t> closed_;  // name → member
  std::unordered_map<std::string, OpenFile> open_;
};

}  // namespace pitr::archive
