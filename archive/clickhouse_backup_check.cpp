#include "archive/clickhouse_backup_check.hpp"

#include <fmt/format.h>

#include <set>

#include "archive/archive_layout.hpp"

namespace pitr::archive {

std::vector<std::string> verify_clickhouse_backup(const Archive& archive,
                                                  const ClickHouseBackupManifest& m,
                                                  CompleteBackupBlocks& blocks) {
  std::vector<std::string> problems;
  auto key = layout::backup_file(m.id, kClickHousePartsName);
  std::vector<StoredTarMember> members;
  try {
    members = read_member_list(archive, key);
    blocks.read_files(members, [](Bytes) {});
  } catch (const std::exception& e) {
    problems.push_back(fmt::format("{}: {}", key, e.what()));
    return problems;
  }
  std::set<std::string> identities, names;
  for (const auto& member : members) {
    names.insert(member.entry.name);
    identities.insert(member.entry.name.substr(0, member.entry.name.find('/')));
  }
  for (const auto& t : m.tables) {
    for (const auto& p : t.parts)
      if (!identities.contains(p.identity))
        problems.push_back(
            fmt::format("{}: part {} of {}.{} has no files", key, p.name, t.database, t.name));
    if (!t.export_member.empty() && !names.contains(t.export_member))
      problems.push_back(fmt::format("{}: the rows of {}.{} are missing", key, t.database, t.name));
  }
  return problems;
}

}  // namespace pitr::archive
