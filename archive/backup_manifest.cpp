#include "archive/backup_manifest.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "archive/clickhouse_manifest.hpp"
#include "archive/compressed_object_reader.hpp"
#include "archive/file_io.hpp"
#include "archive/member_list_object.hpp"

namespace pitr::archive {

std::string manifest_json(const BackupManifest& m) {
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
  if (m.method != "logical") {
    const auto& p = m.physical;
    j["version"] = 2;
    j["method"] = m.method;
    j["type"] = m.type;
    j["parent"] = m.parent;
    j["physical"] = {{"from_lsn", p.from_lsn},
                     {"to_lsn", p.to_lsn},
                     {"last_lsn", p.last_lsn},
                     {"redo_start_lsn", p.redo_start_lsn},
                     {"member_list", p.member_list},
                     {"files", p.files},
                     {"bytes", p.bytes},
                     {"stored_bytes", p.stored_bytes},
                     {"bytes_read", p.bytes_read},
                     {"space_ids", p.space_ids}};
  }
  return j.dump(2) + "\n";
}

BackupManifest read_manifest(const Archive& archive, const std::string& id) {
  auto j = read_manifest_json(archive, id);
  auto version = j.value("version", 0);
  if (j.value("format", "") != "pitr-mysql-base-backup" || version < 1 || version > 2)
    throw IoError(layout::backup_prefix(id) + " is not a base backup this pitr reads");
  BackupManifest m;
  m.id = id;
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
  if (version >= 2) {
    m.method = j.at("method");
    m.type = j.at("type");
    m.parent = j.value("parent", "");
    const auto& p = j.at("physical");
    auto& x = m.physical;
    x.from_lsn = p.at("from_lsn");
    x.to_lsn = p.at("to_lsn");
    x.last_lsn = p.at("last_lsn");
    x.redo_start_lsn = p.at("redo_start_lsn");
    x.space_ids = p.value("space_ids", std::map<std::string, std::uint32_t>{});
    x.member_list = p.at("member_list");
    x.files = p.at("files");
    x.bytes = p.at("bytes");
    x.stored_bytes = p.at("stored_bytes");
    x.bytes_read = p.at("bytes_read");
  }
  return m;
}

std::vector<std::string> complete_backup_ids(const Archive& archive) {
  std::vector<std::string> ids;
  for (const auto& object : archive.store().list(layout::backups_prefix())) {
    auto key = layout::split_under(layout::backups_prefix(), object.key);
    if (key && key->rest == layout::kManifestName && !key->first.ends_with(".partial"))
      ids.push_back(key->first);
  }
  return ids;
}

nlohmann::json read_manifest_json(const Archive& archive, const std::string& id) {
  auto key = layout::backup_file(id, layout::kManifestName);
  auto text = archive.read_text(key);
  if (!text) throw IoError(fmt::format("backup {} has no {}", id, key));
  try {
    return nlohmann::json::parse(*text);
  } catch (const nlohmann::json::exception& e) {
    throw IoError(fmt::format("{} is damaged: {}", key, e.what()));
  }
}

std::vector<BackupManifest> list_backups(const Archive& archive) {
  std::vector<BackupManifest> out;
  for (const auto& id : complete_backup_ids(archive)) {
    // Other engines' backups; a format no engine knows is an error (a later pitr wrote it).
    auto format = read_manifest_json(archive, id).value("format", "");
    if (format == kPostgresBackupFormat || format == kClickHouseBackupFormat) continue;
    out.push_back(read_manifest(archive, id));
  }
  std::sort(out.begin(), out.end(),
            [](auto& a, auto& b) { return a.consistent_at < b.consistent_at; });
  return out;
}

}  // namespace pitr::archive

namespace pitr::archive {

std::vector<StoredTarMember> physical_members(const Archive& archive, const BackupManifest& m) {
  return read_member_list(archive, layout::backup_file(m.id, m.physical.member_list));
}

namespace {

// Every block of every file is read: its id (a SHA-256) checks its content.
std::vector<std::string> verify_physical_backup(const Archive& archive, const BackupManifest& m,
                                                CompleteBackupBlocks& blocks) {
  try {
    auto members = physical_members(archive, m);
    if (members.size() != m.physical.files)
      return {fmt::format("backup {}: its member list names {} files, its manifest {}", m.id,
                          members.size(), m.physical.files)};
    blocks.read_files(members, [](Bytes) {});
    return {};
  } catch (const std::exception& e) {
    return {fmt::format("backup {}: {}", m.id, e.what())};
  }
}

}  // namespace

std::vector<std::string> verify_backup(const Archive& archive, const BackupManifest& m,
                                       CompleteBackupBlocks& blocks) {
  if (m.method == "physical") return verify_physical_backup(archive, m, blocks);
  std::vector<std::string> problems;
  for (const auto& f : m.files) {
    try {
      auto r = read_zstd_object(archive.store(), layout::backup_file(m.id, f.path), [](Bytes) {});
      if (r.sha256 != f.sha256 || r.bytes != f.bytes)
        problems.push_back("backup " + m.id + ": " + f.path + " fails its checksum");
    } catch (const std::exception& e) {
      problems.push_back("backup " + m.id + ": " + e.what());
    }
  }
  return problems;
}

}  // namespace pitr::archive
