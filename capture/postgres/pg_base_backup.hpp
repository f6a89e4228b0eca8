#pragma once
// pitr backup for PostgreSQL: BASE_BACKUP over a replication connection (the PostgreSQL 15
// stream format), each tar archive compressed into the archive as it arrives, every file
// checked against the server's backup manifest before the backup is listed.
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
};

archive::PgBackupManifest take_postgres_backup(const PgBackupOptions& options);

}  // namespace pitr::capture
