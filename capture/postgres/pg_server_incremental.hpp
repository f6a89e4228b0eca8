#pragma once
// pitr backup --type diff|incr for PostgreSQL 17 and later: the server's own incremental
// BASE_BACKUP. pitr uploads a backup manifest of the parent backup, written from the file map
// the archive holds (UPLOAD_MANIFEST), and the server, from its WAL summaries
// (summarize_wal = on), sends whole only the files it cannot compare and the changed blocks
// of the others. Each incremental file is rebuilt at once into the complete file against the
// parent's blocks (archive/pg_incremental_tar.hpp): the backup is a complete file map like
// any other, restored alone, with no pg_combinebackup step.
//
// Not tested against a server: Debian 12, where pitr is built and tested, ships PostgreSQL 15.
// The formats it relies on (the incremental file, the manifest it uploads, the rebuilt
// backup_label) are tested in unit tests (tests/unit/pg_server_incremental_test.cpp).
#include <map>
#include <string>
#include <vector>

#include "archive/block_store/stored_tar.hpp"
#include "capture/postgres/pg_incremental_backup.hpp"

namespace pitr::capture {

// options.type is "diff" or "incr"; the server runs PostgreSQL 17 or later.
IncrementalBackup take_server_incremental(const PgBackupOptions& options);

// The backup_manifest the server is given for `parent`: every file of its archives (tablespace
// files under pg_tblspc/<oid>/), and the WAL range from its start to its end.
std::string parent_manifest(
    const archive::PgBackupManifest& parent,
    const std::map<std::string, std::vector<archive::StoredTarMember>>& members_by_archive);

}  // namespace pitr::capture
