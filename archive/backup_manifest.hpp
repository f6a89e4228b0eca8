#pragma once
// The manifest of a base backup: the exact binlog position it is consistent at, what was
// dumped, and a checksum of every file (docs/backup-format.md).
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "archive/archive.hpp"
#include "archive/block_store/stored_tar.hpp"

namespace pitr::archive {

class CompleteBackupBlocks;  // member_list_object.hpp

struct BackupFile {
  std::string path;  // relative to the backup directory
  std::string kind;  // "schema" or "data"
  std::string database;
  std::string table;  // empty for schema files
  std::uint64_t rows = 0;
  std::uint64_t bytes = 0;
  std::uint64_t stored_bytes = 0;
  std::string sha256;  // of the uncompressed SQL
};

// What a physical backup holds: the InnoDB LSNs mariabackup recorded (xtrabackup_checkpoints),
// the member list object naming every file's blocks, and its sizes.
struct PhysicalBackupFiles {
  std::uint64_t from_lsn = 0, to_lsn = 0, last_lsn = 0;
  // Where the backup's redo log starts (its checkpoint when it began): an incremental backup
  // after it takes every page changed since.
  std::uint64_t redo_start_lsn = 0;
  std::map<std::string, std::uint32_t> space_ids;  // of tablespace files ("db/t.ibd")
  std::string member_list;                         // e.g. "datadir.blocks.json.zst"
  std::uint64_t files = 0;
  std::uint64_t bytes = 0;         // the files' length
  std::uint64_t stored_bytes = 0;  // newly stored, compressed
  std::uint64_t bytes_read = 0;    // of mariabackup's stream
};

struct BackupManifest {
  std::string id;
  std::string source_id;
  std::string server_version;
  std::string binlog_file;
  std::uint64_t binlog_position = 0;
  std::string gtid_position;  // @@gtid_binlog_pos (MariaDB) or @@gtid_executed (MySQL)
  std::uint64_t started_at = 0, consistent_at = 0, finished_at = 0;  // Unix seconds
  std::uint64_t lock_ms = 0;                                         // how long writes were blocked
  std::vector<std::string> databases;
  std::vector<BackupFile> files;  // logical
  // "logical" (SQL per table; manifest version 1) or "physical" (mariabackup's files kept in
  // the block store; version 2). "full", or "diff"/"incr" compared with `parent`.
  std::string method = "logical";
  std::string type = "full";
  std::string parent;
  PhysicalBackupFiles physical;
};

inline constexpr const char* kPostgresBackupFormat = "pitr-postgres-base-backup";

// The ids of the archive's complete backups (those with a manifest), of every engine.
std::vector<std::string> complete_backup_ids(const Archive& archive);
// The manifest of backup `id` as JSON; throws when it is missing or damaged.
nlohmann::json read_manifest_json(const Archive& archive, const std::string& id);

std::string manifest_json(const BackupManifest& manifest);
BackupManifest read_manifest(const Archive& archive, const std::string& id);
// Problems with a backup's files: missing, or content that fails its checksum.
// A physical backup's blocks are read through `blocks` (one index for every backup).
std::vector<std::string> verify_backup(const Archive& archive, const BackupManifest& manifest,
                                       CompleteBackupBlocks& blocks);

// The files of a physical backup, as a member list over the block store.
std::vector<StoredTarMember> physical_members(const Archive& archive, const BackupManifest& m);

// Complete MySQL/MariaDB backups, oldest first.
std::vector<BackupManifest> list_backups(const Archive& archive);

}  // namespace pitr::archive
