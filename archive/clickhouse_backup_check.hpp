#pragma once
// pitr verify for a ClickHouse backup: every file of every part and every export read back
// from the block store, each block checked against its id, and every part and export the
// manifest names present in its member list.
#include <string>
#include <vector>

#include "archive/clickhouse_manifest.hpp"
#include "archive/member_list_object.hpp"

namespace pitr::archive {

// Problems found, each naming the backup and the table, part or file.
std::vector<std::string> verify_clickhouse_backup(const Archive& archive,
                                                  const ClickHouseBackupManifest& manifest,
                                                  CompleteBackupBlocks& blocks);

}  // namespace pitr::archive
