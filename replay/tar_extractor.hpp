#pragma once
// Writes the entries of a tar stream under a directory: regular files, directories and
// symlinks, with their modes. Names that would escape the directory are refused.
#include <filesystem>
#include <optional>

#include "archive/file_io.hpp"
#include "formats/tar_reader.hpp"

namespace pitr::replay {

class TarExtractor {
 public:
  explicit TarExtractor(std::filesystem::path root);
  void feed(Bytes data) { reader_.feed(data); }
  void finish() { reader_.finish(); }
  std::uint64_t files() const { return files_; }

 private:
  void begin(const TarEntry& e);
  std::filesystem::path target(const std::string& name) const;

  std::filesystem::path root_;
  TarReader reader_;
  std::optional<archive::File> file_;
  std::uint32_t mode_ = 0600;
  std::uint64_t files_ = 0;
};

// Throws when `dir` exists and is not empty: restores write only into a new or empty
// directory, so they can never overwrite a database. `what` names it ("data directory").
void require_empty_directory(const std::filesystem::path& dir, const char* what);

}  // namespace pitr::replay
