#pragma once
// Receiving a BASE_BACKUP (the PostgreSQL 15+ stream format) into the block store: each tar
// archive cut into blocks as it arrives, every file checked against the backup manifest the
// server sends last. Shared by full backups and by PostgreSQL 17's incremental BASE_BACKUP,
// whose "INCREMENTAL." members become complete files (archive/pg_incremental_tar.hpp).
#include <map>
#include <string>
#include <vector>

#include "archive/pending_backup.hpp"
#include "archive/pg_backup_manifest.hpp"
#include "archive/pg_incremental_tar.hpp"
#include "capture/postgres/pg_connection.hpp"

namespace pitr::capture {

struct BaseBackupParent {
  // The parent backup's member lists, by archive name ("base.tar", "<oid>.tar").
  std::map<std::string, std::vector<archive::StoredTarMember>> members;
  archive::PgIncrementalTarWriter::ParentIds ids;  // reads their data block ids
  std::uint32_t segment_blocks = 0;                // blocks per relation segment
};

struct ReceivedBackup {
  postgres::Lsn start_lsn = 0, end_lsn = 0;
  postgres::TimelineId timeline = 0;
  std::vector<archive::PgBackupArchive> archives;
  std::vector<std::vector<archive::StoredTarMember>> members;  // of each archive
  std::string server_manifest;                                 // its text
  std::uint64_t files = 0;                                     // checked against it
  std::uint64_t bytes_received = 0;                            // of the tar archives, as sent
  archive::PgIncrementalTarStats incremental;
};

// BASE_BACKUP with a manifest of CRC-32Cs and a tablespace map, as pitr takes it; `incremental`
// compares it with the manifest uploaded before (PostgreSQL 17+).
std::string base_backup_command(const PgConnection& conn, const std::string& label,
                                bool fast_checkpoint, bool verify_checksums, bool incremental);

// Sends `command` (BASE_BACKUP ...) on the replication connection and receives the backup:
// its blocks are put into `blocks` (not yet finished), `page_size` apart in each file. With a
// parent, the server's incremental files are rebuilt against it.
ReceivedBackup receive_base_backup(PgConnection& conn, const std::string& command,
                                   archive::BlockWriter& blocks, std::size_t page_size,
                                   bool progress, const BaseBackupParent* parent = nullptr);

// Finishes a received backup: its positions, files and archives into `m` (finished now), its
// blocks stored, then the member lists that name them.
void store_received_backup(const ReceivedBackup& got, archive::BlockWriter& blocks,
                           const archive::PendingBackup& backup, archive::PgBackupManifest& m);

// The server's first answer to BASE_BACKUP, the position it starts at; what it would not do
// shows here (an error the caller may classify by its SQLSTATE).
std::pair<postgres::Lsn, postgres::TimelineId> read_backup_position(PgConnection& conn,
                                                                    const char* what);

}  // namespace pitr::capture
