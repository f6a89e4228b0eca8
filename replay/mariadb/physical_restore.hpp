#pragma once
// Turns a MariaDB physical backup into a data directory a server can start on: every file
// rebuilt from the block store in one pass into the new or empty directory, then one
// `mariabackup --prepare` (whatever the backup's type: no chain, no --incremental-dir),
// then mariabackup's own metadata files removed. A restore that fails removes what it
// wrote, so the directory is never left half-restored.
#include <filesystem>
#include <string>

#include "archive/backup_manifest.hpp"

namespace pitr::replay {

struct PhysicalRestoreOptions {
  std::filesystem::path datadir;
  std::string run_as;  // OS user to own the files (root only); empty: the caller
  std::string mariabackup = "mariabackup";
  bool progress = false;
};

struct PhysicalRestoreResult {
  std::uint64_t files = 0;
  // The server settings the files need (backup-my.cnf: page size, redo log size, undo
  // tablespaces): a server started on the directory reads them.
  std::string server_options;
};

PhysicalRestoreResult restore_physical_backup(const archive::Archive& archive,
                                              const archive::BackupManifest& backup,
                                              const PhysicalRestoreOptions& options);

// Removes everything in a directory restore_physical_backup filled, when what follows it
// (rolling it forward) fails: a directory at some other moment than the one asked for must
// not look like the restore's result.
void discard_restored_files(const std::filesystem::path& datadir);

}  // namespace pitr::replay
