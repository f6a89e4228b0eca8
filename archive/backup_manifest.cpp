#include "archive/backup_manifest.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "archive/compressed_file_reader.hpp"
#include "archive/file_io.hpp"

namespace pitr::archive {

void write_manifest(const fs::path& dir, const BackupManifest& m) {
  nlohmann::json files = nlohmann::json::array();
  for (const auto& f : m.files)
    files.push_back({{"path", f.path},
                     {"kind", f.kind},
                     {"database", f.database},
                     {"table", f.table},
                     {"rows", f.rows},
                     {"bytes", f.bytes},
                     {"stored_bytes", f.stored_bytes},
                     {"sha256", f.sha256}});
  nlohmann::json j = {{"format", "pitr-mysql-base-backup"},
                      {"version", 1},
                      {"id", m.id},
                      {"source", m.source_id},
                      {"server_version", m.server_version},
                      {"binlog_file", m.binlog_file},
                      {"binlog_position", m.binlog_position},
                      {"gtid_position", m.gtid_position},
                      {"started_at", m.started_at},
                      {"consistent_at", m.consistent_at},
                      {"finished_at", m.finished_at},
                      {"lock_ms", m.lock_ms},
                      {"databases", m.databases},
                      {"files", files}};
  auto text = j.dump(2) + "\n";
  write_file_atomically(dir / kManifestName, as_bytes(text));
}

BackupManifest read_manifest(const fs::path& dir) {
  auto j = nlohmann::json::parse(read_small_file(dir / kManifestName));
  if (j.value("format", "") != "pitr-mysql-base-backup" || j.value("version", 0) != 1)
    throw IoError(dir.string() + " is not a base backup this pitr reads");
  BackupManifest m;
  m.id = j.at("id");
  m.source_id = j.at("source");
  m.server_version = j.value("server_version", "");
  m.binlog_file = j.at("binlog_file");
  m.binlog_position = j.at("binlog_position");
  m.gtid_position = j.value("gtid_position", "");
  m.started_at = j.value("started_at", std::uint64_t{0});
  m.consistent_at = j.at("consistent_at");
  m.finished_at = j.value("finished_at", std::uint64_t{0});
  m.lock_ms = j.value("lock_ms", std::uint64_t{0});
  m.databases = j.value("databases", std::vector<std::string>{});
  for (const auto& f : j.at("files"))
    m.files.push_back({f.at("path"), f.at("kind"), f.value("database", ""), f.value("table", ""),
                       f.value("rows", std::uint64_t{0}), f.at("bytes"),
                       f.value("stored_bytes", std::uint64_t{0}), f.at("sha256")});
  return m;
}

std::string backup_format(const fs::path& backup_dir) {
  try {
    return nlohmann::json::parse(read_small_file(backup_dir / kManifestName)).value("format", "");
  } catch (const nlohmann::json::exception& e) {
    throw IoError(
        fmt::format("{} is damaged: {}", (backup_dir / kManifestName).string(), e.what()));
  }
}

std::vector<std::pair<fs::path, BackupManifest>> list_backups(const ArchiveLayout& layout) {
  std::vector<std::pair<fs::path, BackupManifest>> out;
  if (!fs::exists(layout.backups_dir())) return out;
  for (auto& e : fs::directory_iterator(layout.backups_dir())) {
    if (!e.is_directory() || e.path().extension() == ".partial") continue;
    if (!fs::exists(e.path() / kManifestName)) continue;
    if (backup_format(e.path()) == kPostgresBackupFormat) continue;
    out.emplace_back(e.path(), read_manifest(e.path()));
  }
  std::sort(out.begin(), out.end(),
            [](auto& a, auto& b) { return a.second.consistent_at < b.second.consistent_at; });
  return out;
}

}  // namespace pitr::archive

namespace pitr::archive {

std::vector<std::string> verify_backup(const fs::path& dir, const BackupManifest& m) {
  std::vector<std::string> problems;
  for (const auto& f : m.files) {
    try {
      auto r = read_zstd_file(dir / f.path, [](Bytes) {});
      if (r.sha256 != f.sha256 || r.bytes != f.bytes)
        problems.push_back("backup " + m.id + ": " + f.path + " fails its checksum");
    } catch (const std::exception& e) {
      problems.push_back("backup " + m.id + ": " + e.what());
    }
  }
  return problems;
}

}  // namespace pitr::archive
