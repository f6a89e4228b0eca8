#pragma once
// Where everything lives inside an archive directory (see docs/archive-format.md).
#include <cstdint>
#include <filesystem>
#include <string>

namespace pitr::archive {

namespace fs = std::filesystem;

inline constexpr int kArchiveFormatVersion = 1;

class ArchiveLayout {
 public:
  explicit ArchiveLayout(fs::path root) : root_(std::move(root)) {}

  const fs::path& root() const { return root_; }
  fs::path marker() const { return root_ / "pitr-archive.json"; }
  fs::path lock_file() const { return root_ / "capture.lock"; }
  fs::path binlog_root() const { return root_ / "binlog"; }
  fs::path source_dir(const std::string& source_id) const { return binlog_root() / source_id; }
  fs::path log_dir(const std::string& source_id, const std::string& file) const {
    return source_dir(source_id) / file;
  }
  fs::path segment(const std::string& source_id, const std::string& file,
                   std::uint64_t start) const;
  fs::path partial(const std::string& source_id, const std::string& file,
                   std::uint64_t start) const;
  // The FORMAT_DESCRIPTION_EVENT of a file archived from its middle (the archived part
  // does not hold it), as the server re-sent it.
  fs::path format_description(const std::string& source_id, const std::string& file) const {
    return log_dir(source_id, file) / kFormatDescriptionName;
  }
  static constexpr const char* kFormatDescriptionName = "format-description.bin";
  fs::path gaps_dir() const { return root_ / "gaps"; }
  fs::path backups_dir() const { return root_ / "backups"; }

  // Creates the directory and its marker if missing; checks the format version if present.
  void create_or_check() const;
  // Throws when `root` is not a pitr archive of a format this pitr reads.
  void check_exists() const;

  static bool is_segment_name(const std::string& name);
  static bool is_partial_name(const std::string& name);
  static std::uint64_t start_of(const std::string& name);

 private:
  fs::path root_;
};

// A name that is safe as one path component (binlog names, source ids).
void check_path_component(const std::string& name, const char* what);

}  // namespace pitr::archive
