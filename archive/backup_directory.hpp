#pragma once
// The directory a base backup is written into: backups/<id>.partial while it is written,
// renamed to backups/<id> by commit(). The id is the start time in UTC to the second, with
// "-2", "-3", ... added when another backup already has that name, so backups started in
// the same second never share a directory. The partial directory is flock'ed while it is
// written: a later backup removes partial directories nobody holds (left by a killed run)
// and leaves alone the ones still being written.
#include <ctime>
#include <string>

#include "archive/archive_layout.hpp"

namespace pitr::archive {

class BackupDirectory {
 public:
  BackupDirectory(const ArchiveLayout& layout, std::time_t started);
  ~BackupDirectory();  // removes the partial directory unless commit() ran
  BackupDirectory(const BackupDirectory&) = delete;
  BackupDirectory& operator=(const BackupDirectory&) = delete;

  const std::string& id() const { return id_; }
  const fs::path& path() const { return partial_; }  // where to write the backup's files
  // Fsyncs the directory, renames it to backups/<id> and fsyncs backups/.
  fs::path commit();

 private:
  fs::path backups_, partial_;
  std::string id_;
  int lock_fd_ = -1;
  bool committed_ = false;
};

// Removes partial backup directories that no running backup holds; returns how many.
int remove_abandoned_partial_backups(const fs::path& backups_dir);

}  // namespace pitr::archive
