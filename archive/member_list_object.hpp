#pragma once
// The member list of files stored as blocks (block_store/stored_tar.hpp), kept as one object
// of a backup: JSON, zstd-compressed. PostgreSQL backups keep one per tar archive, MariaDB
// physical backups one for the data directory.
#include <optional>
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

// Reads the blocks of complete backups, those in packs an expire condemned too (a backup that
// finished while an expire condemned packs it used is complete; only new backups must not
// count on them, block_sweep.hpp). The block index is loaded once, when first needed.
class CompleteBackupBlocks {
 public:
  explicit CompleteBackupBlocks(const Archive& archive) : archive_(archive) {}
  BlockReader reader();
  // Writes the members as a tar stream (read_stored_tar); returns the stream's length.
  std::uint64_t read_files(const std::vector<StoredTarMember>& members,
                           const std::function<void(Bytes)>& sink);

 private:
  const Archive& archive_;
  std::optional<BlockIndex> index_;
};

}  // namespace pitr::archive
