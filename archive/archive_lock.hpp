#pragma once
// Exclusive lock held by the one capture process writing an archive.
#include <filesystem>

namespace pitr::archive {

class ArchiveLock {
 public:
  // Throws IoError naming the holder's pid when another capture holds the lock.
  explicit ArchiveLock(const std::filesystem::path& lock_file);
  ~ArchiveLock();
  ArchiveLock(const ArchiveLock&) = delete;
  ArchiveLock& operator=(const ArchiveLock&) = delete;

 private:
  int fd_ = -1;
};

}  // namespace pitr::archive
