#include "archive/clickhouse_manifest.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "archive/archive_layout.hpp"
#include "archive/backup_manifest.hpp"
#include "archive/file_io.hpp"

namespace pitr::archive {
namespace {

constexpr int kVersion = 1;

nlohmann::json part_json(const ClickHousePart& p) {
  return {{"name", p.name},
          {"partition_id", p.partition_id},
          {"min_block", p.min_block},
          {"max_block", p.max_block},
          {"level", p.level},
          {"rows", p.rows},
          {"bytes", p.bytes},
          {"identity", p.identity},
          // A string: JSON readers lose 64-bit integers above 2^53.
          {"content_hash", std::to_string(p.content_hash)}};
}

ClickHousePart part_of(const nlohmann::json& j) {
  ClickHousePart p;
  p.name = j.at("name").get<std::string>();
  p.partition_id = j.at("partition_id").get<std::string>();
  p.min_block = j.at("min_block").get<std::int64_t>();
  p.max_block = j.at("max_block").get<std::int64_t>();
  p.level = j.at("level").get<std::uint32_t>();
  p.rows = j.at("rows").get<std::uint64_t>();
  p.bytes = j.value("bytes", std::uint64_t{0});
  p.identity = j.at("identity").get<std::string>();
  check_path_component(p.identity, "part identity");
  p.content_hash = std::stoull(j.at("content_hash").get<std::string>());
  return p;
}

}  // namespace

std::string clickhouse_manifest_json(const ClickHouseBackupManifest& m) {
  nlohmann::json databases = nlohmann::json::array(), tables = nlohmann::json::array();
  for (const auto& d : m.databases) databases.push_back({{"name", d.name}, {"engine", d.engine}});
  for (const auto& t : m.tables) {
    nlohmann::json parts = nlohmann::json::array();
    for (const auto& p : t.parts) parts.push_back(part_json(p));
    tables.push_back({{"database", t.database},
                      {"name", t.name},
                      {"engine", t.engine},
                      {"kind", t.kind},
                      {"create", t.create},
                      {"rows", t.rows},
                      {"content_hash", std::to_string(t.content_hash)},
                      {"parts", parts},
                      {"export_member", t.export_member},
                      {"hash_expression", t.hash_expression}});
    if (t.final_rows) {
      tables.back()["final_rows"] = *t.final_rows;
      tables.back()["final_content_hash"] = std::to_string(t.final_hash.value_or(0));
    }
  }
  nlohmann::json dictionaries = nlohmann::json::array();
  for (const auto& d : m.dictionaries)
    dictionaries.push_back({{"names", d.names}, {"origin", d.origin}, {"member", d.member}});
  nlohmann::json j{{"format", kClickHouseBackupFormat},
                   {"version", kVersion},
                   {"id", m.id},
                   {"source", m.source_id},
                   {"server_version", m.server_version},
                   {"type", m.type},
                   {"started_at", m.started_at},
                   {"finished_at", m.finished_at},
                   {"member_list", kClickHousePartsName},
                   {"file_block", m.file_block},
                   {"parts_unchanged", m.parts_unchanged},
                   {"parts_new", m.parts_new},
                   {"parts_gone", m.parts_gone},
                   {"bytes_read", m.bytes_read},
                   {"stored_bytes", m.stored_bytes},
                   {"databases", databases},
                   {"tables", tables},
                   {"dictionaries", dictionaries}};
  if (!m.parent.empty()) j["parent"] = m.parent;
  return j.dump(2) + "\n";
}

ClickHouseBackupManifest read_clickhouse_manifest(const Archive& archive, const std::string& id) {
  auto key = layout::backup_file(id, layout::kManifestName);
  auto j = read_manifest_json(archive, id);
  if (j.value("format", "") != kClickHouseBackupFormat || j.value("version", 0) != kVersion)
    throw IoError(
        fmt::format("{} is not a ClickHouse backup manifest of version {} (a later pitr wrote it?)",
                    key, kVersion));
  try {
    ClickHouseBackupManifest m;
    m.id = id;
    m.source_id = j.at("source").get<std::string>();
    m.server_version = j.value("server_version", "");
    m.type = j.value("type", "full");
    m.parent = j.value("parent", "");
    m.started_at = j.at("started_at").get<std::int64_t>();
    m.finished_at = j.at("finished_at").get<std::int64_t>();
    m.parts_unchanged = j.value("parts_unchanged", std::uint64_t{0});
    m.parts_new = j.value("parts_new", std::uint64_t{0});
    m.parts_gone = j.value("parts_gone", std::uint64_t{0});
    m.bytes_read = j.value("bytes_read", std::uint64_t{0});
    m.stored_bytes = j.value("stored_bytes", std::uint64_t{0});
    m.file_block = j.at("file_block").get<std::size_t>();
    if (m.file_block == 0) throw IoError("file_block is 0");
    for (const auto& d : j.at("databases"))
      m.databases.push_back({d.at("name").get<std::string>(), d.value("engine", "")});
    for (const auto& t : j.at("tables")) {
      ClickHouseTable x;
      x.database = t.at("database").get<std::string>();
      x.name = t.at("name").get<std::string>();
      x.engine = t.at("engine").get<std::string>();
      x.kind = t.at("kind").get<std::string>();
      x.create = t.at("create").get<std::string>();
      x.rows = t.value("rows", std::uint64_t{0});
      x.content_hash = std::stoull(t.value("content_hash", std::string("0")));
      for (const auto& p : t.at("parts")) x.parts.push_back(part_of(p));
      x.export_member = t.value("export_member", "");
      x.hash_expression = t.value("hash_expression", "");
      if (t.contains("final_rows")) {
        x.final_rows = t.at("final_rows").get<std::uint64_t>();
        x.final_hash = std::stoull(t.at("final_content_hash").get<std::string>());
      }
      m.tables.push_back(std::move(x));
    }
    for (const auto& d : j.value("dictionaries", nlohmann::json::array()))
      m.dictionaries.push_back({d.at("names").get<std::vector<std::string>>(),
                                d.at("origin").get<std::string>(),
                                d.at("member").get<std::string>()});
    return m;
  } catch (const std::exception& e) {
    throw IoError(fmt::format("{} is damaged: {}", key, e.what()));
  }
}

std::vector<ClickHouseBackupManifest> list_clickhouse_backups(const Archive& archive) {
  std::vector<ClickHouseBackupManifest> out;
  for (const auto& id : complete_backup_ids(archive))
    if (read_manifest_json(archive, id).value("format", "") == kClickHouseBackupFormat)
      out.push_back(read_clickhouse_manifest(archive, id));
  std::sort(out.begin(), out.end(), [](auto& a, auto& b) { return a.finished_at < b.finished_at; });
  return out;
}

}  // namespace pitr::archive
