#pragma once
// The tar archives of PostgreSQL backups, read back as the server sent them whichever way
// they are stored (archive/pg_backup_manifest.hpp): restore extracts them, verify and
// `pitr get --backup` read them through here.
#include <functional>
#include <optional>

#include "archive/block_store/block_index.hpp"
#include "archive/block_store/stored_tar.hpp"
#include "archive/compressed_object_reader.hpp"
#include "archive/member_list_object.hpp"
#include "archive/pending_backup.hpp"
#include "archive/pg_backup_manifest.hpp"

namespace pitr::archive {

class PgBackupTars {
 public:
  explicit PgBackupTars(const Archive& archive) : archive_(archive), blocks_(archive) {}
  const Archive& archive() const { return archive_; }

  // Streams archive `a` of backup `m` to `sink`; returns its length (and, for a tar stored
  // whole, its SHA-256). A missing or damaged block is an error naming the file it is in.
  ReadResult read(const PgBackupManifest& m, const PgBackupArchive& a,
                  const std::function<void(Bytes)>& sink);
  // The member list of an archive stored as blocks.
  std::vector<StoredTarMember> members(const PgBackupManifest& m, const PgBackupArchive& a) const;
  // Reads the blocks of complete backups (those in condemned packs too).
  BlockReader block_reader() { return blocks_.reader(); }
  CompleteBackupBlocks& blocks() { return blocks_; }

 private:
  const Archive& archive_;
  CompleteBackupBlocks blocks_;  // the index is loaded for the first archive stored as blocks
};

// Problems with a backup: an archive missing, a block missing or damaged (naming the file),
// or a file that differs from the server's backup_manifest (missing, another size, a wrong
// CRC-32C).
std::vector<std::string> verify_pg_backup(PgBackupTars& tars, const PgBackupManifest& m);

// The member list object of an archive stored as blocks: JSON, zstd-compressed.
std::string stored_tar_file_name(const std::string& archive_name);

}  // namespace pitr::archive
