#pragma once
// The CopyData messages of BASE_BACKUP's stream (PostgreSQL 15 and later): each begins
// with a type byte: 'n' a new archive, 'd' archive or manifest data, 'p' progress, 'm' the
// manifest follows (src/backend/backup/basebackup_copy.c).
#include <cstdint>
#include <string>
#include <variant>

#include "formats/byte_cursor.hpp"

namespace pitr::postgres {

struct NewArchive {
  std::string name;             // "base.tar" or "<tablespace oid>.tar"
  std::string tablespace_path;  // empty for the main data directory
};
struct BackupData {
  Bytes data;
};
struct BackupProgress {
  std::uint64_t bytes_done = 0;
};
struct ManifestStart {};

using BackupMessage = std::variant<NewArchive, BackupData, BackupProgress, ManifestStart>;

BackupMessage parse_backup_message(Bytes message);

}  // namespace pitr::postgres
