#pragma once
// Loads a base backup into a target server, or writes it as one client script.
#include <cstdio>
#include <filesystem>

#include "archive/backup_manifest.hpp"
#include "capture/mysql/mysql_connection.hpp"

namespace pitr::replay {

// Refuses a target that already holds tables in any of the backup's databases.
void check_target_empty(const archive::BackupManifest& backup,
                        const capture::MysqlEndpoint& target);

// Schema files first (one session), then data files by `jobs` sessions in parallel. Every
// file's checksum is verified as it is read.
void load_backup(const archive::Archive& archive, const archive::BackupManifest& backup,
                 const capture::MysqlEndpoint& target, unsigned jobs);

void write_backup_script(const archive::Archive& archive, const archive::BackupManifest& backup,
                         std::FILE* out);

}  // namespace pitr::replay
