#pragma once
// What a PostgreSQL diff or incr backup is compared with, and the way it says it cannot be:
// shared by the comparison over SQL (15 and 16) and the server's incremental BASE_BACKUP (17+).
#include <string>

#include "archive/pg_backup_manifest.hpp"
#include "capture/postgres/pg_base_backup.hpp"

namespace pitr::capture {

// Thrown before anything is stored: a full backup is taken instead, saying why.
struct NotPossible {
  std::string why;
  bool first_backup = false;  // the archive holds no full backup of the server yet
};

// The last full backup (diff) or the last backup of any type (incr) of the server; throws
// NotPossible when there is none, or it was stored before the block store.
archive::PgBackupManifest choose_parent(const PgBackupOptions& o, const std::string& source_id);

}  // namespace pitr::capture
