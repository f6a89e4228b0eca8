#pragma once
// pitr backup --type diff|incr for PostgreSQL 15 and 16: a backup compared with a parent
// backup, taken over an ordinary SQL session (no agent on the database host). The archived
// WAL between the parent's start and the new backup's start says which blocks of which
// relation files changed (formats/postgres/wal_changes.hpp); only those, the files the WAL
// cannot speak for and the non-relation files are read from the server
// (pg_read_binary_file), between pg_backup_start and pg_backup_stop. Every other block is the
// parent's, by id: the new backup is a complete file map like any other, restored alone.
#include <optional>
#include <string>

#include "archive/pg_backup_manifest.hpp"
#include "capture/postgres/pg_base_backup.hpp"

namespace pitr::capture {

struct IncrementalBackup {
  std::optional<archive::PgBackupManifest> manifest;
  // When there is none: why this backup cannot be compared with its parent (missing grants,
  // WAL not whole in the archive, a timeline switch, ...), for the user.
  std::string not_possible;
  bool first_backup = false;  // none because the archive holds no full backup of the server
  // None because the server is PostgreSQL 17 or later, which compares backups itself
  // (pg_server_incremental.hpp).
  bool server_compares = false;
};

// options.type is "diff" or "incr".
IncrementalBackup take_postgres_incremental(const PgBackupOptions& options);

}  // namespace pitr::capture
