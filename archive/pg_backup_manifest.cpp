#include "archive/pg_backup_manifest.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "archive/backup_manifest.hpp"
#include "archive/compressed_object_reader.hpp"
#include "archive/file_io.hpp"

namespace pitr::archive {

std::string pg_manifest_json(const PgBackupManifest& m) {
  bool blocks = std::any_of(m.archives.begin(), m.archives.end(),
                            [](const auto& a) { return a.storage == PgArchiveStorage::kBlocks; });
  nlohmann::json j{{"format", kPostgresBackupFormat},
                   {"version", m.method != "base_backup" ? 3
                               : blocks                  ? 2
                                                         : 1},
                   {"id", m.id},
                   {"source", m.source_id},
                   {"server_version", m.server_version},
                   {"system_identifier", std::to_string(m.system_identifier)},
                   {"timeline", m.timeline},
                   {"start_lsn", postgres::format_lsn(m.start_lsn)},
                   {"end_lsn", postgres::format_lsn(m.end_lsn)},
                   {"started_at", m.started_at},
                   {"finished_at", m.finished_at},
                   {"files", m.files},
                   {"type", m.type},
                   {"method", m.method},
                   {"bytes_read", m.bytes_read}};
  if (!m.parent.empty()) j["parent"] = m.parent;
  if (m.method != "base_backup") {
    j["blocks_read"] = m.blocks_read;
    j["blocks_reused"] = m.blocks_reused;
  }
  if (m.method == "sql") {
    j["blocks_checked"] = m.blocks_checked;
    j["blocks_missed"] = m.blocks_missed;
    j["pages_checksummed"] = m.pages_checksummed;
    j["wal_summarized_bytes"] = m.wal_summarized_bytes;
    j["wal_decoded_bytes"] = m.wal_decoded_bytes;
  }
  auto& archives = j["archives"] = nlohmann::json::array();
  for (const auto& a : m.archives) {
    archives.push_back({{"name", a.name},
                        {"storage", a.storage == PgArchiveStorage::kBlocks ? "blocks" : "tar"},
                        {"file", a.file},
                        {"tablespace_oid", a.tablespace_oid},
                        {"tablespace_path", a.tablespace_path},
                        {"bytes", a.bytes},
                        {"stored_bytes", a.stored_bytes}});
    if (!a.sha256.empty()) archives.back()["sha256"] = a.sha256;
  }
  return j.dump(2) + "\n";
}

PgBackupManifest read_pg_manifest(const Archive& archive, const std::string& id) {
  auto key = layout::backup_file(id, layout::kManifestName);
  auto j = read_manifest_json(archive, id);
  try {
    auto version = j.value("version", 0);
    if (j.value("format", "") != kPostgresBackupFormat || version < 1 || version > 3)
      throw IoError(fmt::format(
          "{} is not a PostgreSQL backup manifest of version 1 to 3 (a later pitr wrote it?)",
          key));
    PgBackupManifest m;
    m.id = id;
    m.source_id = j.at("source").get<std::string>();
    m.server_version = j.value("server_version", "");
    m.system_identifier = std::stoull(j.at("system_identifier").get<std::string>());
    m.timeline = j.at("timeline").get<postgres::TimelineId>();
    m.start_lsn = postgres::parse_lsn(j.at("start_lsn").get<std::string>());
    m.end_lsn = postgres::parse_lsn(j.at("end_lsn").get<std::string>());
    m.started_at = j.at("started_at").get<std::int64_t>();
    m.finished_at = j.at("finished_at").get<std::int64_t>();
    m.files = j.value("files", std::uint64_t{0});
    m.type = j.value("type", "full");
    m.parent = j.value("parent", "");
    m.method = j.value("method", "base_backup");
    m.bytes_read = j.value("bytes_read", std::uint64_t{0});
    m.blocks_read = j.value("blocks_read", std::uint64_t{0});
    m.blocks_reused = j.value("blocks_reused", std::uint64_t{0});
    m.blocks_checked = j.value("blocks_checked", std::uint64_t{0});
    m.blocks_missed = j.value("blocks_missed", std::uint64_t{0});
    m.pages_checksummed = j.value("pages_checksummed", std::uint64_t{0});
    m.wal_summarized_bytes = j.value("wal_summarized_bytes", std::uint64_t{0});
    m.wal_decoded_bytes = j.value("wal_decoded_bytes", std::uint64_t{0});
    for (const auto& a : j.at("archives")) {
      PgBackupArchive x;
      x.name = a.at("name").get<std::string>();
      auto storage = a.value("storage", "tar");
      if (storage != "tar" && storage != "blocks")
        throw IoError(fmt::format("{}: archive {} is stored as '{}', which this pitr cannot read",
                                  key, x.name, storage));
      x.storage = storage == "blocks" ? PgArchiveStorage::kBlocks : PgArchiveStorage::kTar;
      x.file = a.at("file").get<std::string>();
      check_path_component(x.file, "backup archive file");
      x.tablespace_oid = a.value("tablespace_oid", "");
      x.tablespace_path = a.value("tablespace_path", "");
      x.bytes = a.at("bytes").get<std::uint64_t>();
      x.stored_bytes = a.value("stored_bytes", std::uint64_t{0});
      x.sha256 = a.value("sha256", "");
      m.archives.push_back(x);
    }
    return m;
  } catch (const nlohmann::json::exception& e) {
    throw IoError(fmt::format("{} is damaged: {}", key, e.what()));
  }
}

std::vector<PgBackupManifest> list_pg_backups(const Archive& archive) {
  std::vector<PgBackupManifest> out;
  for (const auto& id : complete_backup_ids(archive))
    if (read_manifest_json(archive, id).value("format", "") == kPostgresBackupFormat)
      out.push_back(read_pg_manifest(archive, id));
  std::sort(out.begin(), out.end(), [](auto& a, auto& b) { return a.end_lsn < b.end_lsn; });
  return out;
}

}  // namespace pitr::archive
