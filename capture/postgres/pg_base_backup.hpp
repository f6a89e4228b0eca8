#pragma once
// pitr backup for PostgreSQL: BASE_BACKUP over a replication connection (the PostgreSQL 15
// stream format), each tar archive compressed into the archive as it arrives, every file
// checked against the server's backup manifest before the backup is listed.
#include <chrono>
#include <string>
#include "archive/archive.hpp"

#include "archive/pg_backup_manifest.hpp"
#include "capture/postgres/pg_connection.hpp"

namespace pitr::capture {

struct PgBackupOptions {
  PostgresEndpoint endpoint;
  archive::Archive archive;
  int compression_level = 1;
  std::size_t pack_bytes = 16u << 20;  // block-store packs
  bool progress = false;               // a progress line on stderr
  bool fast_checkpoint = true;         // CHECKPOINT 'fast' rather than waiting for the next one
  // "full"; "diff" or "incr" compare with the last full or the last backup
  // (pg_incremental_backup.hpp), and fall back to a full backup, saying why, when they cannot.
  std::string type = "full";
  std::chrono::seconds wal_wait{60};  // for capture to archive the WAL up to the new start
  bool verify_blocks = false;         // diff/incr: read everything, check what the WAL said
  // With data checksums on, the server checks the pages a full backup reads, pitr those a
  // diff or incr reads; a damaged page fails the backup unless this is false.
  bool verify_checksums = true;
  // The type was not asked for: a server's first backup is a full one without a word (any
  // other reason to fall back is still said, on stderr).
  bool type_by_default = false;
};

archive::PgBackupManifest take_postgres_backup(const PgBackupOptions& options);

}  // namespace pitr::capture
