#pragma once
// pitr's manifest of a PostgreSQL base backup (backups/<id>/manifest.json): where the
// backup starts and ends in the WAL, on which timeline, and the compressed tar archives
// it consists of. The server's own backup_manifest is stored beside it.
#include <cstdint>
#include <string>
#include <vector>

#include "archive/archive.hpp"
#include "formats/postgres/lsn.hpp"

namespace pitr::archive {

// How a backup's tar archive is stored: whole as "<name>.zst" (backups before the block
// store, manifest version 1), or as a member list "<name>.blocks.json.zst" over the block
// store (archive/block_store/stored_tar.hpp; version 2).
enum class PgArchiveStorage { kTar, kBlocks };

struct PgBackupArchive {
  std::string name;  // the server's archive name, "base.tar" or "<oid>.tar"
  PgArchiveStorage storage = PgArchiveStorage::kBlocks;
  std::string file;             // stored as, e.g. "base.tar.blocks.json.zst"
  std::string tablespace_oid;   // empty for the data directory
  std::string tablespace_path;  // the tablespace's location on the source
  // The tar's length; what this backup added to the store for it, compressed (the blocks
  // it shares with earlier backups cost nothing).
  std::uint64_t bytes = 0, stored_bytes = 0;
  // Of the uncompressed tar, in backups from before files were checked against the server's
  // manifest (the zstd frame checksum and each file's CRC-32C cover them now).
  std::string sha256;
};

struct PgBackupManifest {
  std::string id, source_id, server_version;
  std::uint64_t system_identifier = 0;
  postgres::TimelineId timeline = 0;
  postgres::Lsn start_lsn = 0, end_lsn = 0;
  std::int64_t started_at = 0, finished_at = 0;  // Unix µs; consistent once end_lsn is replayed
  std::uint64_t files = 0;                       // data files checked against the server manifest
  std::vector<PgBackupArchive> archives;
  // "full", or "diff"/"incr": compared with `parent` (the last full, or the last backup),
  // whose blocks it shares where the WAL between them says a block did not change.
  std::string type = "full";
  std::string parent;
  // "base_backup" (BASE_BACKUP, checked against the server's manifest), "sql" (read over
  // an SQL session: pg_backup_start, pg_read_binary_file, pg_backup_stop; version 3) or
  // "base_backup_incremental" (PostgreSQL 17's incremental BASE_BACKUP, its files checked
  // against the server's manifest as sent, then rebuilt whole; version 3).
  std::string method = "base_backup";
  std::uint64_t bytes_read = 0;  // from the server
  // Of relation files: read (or sent by the server), and the parent's shared; not for
  // "base_backup".
  std::uint64_t blocks_read = 0, blocks_reused = 0;
  // --verify-blocks: blocks the WAL said were unchanged, read to check; those that changed.
  std::uint64_t blocks_checked = 0, blocks_missed = 0;
  // Pages whose data checksum was verified when read ("sql"; 0 without data checksums).
  std::uint64_t pages_checksummed = 0;
  // The WAL between the parent's start and this one's ("sql"): bytes whose changes came from
  // capture's summaries, and bytes decoded record by record.
  std::uint64_t wal_summarized_bytes = 0, wal_decoded_bytes = 0;
};

inline constexpr const char* kServerManifestName = "backup_manifest";

std::string pg_manifest_json(const PgBackupManifest& manifest);
PgBackupManifest read_pg_manifest(const Archive& archive, const std::string& id);
// Complete PostgreSQL backups, oldest first.
std::vector<PgBackupManifest> list_pg_backups(const Archive& archive);

}  // namespace pitr::archive
