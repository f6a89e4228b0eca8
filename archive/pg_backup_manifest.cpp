#include "archive/pg_backup_manifest.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "archive/backup_manifest.hpp"
#include "archive/compressed_object_reader.hpp"
#include "archive/file_io.hpp"
#include "formats/postgres/backup_file_check.hpp"

namespace pitr::archive {

std::string pg_manifest_json(const PgBackupManifest& m) {
  nlohmann::json j{{"format", kPostgresBackupFormat},
                   {"version", 1},
                   {"id", m.id},
                   {"source", m.source_id},
                   {"server_version", m.server_version},
                   {"system_identifier", std::to_string(m.system_identifier)},
                   {"timeline", m.timeline},
                   {"start_lsn", postgres::format_lsn(m.start_lsn)},
                   {"end_lsn", postgres::format_lsn(m.end_lsn)},
                   {"started_at", m.started_at},
                   {"finished_at", m.finished_at},
                   {"files", m.files}};
  auto& archives = j["archives"] = nlohmann::json::array();
  for (const auto& a : m.archives) {
    archives.push_back({{"name", a.name},
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
    if (j.value("format", "") != kPostgresBackupFormat || j.value("version", 0) != 1)
      throw IoError(fmt::format("{} is not a PostgreSQL backup manifest of version 1", key));
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
    for (const auto& a : j.at("archives")) {
      PgBackupArchive x;
      x.name = a.at("name").get<std::string>();
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

std::vector<std::string> verify_pg_backup(const Archive& archive, const PgBackupManifest& m) {
  std::vector<std::string> problems;
  postgres::FileChecksums seen;
  for (const auto& a : m.archives) {
    auto key = layout::backup_file(m.id, a.file);
    try {
      postgres::TarChecksummer files(postgres::manifest_prefix(a.tablespace_oid), seen);
      auto r = read_zstd_object(archive.store(), key, [&](Bytes b) { files.feed(b); });
      files.finish();
      if (r.bytes != a.bytes || (!a.sha256.empty() && r.sha256 != a.sha256))
        problems.push_back(fmt::format("{}: content fails its checksum", key));
    } catch (const std::exception& e) {
      problems.push_back(fmt::format("{}: {}", key, e.what()));
    }
  }
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
