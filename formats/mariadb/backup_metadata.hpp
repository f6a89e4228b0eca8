#pragma once
// The small text files mariabackup writes into every backup: xtrabackup_checkpoints (the
// InnoDB LSNs the backup covers) and xtrabackup_binlog_info (the binlog position and GTID
// position it is consistent at).
#include <cstdint>
#include <functional>
#include <map>
#include <span>
#include <string>
#include <string_view>

namespace pitr::mariadb {

inline constexpr const char* kCheckpointsFile = "xtrabackup_checkpoints";
inline constexpr const char* kBinlogInfoFile = "xtrabackup_binlog_info";
inline constexpr const char* kRedoLogFile = "ib_logfile0";

struct BackupCheckpoints {
  std::string backup_type;  // "full-backuped", "incremental", "full-prepared", ...
  std::uint64_t from_lsn = 0, to_lsn = 0, last_lsn = 0;
};

struct BinlogInfo {
  std::string file;
  std::uint64_t position = 0;
  std::string gtid;  // MariaDB's gtid_binlog_pos at that point; may be empty
};

// The "key = value" lines mariabackup writes its metadata files in, values trimmed.
std::map<std::string, std::string, std::less<>> key_value_lines(std::string_view text);

// Throw DecodeError naming the missing or malformed field.
BackupCheckpoints parse_checkpoints(std::string_view text);
BinlogInfo parse_binlog_info(std::string_view text);

// The LSN the redo log of a backup starts at: its checkpoint when the backup began (8 bytes,
// big-endian, at offset 8 of the ib_logfile0 header mariabackup writes). A later incremental
// backup must take every page changed after it (xtrabackup_checkpoints' to_lsn is the
// checkpoint at the backup's end: pages changed before it may be stale in the copy).
std::uint64_t redo_start_lsn(std::span<const std::uint8_t> header);

// xtrabackup_checkpoints' text for `c` (the form mariabackup --prepare reads).
std::string checkpoints_text(const BackupCheckpoints& c);

}  // namespace pitr::mariadb
