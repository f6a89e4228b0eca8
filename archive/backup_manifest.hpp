#pragma once
// The manifest of a base backup: the exact binlog position it is consistent at, what was
// dumped, and a checksum of every file (docs/backup-format.md).
#include <cstdint>
#include <string>
#include <vector>

#include "archive/archive_layout.hpp"

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

inline constexpr const char* kManifestName = "manifest.json";
inline constexpr const char* kPostgresBackupFormat = "pitr-postgres-base-backup";

// The "format" of the manifest in `backup_dir` (MySQL and PostgreSQL backups differ).
std::string backup_format(const fs::path& backup_dir);

void write_manifest(const fs::path& backup_dir, const BackupManifest& manifest);
BackupManifest read_manifest(const fs::path& backup_dir);
// Problems with a backup's files: missing, or content that fails its checksum.
std::vector<std::string> verify_backup(const fs::path& backup_dir, const BackupManifest& manifest);

// Complete MySQL/MariaDB backups (a manifest and no ".partial" suffix), oldest first.
std::vector<std::pair<fs::path, BackupManifest>> list_backups(const ArchiveLayout& layout);

}  // namespace pitr::archive
