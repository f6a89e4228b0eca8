#include "archive/pg_backup_tars.hpp"

#include <fmt/format.h>

#include "archive/file_io.hpp"
#include "archive/member_list_object.hpp"
#include "formats/postgres/backup_file_check.hpp"

namespace pitr::archive {

std::string stored_tar_file_name(const std::string& archive_name) {
  return archive_name + ".blocks.json.zst";
}

ReadResult PgBackupTars::read(const PgBackupManifest& m, const PgBackupArchive& a,
                              const std::function<void(Bytes)>& sink) {
  if (a.storage == PgArchiveStorage::kTar)
    return read_zstd_object(archive_.store(), layout::backup_file(m.id, a.file), sink);
  return {blocks_.read_files(members(m, a), sink), ""};
}

std::vector<StoredTarMember> PgBackupTars::members(const PgBackupManifest& m,
                                                   const PgBackupArchive& a) const {
  return read_member_list(archive_, layout::backup_file(m.id, a.file));
}

std::vector<std::string> verify_pg_backup(PgBackupTars& tars, const PgBackupManifest& m) {
  const auto& archive = tars.archive();
  std::vector<std::string> problems;
  postgres::FileChecksums seen;
  for (const auto& a : m.archives) {
    auto key = layout::backup_file(m.id, a.file);
    try {
      postgres::TarChecksummer files(postgres::manifest_prefix(a.tablespace_oid), seen);
      auto r = tars.read(m, a, [&](Bytes b) { files.feed(b); });
      files.finish();
      if (r.bytes != a.bytes || (!a.sha256.empty() && r.sha256 != a.sha256))
        problems.push_back(fmt::format("{}: content fails its checksum", key));
    } catch (const std::exception& e) {
      problems.push_back(fmt::format("{}: {}", key, e.what()));
    }
  }
  // Only a full BASE_BACKUP stores the server's manifest of the files as restored; for the
  // others, the block ids are the check.
  if (m.method != "base_backup") return problems;
  auto server_key = layout::backup_file(m.id, kServerManifestName);
  try {
    auto text = archive.read_text(server_key);
    if (!text) throw IoError("missing");
    auto server = postgres::parse_server_manifest(*text);
    for (auto& p : postgres::compare_with_manifest(server, seen))
      problems.push_back(fmt::format("{}: {}", layout::backup_prefix(m.id), p));
  } catch (const std::exception& e) {
    problems.push_back(fmt::format("{}: {}", server_key, e.what()));
  }
  return problems;
}

}  // namespace pitr::archive
