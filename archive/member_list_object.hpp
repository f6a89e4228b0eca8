#pragma once
// The member list of files stored as blocks (block_store/stored_tar.hpp), kept as one object
// of a backup: JSON, zstd-compressed. PostgreSQL backups keep one per tar archive, MariaDB
// physical backups one for the data directory.
#include <string>
#include <vector>

#include "archive/block_store/stored_tar.hpp"
#include "archive/pending_backup.hpp"

namespace pitr::archive {

// Stores the list as `file` of a backup being written. Its blocks must be stored already.
void store_member_list(const PendingBackup& backup, const std::string& file,
                       const std::vector<StoredTarMember>& members);
// Reads the list at `key`; throws naming the key when it is missing or damaged.
std::vector<StoredTarMember> read_member_list(const Archive& archive, const std::string& key);

// Writes the members as a tar stream (read_stored_tar), reading the blocks of complete backups:
// those in packs an expire condemned too (block_sweep.hpp). Returns the stream's length.
std::uint64_t read_backup_files(const Archive& archive, const std::vector<StoredTarMember>& members,
                                const std::function<void(Bytes)>& sink);

}  // namespace pitr::archive
