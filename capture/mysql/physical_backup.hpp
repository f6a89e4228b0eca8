#pragma once
// `pitr backup --method physical` for MariaDB: runs mariabackup on the database host
// (`--backup --stream=mbstream`), reads its stream itself and keeps every file in the block
// store, cut into 16 KiB blocks (InnoDB's pages), so pages an earlier backup stored cost
// nothing. Records the InnoDB LSNs and the binlog position and GTID position the backup is
// consistent at, from the files mariabackup writes. A diff or incr backup streams only the
// pages changed since its parent's redo log began (--incremental-lsn) and is stored complete
// (capture/mysql/physical_merge.hpp): every backup restores with one --prepare.
#include <functional>
#include <string>

#include "archive/archive.hpp"
#include "archive/backup_manifest.hpp"
#include "capture/mysql/mysql_connection.hpp"

namespace pitr::capture {

struct PhysicalBackupOptions {
  MysqlEndpoint endpoint;
  archive::Archive archive;
  unsigned jobs = 4;  // mariabackup --parallel
  int compression_level = 1;
  std::uint64_t pack_bytes = 16u << 20;
  bool progress = false;
  std::string mariabackup = "mariabackup";  // the program
  // full, or diff/incr: compared with the source's newest physical full/backup, through
  // mariabackup --incremental-lsn; full when there is none.
  std::string type = "full";
  bool type_by_default = false;                  // no note when a first backup is full
  std::function<void(const std::string&)> note;  // what the user should know (stderr)
};

inline constexpr std::size_t kInnodbPageSize = 16384;
inline constexpr const char* kPhysicalMemberList = "datadir.blocks.json.zst";

// Returns the manifest of the finished backup; throws on any failure (mariabackup missing or
// failing, with the end of its log), leaving no backup.
archive::BackupManifest take_physical_backup(const PhysicalBackupOptions& options);

}  // namespace pitr::capture
