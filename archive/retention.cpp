#include "archive/retention.hpp"

#include <algorithm>
#include <map>
#include <stdexcept>

#include "archive/backup_manifest.hpp"
#include "archive/clickhouse_manifest.hpp"
#include "archive/pending_backup.hpp"
#include "archive/pg_backup_tars.hpp"

namespace pitr::archive {
namespace {

using Backups = std::vector<const BackupSummary*>;  // one source's, oldest first

// How many of a source's backups, counted from the newest, the policy keeps.
std::size_t kept_count(const Backups& b, const RetentionPolicy& p, std::int64_t now_us) {
  std::size_t keep = b.size();
  if (p.keep) keep = std::min(keep, *p.keep);
  if (p.keep_full) {
    std::size_t fulls = 0, i = b.size();
    while (i > 0 && fulls < *p.keep_full)
      if (b[--i]->type == "full") ++fulls;
    if (fulls == *p.keep_full) keep = std::min(keep, b.size() - i);
  }
  if (p.recovery_window) {
    auto start =
        now_us - std::chrono::duration_cast<std::chrono::microseconds>(*p.recovery_window).count();
    // Those inside the window, and the newest before it: the window's first moments need it.
    std::size_t inside = 0;
    while (inside < b.size() && b[b.size() - 1 - inside]->consistent_at >= start) ++inside;
    keep = std::min(keep, std::min(b.size(), inside + 1));
  }
  return std::max<std::size_t>(keep, 1);
}

void sort_by_time(std::vector<BackupSummary>& backups) {
  std::stable_sort(backups.begin(), backups.end(),
                   [](const auto& a, const auto& b) { return a.consistent_at < b.consistent_at; });
}

}  // namespace

std::vector<BackupSummary> summarize_backups(const Archive& archive) {
  std::vector<BackupSummary> out;
  for (const auto& m : list_backups(archive))
    out.push_back(
        {m.id, m.source_id, "mysql", m.type, static_cast<std::int64_t>(m.consistent_at) * 1000000});
  for (const auto& m : list_pg_backups(archive))
    out.push_back({m.id, m.source_id, "postgres", m.type, m.finished_at});
  for (const auto& m : list_clickhouse_backups(archive))
    out.push_back({m.id, m.source_id, "clickhouse", m.type, m.finished_at});
  sort_by_time(out);
  return out;
}

void check_policy(const RetentionPolicy& p) {
  if (!p.keep && !p.keep_full && !p.recovery_window)
    throw std::invalid_argument(
        "say what to keep: --keep N, --keep-full N or --recovery-window DURATION");
  if ((p.keep && *p.keep == 0) || (p.keep_full && *p.keep_full == 0))
    throw std::invalid_argument("--keep and --keep-full keep at least 1 backup");
}

std::vector<BackupSummary> backups_to_expire(const std::vector<BackupSummary>& backups,
                                             const RetentionPolicy& policy, std::int64_t now_us) {
  check_policy(policy);
  std::map<std::string, Backups> by_source;
  for (const auto& b : backups) by_source[b.source_id].push_back(&b);
  std::vector<BackupSummary> out;
  for (const auto& [source, list] : by_source) {
    auto keep = kept_count(list, policy, now_us);
    for (std::size_t i = 0; i + keep < list.size(); ++i) out.push_back(*list[i]);
  }
  sort_by_time(out);
  return out;
}

void remove_complete_backup(const Archive& archive, const std::string& id) {
  auto& store = archive.store();
  store.remove(layout::backup_file(id, layout::kManifestName));
  for (const auto& object : store.list(layout::backup_prefix(id))) store.remove(object.key);
}

SweepHooks retention_sweep_hooks(const Archive& archive, std::set<std::string> gone) {
  SweepHooks hooks;
  hooks.mark = [archive, gone](const BlockReader& reader, const std::set<std::string>& skip,
                               std::set<std::string>& seen, LiveBlocks& live) {
    PgBackupTars tars(archive);
    for (const auto& m : list_pg_backups(archive)) {
      if (gone.contains(m.id) || skip.contains(m.id)) continue;
      seen.insert(m.id);
      for (const auto& a : m.archives)
        if (a.storage == PgArchiveStorage::kBlocks)
          add_blocks_used(reader, tars.members(m, a), live);
    }
    for (const auto& m : list_backups(archive)) {
      if (gone.contains(m.id) || skip.contains(m.id)) continue;
      seen.insert(m.id);
      if (m.method == "physical") add_blocks_used(reader, physical_members(archive, m), live);
    }
    for (const auto& m : list_clickhouse_backups(archive)) {
      if (gone.contains(m.id) || skip.contains(m.id)) continue;
      seen.insert(m.id);
      add_blocks_used(
          reader, read_member_list(archive, layout::backup_file(m.id, kClickHousePartsName)), live);
    }
  };
  hooks.backups_in_progress = [archive] { return backups_in_progress(archive); };
  return hooks;
}

}  // namespace pitr::archive
