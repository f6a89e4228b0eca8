#pragma once
// RAII file handles and the durability primitives every archive write goes through:
// write to a temporary name, fsync, rename, fsync the directory.
#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "formats/byte_cursor.hpp"

namespace pitr::archive {

namespace fs = std::filesystem;

class IoError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Throws IoError naming the operation, the path and errno's text.
[[noreturn]] void throw_errno(const std::string& operation, const fs::path& path);

class File {
 public:
  enum class Mode { kRead, kReadWrite, kCreateOrOpen, kCreateExclusive };
  File(const fs::path& path, Mode mode);
  ~File();
  File(File&& other) noexcept;
  File& operator=(File&&) = delete;
  File(const File&) = delete;

  const fs::path& path() const { return path_; }
  int fd() const { return fd_; }
  std::uint64_t size() const;
  std::int64_t modified_at() const;  // seconds since the epoch
  // Everything the file holds now, read through this handle (so still readable after the
  // file is removed or, unlike a map, cut shorter).
  std::vector<std::uint8_t> read_all() const;
  void write_all(Bytes data);  // at the current end (O_APPEND semantics)
  void pwrite_all(Bytes data, std::uint64_t offset);
  std::size_t pread_some(std::span<std::uint8_t> out, std::uint64_t offset) const;
  void pread_exact(std::span<std::uint8_t> out, std::uint64_t offset) const;
  void truncate(std::uint64_t size);
  void sync();  // fdatasync

 private:
  fs::path path_;
  int fd_ = -1;
};

// The file opened for reading, or nothing when it does not exist (any other failure throws).
std::shared_ptr<const File> open_if_present(const fs::path& path);

void fsync_directory(const fs::path& dir);
// Flushes the whole filesystem `dir` is on, once, after a restore wrote many files into it
// (as pg_basebackup does at its end); best effort, as the files were written already.
void sync_filesystem_of(const fs::path& dir);
// Removes `files` (all in `dir`), then makes the removal durable.
void remove_files(const std::vector<fs::path>& files, const fs::path& dir);

// Writes `data` to `path` atomically and durably.
void write_file_atomically(const fs::path& path, Bytes data);
std::string read_small_file(const fs::path& path);

// Read-only memory map of a whole file (empty files map to an empty span).
class MappedFile {
 public:
  explicit MappedFile(const fs::path& path);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  Bytes bytes() const { return {static_cast<const std::uint8_t*>(data_), size_}; }

 private:
  void* data_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace pitr::archive
