#include "capture/postgres/backup_parent.hpp"

#include <optional>

namespace pitr::capture {

archive::PgBackupManifest choose_parent(const PgBackupOptions& o, const std::string& source_id) {
  std::optional<archive::PgBackupManifest> parent;
  for (auto& m : archive::list_pg_backups(o.archive))
    if (m.source_id == source_id && (o.type == "incr" || m.type == "full")) parent = m;
  if (!parent) throw NotPossible{"the archive holds no full backup of this server yet", true};
  for (const auto& a : parent->archives)
    if (a.storage != archive::PgArchiveStorage::kBlocks)
      throw NotPossible{"backup " + parent->id + " was taken before the block store"};
  return *parent;
}

}  // namespace pitr::capture
