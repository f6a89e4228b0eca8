#include "archive/log_retention.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <optional>

#include "archive/backup_manifest.hpp"
#include "archive/binlog_archive.hpp"
#include "archive/binlog_name.hpp"
#include "archive/pg_backup_manifest.hpp"
#include "archive/wal_archive.hpp"

namespace pitr::archive {
namespace {

// Per source: the earliest binlog file a retained backup starts in, or none when nothing of
// that source's log may go: a backup recorded no binlog position, or the backups start in
// binlogs of two base names (the server's log-bin changed), whose names do not say which
// came first.
std::map<std::string, std::optional<std::string>> earliest_binlog_files(
    const Archive& archive, const std::set<std::string>& gone) {
  std::map<std::string, std::optional<std::string>> out;
  for (const auto& m : list_backups(archive)) {
    if (gone.contains(m.id)) continue;
    std::optional<std::string> file;
    if (!m.binlog_file.empty()) file = m.binlog_file;
    auto [it, fresh] = out.try_emplace(m.source_id, file);
    if (fresh) continue;
    auto& earliest = it->second;
    if (!earliest || !file || !binlog_same_series(*file, *earliest))
      earliest.reset();
    else if (binlog_name_less(*file, *earliest))
      earliest = file;
  }
  return out;
}

// Per source: the earliest start LSN of a retained PostgreSQL backup.
std::map<std::string, Lsn> earliest_wal_starts(const Archive& archive,
                                               const std::set<std::string>& gone) {
  std::map<std::string, Lsn> out;
  for (const auto& m : list_pg_backups(archive)) {
    if (gone.contains(m.id)) continue;
    auto [it, fresh] = out.try_emplace(m.source_id, m.start_lsn);
    if (!fresh) it->second = std::min(it->second, m.start_lsn);
  }
  return out;
}

void expire_binlogs(const Archive& archive, const std::set<std::string>& gone,
                    std::vector<ExpiredLog>& out) {
  auto earliest = earliest_binlog_files(archive, gone);
  if (earliest.empty()) return;
  BinlogArchive binlogs(archive);
  for (const auto& [source, first_kept] : earliest) {
    if (!first_kept) continue;
    auto logs = binlogs.logs_of(source);
    // The file before the backup's stays too: the transaction that ends at the backup's
    // position may be in it, and a restore to that transaction (--to-gtid, --to-time) finds
    // its stop there (replay/restore_planner.cpp).
    std::size_t keep = 0;
    while (keep < logs.size() && binlog_same_series(logs[keep]->file, *first_kept) &&
           binlog_name_less(logs[keep]->file, *first_kept))
      ++keep;
    if (keep == 0) continue;
    --keep;
    ExpiredLog expired;
    expired.source_id = source;
    expired.engine = "mysql";
    expired.kept_from = logs[keep]->file;
    // The newest archived file stays whatever the backups say: capture resumes after it.
    for (std::size_t i = 0; i < keep && i + 1 < logs.size(); ++i) {
      const auto& log = *logs[i];
      if (!log.partials.empty()) break;
      ++expired.files;
      for (const auto& s : log.segments) {
        expired.keys.push_back(s.key);
        expired.log_bytes += s.record.size();
      }
      // Last, if the file has one (removing a missing object is no error): while segments of
      // a file archived from its middle remain, they need it.
      expired.keys.push_back(layout::format_description(source, log.file));
    }
    if (expired.files > 0) out.push_back(std::move(expired));
  }
}

void expire_wal(const Archive& archive, const std::set<std::string>& gone,
                std::vector<ExpiredLog>& out) {
  auto earliest = earliest_wal_starts(archive, gone);
  if (earliest.empty()) return;
  for (const auto& listing : list_wal_sources(archive)) {
    auto found = earliest.find(listing.source.source_id);
    if (found == earliest.end() || listing.source.segment_size == 0) continue;
    auto first_kept = found->second / listing.source.segment_size;
    // Sealed segments in timeline-then-segment order: the newest of all stays.
    const WalSegmentRecord* newest = nullptr;
    for (const auto& r : listing.segments)
      if (!newest || r.end > newest->end) newest = &r;
    ExpiredLog expired;
    expired.source_id = listing.source.source_id;
    expired.engine = "postgres";
    expired.kept_from = fmt::format("segment {:X} (LSN {})", first_kept,
                                    postgres::format_lsn(first_kept * listing.source.segment_size));
    std::vector<const WalSegmentRecord*> doomed;
    for (const auto& r : listing.segments)
      if (r.segment < first_kept && &r != newest) doomed.push_back(&r);
    // Oldest first across timelines, so an interrupted run leaves no hole.
    std::stable_sort(doomed.begin(), doomed.end(),
                     [](auto* a, auto* b) { return a->segment < b->segment; });
    for (const auto* r : doomed) {
      // The summary first: a segment without one is whole, a summary alone is litter.
      if (auto summary = listing.summary_key(*r)) expired.keys.push_back(*summary);
      expired.keys.push_back(listing.sealed_key(*r));
      expired.log_bytes += r->end - r->start;
      ++expired.files;
    }
    if (expired.files > 0) out.push_back(std::move(expired));
  }
}

}  // namespace

std::vector<ExpiredLog> logs_to_expire(const Archive& archive, const std::set<std::string>& gone) {
  std::vector<ExpiredLog> out;
  expire_binlogs(archive, gone, out);
  expire_wal(archive, gone, out);
  return out;
}

void remove_expired_log(const Archive& archive, const ExpiredLog& log) {
  for (const auto& key : log.keys) archive.store().remove(key);
}

}  // namespace pitr::archive
