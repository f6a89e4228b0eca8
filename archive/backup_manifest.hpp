#pragma once
// The manifest of a base backup: the exact binlog position it is consistent at, what was
// dumped, and a checksum of every file (docs/backup-format.md).
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "archive/archive.hpp"

namespace pitr::archive {

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
  std::vector<BackupFile> files;
};

inline constexpr const char* kPostgresBackupFormat = "pitr-postgres-base-backup";

// The ids of the archive's complete backups (those with a manifest), of every engine.
std::vector<std::string> complete_backup_ids(const Archive& archive);
// The manifest of backup `id` as JSON; throws when it is missing or damaged.
nlohmann::json read_manifest_json(const Archive& archive, const std::string& id);

std::string manifest_json(const BackupManifest& manifest);
BackupManifest read_manifest(const Archive& archive, const std::string& id);
// Problems with a backup's files: missing, or content that fails its checksum.
std::vector<std::string> verify_backup(const Archive& archive, const BackupManifest& manifest);

// Complete MySQL/MariaDB backups, oldest first.
std::vector<BackupManifest> list_backups(const Archive& archive);

}  // namespace pitr::archive
