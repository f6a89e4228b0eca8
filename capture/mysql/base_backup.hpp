#pragma once
// `pitr backup` for MySQL/MariaDB: a consistent logical base backup of every non-system
// database, taken by N sessions that share one snapshot, with the exact binlog position
// and GTID state the snapshot corresponds to. Writes are blocked only while the sessions
// open their snapshots and the position and schema are read.
#include <filesystem>
#include "archive/archive.hpp"

#include "archive/backup_manifest.hpp"
#include "capture/mysql/mysql_connection.hpp"

namespace pitr::capture {

struct BackupOptions {
  MysqlEndpoint endpoint;
  archive::Archive archive;
  unsigned jobs = 4;
  std::uint64_t chunk_bytes = 64ull << 20;  // uncompressed SQL per data file
  int compression_level = 1;
  bool progress = false;  // a progress line on stderr
};

// Returns the manifest of the finished backup; throws on any failure, leaving no backup
// (after kill -9, a ".partial" directory that a later backup removes).
archive::BackupManifest take_base_backup(const BackupOptions& options);

}  // namespace pitr::capture
